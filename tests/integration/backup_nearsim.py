"""The backup-migration plugin in the real daemon against nearsim and two fake MPC nodes:
registration, a backup at start-up, a resharing -> the new epoch's backup appears on disk,
encrypted; start_node_migration -> the destination receives exactly the keyshares;
conclude_node_migration -> the plugin stops pushing.  Then the CLI reads what the daemon wrote."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backup_util import (DAEMON, PLUGIN, TOP_BUILDDIR, Fake, Tap, b58decode, b58encode,  # noqa: E402
                         ed25519_pem, keyshares, mktemp, near_pub, raw_public_key, rmtree,
                         secret_marker, skip_all, wait_for, write_secret)
from nearsim_util import Sim  # noqa: E402

NEARSIM = os.path.join(TOP_BUILDDIR, "nearsim")
TKEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
ACCOUNT = "frodo.test.near"

for p in (DAEMON, PLUGIN, NEARSIM):
    if not os.path.exists(p):
        skip_all("%s is not built" % p)


def print_key(spec):
    return json.loads(subprocess.run([NEARSIM, "--print-key", spec], check=True, capture_output=True,
                                     text=True).stdout)


def seed_of(keyfile):
    return b58decode(keyfile["private_key"].split(":", 1)[1])[:32]


def node_keyshares(keyset):
    """Keyshares matching a contract keyset exactly (epoch, domains, attempts)."""
    return json.dumps([{"key_id": {"epoch_id": keyset["epoch_id"], "domain_id": d["domain_id"],
                                   "attempt_id": d["attempt"]},
                        "data": {"Secp256k1": {"private_share": "5ec12e7%04d%02d" % (keyset["epoch_id"], d["domain_id"])
                                               + "0" * 50, "public_key": "02ab"}}}
                       for d in keyset["domains"]], separators=(",", ":"))


t = Tap()
tmp = mktemp("mpci-backup-nearsim-")
sim = daemon = None
fakes = []
log_path = os.path.join(tmp, "daemon.log")


def daemon_log():
    try:
        with open(log_path) as f:
            return f.read()
    except OSError:
        return ""


try:
    sim = Sim("--block-ms", "100", "--reshare-blocks", "6")
    url = "http://127.0.0.1:%d" % sim.port

    # keys: this backup service, the operator, the old and the new node
    bseed = os.urandom(32)
    pem = os.path.join(tmp, "b.pem")
    write_secret(pem, ed25519_pem(bseed))
    bpub = raw_public_key(pem)
    write_secret(os.path.join(tmp, "backup_tls.json"),
                 json.dumps({"account_id": "backup.test.near", "public_key": near_pub(bpub),
                             "private_key": "ed25519:" + b58encode(bseed + bpub)}))
    write_secret(os.path.join(tmp, "storage.key"), os.urandom(32).hex())
    write_secret(os.path.join(tmp, "transport.key"), TKEY)
    write_secret(os.path.join(tmp, "operator.json"), json.dumps(print_key(ACCOUNT)))
    old_tls, new_tls = print_key(ACCOUNT + ":tls"), print_key(ACCOUNT + ":tls2")
    signer_pk = print_key(ACCOUNT + ":signer")["public_key"]
    ksdir = os.path.join(tmp, "keyshares")
    os.mkdir(ksdir)

    state = sim.view("state")["Running"]
    me = [p for p in state["parameters"]["participants"]["participants"] if p[0] == ACCOUNT][0]
    t.ok(me[2]["tls_public_key"] == old_tls["public_key"] and "127.0.0.1" in me[2]["url"],
         "nearsim: %s's node is at 127.0.0.1 with the :tls key" % ACCOUNT, me)
    with open(os.path.join(ksdir, "epoch_%d.json" % state["keyset"]["epoch_id"]), "w") as f:
        f.write(node_keyshares(state["keyset"]))

    old = Fake(tmp, "old", "127.0.0.1", 0, seed_of(old_tls), bpub, TKEY, ksdir)
    fakes.append(old)
    new = Fake(tmp, "new", "127.0.0.2", old.port, seed_of(new_tls), bpub, TKEY, ksdir)
    fakes.append(new)

    bdir = os.path.join(tmp, "state", "backup-migration")
    conf = os.path.join(tmp, "indexer.conf")
    with open(conf, "w") as f:
        f.write("""[indexer]
