"""A webhook sink for scripts/client-compat.sh: counts the POSTs to each path.

Listens on 127.0.0.1 on a free port and writes the port to PORT_FILE once it
listens. `POST /any/path` counts one for that path (and answers `{"ok": true}`);
`GET /count/any/path` answers how many POSTs that path has had.

Usage: python3 sink.py PORT_FILE
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
        self.answer(b'{"ok": true}')

    def do_GET(self):
        path = self.path[len("/count"):] if self.path.startswith("/count/") else None
        with lock:
            n = counts.get(path, 0)
        self.answer(json.dumps(n).encode())

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, sys.argv[1])
server.serve_forever()
