"""mpc-indexer backup list | verify | export, without a daemon: verify finds a flipped byte,
export's output is accepted by a fake node's PUT /set_keyshares over mutual TLS; and the daemon
refuses to start the plugin when its key file or backup directory is open to others."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backup_util import (DAEMON, PLUGIN, TOP_BUILDDIR, Fake, Tap, keyshares, make_client_cert,  # noqa: E402
                         mktemp, rmtree, secret_marker, skip_all, tls_request, write_secret)

WRITE = os.path.join(TOP_BUILDDIR, "tests", "integration", "backup_write")
TKEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

if not os.path.exists(DAEMON) or not os.path.exists(WRITE):
    skip_all("build mpc-indexer and tests/integration/backup_write first")
if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
    skip_all("no openssl command")

t = Tap()
tmp = mktemp("mpci-backup-cli-")


def run(*args, config=None):
    cmd = [DAEMON, "-c", config or os.path.join(tmp, "none.conf"), "backup"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


fakes = []
try:
    bdir = os.path.join(tmp, "backups")
    os.mkdir(bdir, 0o700)
    skey = os.path.join(tmp, "storage.key")
    write_secret(skey, os.urandom(32).hex() + "\n")
    tkey = os.path.join(tmp, "transport.key")
    write_secret(tkey, TKEY + "\n")
    for e in (3, 4):
        p = subprocess.run([WRITE, bdir, skey, str(e), "frodo.test.near"], input=keyshares(e),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("backup_write: " + p.stderr)
    f4 = os.path.join(bdir, "epoch-4.mpcbak")
    with open(f4, "rb") as f:
        good = f.read()
    t.ok(secret_marker(4) not in good, "the backup file does not contain the plaintext keyshares")

    # --- list: no key, no config
    rc, out, err = run("list", "--dir", bdir)
    t.ok(rc == 0, "list without a configuration (--dir) exits 0", err)
    lines = [line for line in out.splitlines() if line.strip()]
    t.ok(len(lines) == 3 and lines[1].split()[0] == "3" and lines[2].split()[0] == "4",
         "list shows epochs 3 and 4, oldest first", out)
    t.ok("0:0,1:0,2:0" in lines[2] and "frodo.test.near" in lines[2] and " 3 " in lines[2],
         "with domains (id:attempt), keyshare count and account", out)

    # --- the same through a configuration file, paths relative to it
    conf = os.path.join(tmp, "indexer.conf")
    with open(conf, "w") as f:
        f.write("[indexer]\nstate_dir = %s/state\n[plugin.backup-migration]\naccount_id = frodo.test.near\n"
                "backup_dir = backups\nstorage_key_file = storage.key\ntransport_key_file = transport.key\n"
                "tls_key_file = tls.json\n" % tmp)
    rc, out, err = run("verify", config=conf)
    t.ok(rc == 0 and "ok      epoch 3" in out and "ok      epoch 4" in out and "2 verified, 0 failed" in out,
         "verify (paths from the configuration) passes both backups", out, err)

    # --- a flipped byte anywhere is found
    for where, off in (("in the ciphertext", len(good) // 2 + 40), ("in the tag", len(good) - 3),
                       ("in the header", 30), ("in the nonce", len(good) - 16 - 60)):
        flip(f4, off)
        rc, out, err = run("verify", config=conf)
        t.ok(rc == 1 and ("FAILED  epoch 4" in out or ("FAILED" in out and "epoch-4" in out)),
             "verify detects a flipped byte %s (exit 1)" % where, out, err)
        t.ok("ok      epoch 3" in out, "and still passes epoch 3 (%s)" % where, out)
        with open(f4, "wb") as f:
            f.write(good)
    flip(f4, len(good) // 2)
    rc, out, err = run("verify", "3", config=conf)
    t.ok(rc == 0 and "epoch 4" not in out, "verify EPOCH checks only that epoch", out)
    rc, out, err = run("verify", "4", config=conf)
    t.ok(rc == 1 and "authentication failed" in out, "and names the failure", out)
    with open(f4, "wb") as f:
        f.write(good)

    other = os.path.join(tmp, "other.key")
    write_secret(other, os.urandom(32).hex())
    rc, out, err = run("verify", "--storage-key-file", other, config=conf)
    t.ok(rc == 1 and "written with another storage key" in out, "another key is told apart from damage", out)

    os.chmod(skey, 0o644)
    rc, out, err = run("verify", config=conf)
    t.ok(rc == 1 and "chmod 600" in err, "verify refuses a key file others can read", err)
    os.chmod(skey, 0o600)

    # --- export: the wire body a node's /set_keyshares accepts
    out_file = os.path.join(tmp, "export.b64")
    rc, out, err = run("export", "--out", out_file, config=conf)
    t.ok(rc == 0 and "exported epoch 4" in err, "export writes the newest epoch", err)
    t.ok(os.stat(out_file).st_mode & 0o077 == 0, "the export file is private (0600)")
    with open(out_file) as f:
        body = f.read()
    t.ok(b"5ec12e7" not in body.encode(), "the wire export is encrypted")

    cert, key, client_pub = make_client_cert(tmp, bytes([7] * 32))
    ksdir = os.path.join(tmp, "node-keyshares")
    os.mkdir(ksdir)
    node = Fake(tmp, "node", "127.0.0.1", 0, bytes([0x61] * 32), client_pub, TKEY, ksdir)
    fakes.append(node)
    status, rbody, _ = tls_request("127.0.0.1", node.port, "GET", "/hello", "", cert, key)
    t.ok(status == 200 and rbody == "Hello, world!", "the fake node answers GET /hello over mutual TLS 1.3", status, rbody)
    status, rbody, _ = tls_request("127.0.0.1", node.port, "PUT", "/set_keyshares", body, cert, key)
    t.ok(status == 200 and rbody == "Keyshares received.", "the node accepts the export at PUT /set_keyshares",
         status, rbody, node.log_text())
    puts = node.puts()
    t.ok(len(puts) == 1 and json.loads(puts[0]) == json.loads(keyshares(4)),
         "and receives exactly the keyshares of epoch 4", puts)
    status, rbody, _ = tls_request("127.0.0.1", node.port, "PUT", "/set_keyshares", body[:-10] + "AAAAAAAAA\n", cert, key)
    t.ok(status == 400 and "Invalid Json or encryption" in rbody, "a damaged body is refused by the node (the check bites)", status, rbody)

    rc, out, err = run("export", "--epoch", "3", "--format", "json", config=conf)
    t.ok(rc == 0 and json.loads(out) == json.loads(keyshares(3)) and "plaintext" in err,
         "export --epoch 3 --format json prints the plaintext keyshares, with a warning", out, err)
    rc, out, err = run("export", "--epoch", "9", config=conf)
    t.ok(rc == 1 and "epoch-9" in err, "export of a missing epoch fails clearly", err)
    rc, out, err = run("frob", config=conf)
    t.ok(rc == 2, "an unknown subcommand is a usage error")

    # --- the daemon refuses to start the plugin when secrets are open to others
    if os.path.exists(PLUGIN):
        write_secret(os.path.join(tmp, "tls.json"),
                     '{"private_key":"ed25519:4jGW28XK2FGHJuSbtmM5cet8Y6mpXR4UMaUALnW78C2gqkxD2jotJBZ7sXbxupan4aDiZBVuA93LQVzqYFj7aEd4"}')
        dconf = os.path.join(tmp, "daemon.conf")
        with open(conf) as f:
            text = f.read()
        with open(dconf, "w") as f:
            f.write(text.replace("[plugin.backup-migration]\n",
                                 "[plugin.backup-migration]\npath = %s\nrequired = yes\n" % PLUGIN))
        for what, path, mode, expect in (("the storage key file", skey, 0o644, "chmod 600"),
                                         ("the backup directory", bdir, 0o755, "chmod 700")):
            os.chmod(path, mode)
            p = subprocess.run([DAEMON, "-c", dconf, "run"], capture_output=True, text=True, timeout=60)
            os.chmod(path, 0o600 if path == skey else 0o700)
            t.ok(p.returncode == 4 and "refusing to start" in p.stderr and expect in p.stderr,
                 "daemon: %s readable by others -> the plugin refuses to start and says why (exit 4)" % what,
                 p.returncode, p.stderr[-1500:])
    else:
        t.skip("daemon refusals", "plugin not built")
finally:
    for f in fakes:
        f.stop()
    rmtree(tmp)
t.done()
