#!/bin/sh
# coreutils, grep, sed, awk, find over /etc and /usr/share.
echo "-- cat wc head tail"
cat /etc/passwd | wc -l
wc -c /etc/passwd | awk '{ print $1 }'
head -n 3 /etc/passwd | cut -d: -f1,3,6
tail -n 2 /etc/passwd | cut -d: -f1
cat /etc/passwd /etc/group | wc -l
echo "-- grep"
grep -c '^root:' /etc/passwd
grep -n 'root' /etc/passwd | head -n 2 | cut -c1-40
grep -rl 'nologin' /etc/passwd /etc/group 2>/dev/null
grep -E '^(tcp|udp)' /etc/protocols | head -n 3
grep -v '^#' /etc/services | grep -w ssh | head -n 2
echo "-- sed"
sed -n '1p;$p' /etc/passwd | cut -d: -f1
sed 's/:.*//' /etc/group | sort | head -n 5
sed -e '/^#/d' -e '/^$/d' /etc/protocols | awk '{ print $1 }' | head -n 5
echo "-- awk"
awk -F: '{ n++; s += $3 } END { print n, s }' /etc/passwd
awk -F: '$3 < 10 { print $1 }' /etc/passwd | sort | tr '\n' ' '; echo
awk 'BEGIN { for (i = 1; i <= 5; i++) printf "%d ", i * i; print "" }'
echo "-- sort uniq tr xargs"
cut -d: -f7 /etc/passwd | sort | uniq -c | sort -k2 | sed 's/^ *//'
echo "Hello World" | tr 'a-z' 'A-Z'
ls /etc | head -n 5 | xargs echo
printf '%s\n' c a b | sort -r | tr -d '\n'; echo
echo "-- find"
find /etc -maxdepth 1 -name '*.conf' | sort | head -n 10
find /etc -maxdepth 1 -type d | wc -l
find /usr/share -maxdepth 1 | wc -l
find /usr/share -maxdepth 2 -name 'README*' | sort | head -n 5
find /usr/share/common-licenses -type f | sort | xargs md5sum 2>/dev/null | head -n 5
find /usr/share/doc -maxdepth 1 -type d -name 'lib*' | wc -l
echo "-- stat ls du"
stat -c '%n %s %a %F' /etc/passwd /etc /usr/bin/env
ls -ld /etc /usr /usr/share | awk '{ print $1, $NF }'
du -s /usr/share/common-licenses | awk '{ print ($1 > 0) ? "du nonzero" : "du zero" }'
echo "-- md5sum sha256sum"
md5sum /etc/passwd | cut -d' ' -f1
sha256sum /bin/sh | cut -d' ' -f1
cksum /etc/group
