#!/usr/bin/env python3
"""A client for mpc-indexer's mpc-node-bridge (doc/bridge-protocol.md), standard library only.

    from mpc_bridge import Bridge
    b = Bridge("/var/lib/mpc-indexer/mpc-node-bridge.sock")
    b.subscribe_state("state")
    b.subscribe_blocks(from_height=123)
    while True:
        msg = b.notification()          # {"method": "block"|"state"|..., "params": {...}}

Command line:
    mpc_bridge.py [--socket PATH | --tcp HOST:PORT] status
    mpc_bridge.py ... state METHOD              follow a state endpoint
    mpc_bridge.py ... blocks [--from HEIGHT]    follow blocks (resumes after `lagged`)
    mpc_bridge.py ... view METHOD [ARGS_JSON]
    mpc_bridge.py ... send METHOD [ARGS_JSON] [--wait]
"""
import argparse
import collections
import json
import socket
import sys
import time

PROTOCOL_VERSION = 1

# Stable error codes (doc/bridge-protocol.md, "Errors").
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL = -32603
HANDSHAKE_REQUIRED = -32000
UNSUPPORTED_VERSION = -32001
UNAVAILABLE = -32002
HEIGHT_UNAVAILABLE = -32003
UNKNOWN_ENDPOINT = -32004
ALREADY_SUBSCRIBED = -32005
NOT_SUBSCRIBED = -32006
BUSY = -32007
TX_REJECTED = -32008
VIEW_FAILED = -32010
SHUTTING_DOWN = -32011
FORBIDDEN = -32012
NOT_READY = -32013


class BridgeError(Exception):
    """An error reply: .code, .message, .data."""

    def __init__(self, code, message, data=None):
        super().__init__("%s (%d)" % (message, code))
        self.code, self.message, self.data = code, message, data


class Closed(Exception):
    """The bridge ended the connection: .reason ("lagged", "shutdown", ...), .params."""

    def __init__(self, reason, params=None):
        super().__init__(reason + (": " + params.get("message", "") if params else ""))
        self.reason, self.params = reason, params or {}


