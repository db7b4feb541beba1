#!/usr/bin/env python3
"""A fake PCCS (Intel PCS API v4) for the tee-attester tests, serving the
real fixture collateral in the shapes a PCCS uses: the PCK CRL as DER, TCB
info and QE identity as {"tcbInfo"|"enclaveIdentity": ..., "signature": hex},
the root CA CRL as hex text, and the issuer chains URL-encoded in headers.

  pccs_server.py --fixtures DIR [--port 0] [--port-file F] [--log FILE] [--mode MODE]

Modes (also POST /_fake/mode {"mode": MODE}): ok; 404 (every request 404,
as for an unknown FMSPC); garbage (200 with bodies that are not collateral).
Only the fixture's FMSPC (from its TCB info) and CA type are known.
"""
import argparse
import http.server
import json
import os
import socketserver
import sys
import threading
import urllib.parse


class Pccs:
    def __init__(self, fixtures, log):
        with open(os.path.join(fixtures, "collateral.json")) as f:
            c = json.load(f)
        self.fmspc = json.loads(c["tcb_info"])["fmspc"]
        q = lambda s: urllib.parse.quote(s, safe="")
        self.routes = {
            "/sgx/certification/v4/pckcrl": (bytes.fromhex(c["pck_crl"]), "application/pkix-crl",
                                             {"SGX-PCK-CRL-Issuer-Chain": q(c["pck_crl_issuer_chain"])}),
            "/tdx/certification/v4/tcb": (('{"tcbInfo":%s,"signature":"%s"}' % (c["tcb_info"], c["tcb_info_signature"])).encode(),
                                          "application/json", {"TCB-Info-Issuer-Chain": q(c["tcb_info_issuer_chain"])}),
            "/tdx/certification/v4/qe/identity": (('{"enclaveIdentity":%s,"signature":"%s"}' % (c["qe_identity"], c["qe_identity_signature"])).encode(),
                                                  "application/json", {"SGX-Enclave-Identity-Issuer-Chain": q(c["qe_identity_issuer_chain"])}),
            "/sgx/certification/v4/rootcacrl": (c["root_ca_crl"].encode(), "text/plain", {}),
        }
        self.mode = "ok"
        self.log = log
        self.lock = threading.Lock()

    def record(self, path):
        if self.log:
            with self.lock, open(self.log, "a") as f:
                f.write(json.dumps({"path": path}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="text/plain", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 4096))
        if self.path == "/_fake/mode":
            self.server.pccs.mode = json.loads(body)["mode"]
            self.reply(200, b"{}")
        else:
            self.reply(405, b"")

    def do_GET(self):
        pccs = self.server.pccs
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query)
        pccs.record(self.path)
        route = pccs.routes.get(u.path)
        known = route is not None
        if u.path.endswith("/tcb") and query.get("fmspc", [""])[0].upper() != pccs.fmspc:
            known = False
        if u.path.endswith("/pckcrl") and query.get("ca", [""])[0] not in ("platform", "processor"):
            known = False
        if pccs.mode == "404" or not known:
            self.reply(404, b"")
        elif pccs.mode == "garbage":
            self.reply(200, b"<html>upstream error</html>", "text/html")
        else:
            self.reply(200, route[0], route[1], route[2])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that hangs up (a cancelled or timed-out request) is not an error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--mode", default="ok", choices=["ok", "404", "garbage"])
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.pccs = Pccs(a.fixtures, a.log)
    srv.pccs.mode = a.mode
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(a.port_file + ".tmp", a.port_file)
    sys.stdout.write("ready %d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
