// A static Go program exercising what the Go runtime needs from a kernel:
// threads (GOMAXPROCS > 1), futexes, signal-based preemption of a
// goroutine that never yields, timers and tickers, the garbage collector
// stopping every thread, os/signal, and os/exec of a child (itself) with
// pipes and an exit status, and an HTTP server on 127.0.0.1 with
// concurrent clients (the netpoller: epoll and non-blocking sockets).
// Everything printed is deterministic.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		child()
		return
	}
	runtime.GOMAXPROCS(4)
	fmt.Println("GOMAXPROCS", runtime.GOMAXPROCS(0))
	pipeline()
	mutexes()
	timers()
	preemption()
	collector()
	signals()
	children()
	files()
	httpServer()
}

// The child reads lines from stdin and writes them back upper-cased,
// then exits with the status given as its second argument.
func child() {
	in := bufio.NewScanner(os.Stdin)
	n := 0
	for in.Scan() {
		fmt.Println(strings.ToUpper(in.Text()))
		n++
	}
	fmt.Fprintf(os.Stderr, "child read %d lines\n", n)
	code := 0
	if len(os.Args) > 2 {
		fmt.Sscan(os.Args[2], &code)
	}
	os.Exit(code)
}

// A generator, four squaring workers and a collector, joined by channels.
func pipeline() {
	nums := make(chan int)
	squares := make(chan int, 16)
	go func() {
		for i := 1; i <= 10000; i++ {
			nums <- i
		}
		close(nums)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range nums {
				squares <- n * n
			}
		}()
	}
	go func() { wg.Wait(); close(squares) }()
	sum, count := 0, 0
	for s := range squares {
		sum += s
		count++
	}
	fmt.Println("pipeline:", count, "squares, sum", sum)
}

func mutexes() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	var atom int64
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
				atomic.AddInt64(&atom, 2)
				if i%500 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	// sync.Cond: a broadcast releases every waiter.
	var cmu sync.Mutex
	cond := sync.NewCond(&cmu)
	ready, released := false, 0
	var cw sync.WaitGroup
	for g := 0; g < 8; g++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			cmu.Lock()
			for !ready {
				cond.Wait()
			}
			released++
			cmu.Unlock()
		}()
	}
	time.Sleep(5 * time.Millisecond)
	cmu.Lock()
	ready = true
	cond.Broadcast()
	cmu.Unlock()
	cw.Wait()
	var once sync.Once
	onces := 0
	for i := 0; i < 3; i++ {
		once.Do(func() { onces++ })
	}
	fmt.Println("mutex:", counter, "atomic:", atom, "cond released:", released, "once:", onces)
}

func timers() {
	start := time.Now()
	t := time.NewTimer(30 * time.Millisecond)
	<-t.C
	waited := time.Since(start) >= 30*time.Millisecond
	tk := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range tk.C {
		ticks++
		if ticks == 5 {
			break
		}
	}
	tk.Stop()
	var timedOut bool
	select {
	case <-make(chan int):
	case <-time.After(10 * time.Millisecond):
		timedOut = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	stopped := time.NewTimer(time.Hour).Stop()
	fired := make(chan bool, 1)
	time.AfterFunc(time.Millisecond, func() { fired <- true })
	fmt.Println("timers: waited", waited, "ticks", ticks, "select timeout", timedOut,
		"context", ctx.Err(), "stopped", stopped, "AfterFunc", <-fired)
}

// A goroutine spinning without function calls can only be stopped by
// the runtime's preemption signal (SIGURG to its thread).
var spinSink uint64

func preemption() {
	prev := runtime.GOMAXPROCS(1)
	var stop int32
	done := make(chan bool)
	go func() {
		var x uint64
		for atomic.LoadInt32(&stop) == 0 {
			x++
		}
		spinSink = x
		done <- true
	}()
	runtime.Gosched()                 // let it start spinning on the only P
	time.Sleep(20 * time.Millisecond) // we run again only if it is preempted
	atomic.StoreInt32(&stop, 1)
	<-done
	runtime.GOMAXPROCS(prev)
	fmt.Println("preemption: the main goroutine ran while another spun")
}

type node struct {
	next *node
	buf  []byte
}

// Many goroutines allocating at once make the collector stop and scan
// every thread.
func collector() {
	var wg sync.WaitGroup
	lens := make([]int, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var head *node
			for i := 0; i < 20000; i++ {
				head = &node{next: head, buf: make([]byte, 64+i%128)}
				if i%1000 == 500 {
					head = nil // garbage
				}
			}
			for n := head; n != nil; n = n.next {
				lens[g]++
			}
		}(g)
	}
	wg.Wait()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("gc: lists", lens, "collected at least once", ms.NumGC > 0)
}

