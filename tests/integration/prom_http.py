#!/usr/bin/env python3
"""Acceptance 1 and 4 of prometheus-monitor: the HTTP server in the daemon.
Content type, HEAD, 404, 405 for other methods, 400 for a GET with a body;
malformed and oversized requests are refused without harm; idle connections
are bounded and timed out; a client that does not read its (large) response
blocks nobody and is dropped; memory stays flat across thousands of bad
requests; and the whole exercise is clean under valgrind."""
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prom_util import BULK, CONTENT_TYPE, TOP_BUILDDIR, Daemon, Tap, poll  # noqa: E402

import shutil  # noqa: E402

t = Tap()
LIMIT = 32
CONF = "max_connections = %d\nconnection_timeout = 2s\nmax_request_size = 16k\n" % LIMIT


def bulk(series):
    return "[plugin.prom_bulk]\npath = %s\nseries = %d\n" % (BULK, series)


def raw(port, data, timeout=10, rcvbuf=None):
    """Send data, read until the server closes or answers; the bytes read ('' if reset)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    out = b""
    try:
        if data:
            s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and (b"Content-Length: 0" in out or len(out) > 100000 or
                                       out.split(b"\r\n\r\n", 1)[1]):
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        out += b"<timeout>"
    finally:
        s.close()
    return out.decode("latin-1")


def status_of(resp):
    parts = resp.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith("HTTP/") and parts[1].isdigit() else 0


def sanitized():
    r = subprocess.run(["ldd", os.path.join(TOP_BUILDDIR, "mpc-indexer")], capture_output=True, text=True)
    return "libasan" in r.stdout or "libubsan" in r.stdout


def rss(d):
    return d.metrics().get("process_resident_memory_bytes", 0)


def basics(d):
    st, hdr, body = d.get("/metrics")
    t.ok(st == 200 and hdr.get("Content-Type") == CONTENT_TYPE, "GET /metrics: 200 with the text 0.0.4 content type",
         hdr.get("Content-Type"))
    t.ok(body.endswith("\n"), "the scrape ends with a newline")
    t.ok("bench_bulk_events_total{" in body and "mpc_indexer_build_info{" in body and
         "process_open_fds " in body, "it has another plugin's families, build info and process metrics")
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=body.encode(), capture_output=True)
        t.ok(r.returncode == 0, "promtool check metrics: clean (exit %d)" % r.returncode,
             (r.stdout + r.stderr).decode()[-2000:])
    else:
        t.ok(True, "# SKIP promtool not found")
    st, hdr, body = d.get("/metrics", method="HEAD")
    t.ok(st == 200 and body == "" and hdr.get("Content-Type") == CONTENT_TYPE, "HEAD /metrics: headers, no body")
    st, hdr, body = d.get("/")
    t.ok(st == 200 and "/metrics" in body and "text/html" in hdr.get("Content-Type", ""), "GET /: an index")
    st, _, body = d.get("/nope")
    t.ok(st == 404, "an unknown path: 404")
    st, _, body = d.get("/metrics?x=1&y")
    t.ok(st == 200, "a query string is ignored")
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"):
        resp = raw(d.port, ("%s /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % m).encode())
        t.ok(status_of(resp) == 405 and "Allow: GET, HEAD" in resp, "%s: 405 with Allow: GET, HEAD" % m, resp[:200])
    resp = raw(d.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    t.ok(status_of(resp) == 400, "a GET with a body: 400", resp[:200])


MALFORMED = [
    (b"HELLO\r\n\r\n", "a request line without method or path"),
    (b"GET\r\n\r\n", "a method alone"),
    (b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", "an unknown HTTP version"),
    (b"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n", "a header without a colon"),
    (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000 + b"\r\n\r\n", "a 100 KB header"),
    (b"GET /" + b"m" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "a 100 KB path"),
    (bytes(range(256)) * 64, "16 KB of binary junk"),
    (b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a broken chunked body"),
    (b"\r\n\r\n\r\n", "empty lines"),
]


def malformed(d):
    for data, what in MALFORMED:
        resp = raw(d.port, data)
        st = status_of(resp)
        t.ok("<timeout>" not in resp and (st == 0 or 400 <= st < 500 or st == 505),
             "%s: refused (%s)" % (what, st or "connection closed"), resp[:200])
    t.ok(d.get("/metrics")[0] == 200, "the server still answers")


def idle(d):
    conns = []
    for _ in range(LIMIT - 2):
        s = socket.socket()
        s.connect(("127.0.0.1", d.port))
        conns.append(s)
    st, _, body = d.get("/metrics")
    t.ok(st == 200, "with %d idle connections open, a scrape is answered" % (LIMIT - 2))
    n = d.metrics().get("mpc_indexer_monitor_http_connections", 0)
    t.ok(n >= LIMIT - 2, "the monitor counts them (%d open)" % n)
    extra = []
    for _ in range(100):
        s = socket.socket()
        s.settimeout(10)
        s.connect(("127.0.0.1", d.port))
        extra.append(s)
    refused = 0
    for s in extra:
        try:
            refused += s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            refused += 1
        s.close()
    t.ok(refused >= 90, "connections beyond max_connections are closed at once (%d of 100)" % refused)
    closed = 0
    for s in conns:
        s.settimeout(15)
        try:
            closed += s.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    t.ok(closed == len(conns), "idle connections are closed after connection_timeout (%d of %d)" % (closed, len(conns)))
    t.ok(poll(lambda: d.metrics().get("mpc_indexer_monitor_http_connections", 99) <= 1, tries=40),
         "and the count is back to the scrape itself")


def slow(d):
    full = len(d.get("/metrics")[2])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", d.port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    ok_scrapes = 0
    for _ in range(10):
        st, _, body = d.get("/metrics", timeout=20)
        ok_scrapes += st == 200 and len(body) > full * 0.9
    t.ok(ok_scrapes == 10, "10 full scrapes answered while a client sits on a %d-byte response without reading" % full)
    # the silent client makes no progress: the server drops it after connection_timeout
    t.ok(poll(lambda: d.metrics().get("mpc_indexer_monitor_http_connections", 99) <= 1, tries=60),
         "the server drops the client that does not read")
    got = 0
    s.settimeout(10)
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += len(b)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    t.ok(got < full, "it got only what the socket buffers held (%d of %d bytes)" % (got, full))
    t.ok(d.get("/metrics")[0] == 200, "the server still answers")


def memory(d):
    for _ in range(3):
        d.get("/metrics")
    before = rss(d)
    quick = MALFORMED[:-1]  # the server waits for a request after empty lines
    for i in range(600):
        data, _ = quick[i % len(quick)]
        raw(d.port, data)
        raw(d.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        if i % 20 == 0:
            d.get("/metrics")
    after = rss(d)
    grow = (after - before) / 1e6
    if sanitized():
        t.ok(True, "# SKIP RSS growth under sanitizers (quarantine): %.1f MB" % grow)
    else:
        t.ok(before > 0 and grow < 16, "RSS after 1200 bad requests and 30 scrapes: %+.1f MB (%.1f -> %.1f MB)" %
             (grow, before / 1e6, after / 1e6))
    # each scrape of 60000 series builds and frees megabytes: the core gives them back
    m, deadline = {}, time.time() + 60
    while time.time() < deadline and m.get("mpc_indexer_heap_trims_total", 0) < 1:
        time.sleep(1)
        m = d.metrics()
    if sanitized():
        t.ok(True, "# SKIP heap trims under sanitizers (their own allocator)")
    else:
        t.ok(m.get("mpc_indexer_heap_trims_total", 0) >= 1 and
             0 < m.get("mpc_indexer_heap_in_use_bytes", 0) <= m.get("process_resident_memory_bytes", 0),
             "freed heap memory is given back (%d trims), in use %.1f MB of RSS %.1f MB" %
             (m.get("mpc_indexer_heap_trims_total", 0), m.get("mpc_indexer_heap_in_use_bytes", 0) / 1e6,
              m.get("process_resident_memory_bytes", 0) / 1e6))


T0 = time.time()
d = None
try:
    d = Daemon(extra=CONF, sections=bulk(60000))
    basics(d)
    malformed(d)
    idle(d)
    slow(d)
    memory(d)
    rc = d.stop()
    t.ok(rc == 0, "the daemon stops cleanly on SIGTERM (exit %d)" % rc, d.log_text()[-1500:])
finally:
    if d:
        d.cleanup()

t.diag("%.0f s so far" % (time.time() - T0))
# The same abuse under valgrind: no invalid access, no leak.
if shutil.which("valgrind") and not sanitized():
    d = None
    try:
        d = Daemon(extra=CONF, sections=bulk(2000), valgrind=True)
        for data, _ in MALFORMED:
            raw(d.port, data, timeout=60)
        for m in ("POST", "DELETE"):
            raw(d.port, ("%s / HTTP/1.1\r\nHost: x\r\n\r\n" % m).encode(), timeout=60)
        s = socket.socket()
        s.connect(("127.0.0.1", d.port))  # left idle: closed by the timeout
        st, _, body = d.get("/metrics", timeout=60)
        t.ok(st == 200 and "bench_bulk_level{" in body, "under valgrind: /metrics answers")
        st, _, body = d.get("/healthz", timeout=60)
        t.ok(st == 503, "under valgrind: /healthz answers (503: no block stream)")
        time.sleep(3)
        s.close()
        rc = d.stop()
        with open(d.vglog) as f:
            vg = f.read()
        t.ok(rc == 0 and "ERROR SUMMARY: 0 errors" in vg, "valgrind: no errors, no leaks (exit %d)" % rc,
             "\n".join(l for l in vg.splitlines() if "ERROR SUMMARY" in l or "definitely" in l or "Invalid" in l))
    finally:
        if d:
            d.cleanup()
else:
    t.ok(True, "# SKIP valgrind not available or sanitizers on")
t.done()
