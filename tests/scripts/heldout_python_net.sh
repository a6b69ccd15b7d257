#!/bin/sh
# REQUIRES: /usr/bin/python3
# Python's networking stacks on loopback with threads: a
# ThreadingTCPServer with client threads, a ThreadingUDPServer, asyncio
# streams (server and clients on one event loop, IPv4 and IPv6, with
# timeouts), and selectors over a socketpair.
/usr/bin/python3 -c '
import asyncio, selectors, socket, socketserver, threading

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())

with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as srv:
    port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}); t.start()
    results = [None] * 8
    def client(i):
        with socket.create_connection(("127.0.0.1", port)) as c:
            f = c.makefile("rwb")
            got = []
            for k in range(50):
                f.write(b"client %d line %d\n" % (i, k)); f.flush()
                got.append(f.readline())
            c.shutdown(socket.SHUT_WR)
            results[i] = (len(got), got[-1], f.read())
    cs = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for c in cs: c.start()
    for c in cs: c.join()
    srv.shutdown(); t.join()
for r in results: print(r)

class UEcho(socketserver.DatagramRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.read()[::-1])
with socketserver.ThreadingUDPServer(("127.0.0.1", 0), UEcho) as srv:
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}); t.start()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
    for m in (b"abc", b"hello udp", b"x" * 1000):
        u.sendto(m, srv.server_address); print(len(u.recvfrom(2000)[0]), u.recvfrom.__name__)
    u.settimeout(0.3)
    try: u.recvfrom(10); print("unexpected data")
    except socket.timeout: print("udp timeout")
    srv.shutdown(); t.join()

async def handle(r, w):
    while data := await r.read(1000):
        w.write(data[::-1]); await w.drain()
    w.close(); await w.wait_closed()

async def main():
    out = []
    for host in ("127.0.0.1", "::1"):
        srv = await asyncio.start_server(handle, host, 0)
        port = srv.sockets[0].getsockname()[1]
        async def one(i):
            r, w = await asyncio.open_connection(host, port)
            msg = b"asyncio %d " % i * 100
            w.write(msg); await w.drain(); w.write_eof()
            data = await r.read()
            w.close(); await w.wait_closed()
            return len(data), sorted(data) == sorted(msg)
        out.append((host, await asyncio.gather(*(one(i) for i in range(10)))))
        srv.close(); await srv.wait_closed()
    try:
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
    except ConnectionRefusedError as e:
        out.append(("refused", e.errno))
    pair = socket.socketpair()
    r, w = await asyncio.open_connection(sock=pair[0])
    try:
        await asyncio.wait_for(r.read(1), 0.3)
    except asyncio.TimeoutError:
        out.append("read timed out")
    w.close(); pair[1].close()
    return out
for x in asyncio.run(main()): print(x)

sel = selectors.DefaultSelector()
a, b = socket.socketpair(); a.setblocking(False); b.setblocking(False)
sel.register(a, selectors.EVENT_READ, "a")
def writer():
    for i in range(20): b.send(b"%02d" % i)
    b.shutdown(socket.SHUT_WR)
threading.Thread(target=writer).start()
data = b""
while True:
    ev = sel.select(5)
    if not ev: print("select timed out"); break
    chunk = a.recv(100)
    if not chunk: break
    data += chunk
print(len(data), data[:10], type(sel).__name__)
'