class Bridge:
    """One connection.  Replies are matched by id; notifications that arrive
    meanwhile are kept, in order, for notification()."""

    def __init__(self, path=None, tcp=None, timeout=30.0, client="mpc_bridge.py", hello=True):
        if tcp:
            host, port = tcp.rsplit(":", 1)
            self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        self.timeout = timeout
        self.buf = b""
        self.queue = collections.deque()
        self.next_id = 0
        self.eof = False
        self.info = self.call("hello", {"version": PROTOCOL_VERSION, "client": client}) if hello else None

    # ---- wire ----
    def send_line(self, obj):
        data = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
        try:
            self.sock.sendall(data if data.endswith(b"\n") else data + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            self._raise_bye()
            raise

    def _raise_bye(self):
        """The bridge closed before our write: a refusal at accept (forbidden,
        max_clients) was sent first and is still readable, so say why."""
        try:
            while True:
                msg = self.read_message(1.0)
                if msg is None:
                    return
                if msg.get("method") == "bye" and "id" not in msg:
                    raise Closed(msg["params"].get("reason", "bye"), msg["params"])
                self.queue.append(msg)
        except (OSError, ValueError):
            return

    def read_message(self, timeout=None):
        """The next line as JSON; None at end of stream; socket.timeout when none came."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        while b"\n" not in self.buf:
            if self.eof:
                return None
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                self.eof = True
                if not self.buf:
                    return None
                self.buf += b"\n"
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    # ---- calls ----
    def call(self, method, params=None, timeout=None):
        self.next_id += 1
        rid = self.next_id
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send_line(req)
        while True:
            msg = self.read_message(timeout)
            if msg is None:
                raise Closed("eof")
            if "id" in msg and msg.get("id") == rid:
                if "error" in msg:
                    e = msg["error"]
                    raise BridgeError(e.get("code"), e.get("message"), e.get("data"))
                return msg.get("result")
            if msg.get("method") == "bye" and "id" not in msg:
                raise Closed(msg["params"].get("reason", "bye"), msg["params"])
            self.queue.append(msg)

    def notification(self, timeout=None):
        """The next notification ({"method", "params"}).  `lagged` and `bye`
        raise Closed, after everything sent before them was returned."""
        msg = self.queue.popleft() if self.queue else self.read_message(timeout)
        if msg is None:
            raise Closed("eof")
        if msg.get("method") in ("lagged", "bye"):
            raise Closed("lagged" if msg["method"] == "lagged" else msg["params"].get("reason", "bye"),
                         msg["params"])
        return msg

    def status(self):
        return self.call("status")

    def ping(self):
        return self.call("ping")

    def subscribe_state(self, method):
        return self.call("subscribe_state", {"method": method})

    def subscribe_blocks(self, from_height=None, after_seq=None, run_id=None, wait_ready=30.0):
        """From a height (replayed from the ring, then live), after a seq of a
        run (exact resume), or live.  Retries while no block has arrived yet."""
        params = {}
        if from_height is not None:
            params["from_height"] = from_height
        if after_seq is not None:
            params["after_seq"], params["run_id"] = after_seq, run_id
        deadline = time.monotonic() + wait_ready
        while True:
            try:
                return self.call("subscribe_blocks", params)
            except BridgeError as e:
                if e.code != NOT_READY or time.monotonic() > deadline:
                    raise
                time.sleep((e.data or {}).get("retry_after", 1) / 4)

    def unsubscribe(self, subscription):
        return self.call("unsubscribe", {"subscription": subscription})

    def view(self, method, args=None, contract=None, timeout=None):
        p = {"method": method, "args": {} if args is None else args}
        if contract:
            p["contract"] = contract
        return self.call("view", p, timeout)

    def send(self, method, args=None, wait=False, timeout=None, **kw):
        """A function call; kw: receiver, signer, gas, deposit, deadline."""
        p = {"method": method, "args": {} if args is None else args}
        p.update({k: v for k, v in kw.items() if v is not None})
        return self.call("send_and_wait" if wait else "send", p, timeout)

    def send_and_wait(self, method, args=None, timeout=None, **kw):
        return self.send(method, args, True, timeout, **kw)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def follow_blocks(connect, from_height=None, on_update=None, on_reconnect=None, stop=None,
                  max_reconnects=1000):
    """Every block update from `from_height` on, across `lagged` disconnects.

    connect() returns a new Bridge.  on_update(msg) gets each block / orphaned /
    finalized notification; stop() ends the loop when it returns true.  After
    `lagged` it reconnects and resumes after the last seq (same run) or from
    the next height, so nothing is skipped.  Returns the number of reconnects."""
    last_seq, run_id, next_height = None, None, from_height
    reconnects = 0
    while True:
        b = connect()
        try:
            if last_seq is not None and run_id == b.info["run_id"]:
                sub = b.subscribe_blocks(after_seq=last_seq, run_id=run_id)
            else:
                sub = b.subscribe_blocks(from_height=next_height)
            run_id = sub["run_id"]
            while not (stop and stop()):
                try:
                    msg = b.notification(timeout=0.5)
                except socket.timeout:
                    continue
                p = msg.get("params", {})
                if msg.get("method") in ("block", "orphaned", "finalized"):
                    last_seq = p["seq"]
                    if msg["method"] == "block":
                        next_height = p["height"] + 1
                if on_update:
                    on_update(msg)
            return reconnects
        except Closed as e:
            if e.reason != "lagged" or reconnects >= max_reconnects:
                raise
            reconnects += 1
            if on_reconnect:
                on_reconnect(e.params)
        finally:
            b.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="mpc-node-bridge client")
    ap.add_argument("--socket", default="/var/lib/mpc-indexer/mpc-node-bridge.sock")
    ap.add_argument("--tcp", help="HOST:PORT instead of the Unix socket")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    s = sub.add_parser("state")
    s.add_argument("method")
    s = sub.add_parser("blocks")
    s.add_argument("--from", dest="from_height", type=int)
    s = sub.add_parser("view")
    s.add_argument("method")
    s.add_argument("args", nargs="?", default="{}")
    s = sub.add_parser("send")
    s.add_argument("method")
    s.add_argument("args", nargs="?", default="{}")
    s.add_argument("--wait", action="store_true")
    a = ap.parse_args(argv)

    def connect():
        return Bridge(a.socket, a.tcp, client="mpc_bridge.py cli")

    def show(obj):
        print(json.dumps(obj, separators=(",", ":")), flush=True)

    try:
        if a.cmd == "blocks":
            follow_blocks(connect, a.from_height, on_update=show,
                          on_reconnect=lambda p: print("# lagged at %s, resuming" % p.get("last_height"),
                                                       file=sys.stderr))
            return 0
        with connect() as b:
            if a.cmd == "status":
                show(b.status())
            elif a.cmd == "view":
                show(b.view(a.method, json.loads(a.args)))
            elif a.cmd == "send":
                show(b.send(a.method, json.loads(a.args), wait=a.wait))
            elif a.cmd == "state":
                b.subscribe_state(a.method)
                while True:
                    try:
                        show(b.notification(timeout=60)["params"])
                    except socket.timeout:
                        continue
    except BridgeError as e:
        print("error %d: %s %s" % (e.code, e.message, json.dumps(e.data) if e.data else ""), file=sys.stderr)
        return 1
    except Closed as e:
        print("closed: %s %s" % (e.reason, e.params.get("message", "")), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
