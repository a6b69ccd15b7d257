#!/bin/sh
# Fails if a stub object refers to anything outside the stub section: the
# stub is copied to a fixed address in guest host-processes, where nothing
# else of cocoon exists. Allowed: PC-relative references to symbols that
# stub objects define in the stub section.
defined=$(for o in "$@"; do


	idx=$(readelf -SW "$o" | sed -n 's/^ *\[ *\([0-9]*\)\] cocoon_stub .*/\1/p')
	readelf -sW "$o" | awk -v idx="$idx" '$7 == idx && $8 != "" { print $8 }'
done | sort -u)
status=0
for o in "$@"; do
	readelf -rW "$o" | awk '/^Relocation section/ { sec=$3; next }
		/R_X86_64/ { print sec, $3, $5 }' | while read -r sec type sym; do
		case "$sec" in *eh_frame*|*debug*|*note*) continue ;; esac
		case "$type" in R_X86_64_PC32|R_X86_64_PLT32) ;;
		*) echo "check-stub: $o: $type relocation to $sym (must be PC-relative)" >&2; echo x ;; esac
		if ! printf '%s\n' "$defined" | grep -qx "$sym"; then
			echo "check-stub: $o refers to $sym outside the stub section" >&2; echo x
		fi
	done | grep -q x && status=1
	other=$(readelf -SW "$o" | awk '$2 ~ /^\.(text|data|bss|rodata)/ && $6 != "000000" { print $2 }')
	if [ -n "$other" ]; then
		echo "check-stub: $o puts code or data outside the stub section: $other" >&2
		status=1
	fi
done
exit $status
