"""Helpers for the tee-attester integration tests: the fake dstack agent and
PCCS (tests/fakes/), the daemon with the plugin and prometheus-monitor, and
its metrics.  TAP and nearsim come from nearsim_util."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import Sim, Tap, skip_all, TOP_SRCDIR, TOP_BUILDDIR  # noqa: E402,F401

FIXTURES = os.path.join(TOP_SRCDIR, "tests", "fixtures", "tee")
FAKES = os.path.join(TOP_SRCDIR, "tests", "fakes")
DAEMON = os.path.join(TOP_BUILDDIR, "mpc-indexer")
PLUGIN = os.path.join(TOP_BUILDDIR, "plugins", "tee-attester", ".libs", "tee-attester.so")
PROM = os.path.join(TOP_BUILDDIR, "plugins", "prometheus-monitor", ".libs", "prometheus-monitor.so")
PYTHON = os.environ.get("PYTHON3") or sys.executable


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def wait_for(cond, limit=60, step=0.05):
    """Poll cond() until it is true; False after `limit` seconds (a hang guard,
    never a speed assertion)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


class Fake:
    """A fake started from tests/fakes, ready once it printed 'ready'."""

    def __init__(self, script, args):
        self.proc = subprocess.Popen([PYTHON, os.path.join(FAKES, script)] + args,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("%s did not start" % script)
        self.ready = line.split()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc.stdout.close()


class Agent(Fake):
    def __init__(self, tmp, mode="ok"):
        self.socket = os.path.join(tmp, "dstack.sock")
        self.log = os.path.join(tmp, "dstack.log")
        Fake.__init__(self, "dstack_agent.py", ["--socket", self.socket, "--fixtures", FIXTURES,
                                                "--log", self.log, "--mode", mode])

    def set_mode(self, mode):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.socket)
        body = json.dumps({"mode": mode}).encode()
        s.sendall(b"POST /_fake/mode HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n%s" % (len(body), body))
        while s.recv(4096):
            pass
        s.close()

    def requests(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f]
        except OSError:
            return []


class Pccs(Fake):
    def __init__(self, tmp, mode="ok"):
        self.log = os.path.join(tmp, "pccs.log")
        Fake.__init__(self, "pccs_server.py", ["--fixtures", FIXTURES, "--log", self.log,
                                               "--mode", mode])
        self.url = "http://127.0.0.1:%s" % self.ready[1]

    def set_mode(self, mode):
        req = urllib.request.Request(self.url + "/_fake/mode", json.dumps({"mode": mode}).encode(),
                                     method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def requests(self):
        try:
            with open(self.log) as f:
                return [json.loads(line)["path"] for line in f]
        except OSError:
            return []


class Daemon:
    """mpc-indexer with the tee-attester plugin (section text given) and
    prometheus-monitor on a free port."""

    def __init__(self, tmp, name, tee_section, near=None, signer=None):
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "state"), mode=0o700)
        self.log = os.path.join(self.dir, "daemon.log")
        self.port_file = os.path.join(self.dir, "metrics.port")
        conf = ["[indexer]", "state_dir = %s/state" % self.dir, "log_level = debug",
                "log_file = %s" % self.log]
        if near:
            conf += ["[near]", "chain_id = nearsim", "contract = mpc.test.near",
                     "rpc_urls = %s" % near, "block_urls = %s" % near]
        if signer:
            conf += ["[signer.node]", "account_id = %s" % signer[0], "key_file = %s" % signer[1]]
        conf += ["[plugin.prometheus-monitor]", "path = %s" % PROM, "required = yes",
                 "listen = 127.0.0.1:0", "port_file = %s" % self.port_file]
        conf += ["[plugin.tee-attester]", "path = %s" % PLUGIN] + tee_section
        self.conf = os.path.join(self.dir, "mpc-indexer.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        cmd = [DAEMON, "-c", self.conf, "run"]
        if os.environ.get("TEE_VALGRIND"):  # a manual check: valgrind.log per daemon
            cmd = ["valgrind", "-q", "--leak-check=full", "--error-exitcode=99",
                   "--log-file=%s/valgrind.log" % self.dir] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "w"))
        self.port = None
        if wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.port_file)
                    and open(self.port_file).read().strip()):
            if self.proc.poll() is None:
                self.port = int(open(self.port_file).read())

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def logged(self, needle):
        return needle in self.log_text()

    def metrics(self):
        """{'name{labels}': value} from /metrics; {} when it cannot be read."""
        out = {}
        if not self.port:
            return out
        try:
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port,
                                          timeout=10).read().decode()
        except OSError:
            return out
        for line in text.splitlines():
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)", line)
            if m:
                out[m.group(1)] = float(m.group(3))
        return out

    def metric(self, name, **labels):
        key = name + ("{%s}" % ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
                      if labels else "")
        return self.metrics().get(key, 0.0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def key_file(path, account_id, public_key, private_key):
    with open(path, "w") as f:
        json.dump({"account_id": account_id, "public_key": public_key,
                   "private_key": private_key}, f)
    os.chmod(path, 0o600)
    return path


def mktemp():
    return tempfile.mkdtemp(prefix="tee-test-")


def rmtree(path):
    """Remove a test directory (kept, and named, when TEE_KEEP is set)."""
    if os.environ.get("TEE_KEEP"):
        print("# kept %s" % path)
        return
    shutil.rmtree(path, ignore_errors=True)
