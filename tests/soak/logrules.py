"""Which injected fault (or chain event) explains a daemon ERROR / WARN line.

RULES: (name, regular expression on "module: message", causes). A line is explained when one
of its causes was active at most GRACE seconds before the line (retries, backoff and
request timeouts make a fault echo for a while after it is switched off). "(N similar
messages suppressed)" lines stand for the line after them. Anything else is
unexplained, and the soak fails."""
import re
import time

GRACE = 30.0

# Any answer the daemon cannot use: an HTTP error, a cut or garbled body, a hang.
HTTP = ("5xx", "429", "timeout", "reset", "truncate", "invalid_json", "latency")

RULES = [
    ("http-503", r"HTTP 503", ("5xx",)),
    # the http_5xx class holds 503s and the 504s of a held neardata request
    ("http-5xx", r"similar http_5xx messages", ("5xx", "timeout")),
    ("http-429", r"HTTP 429|similar (http_429|rate_limited) messages", ("429",)),
    # also nearsim's own answer to send_tx / tx when the transaction did not execute within
    # --tx-timeout-ms: production stalled or slowed down, or the transaction was dropped at
    # inclusion because a later nonce of its key landed first (its first send was lost to an
    # HTTP fault and retried; nearcore drops it too) or its block was forked away
    ("timeout", r"HTTP 408|TIMEOUT_ERROR|Timeout was reached|timed out|HTTP 504|similar timeout messages",
     HTTP + ("stall", "lag", "skip", "fork")),
    ("reset", r"Empty reply from server|Connection reset|Recv failure|Server returned nothing", ("reset",)),
    ("truncated", r"Transferred a partial file|transfer closed with \d+ bytes remaining|truncated",
     ("truncate",)),
    ("transport", r"similar transport messages", ("reset", "truncate", "timeout", "latency")),
    ("malformed", r"malformed|not JSON|similar invalid messages|HTTP 200 without a block location",
     ("invalid_json", "truncate")),
    ("failover", r"switching block source from", HTTP),
    ("head", r"similar head messages", HTTP + ("lag",)),
    ("false-empty", r"which was reported empty; fetching it again", ("lag", "skip")),
    ("attestation-dropped", r"tee-attester: get_tee_accounts at height \d+ no longer lists this node", ("drop",)),
]


class Window:
    def __init__(self, cause, start, end):
        self.cause, self.start, self.end = cause, start, end


def windows(episodes, events, t_end):
    out = [Window(e.cls, e.on, e.off or t_end) for e in episodes]
    out += [Window(e["kind"], e["start"], e.get("end") or t_end) for e in events]
    return out


def parse_time(stamp):
    """2026-11-24T05:05:18.081Z -> unix seconds."""
    base, _, frac = stamp.rstrip("Z").partition(".")
    return time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + (frac or "0"))


LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (ERROR|WARN)\s+(.*)$")
SUPPRESSED = re.compile(r"^\S+: \(\d+ similar messages suppressed\)$")     # names no class


def causes_of(text):
    for name, rx, causes in RULES:
        if re.search(rx, text):
            return name, causes
    return None, ()


# "(N similar X messages suppressed)" is printed with the next message of its kind, which
# may come long after the suppressed ones
SUMMARY_GRACE = 300.0


def active(wins, causes, t, grace=GRACE):
    return [w for w in wins if w.cause in causes and w.start - 1 <= t <= w.end + grace]


def classify(path, wins):
    """(explained: {rule: count}, unexplained: [line])"""
    explained, unexplained = {}, []
    try:
        with open(path, errors="replace") as f:
            lines = [LINE.match(l.rstrip("\n")) for l in f]
    except OSError:
        return explained, ["cannot read %s" % path]
    lines = [m for m in lines if m]
    pending = []        # suppressed-lines markers waiting for the line they stand for
    for m in lines:
        t = parse_time(m.group(1))
        text = m.group(3)
        if SUPPRESSED.match(text):
            pending.append(m)
            continue
        rx, causes = causes_of(text)
        grace = SUMMARY_GRACE if "messages suppressed" in text else GRACE
        ok = bool(rx) and bool(active(wins, causes, t, grace))
        key = rx if ok else None
        for p in pending + [m]:
            if ok:
                explained[key] = explained.get(key, 0) + 1
            else:
                unexplained.append(p.group(0))
        pending = []
    for p in pending:
        unexplained.append(p.group(0))
    return explained, unexplained
