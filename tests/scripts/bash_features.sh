#!/bin/bash
# bash: arrays, [[ ]], PIPESTATUS and pipefail, process substitution
# (/dev/fd), here-strings, mapfile, coprocesses, wait -n, job statuses.
set -u
a=(one "two words" three)
echo "array: ${#a[@]} items, second [${a[1]}]"
declare -A m=([x]=1 [y]=2)
echo "assoc: ${m[x]} ${m[y]}"
[[ "abc" == a* ]] && echo "pattern match"
[[ "x=42" =~ ^x=([0-9]+)$ ]] && echo "regex group ${BASH_REMATCH[1]}"
true | false | true; echo "PIPESTATUS ${PIPESTATUS[*]}"
set -o pipefail; true | false | true; echo "pipefail status $?"; set +o pipefail
mapfile -t lines < <(printf 'l1\nl2\nl3\n')
echo "mapfile from process substitution: ${#lines[@]} lines, last ${lines[2]}"
diff <(printf 'a\nb\n') <(printf 'a\nc\n') | sed -n '2,$p'
read -r w1 w2 <<< "here string"
echo "here-string: [$w1] [$w2]"
printf -v v '%05d' 42; echo "printf -v: $v"
echo {1..5} {a..c}
s=$(for i in {1..100}; do echo $i; done | paste -sd+ | bc 2>/dev/null || echo 5050)
echo "sum $s"
coproc upper { tr a-z A-Z; }
echo "to the coprocess" >&"${upper[1]}"
exec {upper[1]}>&-
read -r line <&"${upper[0]}"
echo "coproc: $line"
wait
# In a subshell of its own: wait -n may also take a process substitution
# of the parent that ended late, which would depend on timing.
# The sleep ends only when killed, so the subshell is first on a slow
# machine too (0.2 s against 0.05 s and a fork was a race).
(
	sleep 30 & s1=$!
	(sleep 0.05; exit 6) & s2=$! # ends after wait -n starts, on a slow machine too
	wait -n; echo "wait -n: first done has status $?"
	kill $s1; wait $s1; echo "sleep status $?"
)
f() { local x=local; echo "$x $FUNCNAME"; }; f
trap 'echo "ERR trap at status $?"' ERR
false
trap - ERR
echo "a subshell has its own BASHPID: $( [ "$BASHPID" != "$$" ] && echo yes)"
echo "\$\$ in a subshell is the parent's: $( [ "$$" = "$(echo $$)" ] && echo yes)"
exit 0
