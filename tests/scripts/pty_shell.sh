#!/bin/bash
# REQUIRES: /usr/bin/script
# An interactive bash on a pseudo-terminal made by script(1), typed at
# through the master: a command, ^C to a foreground job, ^Z and fg of a
# stopped one, ^C again, exit. Each step waits for what the shell must
# print before typing on, so the transcript (CRs dropped) is the same
# every run.
export TERM=dumb LC_ALL=C
unset PROMPT_COMMAND BASH_ENV ENV
dir=$(mktemp -d /tmp/pty_shell.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
printf '%s\n' "PS1='\$ '" > "$dir/rc"
coproc SH { exec script -qfec "bash --rcfile $dir/rc --noediting -i" /dev/null 2>&1; }
sh_pid=$SH_PID
# Our own copies of the coprocess's pipes: bash closes SH's and unsets
# SH as soon as the coprocess exits, which can be before we read the
# last of what it wrote.
exec {from_sh}<&"${SH[0]}" {to_sh}>&"${SH[1]}"
transcript=
pending=
wait_for() {
	local c
	while [[ "$pending" != *"$1"* ]]; do
		if ! IFS= read -r -d '' -n 1 -t 20 c <&"$from_sh"; then
			transcript+=$pending
			printf '%s\n[timed out waiting for %q]\n' "${transcript//$'\r'/}" "$1"
			exit 1
		fi
		pending+=$c
	done
	transcript+=$pending
	pending=
}
type() { printf '%s' "$1" >&"$to_sh"; }

wait_for '$ '
type $'echo hello $((6 * 7))\n'
wait_for $'42\r\n$ '
type $'sh -c \'echo started; exec sleep 30\'\n'
wait_for $'started\r\n'
type $'\003'
wait_for '$ '
type $'echo status $?\n'
wait_for $'status 130\r\n$ '
# The job says when it runs again (bash gives it the terminal first).
type $'sh -c \'trap "echo cont" CONT; echo again; while :; do sleep 1; done\'\n'
wait_for $'again\r\n'
sleep 0.5 # into its loop: dash takes signals late while it forks
type $'\032'
wait_for '$ '
type $'jobs\n'
wait_for '$ '
type $'fg\n'
wait_for $'cont\r\n'
type $'\003'
wait_for '$ '
type $'echo status $?\n'
wait_for $'status 130\r\n$ '
type $'exit 3\n'
while IFS= read -r -d '' -n 1 -t 20 c <&"$from_sh"; do
	transcript+=$c
done
wait "$sh_pid"
echo "exit status $?"
printf '%s\n' "${transcript//$'\r'/}"
