"""The processes a soak runs: nearsim, two fake MPC nodes (the participant's old and new
migration endpoint), the daemon with all four plugins, and a second follower
(`mpc-indexer blocks` in final mode). Keys, keyshares and configuration files live in
one work directory."""
import json
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.dont_write_bytecode = True
from nearsim_util import TOP_BUILDDIR, Sim  # noqa: E402
from backup_util import (Fake, b58decode, b58encode, ed25519_pem, near_pub,  # noqa: E402
                         raw_public_key, write_secret)

NEARSIM = os.path.join(TOP_BUILDDIR, "nearsim")
DAEMON = os.path.join(TOP_BUILDDIR, "mpc-indexer")
PLUGINS = os.path.join(TOP_BUILDDIR, "plugins")
ACCOUNT = "frodo.test.near"
CONTRACT = "mpc.test.near"
TRANSPORT_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
START_HEIGHT = 100          # nearsim's genesis: both followers deliver the whole chain

# The node's URL host for each fake node; the port is the fakes' shared migration port.
NODE_HOSTS = {"A": "127.0.0.1", "B": "127.0.0.2"}
NODE_ROLES = {"A": "tls", "B": "tls2"}


def plugin(name):
    return os.path.join(PLUGINS, name, ".libs", name + ".so")


def needed_files():
    from backup_util import FAKE
    return [NEARSIM, DAEMON, FAKE] + [plugin(p) for p in
                                      ("prometheus-monitor", "mpc-node-bridge", "backup-migration", "tee-attester")]


def print_key(spec):
    return json.loads(subprocess.run([NEARSIM, "--print-key", spec], check=True, capture_output=True,
                                     text=True).stdout)


def keyshares_json(epoch):
    """What the fake node holds for nearsim's keyset of `epoch` (domains 0-2, attempt 0)."""
    return json.dumps([{"key_id": {"epoch_id": epoch, "domain_id": d, "attempt_id": 0},
                        "data": {"Secp256k1": {"private_share": "5ec12e7%04d%02d" % (epoch, d) + "0" * 50,
                                               "public_key": "02ab"}}} for d in range(3)],
                      separators=(",", ":"))


