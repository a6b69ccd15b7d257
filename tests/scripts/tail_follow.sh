#!/bin/bash
# tail -f (coreutils: inotify) on files another process appends to,
# truncates and replaces. The polling interval is 60 s, so the lines
# arrive in time only through inotify; tail is killed after the lines.
# REQUIRES: /usr/bin/tail
d=$(mktemp -d /tmp/tail_follow.XXXXXX)
f=$d/log

# wait_lines FILE N: until FILE has N lines (at most 10 s)
wait_lines() {
	local k
	for k in $(seq 200); do
		[ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2 lines in ${1##*/}"
	return 1
}

# wait_text FILE TEXT: until FILE contains TEXT (at most 10 s)
wait_text() {
	local k
	for k in $(seq 200); do
		grep -q "$2" "$1" && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$2' in ${1##*/}"
	return 1
}

echo "-- tail -f"
printf 'old 1\nold 2\n' > "$f"
tail -f -s 60 -n 1 "$f" > "$d/out" 2> /dev/null &
t=$!
wait_lines "$d/out" 1
for i in 1 2 3 4 5; do
	echo "line $i" >> "$f"
	wait_lines "$d/out" $((i + 1))
done
kill $t
wait $t 2> /dev/null
cat "$d/out"

echo "-- tail -f after truncation"
: > "$f"
tail -f -s 60 "$f" > "$d/out2" 2> "$d/err2" &
t=$!
sleep 0.2
echo "first" >> "$f"
wait_lines "$d/out2" 1
: > "$f"
# Not on until tail has seen the truncation (it says so on stderr): an
# append it saw first would make the file look longer, not truncated.
wait_text "$d/err2" "file truncated"
echo "after truncate" >> "$f"
wait_lines "$d/out2" 2
kill $t
wait $t 2> /dev/null
cat "$d/out2"

echo "-- tail -F across a rename"
tail -F -s 60 "$f" > "$d/out3" 2> /dev/null &
t=$!
wait_lines "$d/out3" 1
mv "$f" "$f.1"
echo "new file" > "$f"
wait_lines "$d/out3" 2
kill $t
wait $t 2> /dev/null
cat "$d/out3"

rm -rf "$d"
