"""Chain events the plugins must react to, at random times, one at a time:
  reshare   POST /admin/reshare; Running -> Resharing -> Running with epoch + 1
            (backup-migration must back up the new epoch)
  migrate   the participant's node moves between the two fake nodes: the harness attests
            the destination's TLS key, calls start_node_migration, waits until
            backup-migration pushed the keyshares to the destination, and concludes
  drop      POST /admin/drop_attestation of the attester's TLS key (tee-attester must
            submit again)
Each event is recorded with its wall-clock start and end."""
import threading
import time

from world import ACCOUNT, NODE_HOSTS

EVENT_KINDS = ("reshare", "migrate", "drop")


class Events:
    def __init__(self, world, chain, rng, duration, log):
        self.world = world
        self.chain = chain
        self.rng = rng
        self.duration = duration
        self.log = log
        self.done = []          # dicts: kind, start, end, ok, and details
        self.errors = []
        self.node = "A"         # where the participant's node is
        self.stop_ev = threading.Event()
        self.thread = None

    def wait(self, cond, limit):
        end = time.time() + limit
        while time.time() < end and not self.stop_ev.is_set():
            v = cond()
            if v:
                return v
            time.sleep(0.3)
        return cond()

    def running(self):
        phase, epoch = self.chain.contract_phase()
        return phase == "Running"

    # ---- reshare ----
    def reshare(self):
        self.wait(self.running, 120)
        phase, e0 = self.chain.contract_phase()
        st, body = self.chain.admin_status("/reshare", {})
        if st != 200:
            return {"ok": False, "error": "reshare refused: %d %s" % (st, body[:200])}
        ok = self.wait(lambda: self.chain.contract_phase() == ("Running", e0 + 1), 180)
        return {"ok": bool(ok), "epoch": e0 + 1, "error": None if ok else "no Running epoch %d" % (e0 + 1)}

    # ---- migration ----
    def participant_tls(self):
        st = self.chain.view("state")
        if "Running" not in st:
            return None
        parts = st["Running"]["parameters"]["participants"]["participants"]
        return [p for p in parts if p[0] == ACCOUNT][0][2]["tls_public_key"]

    def destination(self):
        mi = self.chain.view("migration_info")
        rec = mi.get(ACCOUNT) or [None, None]
        return rec[1]

    def migrate(self):
        src = self.node
        dst = "B" if src == "A" else "A"
        tls = self.world.tls[dst]["public_key"]
        fake = self.world.fakes[dst]
        self.wait(self.running, 120)
        # the destination's TLS key must be attested (node A's is the attester's own)
        if dst == "B":
            self.chain.transact("submit_participant_info",
                                {"proposed_participant_attestation": {"Mock": "Valid"}, "tls_public_key": tls})
        else:
            self.wait(lambda: any(e["tls_public_key"] == tls for e in self.chain.view("get_tee_accounts")), 120)
        puts0 = len(fake.puts())
        info = {"url": "http://%s:13001" % NODE_HOSTS[dst], "tls_public_key": tls}
        self.chain.transact("start_node_migration",
                            {"destination_node_info": {"signer_account_pk": self.world.full_pk,
                                                       "destination_node_info": info}}, deposit="1")
        if not self.wait(lambda: self.destination() is not None, 120):
            return {"ok": False, "from": src, "to": dst, "error": "migration_info never named the destination"}
        pushed = self.wait(lambda: len(fake.puts()) > puts0, 120)
        t_pushed = time.time()
        keyset = None
        for _ in range(5):      # conclude with the keyset of the moment
            self.wait(self.running, 120)
            keyset = self.chain.view("state")["Running"]["keyset"]
            self.chain.transact("conclude_node_migration", {"keyset": keyset})
            if self.wait(lambda: self.participant_tls() == tls and self.destination() is None, 30):
                break
        moved = self.participant_tls() == tls
        if moved:
            self.node = dst
        return {"ok": bool(pushed) and moved, "from": src, "to": dst, "epoch": keyset and keyset["epoch_id"],
                "puts_before": puts0, "t_pushed": t_pushed if pushed else None,
                "error": None if pushed and moved else ("no push to the destination" if not pushed
                                                         else "conclude_node_migration did not take")}

    # ---- attestation drop ----
    def listed(self):
        tls = self.world.tls["A"]["public_key"]
        return any(e["account_id"] == ACCOUNT and e["tls_public_key"] == tls and
                   e["account_public_key"] == self.world.signer_pk for e in self.chain.view("get_tee_accounts"))

    def drop(self):
        tls = self.world.tls["A"]["public_key"]
        self.wait(self.listed, 120)
        r = self.chain.admin("/drop_attestation", {"tls_public_key": tls})
        t0 = time.time()
        back = self.wait(self.listed, 180)
        return {"ok": bool(back) and r["dropped"] >= 1, "dropped": r["dropped"],
                "relisted_after": round(time.time() - t0, 2) if back else None,
                "error": None if back else "the attester did not submit again"}

    # ---- the timeline ----
    def run(self):
        end = time.time() + self.duration
        # every kind once early on, in a random order; then at random
        queue = list(EVENT_KINDS)
        self.rng.shuffle(queue)
        gap = (3, max(6, min(40, self.duration / 10)))
        while not self.stop_ev.wait(self.rng.uniform(*gap)) and time.time() < end:
            kind = queue.pop(0) if queue else self.rng.choice(EVENT_KINDS)
            ev = {"kind": kind, "start": time.time()}
            self.log("event: %s" % kind)
            try:
                ev.update(getattr(self, kind)())
            except Exception as e:
                ev.update(ok=False, error="%r" % e)
            ev["end"] = time.time()
            self.log("event: %s done in %.1f s%s" % (kind, ev["end"] - ev["start"],
                                                      "" if ev.get("ok") else " FAILED: %s" % ev.get("error")))
            self.done.append(ev)

    def start(self):
        self.thread = threading.Thread(target=self.run, name="events", daemon=True)
        self.thread.start()

    def join(self, limit=600):
        """Events in progress finish (a migration is concluded); no new ones start."""
        end = time.time() + limit
        while self.thread and self.thread.is_alive() and time.time() < end:
            self.thread.join(1)
        self.stop_ev.set()
