"""Shared by tests/integration/bridge_*.py: nearsim, the daemon with the
mpc-node-bridge plugin following it, and the Python client from contrib/clients."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from nearsim_util import TOP_BUILDDIR, TOP_SRCDIR, Sim, Tap, fixture, skip_all, tweak  # noqa: E402,F401

CLIENTS = os.path.join(TOP_SRCDIR, "contrib", "clients")
sys.path.insert(0, CLIENTS)
sys.dont_write_bytecode = True      # no __pycache__ in the source tree
from mpc_bridge import Bridge, BridgeError, Closed, follow_blocks  # noqa: E402,F401

PLUGIN = os.path.join(TOP_BUILDDIR, "plugins", "mpc-node-bridge", ".libs", "mpc-node-bridge.so")
INDEXER = os.path.join(TOP_BUILDDIR, "mpc-indexer")


class Daemon:
    """mpc-indexer following `sim` with the bridge on a Unix socket."""

    def __init__(self, sim, bridge_keys="", signer=True, wait_socket=True):
        if not os.path.exists(PLUGIN):
            raise RuntimeError("plugin not built: " + PLUGIN)
        self.tmp = tempfile.mkdtemp(prefix="bridge-test-")
        atexit.register(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o711)       # other uids may reach the socket, not list the dir
        state = os.path.join(self.tmp, "state")
        os.mkdir(state, 0o700)
        self.sock = os.path.join(self.tmp, "bridge.sock")
        self.log = os.path.join(self.tmp, "daemon.log")
        url = "http://127.0.0.1:%d" % sim.port
        conf = ["[indexer]", "state_dir = " + state, "log_level = debug",
                "[near]", "chain_id = nearsim", "contract = mpc.test.near",
                "rpc_urls = " + url, "block_urls = " + url]
        if signer:
            key = os.path.join(self.tmp, "frodo.json")
            with open(key, "w") as f:
                subprocess.run([os.path.join(TOP_BUILDDIR, "nearsim"), "--print-key",
                                "frodo.test.near:signer"], stdout=f, check=True)
            os.chmod(key, 0o600)
            conf += ["[signer.node]", "account_id = frodo.test.near", "key_file = " + key]
        conf += ["[plugin.mpc-node-bridge]", "path = " + PLUGIN, "socket = " + self.sock, "required = yes"]
        conf += [k for k in bridge_keys.splitlines() if k.strip()]
        self.conf = os.path.join(self.tmp, "conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        env = dict(os.environ, MPC_INDEXER_NO_PROGRESS="1")
        self.logf = open(self.log, "w")
        # BRIDGE_TEST_WRAPPER="valgrind --error-exitcode=9 --leak-check=full" runs the daemon under it
        wrapper = os.environ.get("BRIDGE_TEST_WRAPPER", "").split()
        self.proc = subprocess.Popen(wrapper + [INDEXER, "-c", self.conf, "run"], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + (120 if wrapper else 30)
        while wait_socket and not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not open the socket:\n" + self.log_text()[-3000:])
            time.sleep(0.05)

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def connect(self, **kw):
        return Bridge(self.sock, **kw)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def wait_for(pred, seconds=30, step=0.05):
    """Poll pred() until it is true; False after `seconds` (a hang guard, not a timing check)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return False