state_dir = %(tmp)s/state
log_level = debug
[near]
chain_id = nearsim
contract = mpc.test.near
rpc_urls = %(url)s
block_urls = %(url)s
[view]
interval = 200ms
[signer.operator]
account_id = %(acct)s
key_file = %(tmp)s/operator.json
[plugin.backup-migration]
path = %(plugin)s
required = yes
account_id = %(acct)s
tls_key_file = backup_tls.json
transport_key_file = transport.key
storage_key_file = storage.key
migration_port = %(port)d
retry_interval = 200ms
retry_max = 1s
repush_interval = 500ms
register = yes
""" % {"tmp": tmp, "url": url, "acct": ACCOUNT, "plugin": PLUGIN, "port": old.port})
    os.makedirs(os.path.join(tmp, "state"), mode=0o700, exist_ok=True)
    logf = open(log_path, "w")
    # MPCI_TEST_WRAPPER="valgrind --error-exitcode=99 ..." runs the daemon under a checker
    wrapper = os.environ.get("MPCI_TEST_WRAPPER", "").split()
    daemon = subprocess.Popen(wrapper + [DAEMON, "-c", conf, "run"], stdout=logf, stderr=subprocess.STDOUT)

    started = wait_for(lambda: ("watching %s" % ACCOUNT) in daemon_log() or "refusing to start" in daemon_log()
                       or daemon.poll() is not None, 30)
    if "subscribe_state is unsupported" in daemon_log():
        skip_all("this daemon has no state source yet (core/sources.c is not wired)")
    t.ok(started and ("watching %s" % ACCOUNT) in daemon_log(), "the daemon runs the plugin", daemon_log()[-3000:])

    # --- registration: by the plugin when the daemon can send transactions, else by hand
    def registered():
        mi = sim.view("migration_info")
        return mi.get(ACCOUNT) and mi[ACCOUNT][0] and mi[ACCOUNT][0]["public_key"] == near_pub(bpub)

    wait_for(lambda: registered() or "cannot send transactions" in daemon_log(), 30)
    if "cannot send transactions" in daemon_log():
        t.skip("the plugin registers itself with register_backup_service", "the daemon has no transaction sender yet")
        sim.send("frodo.test.near", "register_backup_service",
                 {"backup_service_info": {"public_key": near_pub(bpub)}}, deposit="1")
    else:
        t.ok(registered(), "the plugin registers itself with register_backup_service", daemon_log()[-2000:])
    t.ok(wait_for(registered, 30), "migration_info shows this service's key")

    # --- start-up backup
    f0 = os.path.join(bdir, "epoch-%d.mpcbak" % state["keyset"]["epoch_id"])
    t.ok(wait_for(lambda: os.path.exists(f0), 60), "start-up: the backup of epoch %d appears" % state["keyset"]["epoch_id"],
         daemon_log()[-3000:])
    t.ok(os.stat(bdir).st_mode & 0o077 == 0 and os.stat(f0).st_mode & 0o077 == 0,
         "the backup directory and file are private")

    # --- resharing
    e0 = state["keyset"]["epoch_id"]
    sim.admin("/reshare", {})
    t.ok(wait_for(lambda: "Resharing" in sim.view("state"), 30), "nearsim is resharing")
    t.ok(wait_for(lambda: "Running" in sim.view("state") and sim.view("state")["Running"]["keyset"]["epoch_id"] == e0 + 1, 60),
         "resharing concluded: Running with epoch %d" % (e0 + 1))
    keyset = sim.view("state")["Running"]["keyset"]
    want1 = node_keyshares(keyset)
    with open(os.path.join(ksdir, "epoch_%d.json" % (e0 + 1)), "w") as f:
        f.write(want1)
    f1 = os.path.join(bdir, "epoch-%d.mpcbak" % (e0 + 1))
    t.ok(wait_for(lambda: os.path.exists(f1), 60), "the backup of the new epoch appears on disk", daemon_log()[-3000:])
    with open(f1, "rb") as f:
        data = f.read()
    t.ok(secret_marker(e0 + 1) not in data and b"private_share" not in data,
         "encrypted: the plaintext keyshares do not occur in the file")
    p = subprocess.run([DAEMON, "-c", conf, "backup", "export", "--epoch", str(e0 + 1), "--format", "json"],
                       capture_output=True, text=True)
    t.ok(p.returncode == 0 and json.loads(p.stdout) == json.loads(want1),
         "and it decrypts (mpc-indexer backup export) to exactly the node's keyshares", p.stderr)

    # --- migration: attest the new node, start the migration
    sim.send(ACCOUNT, "submit_participant_info",
             {"proposed_participant_attestation": {"Mock": "Valid"}, "tls_public_key": new_tls["public_key"]},
             role="signer")
    dest = {"destination_node_info": {"signer_account_pk": signer_pk,
                                      "destination_node_info": {"url": "http://127.0.0.2:13001",
                                                                "tls_public_key": new_tls["public_key"]}}}
    sim.send(ACCOUNT, "start_node_migration", dest, deposit="1")
    t.ok(wait_for(lambda: (sim.view("migration_info").get(ACCOUNT) or [None, None])[1] is not None, 30),
         "start_node_migration: migration_info names the destination")
    t.ok(wait_for(lambda: len(new.puts()) >= 1, 60), "the destination receives keyshares",
         daemon_log()[-3000:], new.log_text())
    t.ok(json.loads(new.puts()[0]) == json.loads(want1), "exactly the keyshares of the current keyset")
    t.ok(wait_for(lambda: len(new.puts()) >= 2, 30), "pushed again while the migration lasts")

    # --- the new node concludes
    sim.send(ACCOUNT, "conclude_node_migration", {"keyset": keyset}, role="signer")
    t.ok(wait_for(lambda: (sim.view("migration_info").get(ACCOUNT) or [None, None])[1] is None, 30),
         "conclude_node_migration removes the record")
    t.ok(wait_for(lambda: "left migration_info" in daemon_log(), 30), "the plugin sees the migration end")
    wait_for(lambda: False, 0.5)        # a PUT already on the wire may still land
    n = len(new.puts())
    wait_for(lambda: False, 2.5)        # five repush intervals
    t.ok(len(new.puts()) == n, "and stops pushing (%d pushes, none after the end)" % n)
    parts = sim.view("state")["Running"]["parameters"]["participants"]["participants"]
    t.ok([p for p in parts if p[0] == ACCOUNT][0][2]["tls_public_key"] == new_tls["public_key"],
         "the participant now carries the new node's key")

    daemon.send_signal(signal.SIGTERM)
    rc = daemon.wait(timeout=30)
    t.ok(rc == 0, "the daemon stops cleanly", rc)
    daemon = None

    p = subprocess.run([DAEMON, "-c", conf, "backup", "verify"], capture_output=True, text=True)
    t.ok(p.returncode == 0 and "2 verified, 0 failed" in p.stdout,
         "mpc-indexer backup verify passes what the daemon wrote", p.stdout, p.stderr)
    t.ok(("private_share" not in daemon_log()) and (secret_marker(e0 + 1).decode() not in daemon_log()),
         "no keyshare reached the log")
finally:
    if daemon and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    for f in fakes:
        f.stop()
    if sim:
        sim.stop()
    if t.failed:
        t.diag(daemon_log()[-4000:])
    rmtree(tmp)
t.done()
