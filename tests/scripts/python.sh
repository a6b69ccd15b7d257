#!/bin/sh
# REQUIRES: /usr/bin/python3
python3 -c 'import os, json; print(json.dumps(sorted(os.listdir("/etc"))[:5]))'
python3 -c 'import sys; print(sys.version_info[0], len(sys.argv))' a b
python3 -c '
import subprocess, os
out = subprocess.run(["/bin/echo", "from", "a", "subprocess"], capture_output=True, text=True)
print(out.stdout.strip(), out.returncode)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r); os.write(w, b"child says hi"); os._exit(3)
os.close(w)
print(os.read(r, 100).decode(), os.waitpid(pid, 0)[1] >> 8)
import hashlib
print(hashlib.sha256(open("/etc/passwd", "rb").read()).hexdigest()[:16])
'
echo 'print(sum(range(101)))' | python3
