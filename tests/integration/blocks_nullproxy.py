#!/usr/bin/env python3
"""A neardata endpoint in front of nearsim that wrongly answers null (a skipped height).
`blocks_nullproxy.py PORT PORTFILE`: null the first time each existing block is asked for.
`blocks_nullproxy.py PORT PORTFILE PATH=N ...`: null the first N requests of each PATH only."""
import http.client
import http.server
import sys
import threading


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body, loc = r.read(), r.getheader("Location")
    c.close()
    return r.status, body, loc


class NullProxy(http.server.BaseHTTPRequestHandler):
    upstream = 0
    budget = None       # {path: nulls left}, or None: once per existing block
    lied = set()
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def lie(self, path, st, body):
        with self.lock:
            if self.budget is not None:
                if self.budget.get(path, 0) <= 0:
                    return False
                self.budget[path] -= 1
                return True
            if not path.startswith("/v0/block/") or st != 200 or body.strip() == b"null":
                return False
            first = path not in self.lied
            self.lied.add(path)
            return first

    def do_GET(self):
        path = self.path.split("?")[0]
        st, body, loc = get(self.upstream, self.path)
        if self.lie(path, st, body):
            st, body, loc = 200, b"null", None
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if loc:
            self.send_header("Location", loc)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:     # the client went away while a request was held
            pass


NullProxy.upstream = int(sys.argv[1])
if len(sys.argv) > 3:
    NullProxy.budget = {p: int(n) for p, n in (a.rsplit("=", 1) for a in sys.argv[3:])}
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NullProxy)
with open(sys.argv[2], "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
