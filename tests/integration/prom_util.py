"""Helpers for the prometheus-monitor integration tests: the daemon with the
plugin (optionally following a nearsim chain), a real Prometheus server
scraping it, raw HTTP, and polling with a bounded number of tries."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nearsim_util import TOP_BUILDDIR, TOP_SRCDIR, Sim, Tap, skip_all  # noqa: E402,F401

PLUGIN = os.path.join(TOP_BUILDDIR, "plugins", "prometheus-monitor", ".libs", "prometheus-monitor.so")
BULK = os.path.join(TOP_BUILDDIR, "tests", "bench", ".libs", "prom_bulk.so")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def poll(fn, tries=120, every=0.5):
    """fn() until it returns something true; that value, or None after `tries`."""
    for _ in range(tries):
        v = fn()
        if v:
            return v
        time.sleep(every)
    return None


class Daemon:
    """mpc-indexer with prometheus-monitor on a free loopback port.
    sim: a nearsim Sim to follow (None: no event sources).  extra: more lines
    for [plugin.prometheus-monitor]; sections: more INI text.  valgrind: run under it."""

    def __init__(self, sim=None, extra="", sections="", valgrind=False):
        self.tmp = tempfile.mkdtemp(prefix="mpci-prom-")
        state = os.path.join(self.tmp, "state")
        os.mkdir(state, 0o700)
        self.portfile = os.path.join(self.tmp, "port")
        conf = ["[indexer]", "state_dir = %s" % state, "log_level = debug"]
        if sim:
            url = "http://127.0.0.1:%d" % sim.port
            conf += ["[near]", "chain_id = nearsim", "contract = mpc.test.near",
                     "rpc_urls = " + url, "block_urls = " + url]
        conf += ["[plugin.prometheus-monitor]", "path = " + PLUGIN, "listen = 127.0.0.1:0",
                 "port_file = " + self.portfile, extra, sections]
        self.conf = os.path.join(self.tmp, "mpc-indexer.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.log = os.path.join(self.tmp, "daemon.log")
        self.vglog = os.path.join(self.tmp, "valgrind.log")
        cmd = [os.path.join(TOP_BUILDDIR, "mpc-indexer"), "-c", self.conf, "run"]
        env = dict(os.environ)
        if valgrind:
            cmd = ["valgrind", "--error-exitcode=97", "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect",
                   "--show-leak-kinds=definite,indirect", "--log-file=" + self.vglog] + cmd
            env["MPCI_NO_DLCLOSE"] = "1"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"), env=env)
        port = poll(lambda: self._port(), tries=600 if valgrind else 200, every=0.1)
        if not port:
            self.stop()
            raise RuntimeError("the daemon did not start:\n" + self.log_text())
        self.port = port

    def _port(self):
        if self.proc.poll() is not None:
            raise RuntimeError("the daemon exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
        try:
            with open(self.portfile) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def get(self, path, timeout=30, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def metrics(self):
        return parse(self.get("/metrics")[2])

    def families(self):
        """name -> (type, series) of every registered family."""
        out = {}
        for line in self.get("/families")[2].splitlines():
            parts = line.split(" ", 3)
            if len(parts) >= 3:
                out[parts[0]] = (parts[1], int(parts[2]))
        return out

    def stop(self):
        """SIGTERM; the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def parse(text):
    """{'name{labels}': value} of a text-format scrape (labels as written)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        try:
            out[key] = float(val)
        except ValueError:
            pass
    return out


class Prometheus:
    """A real Prometheus server (Debian's package) scraping one target every second."""

    def __init__(self, target_port, job="mpc-indexer", rule_files=()):
        self.binary = shutil.which("prometheus")
        if not self.binary:
            raise FileNotFoundError("prometheus")
        self.tmp = tempfile.mkdtemp(prefix="mpci-prometheus-")
        self.port = free_port()
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
            if rule_files:
                f.write("rule_files:\n" + "".join("  - %s\n" % r for r in rule_files))
            f.write("scrape_configs:\n  - job_name: %s\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % (job, target_port))
        self.log = os.path.join(self.tmp, "prometheus.log")
        self.proc = subprocess.Popen(
            [self.binary, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        if not poll(self._ready, tries=240, every=0.25):
            self.stop()
            raise RuntimeError("prometheus did not become ready:\n" + open(self.log).read()[-2000:])

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("prometheus exited:\n" + open(self.log).read()[-2000:])
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, expr):
        """The instant vector of expr as [(labels, value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        if doc.get("status") != "success":
            raise RuntimeError("query %s: %s" % (expr, doc))
        return [(s["metric"], float(s["value"][1])) for s in doc["data"]["result"]]

    def value(self, expr):
        """The single value of expr, or None when the result is empty."""
        res = self.query(expr)
        return res[0][1] if res else None

    def rules(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/rules" % self.port, timeout=10) as r:
            return json.load(r)["data"]["groups"]

    def targets(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/targets" % self.port, timeout=10) as r:
            return json.load(r)["data"]["activeTargets"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
