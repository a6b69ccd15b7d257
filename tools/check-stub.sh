#!/bin/sh
# Fails if a stub object refers to anything outside the stub section: the
# stub is copied to a fixed address in guest host-processes, where nothing
# else of cocoon exists.
status=0
for o in "$@"; do
	bad=$(readelf -rW "$o" | awk '/^Relocation section/ { sec=$3; next }
		/^ *[0-9a-f]+ +[0-9a-f]+ +R_X86_64/ { if (sec !~ /eh_frame|debug|note/) print sec, $0 }')
	if [ -n "$bad" ]; then
		echo "check-stub: $o has relocations (stub code must be self-contained):" >&2
		echo "$bad" >&2
		status=1
	fi
	other=$(readelf -SW "$o" | awk '$2 ~ /^\.(text|data|bss|rodata)/ && $6 != "000000" { print $2 }')
	if [ -n "$other" ]; then
		echo "check-stub: $o puts code or data outside the stub section: $other" >&2
		status=1
	fi
done
exit $status
