#!/bin/sh
# REQUIRES: /usr/bin/go
# A static Go program (tests/programs/go_workload) built in the sandbox
# with the go tool (itself a threaded Go program running the compiler and
# linker as children), then run: goroutines on GOMAXPROCS=4 threads,
# channels, sync, timers, signal preemption, the GC, os/signal, os/exec,
# an HTTP server on 127.0.0.1 with concurrent clients.
set -e
src=$(cd "$(dirname "$0")/../programs/go_workload" && pwd)
d=$(mktemp -d /tmp/cocoon-go.XXXXXX)
trap 'chmod -R u+w "$d"; rm -rf "$d"' EXIT
cp "$src/go.mod" "$src/main.go" "$d"
cd "$d"
export HOME="$d" GOCACHE="$d/cache" GOPATH="$d/gopath" GOENV=off GOFLAGS= \
	CGO_ENABLED=0 GOPROXY=off GOSUMDB=off GO111MODULE=on
go build -trimpath -o prog .
if grep -q ld-linux prog; then echo "prog: dynamic"; else echo "prog: static"; fi
./prog
echo "status $?"
