"""The soak's own view of nearsim: the admin endpoint (never faulted) and JSON-RPC calls
that retry through the faults the soak injects (views, and transactions the harness
signs with the genesis full-access key: registration, migrations)."""
import base64
import http.client
import json
import socket
import time


class ChainError(Exception):
    pass


class Chain:
    def __init__(self, port, contract="mpc.test.near"):
        self.port = port
        self.contract = contract
        self.rpc_id = 0

    def _http(self, method, path, body=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            c.request(method, path, body=data, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    # ---- admin (loopback, no faults) ----
    def admin(self, path, body=None):
        st, out = self._http("POST" if body is not None else "GET", "/admin" + path, body)
        if st != 200:
            raise ChainError("admin %s: HTTP %d %s" % (path, st, out[:300]))
        return json.loads(out)

    def admin_status(self, path, body):
        """POST that may legitimately refuse (409 for a reshare while not Running)."""
        st, out = self._http("POST", "/admin" + path, body)
        return st, out

    def stats(self):
        return self.admin("/stats")

    def contract_phase(self):
        c = self.stats()["contract"]
        return c["phase"], c["epoch_id"]

    def tx_info(self, tx_hash):
        st, out = self._http("GET", "/admin/txs?hash=" + tx_hash)
        if st == 404:
            return None
        if st != 200:
            raise ChainError("admin /txs: HTTP %d" % st)
        return json.loads(out)

    # ---- JSON-RPC through the faults ----
    def rpc_once(self, method, params, timeout=20):
        self.rpc_id += 1
        st, out = self._http("POST", "/", {"jsonrpc": "2.0", "id": "soak%d" % self.rpc_id,
                                           "method": method, "params": params}, timeout)
        if st != 200:
            raise ChainError("%s: HTTP %d" % (method, st))
        doc = json.loads(out)
        if "result" not in doc:
            raise ChainError("%s: %s" % (method, json.dumps(doc.get("error"))[:300]))
        return doc["result"]

    def rpc(self, method, params, deadline=120):
        """Retry through injected faults (503, 429, resets, bad bodies, timeouts)."""
        end = time.time() + deadline
        last = None
        while time.time() < end:
            try:
                return self.rpc_once(method, params)
            except (OSError, socket.timeout, http.client.HTTPException, ValueError, ChainError) as e:
                last = e
                time.sleep(0.3)
        raise ChainError("%s failed for %d s: %s" % (method, deadline, last))

    def view(self, method, args=None, deadline=120):
        params = {"request_type": "call_function", "finality": "final", "account_id": self.contract,
                  "method_name": method,
                  "args_base64": base64.b64encode(json.dumps(args or {}).encode()).decode()}
        end = time.time() + deadline
        while True:
            res = self.rpc(method="query", params=params, deadline=max(1, end - time.time()))
            if "result" in res:
                return json.loads(bytes(res["result"]).decode())
            if time.time() > end:
                raise ChainError("view %s: %s" % (method, res.get("error")))
            time.sleep(0.3)     # an in-band error (a lagging node, an injected body)

    def transact(self, method, args, deposit="0", role="full", signer="frodo.test.near", deadline=180):
        """Sign with a genesis key (admin), submit through the faults, wait until nearsim
        executed it. Returns the tx hash. The same signed bytes are resent on transport
        errors (they never execute twice); an invalid transaction is signed again."""
        end = time.time() + deadline
        while time.time() < end:
            final_hash = self.stats()["final_hash"]
            s = self.admin("/sign", {"signer": signer, "role": role, "method": method, "args": args,
                                     "deposit": deposit, "gas": 300 * 10**12, "block_hash": final_hash})
            resign = False
            while not resign and time.time() < end:
                try:
                    self.rpc_once("broadcast_tx_async", [s["signed_tx_base64"]])
                except ChainError as e:
                    if "INVALID_TRANSACTION" in str(e) or "InvalidTxError" in str(e):
                        resign = True
                        break
                except (OSError, socket.timeout, http.client.HTTPException, ValueError):
                    pass
                t_end = time.time() + 10
                while time.time() < t_end:
                    info = self.tx_info(s["tx_hash"])
                    if info and info["executions"] >= 1:
                        return s["tx_hash"]
                    if info and info.get("dropped"):
                        resign = True
                        break
                    time.sleep(0.2)
            time.sleep(0.5)
        raise ChainError("%s: not executed within %d s" % (method, deadline))
