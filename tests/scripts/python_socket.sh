#!/bin/sh
# REQUIRES: /usr/bin/python3
# Python's socket module over the kernel's sockets: socketpair, a unix
# socket server in /tmp, a loopback TCP echo and UDP between processes
# (os.fork; threads once they land), fd passing with send_fds.
python3 -c '
import os, socket, sys
a, b = socket.socketpair()
a.sendall(b"pair"); print(b.recv(10), a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM)
a.close(); print(b.recv(10))

d = "/tmp/pysock-%d" % os.getpid(); os.mkdir(d)
path = d + "/srv"
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(1)
print(srv.getsockname() == path, os.path.exists(path))
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX); c.connect(path); c.sendall(b"over a path"); c.close(); os._exit(0)
conn, _ = srv.accept(); print(conn.recv(100)); conn.close(); os.waitpid(pid, 0)
srv.close(); os.unlink(path); os.rmdir(d)

srv = socket.create_server(("127.0.0.1", 0)); port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    with socket.create_connection(("127.0.0.1", port)) as c:
        data = bytes(range(256)) * 4000
        c.sendall(data); c.shutdown(socket.SHUT_WR)
        back = b""
        while True:
            x = c.recv(65536)
            if not x: break
            back += x
        os._exit(0 if back == data else 1)
conn, addr = srv.accept(); print("peer", addr[0])
total = 0
while True:
    x = conn.recv(65536)
    if not x: break
    conn.sendall(x); total += len(x)
conn.close(); print("echoed", total, "child", os.waitpid(pid, 0)[1] >> 8)

u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0))
v = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
v.sendto(b"udp six", u.getsockname()[:2]); data, frm = u.recvfrom(100); print(data, frm[0])

x, y = socket.socketpair()
r, w = os.pipe()
socket.send_fds(x, [b"fd"], [w]); os.close(w)
msg, fds, flags, _ = socket.recv_fds(y, 10, 4)
os.write(fds[0], b"through a passed fd"); os.close(fds[0])
print(msg, os.read(r, 100))
'
