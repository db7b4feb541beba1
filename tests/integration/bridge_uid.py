#!/usr/bin/env python3
"""mpc-node-bridge acceptance 4: the socket file has mode 0600, so another uid
cannot even connect; with a wider mode the uid check refuses it (bye
"forbidden"), and allowed_uids lets it in.  Runs the client as `nobody`
(setpriv), so it needs root: skipped otherwise."""
import os
import shutil
import stat
import subprocess

from bridge_util import CLIENTS, Daemon, Sim, Tap, skip_all

if os.geteuid() != 0:
    skip_all("needs root to run a client under another uid (setpriv)")
SETPRIV = shutil.which("setpriv")
if not SETPRIV:
    skip_all("setpriv (util-linux) is not installed")
NOBODY = 65534

PROBE = r'''
import socket, sys
sys.path.insert(0, sys.argv[2])
from mpc_bridge import Bridge, Closed
try:
    b = Bridge(sys.argv[1], timeout=10)
    print("hello:" + str(b.info["version"]))
except PermissionError:
    print("EACCES")
except Closed as e:
    print("bye:" + e.reason)
except Exception as e:
    print("other:" + repr(e))
'''


def probe_as(uid, sock, tmp):
    """Run the probe client as `uid`; its one-line verdict."""
    clients = os.path.join(tmp, "clients")
    if not os.path.isdir(clients):
        shutil.copytree(CLIENTS, clients)
        for root, dirs, files in os.walk(clients):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    cmd = ["python3", "-c", PROBE, sock, clients]
    if uid != os.geteuid():
        cmd = [SETPRIV, "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return (out.stdout.strip() or out.stderr.strip()).splitlines()[-1] if (out.stdout or out.stderr) else ""


t = Tap()
sim = Sim("--manual")
daemons = []
try:
    d = Daemon(sim)
    daemons.append(d)
    mode = stat.S_IMODE(os.stat(d.sock).st_mode)
    t.ok(stat.S_ISSOCK(os.stat(d.sock).st_mode) and mode == 0o600,
         "the socket file has mode 0600 (%o)" % mode)
    t.ok(probe_as(0, d.sock, d.tmp) == "hello:1", "its owner connects")
    v = probe_as(NOBODY, d.sock, d.tmp)
    t.ok(v == "EACCES", "another uid cannot connect at all", v)
    d.stop()

    d = Daemon(sim, "socket_mode = 0666\n")
    daemons.append(d)
    v = probe_as(NOBODY, d.sock, d.tmp)
    t.ok(v == "bye:forbidden", "with mode 0666 the uid check refuses another uid: bye forbidden", v)
    t.ok("refused a client with uid 65534" in d.log_text(), "and the daemon logs the refusal")
    t.ok(probe_as(0, d.sock, d.tmp) == "hello:1", "its own uid is still served")
    d.stop()

    d = Daemon(sim, "socket_mode = 0666\nallowed_uids = %d\n" % NOBODY)
    daemons.append(d)
    v = probe_as(NOBODY, d.sock, d.tmp)
    t.ok(v == "hello:1", "allowed_uids lets that uid in", v)
    d.stop()

    d = Daemon(sim, "socket_mode = 0666\ncheck_uid = no\n")
    daemons.append(d)
    v = probe_as(NOBODY, d.sock, d.tmp)
    t.ok(v == "hello:1", "check_uid = no accepts any uid that can open the socket", v)
finally:
    rcs = [x.stop() for x in daemons]
    sim.stop()
t.ok(all(rc == 0 for rc in rcs), "the daemons stop cleanly", rcs)
t.done()
