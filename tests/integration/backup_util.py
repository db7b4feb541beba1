"""Helpers for the backup-migration tests: fake MPC nodes (tests/fakes/mpcnode_fake), a
mutual-TLS client with a certificate made by the openssl CLI the way the reference describes,
keys, keyshares, and TAP output."""
import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir", ".")
FIXTURES = os.path.join(TOP_SRCDIR, "tests", "fixtures", "backup")
FAKE = os.path.join(TOP_BUILDDIR, "tests", "fakes", "mpcnode_fake")
DAEMON = os.path.join(TOP_BUILDDIR, "mpc-indexer")
PLUGIN = os.path.join(TOP_BUILDDIR, "plugins", "backup-migration", ".libs", "backup-migration.so")

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


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

    def skip(self, desc, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, why))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def b58decode(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + raw


def b58encode(b):
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out


def near_pub(raw):
    return "ed25519:" + b58encode(raw)


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def keyshares(epoch, domains=(0, 1, 2), attempt=0):
    """The keyshares a fake node holds; the private share is unique per epoch and domain."""
    return json.dumps([{"key_id": {"epoch_id": epoch, "domain_id": d, "attempt_id": attempt},
                        "data": {"Secp256k1": {"private_share": "5ec12e7%04d%02d" % (epoch, d) + "0" * 50,
                                               "public_key": "02ab"}}} for d in domains],
                      separators=(",", ":"))


def secret_marker(epoch):
    return ("5ec12e7%04d" % epoch).encode()


def ed25519_pem(seed):
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    return "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % base64.b64encode(der).decode()


def raw_public_key(key_pem_path):
    der = subprocess.run(["openssl", "pkey", "-in", key_pem_path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return der[-32:]


def make_client_cert(tmp, seed):
    """An rcgen-style leaf made with the openssl CLI: CN=rcgen self signed cert (UTF8String)
    as issuer and subject, SAN DNS:dummy, signed by the public dummy CA key."""
    key = os.path.join(tmp, "client.key")
    write_secret(key, ed25519_pem(seed))
    root = os.path.join(tmp, "root.pem")
    subprocess.run(["openssl", "x509", "-inform", "der", "-in",
                    os.path.join(FIXTURES, "mpc_tls_dummy_root_cert.der"), "-out", root],
                   check=True, capture_output=True)
    ext = os.path.join(tmp, "ext.cnf")
    with open(ext, "w") as f:
        f.write("[v3]\nsubjectAltName=DNS:dummy\n")
    csr = os.path.join(tmp, "client.csr")
    cert = os.path.join(tmp, "client.pem")
    subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=rcgen self signed cert",
                    "-utf8", "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", root, "-CAkey",
                    os.path.join(FIXTURES, "mpc_tls_dummy_issuer_key_pkcs8v1.pem"),
                    "-set_serial", "0x1234", "-days", "36500", "-extfile", ext, "-extensions", "v3",
                    "-out", cert], check=True, capture_output=True)
    return cert, key, raw_public_key(key)


def tls_request(host, port, method, path, body, cert, key, timeout=10):
    """One HTTP/1.1 exchange over TLS 1.3 with a client certificate; (status, body, peer DER)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE         # the peer is known by its raw key, not its chain
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    data = body.encode() if isinstance(body, str) else body
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="dummy") as s:
            peer = s.getpeercert(binary_form=True)
            s.sendall(("%s %s HTTP/1.1\r\nHost: dummy\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, len(data))).encode() + data)
            resp = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                resp += chunk
    head, _, rbody = resp.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, rbody.decode(errors="replace"), peer


class Fake:
    """A fake MPC node migration endpoint on host:port."""

    def __init__(self, tmp, name, host, port, seed, client_key, transport_key_hex, keyshares_dir, mode="normal"):
        self.host = host
        self.dir = os.path.join(tmp, "fake-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.received = os.path.join(self.dir, "received")
        os.makedirs(self.received, exist_ok=True)
        self.log = os.path.join(self.dir, "log")
        portfile = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([FAKE, "--listen", "%s:%d" % (host, port), "--port-file", portfile,
                                      "--seed", seed.hex(), "--expect-client-key", client_key.hex(),
                                      "--transport-key", transport_key_hex, "--keyshares-dir", keyshares_dir,
                                      "--received-dir", self.received, "--mode", mode, "--log", self.log])
        deadline = time.time() + 10
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("mpcnode_fake %s exited %d" % (name, self.proc.returncode))
            try:
                with open(portfile) as f:
                    self.port = int(f.read())
            except (OSError, ValueError):
                time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("mpcnode_fake %s did not start" % name)

    def puts(self):
        out = []
        while os.path.exists(os.path.join(self.received, "put-%d.json" % (len(out) + 1))):
            with open(os.path.join(self.received, "put-%d.json" % (len(out) + 1))) as f:
                out.append(f.read())
        return out

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def wait_for(cond, limit=30, step=0.05):
    """Poll cond() until it is true; the limit only keeps a broken build from hanging."""
    deadline = time.time() + limit
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def mktemp(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
