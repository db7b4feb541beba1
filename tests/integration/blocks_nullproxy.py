#!/usr/bin/env python3
"""A neardata endpoint that answers null the first time it is asked for any block that
exists (a skipped height, it claims), then the truth. `blocks_nullproxy.py PORT PORTFILE`"""
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


class NullFirst(http.server.BaseHTTPRequestHandler):
    upstream = 0
    lied = set()
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def do_GET(self):
        st, body, loc = get(self.upstream, self.path)
        if self.path.startswith("/v0/block/") and st == 200 and body.strip() != b"null":
            h = int(self.path.split("?")[0].split("/")[3])
            with self.lock:
                first = h not in self.lied
                self.lied.add(h)
            if first:
                st, body = 200, b"null"
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if loc:
            self.send_header("Location", loc)
        self.end_headers()
        self.wfile.write(body)


NullFirst.upstream = int(sys.argv[1])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NullFirst)
with open(sys.argv[2], "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
