#!/bin/sh
# REQUIRES: /usr/bin/python3 /dev/shm
# CPython's multiprocessing: worker processes fed through pipes by
# feeder threads, synchronised by POSIX semaphores in /dev/shm (futexes
# shared between processes): a ProcessPoolExecutor, a Pool, a Queue
# between processes, a Lock and an Event across fork, a Value in shared
# memory incremented under its lock by several processes.
python3 -c '
import concurrent.futures as cf, multiprocessing as mp, os

def square(x):
    return x * x

def add(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1

def wait_then_put(ev, q):
    ev.wait()
    q.put(os.getpid() != os.getppid())

if __name__ == "__main__":
    mp.set_start_method("fork")
    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        print("ProcessPoolExecutor:", sum(ex.map(square, range(200))))
        print("submit:", ex.submit(pow, 3, 4).result())
        print("exception:", type(ex.submit(square, "x").exception()).__name__)
    with mp.Pool(2) as pool:
        print("Pool.map:", pool.map(square, range(8)))
        print("Pool.apply_async:", pool.apply_async(sum, ([1, 2, 3],)).get(timeout=30))
    q = mp.Queue()
    ev = mp.Event()
    ps = [mp.Process(target=wait_then_put, args=(ev, q)) for _ in range(3)]
    for p in ps: p.start()
    ev.set()
    print("queue from 3 processes after an event:", sorted(q.get(timeout=30) for _ in ps))
    for p in ps: p.join()
    print("exit codes:", [p.exitcode for p in ps])
    v = mp.Value("i", 0)
    ps = [mp.Process(target=add, args=(v, 500)) for _ in range(4)]
    for p in ps: p.start()
    for p in ps: p.join()
    print("shared counter:", v.value)
    lock = mp.Lock()
    lock.acquire()
    p = mp.Process(target=lambda: os._exit(0 if not lock.acquire(timeout=0.05) else 1))
    p.start(); p.join()
    print("lock held across fork, child timed out:", p.exitcode == 0)
    lock.release()
'