func signals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-ch:
		fmt.Println("signal: got", s)
	case <-time.After(5 * time.Second):
		fmt.Println("signal: none")
	}
	signal.Stop(ch)
}

func children() {
	self, err := os.Executable()
	if err != nil {
		fmt.Println("os.Executable:", err)
		return
	}
	cmd := exec.Command(self, "child", "3")
	stdin, _ := cmd.StdinPipe()
	var errbuf strings.Builder
	cmd.Stderr = &errbuf
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		return
	}
	go func() {
		for _, w := range []string{"one", "two", "three"} {
			io.WriteString(stdin, w+"\n")
		}
		stdin.Close()
	}()
	out, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	var ee *exec.ExitError
	code := -1
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	fmt.Printf("child: %q, stderr %q, exit status %d\n", out, errbuf.String(), code)

	// Several at once, from several goroutines.
	var wg sync.WaitGroup
	res := make([]string, 6)
	for i := range res {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := exec.Command(self, "child")
			c.Stdin = strings.NewReader(fmt.Sprintf("line %d\n", i))
			o, err := c.Output()
			res[i] = fmt.Sprintf("%s/%v", strings.TrimSpace(string(o)), err)
		}(i)
	}
	wg.Wait()
	fmt.Println("children in parallel:", res)
	out, err = exec.Command("/bin/sh", "-c", "echo from sh; exit 0").Output()
	fmt.Printf("sh: %q %v\n", out, err)
	_, err = exec.Command("/nonexistent/program").Output()
	fmt.Println("missing program:", err)
}

func files() {
	dir, err := os.MkdirTemp("", "goworkload")
	if err != nil {
		fmt.Println("MkdirTemp:", err)
		return
	}
	defer os.RemoveAll(dir)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), []byte(strings.Repeat("x", i*100)), 0o644)
		}(i)
	}
	wg.Wait()
	ents, _ := os.ReadDir(dir)
	names := []string{}
	total := int64(0)
	for _, e := range ents {
		info, _ := e.Info()
		names = append(names, e.Name())
		total += info.Size()
	}
	sort.Strings(names)
	fmt.Println("files:", len(names), names[0], names[len(names)-1], "bytes", total)
}

// An HTTP server on a loopback port the kernel picks, and 20 requests
// from 5 goroutines over kept-alive connections.
func httpServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	var hits int64
	mux := http.NewServeMux()
	mux.HandleFunc("/sq", func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&hits, 1)
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %d", n*n, len(body))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	client := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/sq?n="
	var wg sync.WaitGroup
	results := make([]string, 20)
	for g := 0; g < 5; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < 20; i += 5 {
				resp, err := client.Post(fmt.Sprint(url, i), "text/plain", strings.NewReader(strings.Repeat("b", i*1000)))
				if err != nil {
					results[i] = err.Error()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = fmt.Sprintf("%d:%s", resp.StatusCode, b)
			}
		}(g)
	}
	wg.Wait()
	resp, err := client.Get("http://" + ln.Addr().String() + "/missing")
	status := 0
	if err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	// A connection the transport dialed but never used is "new" to the
	// server for 5 s, which Shutdown would wait out: close them first.
	client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := srv.Shutdown(ctx)
	fmt.Println("http:", atomic.LoadInt64(&hits), "requests served:", results[0], results[7], results[19])
	fmt.Println("http: missing page", status, "shutdown", shut)
}
