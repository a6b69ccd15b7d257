#!/bin/sh
# dash: the pipeline of issue 3, and everyday shell plumbing (pipes,
# command substitution, here-documents, subshells, functions, traps,
# background jobs, redirections, exit statuses).
ls -l /usr/bin | sort -k5 -n | tail -3; echo $((6*7))

echo "-- pipes and substitution"
n=$(ls /etc | wc -l)
[ "$n" -gt 10 ] && echo "more than 10 entries in /etc"
echo "$(echo nested $(echo twice))"
printf 'b\na\nc\nb\n' | sort | uniq -c | sed 's/^ *//'
seq 1 1000 | awk '{ s += $1 } END { print s }'
yes hello | head -n 3
head -c 100000 /dev/zero | wc -c

echo "-- here-documents and read"
cat <<END
here $((1 + 2))
END
while read -r a b; do echo "read: [$a] [$b]"; done <<END
one two three
four
END

echo "-- subshells, functions, status"
(exit 3); echo "subshell status $?"
f() { echo "f got $# args: $*"; return 4; }
f x "y z"; echo "f status $?"
false | true; echo "pipeline status $?"
true | false; echo "pipeline status $?"
if grep -q root /etc/passwd; then echo "root in passwd"; fi
sh -c 'exit 7'; echo "sh -c status $?"
sh -c 'kill -TERM $$'; echo "killed sh status $?"
x=outer; (x=inner; echo "in subshell: $x"); echo "after: $x"

echo "-- background jobs"
sleep 0.1 & p=$!
wait $p; echo "wait status $?"
(sleep 0.05; exit 9) & wait $!; echo "background status $?"
for i in 1 2 3; do (echo "job $i" > /dev/null) & done; wait; echo "all jobs done"

echo "-- redirections"
exec 3< /etc/passwd
read -r first <&3
exec 3<&-
[ "$first" = "$(head -n 1 /etc/passwd)" ] && echo "fd 3 read the first line"
ls /nonexistent 2>/dev/null || echo "ls failed quietly"
{ echo out; echo err >&2; } 2>&1 | sort

echo "-- traps"
sh -c 'trap "echo exit trap" EXIT; echo body'
sh -c 'trap "echo got TERM; exit 5" TERM; kill -TERM $$; echo not reached'; echo "status $?"

echo "-- exec"
sh -c 'exec echo replaced by exec'
env -i /bin/sh -c 'echo "env -i: PATH=${PATH:-unset}"' | sed 's/PATH=.*/PATH=(dash default)/'
exit 0
