#!/bin/sh
# REQUIRES: /usr/bin/python3
# CPython's threads: a ThreadPoolExecutor (map, submit, as_completed,
# exceptions, shutdown), threading.Event, Condition, Barrier, Semaphore,
# Lock timeouts, Timer, queue.Queue, thread-local data, threads that
# block in system calls (sleep, pipe reads, subprocess) while others run,
# and a threading HTTP server on 127.0.0.1 with a pool of clients.
python3 -c '
import concurrent.futures as cf, threading, queue, time, os, subprocess, hashlib

def work(n):
    return sum(i * i for i in range(n))

with cf.ThreadPoolExecutor(max_workers=4) as ex:
    print("map:", list(ex.map(work, range(0, 5000, 500))))
    futs = {ex.submit(work, n): n for n in (10, 100, 1000, 10000)}
    done = sorted((futs[f], f.result()) for f in cf.as_completed(futs))
    print("as_completed:", done)
    bad = ex.submit(lambda: 1 / 0)
    print("exception:", type(bad.exception()).__name__)
    hashes = ex.map(lambda i: hashlib.sha256(str(i).encode() * 10000).hexdigest()[:8], range(8))
    print("hashes:", list(hashes))
    t0 = time.monotonic()  # before the submits: the first sleeps may start at once
    sleeps = [ex.submit(time.sleep, 0.05) for _ in range(8)]
    cf.wait(sleeps)
    print("8 sleeps of 50 ms on 4 workers took at least 100 ms:", time.monotonic() - t0 >= 0.1)
print("pool shut down")

# Event and Condition: a producer hands items to consumers.
ev = threading.Event()
cond = threading.Condition()
items, got = [], []
def consumer():
    ev.wait()
    while True:
        with cond:
            while not items:
                cond.wait()
            v = items.pop(0)
            if v is None:
                return
            got.append(v)
cons = [threading.Thread(target=consumer) for _ in range(3)]
for t in cons: t.start()
ev.set()
for i in range(300):
    with cond:
        items.append(i)
        cond.notify()
with cond:
    items.extend([None] * 3)
    cond.notify_all()
for t in cons: t.join()
print("condition:", len(got), sum(got))

with cond:
    t0 = time.monotonic()
    r = cond.wait(timeout=0.05)
print("condition wait timeout:", r, time.monotonic() - t0 >= 0.05)
print("event wait timeout:", threading.Event().wait(0.02))

# Barrier rounds, a bounded semaphore, lock timeouts.
bar = threading.Barrier(4)
rounds = []
def barrier_worker(k):
    for r in range(20):
        if bar.wait() == 0:
            rounds.append(r)
ts = [threading.Thread(target=barrier_worker, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("barrier:", len(rounds), "rounds")

sem = threading.BoundedSemaphore(2)
inside, peak, lk = [0], [0], threading.Lock()
def limited():
    with sem:
        with lk:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.005)
        with lk:
            inside[0] -= 1
ts = [threading.Thread(target=limited) for _ in range(10)]
for t in ts: t.start()
for t in ts: t.join()
print("semaphore: never more than 2 inside:", 1 <= peak[0] <= 2)

lock = threading.Lock()
lock.acquire()
holder = []
t = threading.Thread(target=lambda: holder.append(lock.acquire(timeout=0.03)))
t.start(); t.join()
print("lock acquire timeout:", holder, "non-blocking:", lock.acquire(blocking=False))
lock.release()

fired = threading.Event()
tm = threading.Timer(0.02, fired.set)
tm.start()
print("timer fired:", fired.wait(5))
tm2 = threading.Timer(10, fired.clear)
tm2.start(); tm2.cancel(); tm2.join()
print("timer cancelled:", fired.is_set())

# queue.Queue between threads; thread-local data.
q = queue.Queue(maxsize=5)
out = []
def qconsumer():
    while (v := q.get()) is not None:
        out.append(v * 2)
        q.task_done()
    q.task_done()
qt = threading.Thread(target=qconsumer); qt.start()
for i in range(100): q.put(i)
q.put(None); q.join(); qt.join()
print("queue:", len(out), sum(out))
local = threading.local()
seen = []
def use_local(k):
    local.v = k
    time.sleep(0.001)
    seen.append(local.v == k)
ts = [threading.Thread(target=use_local, args=(k,)) for k in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("thread-local:", all(seen), len(seen), hasattr(local, "v"))

# Threads blocked in the kernel (a pipe read, subprocesses) while the
# main thread goes on.
r, w = os.pipe()
reader_got = []
rt = threading.Thread(target=lambda: reader_got.append(os.read(r, 100)))
rt.start()
time.sleep(0.02)
os.write(w, b"late data")
rt.join()
print("pipe reader:", reader_got)
def run(i):
    return subprocess.run(["/bin/sh", "-c", "echo child %d; exit %d" % (i, i)], capture_output=True, text=True)
with cf.ThreadPoolExecutor(max_workers=3) as ex:
    res = list(ex.map(run, range(6)))
print("subprocesses:", [(p.stdout.strip(), p.returncode) for p in res])

# A threading HTTP server on 127.0.0.1 and a pool of clients.
import http.server, urllib.request
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(int(self.path[1:]) ** 2).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
st = threading.Thread(target=srv.serve_forever)
st.start()
url = "http://127.0.0.1:%d/" % srv.server_address[1]
with cf.ThreadPoolExecutor(max_workers=4) as ex:
    got = list(ex.map(lambda i: urllib.request.urlopen(url + str(i), timeout=10).read().decode(), range(12)))
srv.shutdown(); st.join(); srv.server_close()
print("http:", got)
# The handler threads of the server are daemons that server_close() does
# not join: one may still be on its way out after its client had the answer.
for t in threading.enumerate():
    if t is not threading.main_thread():
        t.join(10)
print("threads left:", threading.active_count())
'
