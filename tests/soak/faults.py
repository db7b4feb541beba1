"""The fault scheduler: every fault class nearsim can inject switches on and off at
random (one seeded PRNG), each class on its own timeline, and every episode is recorded
(class, endpoint kind, setting, wall-clock on/off) so that the checks can tell which
faults were active when the daemon logged a warning."""
import threading
import time

# name: (what it does, how long an episode lasts in seconds (lo, hi))
CLASSES = {
    "latency": ("every answer delayed", (5, 30)),
    "5xx": ("HTTP 503 with an HTML page", (5, 30)),
    "429": ("HTTP 429 Too Many Requests", (5, 30)),
    "timeout": ("RPC 408 TIMEOUT_ERROR / neardata held, then 504", (5, 30)),
    "reset": ("connection closed without an answer", (5, 30)),
    "truncate": ("body cut after half its Content-Length", (5, 30)),
    "invalid_json": ("HTTP 200 with a body that is not JSON", (5, 30)),
    "lag": ("a lagging node: the chain N blocks behind", (5, 30)),
    "skip": ("heights without a block", (5, 30)),
    "fork": ("the optimistic head replaced by another block", (5, 30)),
    "stall": ("block production stops", (2, 15)),
}
HTTP_RATES = {"5xx": (0.05, 0.5), "429": (0.05, 0.4), "timeout": (0.02, 0.2), "reset": (0.05, 0.3),
              "truncate": (0.05, 0.3), "invalid_json": (0.05, 0.3)}


class Episode:
    def __init__(self, cls, kind, setting, on):
        self.cls, self.kind, self.setting, self.on, self.off = cls, kind, setting, on, None

    def as_dict(self):
        return {"class": self.cls, "kind": self.kind, "setting": self.setting, "on": self.on, "off": self.off}


class FaultScheduler:
    def __init__(self, chain, rng, duration, log):
        self.chain = chain
        self.rng = rng
        self.duration = duration
        self.log = log
        self.episodes = []
        self.active = {}
        self.stop_ev = threading.Event()
        self.thread = None
        self.errors = []

    # ---- one class on / off through the admin endpoint ----
    def _on(self, cls):
        r = self.rng
        kind = r.choice(["rpc", "neardata", "all"])
        if cls == "latency":
            setting = {"latency_ms": r.randrange(50, 1500)}
        elif cls in HTTP_RATES:
            lo, hi = HTTP_RATES[cls]
            setting = {cls: round(r.uniform(lo, hi), 3)}
            if cls == "timeout":
                setting["hang_ms"] = r.randrange(1000, 8000)
        elif cls == "lag":
            setting = {"lag_blocks": r.randrange(1, 30)}
        elif cls == "skip":
            kind, setting = "chain", {"skip_rate": round(r.uniform(0.05, 0.3), 3)}
        elif cls == "fork":
            kind, setting = "chain", {"fork_rate": round(r.uniform(0.05, 0.3), 3)}
        elif cls == "stall":
            kind, setting = "chain", {"stall": True}
        self._post(cls, kind, setting)
        return Episode(cls, kind, setting, time.time())

    def _off(self, ep):
        if ep.kind == "chain":
            setting = {k: (False if k == "stall" else 0) for k in ep.setting}
            self._post(ep.cls, "chain", setting)
        else:
            self._post(ep.cls, "all", {k: 0 for k in ep.setting if k != "hang_ms"})
        ep.off = time.time()

    def _post(self, cls, kind, setting):
        if kind == "chain":
            if "stall" in setting:
                self.chain.admin("/stall", {"on": setting["stall"]})
            else:
                self.chain.admin("/chain", setting)
        else:
            self.chain.admin("/faults", dict(setting, kind=kind))

    # ---- the timeline ----
    def run(self):
        """Each class: off for a while, on for a while, until the duration is over. The
        first episode of every class starts in the first third of the run."""
        start = time.time()
        end = start + self.duration
        first_window = max(1.0, self.duration / 3)
        nxt = {c: start + self.rng.uniform(0, first_window) for c in CLASSES}
        try:
            while not self.stop_ev.is_set():
                now = time.time()
                if now >= end:
                    break
                for c in sorted(nxt):
                    if nxt[c] > now:
                        continue
                    if c in self.active:
                        ep = self.active.pop(c)
                        self._off(ep)
                        self.log("fault off: %s" % c)
                        nxt[c] = now + self.rng.uniform(5, max(10, self.duration / 8))
                    else:
                        ep = self._on(c)
                        self.episodes.append(ep)
                        self.active[c] = ep
                        self.log("fault on:  %s %s %s" % (c, ep.kind, ep.setting))
                        lo, hi = CLASSES[c][1]
                        nxt[c] = now + self.rng.uniform(lo, hi)
                self.stop_ev.wait(max(0.05, min(min(nxt.values()), end) - time.time()))
        except Exception as e:          # the admin endpoint failed: nearsim is gone
            self.errors.append("fault scheduler: %r" % e)
        finally:
            self.clear()

    def clear(self):
        for c in list(self.active):
            try:
                self._off(self.active.pop(c))
            except Exception as e:
                self.errors.append("clearing %s: %r" % (c, e))
        try:
            self.chain.admin("/faults", {"kind": "all", "clear": True})
            self.chain.admin("/chain", {"skip_rate": 0, "fork_rate": 0})
            self.chain.admin("/stall", {"on": False})
        except Exception as e:
            self.errors.append("clearing faults: %r" % e)

    def start(self):
        self.thread = threading.Thread(target=self.run, name="faults", daemon=True)
        self.thread.start()

    def join(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(60)
