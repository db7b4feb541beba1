"""Bridge clients (contrib/clients/mpc_bridge.py), each on its own thread:
  BlockSubscriber  every block update from a height, resuming after `lagged`
  StateSubscriber  the `state` and `migration_info` endpoints
  TxClient         verify_tee calls with a unique argument each, through `send_and_wait`
                   (or `send`), every outcome recorded"""
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "contrib", "clients"))
sys.dont_write_bytecode = True
from mpc_bridge import Bridge, BridgeError, Closed, follow_blocks  # noqa: E402

TX_METHOD = "verify_tee"        # nearsim's contract answers true and changes nothing


class Client(threading.Thread):
    def __init__(self, name, sock):
        super().__init__(name=name, daemon=True)
        self.sock = sock
        self.stop_ev = threading.Event()
        self.errors = []

    def connect(self, timeout=60.0):
        return Bridge(self.sock, timeout=timeout, client="soak-" + self.name)

    def stop(self):
        self.stop_ev.set()


class BlockSubscriber(Client):
    def __init__(self, sock, from_height, out_path):
        super().__init__("blocks", sock)
        self.from_height = from_height
        self.updates = []
        self.reconnects = 0
        self.out = open(out_path, "w")

    def on_update(self, msg):
        m = {"event": msg["method"], "t": time.time()}
        m.update(msg["params"])
        self.updates.append(m)
        self.out.write(json.dumps(m, separators=(",", ":")) + "\n")

    def on_reconnect(self, params):
        self.reconnects += 1

    def run(self):
        try:
            follow_blocks(self.connect, from_height=self.from_height, on_update=self.on_update,
                          on_reconnect=self.on_reconnect, stop=self.stop_ev.is_set)
        except Exception as e:
            self.errors.append("block subscriber: %r" % e)
        self.out.close()

    def last_height(self):
        for u in reversed(self.updates):
            if u["event"] == "block":
                return u["height"]
        return 0


class StateSubscriber(Client):
    METHODS = ("state", "migration_info")

    def __init__(self, sock):
        super().__init__("state", sock)
        self.notes = []         # (t, method, height, ok, value or error)
        self.reconnects = 0

    def run(self):
        while not self.stop_ev.is_set():
            try:
                b = self.connect()
                for m in self.METHODS:
                    b.subscribe_state(m)
                while not self.stop_ev.is_set():
                    try:
                        n = b.notification(timeout=0.5)
                    except socket.timeout:
                        continue
                    if n["method"] != "state":
                        continue
                    p = n["params"]
                    self.notes.append((time.time(), p["method"], p.get("height"), p["ok"],
                                       p.get("value") if p["ok"] else p.get("error"), p.get("ended")))
                b.close()
            except (OSError, Closed, BridgeError, ValueError) as e:
                if self.stop_ev.is_set():
                    break
                self.errors.append("state subscriber: %r" % e)
                self.reconnects += 1
                time.sleep(1)

    def epochs(self):
        """Running epochs in the order the subscriber saw them."""
        out = []
        for _, m, _, ok, v, _ in self.notes:
            if m == "state" and ok and isinstance(v, dict) and "Running" in v:
                e = v["Running"]["keyset"]["epoch_id"]
                if not out or out[-1] != e:
                    out.append(e)
        return out


class TxClient(Client):
    """Submits TX_METHOD with args {"soak": "<name>-<n>"} one after the other; `wait`:
    send_and_wait (outcome), else send (accepted)."""

    def __init__(self, sock, name, wait, rng, pause=(0.2, 1.5)):
        super().__init__(name, sock)
        self.wait = wait
        self.rng = rng
        self.pause = pause
        self.subs = []          # dicts: id, t0, t1, status, hash, error

    def run(self):
        n = 0
        b = None
        while not self.stop_ev.is_set():
            try:
                if b is None:
                    b = self.connect(timeout=300.0)
                n += 1
                sid = "%s-%d" % (self.name, n)
                rec = {"id": sid, "t0": time.time(), "status": None}
                self.subs.append(rec)
                try:
                    r = b.send(TX_METHOD, {"soak": sid}, wait=self.wait, signer="node",
                               **({"deadline": 240} if self.wait else {}))
                    rec.update(status=r.get("status"), hash=r.get("hash"), error=r.get("error"),
                               value=r.get("value"), height=r.get("height"))
                except BridgeError as e:
                    rec.update(status="bridge_error", error="%d %s" % (e.code, e.message))
                rec["t1"] = time.time()
            except (OSError, Closed, ValueError) as e:
                if self.subs and self.subs[-1]["status"] is None:
                    self.subs[-1].update(status="lost", error="%r" % e, t1=time.time())
                self.errors.append("%s: %r" % (self.name, e))
                if b:
                    b.close()
                b = None
                time.sleep(1)
            self.stop_ev.wait(self.rng.uniform(*self.pause))
        if b:
            b.close()
