"""Helpers for the nearsim tests: start the simulator, speak JSON-RPC / neardata / admin,
compare JSON shapes with recorded fixtures, and print TAP."""
import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", ".")
FIXTURES = os.path.join(TOP_SRCDIR, "tests", "fixtures")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, *diag):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, desc))
        if not cond:
            self.failed += 1
            for d in diag:
                for line in str(d).splitlines():
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts)) as f:
        return json.load(f)


class Sim:
    """A nearsim process on a free loopback port (manual block production by default)."""

    def __init__(self, *args):
        binary = os.path.join(TOP_BUILDDIR, "nearsim")
        self.tmp = tempfile.mkdtemp(prefix="nearsim-test-")
        portfile = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen([binary, "--port", "0", "--port-file", portfile, "--quiet"] + list(args))
        deadline = time.time() + 20
        self.port = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nearsim exited with %d" % self.proc.returncode)
            try:
                with open(portfile) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    break
            except OSError:
                pass
            time.sleep(0.05)
        if not self.port:
            self.stop()
            raise RuntimeError("nearsim did not start")
        self.id = 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def http(self, method, path, body=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
            c.request(method, path, body=data, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def rpc_raw(self, method, params, timeout=30, rpc_id=None):
        self.id += 1
        st, _, body = self.http("POST", "/", {"jsonrpc": "2.0", "id": rpc_id if rpc_id is not None else "t%d" % self.id,
                                               "method": method, "params": params}, timeout)
        return st, json.loads(body)

    def rpc(self, method, params, timeout=30):
        st, doc = self.rpc_raw(method, params, timeout)
        if "result" not in doc:
            raise RuntimeError("%s failed (%d): %s" % (method, st, json.dumps(doc)))
        return doc["result"]

    def get(self, path, timeout=30):
        st, hdr, body = self.http("GET", path, timeout=timeout)
        return st, hdr, body

    def admin(self, path, body=None):
        st, _, out = self.http("POST" if body is not None else "GET", "/admin" + path, body)
        if st != 200:
            raise RuntimeError("admin %s: %d %s" % (path, st, out))
        return json.loads(out)

    def produce(self, n=1):
        return self.admin("/produce?n=%d" % n, {})

    def view(self, method, args=None, finality="final"):
        res = self.rpc("query", {"request_type": "call_function", "finality": finality,
                                 "account_id": self.contract, "method_name": method,
                                 "args_base64": base64.b64encode(json.dumps(args or {}).encode()).decode()})
        if "error" in res:
            raise RuntimeError("view %s: %s" % (method, res["error"]))
        return json.loads(bytes(res["result"]).decode())

    @property
    def contract(self):
        return self.admin("/stats")["contract_id"]

    def sign(self, signer, method, args, role=None, deposit="0", gas=300 * 10**12, **kw):
        body = {"signer": signer, "method": method, "args": args, "deposit": deposit, "gas": gas}
        if role:
            body["role"] = role
        body.update(kw)
        return self.admin("/sign", body)

    def send(self, signer, method, args, wait="NONE", **kw):
        s = self.sign(signer, method, args, **kw)
        res = self.rpc("send_tx", {"signed_tx_base64": s["signed_tx_base64"], "wait_until": wait})
        return s["tx_hash"], res

    def block(self, h):
        """The block at h, final or not (block_opt redirects final heights to /v0/block)."""
        st, hdr, body = self.get("/v0/block_opt/%d" % h)
        if st == 302:
            st, hdr, body = self.get(hdr["Location"])
        if st != 200:
            raise RuntimeError("block %d: %d" % (h, st))
        return json.loads(body)

    def outcomes(self, h):
        b = self.block(h)
        if b is None:
            return []
        return [o for s in b["shards"] for o in s["receipt_execution_outcomes"]]


def tweak(predecessor, path):
    return list(hashlib.sha3_256(("near-mpc-recovery v0.1.0 epsilon derivation:%s,%s" % (predecessor, path)).encode()).digest())


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _variant(v):
    """The discriminant of an element of a heterogeneous array (enum variant, tagged object)."""
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v))[:1].isupper():
            return "enum:" + next(iter(v))
        if "type" in v and isinstance(v["type"], str):
            return "type:" + v["type"]
        return "object"
    return jtype(v)


def _norm(path):
    import re
    return re.sub(r"\[\d+\]", "[]", path)


def _walk(fix, act, path, allow_extra, notes, out, cover):
    tf, ta = jtype(fix), jtype(act)
    if tf != ta:
        out.append("%s: type %s in the fixture, %s in nearsim" % (path, tf, ta))
        return
    if tf == "object":
        fv, av = _variant(fix), _variant(act)
        if fv.startswith("enum:") and av.startswith("enum:") and fv != av:
            if notes is not None:
                notes.append("%s: variant %s (fixture %s) not compared" % (path, av[5:], fv[5:]))
            return
        for k in fix:
            if k not in act:
                out.append("%s: key %r missing in nearsim" % (path, k))
        for k in act:
            if k not in fix and k not in allow_extra:
                out.append("%s: key %r not in the fixture" % (path, k))
        for k in fix:
            if k in act:
                _walk(fix[k], act[k], "%s.%s" % (path, k), allow_extra, notes, out, cover)
    elif tf == "array":
        if fix:
            # an empty array is legitimate once; the shape must be covered somewhere
            cover.setdefault(_norm(path), [path, False])
            if act:
                cover[_norm(path)][1] = True
        by_variant = {}
        for e in fix:
            by_variant.setdefault(_variant(e), e)
        for i, e in enumerate(act):
            ref = by_variant.get(_variant(e))
            if ref is None:
                if fix and notes is not None:
                    notes.append("%s[%d]: variant %s not in the fixture" % (path, i, _variant(e)))
                continue
            _walk(ref, e, "%s[%d]" % (path, i), allow_extra, notes, out, cover)


def shape_diff(fix, act, path="$", allow_extra=(), notes=None):
    """Differences between the key sets and JSON types of a fixture and an actual document.
    allow_extra: key names nearsim may add (newer protocol fields, neardata additions).
    Arrays: each element is compared with the fixture element of the same variant; an
    array the fixture fills must be non-empty at least once in the actual document."""
    out, cover = [], {}
    _walk(fix, act, path, allow_extra, notes, out, cover)
    for p, (first, seen) in sorted(cover.items()):
        if not seen:
            out.append("%s: always empty in nearsim, the fixture has elements (shape not covered)" % first)
    return out