class World:
    def __init__(self, work, seed, block_ms, epochs_ahead):
        self.work = work
        self.seed = seed
        self.rng = random.Random(seed ^ 0x776f726c64)
        self.procs = []
        self.sim = None
        self.fakes = {}
        self.daemon = None
        self.final_cli = None
        self.block_ms = block_ms
        self.epochs_ahead = epochs_ahead
        self.daemon_log = os.path.join(work, "daemon.log")
        self.final_out = os.path.join(work, "final-blocks.jsonl")
        self.final_err = os.path.join(work, "final-blocks.log")
        self.bridge_sock = os.path.join(work, "bridge.sock")
        self.metrics_port_file = os.path.join(work, "metrics.port")
        self.backup_dir = os.path.join(work, "state", "backup-migration")
        self.ksdir = os.path.join(work, "keyshares")

    # ---- nearsim ----
    def start_sim(self):
        self.sim = Sim("--seed", str(self.seed), "--block-ms", str(self.block_ms), "--auto-respond",
                       "--sign-rate", "0.3", "--ckd-rate", "0.1", "--bg-tx", "2", "--reshare-blocks", "6",
                       "--keep-blocks", "100000", "--tx-timeout-ms", "5000")
        self.url = "http://127.0.0.1:%d" % self.sim.port
        return self.sim

    # ---- keys and the fake MPC nodes ----
    def make_keys(self):
        w = self.work
        bseed = bytes(self.rng.randrange(256) for _ in range(32))
        pem = os.path.join(w, "backup.pem")
        write_secret(pem, ed25519_pem(bseed))
        self.backup_pub = raw_public_key(pem)
        write_secret(os.path.join(w, "backup_tls.json"),
                     json.dumps({"account_id": "backup.test.near", "public_key": near_pub(self.backup_pub),
                                 "private_key": "ed25519:" + b58encode(bseed + self.backup_pub)}))
        write_secret(os.path.join(w, "storage.key"), "%064x" % self.rng.getrandbits(256))
        write_secret(os.path.join(w, "transport.key"), TRANSPORT_KEY)
        signer = print_key(ACCOUNT + ":signer")
        write_secret(os.path.join(w, "node.json"), json.dumps(signer))
        self.signer_pk = signer["public_key"]
        self.full_pk = print_key(ACCOUNT)["public_key"]
        self.tls = {n: print_key("%s:%s" % (ACCOUNT, r)) for n, r in NODE_ROLES.items()}
        os.makedirs(self.ksdir, exist_ok=True)
        for e in range(self.epochs_ahead):
            with open(os.path.join(self.ksdir, "epoch_%d.json" % e), "w") as f:
                f.write(keyshares_json(e))

    def start_fakes(self):
        port = 0
        for name in ("A", "B"):
            seed = b58decode(self.tls[name]["private_key"].split(":", 1)[1])[:32]
            f = Fake(self.work, name, NODE_HOSTS[name], port, seed, self.backup_pub, TRANSPORT_KEY, self.ksdir)
            port = f.port
            self.fakes[name] = f
        self.migration_port = port

    # ---- the daemon ----
    def daemon_conf(self):
        u = self.url
        return """[indexer]
state_dir = %(w)s/state
log_level = info
log_file = %(w)s/daemon.log
[near]
chain_id = nearsim
contract = %(c)s
rpc_urls = %(u)s
block_urls = %(u)s
finality = optimistic
request_timeout = 5s
[view]
interval = 500ms
backoff_initial = 200ms
backoff_max = 5s
bootstrap_backoff_initial = 200ms
bootstrap_backoff_max = 5s
jitter = 200ms
[blocks]
start = %(start)d
fetch_ahead = 8
fallback_after = 5
fallback_probe = 2s
retry_max = 2s
[signer.node]
account_id = %(a)s
key_file = %(w)s/node.json
[plugin.prometheus-monitor]
path = %(prom)s
required = yes
listen = 127.0.0.1:0
port_file = %(w)s/metrics.port
attestation_interval = 30s
[plugin.mpc-node-bridge]
path = %(bridge)s
required = yes
socket = %(w)s/bridge.sock
ring_size = 512
state_methods = state, migration_info
filters = receiver:%(c)s:verify_tee
[plugin.backup-migration]
path = %(backup)s
required = yes
account_id = %(a)s
tls_key_file = %(w)s/backup_tls.json
transport_key_file = %(w)s/transport.key
storage_key_file = %(w)s/storage.key
migration_port = %(mport)d
retention = 0
retry_interval = 500ms
retry_max = 5s
repush_interval = 5s
request_timeout = 10s
[plugin.tee-attester]
path = %(tee)s
required = yes
mode = mock
tls_public_key = %(tls)s
poll_interval = 1s
refresh_interval = 2m
confirm_timeout = 60s
backoff_max = 5s
""" % {"w": self.work, "c": CONTRACT, "u": u, "a": ACCOUNT, "start": START_HEIGHT,
            "prom": plugin("prometheus-monitor"), "bridge": plugin("mpc-node-bridge"),
            "backup": plugin("backup-migration"), "tee": plugin("tee-attester"),
            "mport": self.migration_port, "tls": self.tls["A"]["public_key"]}

    def start_daemon(self):
        os.makedirs(os.path.join(self.work, "state"), mode=0o700, exist_ok=True)
        self.conf = os.path.join(self.work, "mpc-indexer.conf")
        with open(self.conf, "w") as f:
            f.write(self.daemon_conf())
        env = dict(os.environ, MPC_INDEXER_NO_PROGRESS="1")
        wrapper = os.environ.get("SOAK_WRAPPER", "").split()     # e.g. valgrind, by hand
        self.daemon_stderr = open(os.path.join(self.work, "daemon.stderr"), "w")
        self.daemon = subprocess.Popen(wrapper + [DAEMON, "-c", self.conf, "run"], stdout=self.daemon_stderr,
                                       stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while not (os.path.exists(self.bridge_sock) and os.path.exists(self.metrics_port_file)
                   and open(self.metrics_port_file).read().strip()):
            if self.daemon.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not start; see %s" % self.daemon_log)
            time.sleep(0.1)
        self.metrics_port = int(open(self.metrics_port_file).read())

    def start_final_follower(self):
        """`mpc-indexer blocks` in final mode: a second consumer of the same faults."""
        conf = os.path.join(self.work, "final.conf")
        os.makedirs(os.path.join(self.work, "final-state"), mode=0o700, exist_ok=True)
        with open(conf, "w") as f:
            f.write("[indexer]\nstate_dir = %s/final-state\nlog_level = info\n"
                    "[near]\ncontract = %s\nrpc_urls = %s\nblock_urls = %s\nrequest_timeout = 5s\n"
                    "[blocks]\nstart = %d\nfetch_ahead = 8\nfallback_probe = 2s\nretry_max = 2s\n"
                    % (self.work, CONTRACT, self.url, self.url, START_HEIGHT))
        env = dict(os.environ, MPC_INDEXER_NO_PROGRESS="1")
        self.final_cli = subprocess.Popen([DAEMON, "-c", conf, "blocks", "--json", "--output", self.final_out],
                                          stdout=subprocess.DEVNULL, stderr=open(self.final_err, "w"), env=env)

    def stop_process(self, p, timeout=60):
        """SIGTERM, wait; the exit status (or None if it had to be killed)."""
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return None
        return p.returncode

    def stop_all(self):
        for p in (self.daemon, self.final_cli):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        for f in self.fakes.values():
            f.stop()
        if self.sim:
            self.sim.stop()
