#!/bin/sh
# More files of the host's lower layer than the dentry cache keeps unused
# (4096): once it was full, each stat turned it round for ever (du hung).
# REQUIRES: /usr/share/doc
n=$(du -a /usr/share/doc 2>/dev/null | wc -l)
m=$(find /usr/share/doc 2>/dev/null | wc -l)
[ "$n" -gt 5000 ] && echo "more than 5000 entries" || echo "few entries"
[ "$n" -eq "$m" ] && echo "du and find agree"
du -s /usr/share/doc 2>/dev/null | awk '{ print ($1 > 0) }'
# again, with the cache full from the start
du -a /usr/share/doc 2>/dev/null | wc -l | awk -v m="$m" '{ print ($1 == m) }'
