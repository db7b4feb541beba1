#!/usr/bin/env python3
"""mpc-node-bridge refuses a client past max_clients with `bye max_clients`,
and the Python client says so even when the bridge closed before the client's
first write reached it (EPIPE on hello): the bye is still in its buffer."""
import os
import socket
import tempfile

from bridge_util import Bridge, Closed, Daemon, Sim, Tap

BYE = b'{"jsonrpc":"2.0","method":"bye","params":{"reason":"forbidden","message":"refused"}}\n'


def refused_before_hello(tmp):
    """A server that accepts, says bye and closes before the client says hello."""
    path = os.path.join(tmp, "refuse.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    connect = socket.socket.connect

    def connect_then_refuse(sock, addr):
        connect(sock, addr)
        conn, _ = srv.accept()
        conn.sendall(BYE)
        conn.close()
    socket.socket.connect = connect_then_refuse
    try:
        Bridge(path, timeout=10)
        return "hello"
    except Closed as e:
        return "bye:" + e.reason
    except OSError as e:
        return "other:" + repr(e)
    finally:
        socket.socket.connect = connect
        srv.close()


t = Tap()
with tempfile.TemporaryDirectory() as tmp:
    v = refused_before_hello(tmp)
    t.ok(v == "bye:forbidden", "a client refused before its hello reports the bridge's reason", v)

sim = Sim("--manual")
d = None
try:
    d = Daemon(sim, "max_clients = 1\n")
    first = d.connect(timeout=20)
    t.ok(first.info is not None and first.info.get("version") == 1, "the first client is served")
    try:
        d.connect(timeout=20)
        v = "hello"
    except Closed as e:
        v = "bye:" + e.reason
    except OSError as e:
        v = "other:" + repr(e)
    t.ok(v == "bye:max_clients", "a second client past max_clients = 1 is told max_clients", v)
    t.ok("max_clients (1) reached" in d.log_text(), "and the daemon logs the refusal")
    t.ok(first.status() is not None, "the first client is still served")
    first.sock.close()
finally:
    rc = d.stop() if d else None
    sim.stop()
t.ok(rc == 0, "the daemon stops cleanly", rc)
t.done()
