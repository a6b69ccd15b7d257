#!/bin/sh
# REQUIRES: /usr/bin/python3
# COCOON: --net=host
# Python over host sockets (--net=host): an http.server in a thread of
# its own, urllib fetching from it by name (localhost, through getaddrinfo
# and /etc/hosts) and by address, and the resolver's answers for names in
# /etc/hosts. Natively the same program, the same output.
d=/tmp/hostnet-http-$$
mkdir -p "$d" && cd "$d" || exit 1
printf 'served over a host socket\n' > page.txt
python3 -c '
import http.server, socket, threading, urllib.request, urllib.error

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200); self.send_header("Content-Type", "text/plain"); self.end_headers()
        self.wfile.write(b"got " + body[::-1])

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
port = srv.server_address[1]
t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()

for host in ("localhost", "127.0.0.1"):
    with urllib.request.urlopen("http://%s:%d/page.txt" % (host, port), timeout=20) as r:
        print(host, r.status, r.headers["Content-Type"], r.read())
try:
    urllib.request.urlopen("http://localhost:%d/missing" % port, timeout=20)
except urllib.error.HTTPError as e:
    print("missing", e.code)
req = urllib.request.Request("http://localhost:%d/" % port, data=b"stressed" * 1000, method="POST")
with urllib.request.urlopen(req, timeout=20) as r:
    b = r.read(); print("post", r.status, len(b), b[:12])
srv.shutdown(); srv.server_close()

def addrs(*a, **k):
    return sorted(set(x[4][0] for x in socket.getaddrinfo(*a, **k)))
print(addrs("localhost", 80, socket.AF_INET, socket.SOCK_STREAM))
print(addrs("localhost", 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG))
print(addrs("127.0.0.1", "http", type=socket.SOCK_STREAM))
print(socket.gethostbyname("localhost"), socket.getnameinfo(("127.0.0.1", 80), 0)[1])
try:
    socket.create_connection(("localhost", port), timeout=20)
except OSError as e:
    print("closed server:", e.errno == 111)
'
st=$?
cd / && rm -rf "$d"
exit $st
