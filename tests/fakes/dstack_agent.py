#!/usr/bin/env python3
"""A fake dstack guest agent for the tee-attester tests: HTTP/1.1 over a Unix
socket, answering Info and GetQuote with the real fixture data.

  dstack_agent.py --socket PATH --fixtures DIR [--log FILE] [--mode MODE]

Modes (also switched at run time with POST /_fake/mode {"mode": MODE}):
  ok       Info: the fixture tcb_info; GetQuote: the fixture quote (whatever
           report_data was asked: a real agent would bind it, so asking for
           other keys' report_data gives a quote that does not match them)
  garbage  200 with bytes that are not JSON
  error    500 {"error": "..."}, as the agent reports its failures
  close    the connection is closed without an answer
Every request is appended to --log as one JSON line {method, path, body}.
"""
import argparse
import http.server
import json
import os
import socketserver
import sys
import threading

MAX_BODY = 64 * 1024


class Agent:
    def __init__(self, fixtures, log):
        with open(os.path.join(fixtures, "tcb_info.json")) as f:
            tcb = json.load(f)
        with open(os.path.join(fixtures, "quote.json")) as f:
            quote = bytes(json.load(f))
        self.info = json.dumps({
            "app_id": tcb["compose_hash"][:40], "instance_id": "", "app_cert": "",
            "tcb_info": json.dumps(tcb, separators=(",", ":")), "app_name": "mpc-node",
            "device_id": tcb["device_id"], "mr_aggregated": "", "os_image_hash": tcb["os_image_hash"],
            "key_provider_info": "", "compose_hash": tcb["compose_hash"], "vm_config": "{}",
        }).encode()
        self.quote = json.dumps({"quote": quote.hex(), "event_log": json.dumps(tcb["event_log"]),
                                 "report_data": quote[568:632].hex(), "vm_config": "{}"}).encode()
        self.mode = "ok"
        self.log = log
        self.lock = threading.Lock()

    def record(self, method, path, body):
        if not self.log:
            return
        with self.lock, open(self.log, "a") as f:
            f.write(json.dumps({"method": method, "path": path,
                                "body": body.decode("utf-8", "replace")}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "unix"

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        agent = self.server.agent
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.reply(413, b'{"error":"request too large"}')
            return
        body = self.rfile.read(n) if n else b""
        path = self.path.split("?")[0]
        if path == "/_fake/mode":
            agent.mode = json.loads(body)["mode"]
            self.reply(200, b"{}")
            return
        agent.record(self.command, path, body)
        mode = agent.mode
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode == "garbage":
            self.reply(200, b"\x00\xffnot json at all <html>", "text/html")
        elif mode == "error":
            self.reply(500, b'{"error":"failed to get quote: tdx guest device not available"}')
        elif path in ("/Info", "/prpc/Info"):
            self.reply(200, agent.info)
        elif path in ("/GetQuote", "/prpc/GetQuote"):
            self.reply(200, agent.quote)
        else:
            self.reply(404, b'{"error":"no such method"}')

    do_POST = handle_any
    do_GET = handle_any


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that hangs up (a cancelled or timed-out request) is not an error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--log")
    ap.add_argument("--mode", default="ok", choices=["ok", "garbage", "error", "close"])
    a = ap.parse_args()
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    srv = Server(a.socket, Handler)
    srv.agent = Agent(a.fixtures, a.log)
    srv.agent.mode = a.mode
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        os.unlink(a.socket)


if __name__ == "__main__":
    main()
