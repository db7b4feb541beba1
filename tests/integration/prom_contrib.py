#!/usr/bin/env python3
"""Acceptance 1 (rules) and 6 of prometheus-monitor: contrib/.
The Grafana dashboard is valid JSON with well-formed panels; every metric its
queries (and the alert rules) name exists: registered in a daemon that follows
nearsim (its /families), or - for components this test does not run (another
plugin, a source not configured here) - registered by name in their source.
`promtool check rules` passes, and a real Prometheus loads the rules and runs
every dashboard query against the live daemon without a PromQL error."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prom_util import TOP_SRCDIR, Daemon, Prometheus, Sim, Tap, poll  # noqa: E402

DASH = os.path.join(TOP_SRCDIR, "contrib", "grafana", "mpc-indexer.json")
RULES = os.path.join(TOP_SRCDIR, "contrib", "prometheus", "mpc-indexer.rules.yml")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "bool", "offset", "inf", "nan", "le", "time"}

t = Tap()


def names_in(expr):
    """Metric names an expression selects, and __name__ regexes."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # string literals
    regexes = re.findall(r'__name__=~"([^"]*)"', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)                   # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                  # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    out = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS or word.startswith("$"):
            continue
        if re.match(r"^\d", word) or e[m.start() - 1:m.start()] == "$":
            continue
        out.add(word)
    return out, regexes


def family_of(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)


def registered_in_source(name):
    """Files that register the family by its quoted name."""
    hits = []
    for f in glob.glob(os.path.join(TOP_SRCDIR, "core", "*.c")) + \
            glob.glob(os.path.join(TOP_SRCDIR, "plugins", "*", "*.c")):
        with open(f, errors="replace") as fh:
            if '"%s"' % name in fh.read():
                hits.append(os.path.relpath(f, TOP_SRCDIR))
    return hits


# ---- the dashboard as a document
with open(DASH) as f:
    dash = json.load(f)
t.ok(isinstance(dash, dict) and dash.get("title") and dash.get("uid"), "the dashboard is valid JSON with a title and uid")
panels = [p for p in dash.get("panels", []) if p.get("type") != "row"]
ids = [p.get("id") for p in dash["panels"]]
t.ok(len(ids) == len(set(ids)), "panel ids are unique")
t.ok(len(panels) >= 30, "it has %d panels" % len(panels))
bad = [p["title"] for p in panels if not p.get("targets") or not all(x.get("expr") for x in p["targets"])
       or "gridPos" not in p]
t.ok(not bad, "every panel has a position and queries", bad)
ds = {json.dumps(p.get("datasource")) for p in panels}
t.ok(ds == {json.dumps({"type": "prometheus", "uid": "${datasource}"})}, "every panel uses the datasource variable", ds)
exprs = [(p["title"], x["expr"]) for p in panels for x in p["targets"]]

# ---- the rules as a document
promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
if promtool:
    r = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True)
    t.ok(r.returncode == 0, "promtool check rules: %s" % r.stdout.strip().replace("\n", " "), r.stderr)
else:
    t.ok(True, "# SKIP promtool not found")
rule_exprs = []
with open(RULES) as f:
    lines = f.read().splitlines()
for i, line in enumerate(lines):
    m = re.match(r"^\s*expr:\s*(\|)?\s*(.*)$", line)
    if not m:
        continue
    if m.group(1):
        ind = len(lines[i + 1]) - len(lines[i + 1].lstrip())
        body = []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) < ind:
                break
            body.append(nxt.strip())
        rule_exprs.append(" ".join(body))
    else:
        rule_exprs.append(m.group(2))
t.ok(len(rule_exprs) >= 10, "%d alert expressions" % len(rule_exprs))
for want in ("MpcIndexerPipelineStuck", "MpcIndexerFallingBehind", "MpcIndexerDroppedUpdates",
             "MpcRequestTimeouts", "MpcContractNotRunning", "MpcParticipantAttestationExpiring", "MpcBackupStale"):
    t.ok(("alert: " + want) in "\n".join(lines), "alert %s is there" % want)

# ---- names against a live daemon
sim = d = prom = None
try:
    sim = Sim("--block-ms", "200", "--auto-respond", "--sign-rate", "0.5", "--ckd-rate", "0.2")
    d = Daemon(sim)
    poll(lambda: d.get("/healthz")[0] == 200, tries=120)
    poll(lambda: d.metrics().get('mpc_indexer_contract_state{state="Running"}') == 1, tries=120)
    live = d.families()
    t.ok(len(live) > 40, "the daemon following nearsim registers %d families" % len(live))
    scrape = d.get("/metrics")[2]
    process = re.findall(r"^# TYPE (process_\w+) ", scrape, re.M)
    t.ok(len(process) >= 6, "and its scrape has %d process_* families" % len(process))
    live.update({n: ("", 1) for n in process})
    wanted = {}
    for where, e in exprs + [("alert rules", e) for e in rule_exprs]:
        names, regexes = names_in(e)
        for n in names:
            wanted.setdefault(family_of(n), set()).add(where)
        for rx in regexes:
            hit = [n for n in live if re.fullmatch(rx, n)]
            t.ok(hit, "%s: __name__=~\"%s\" matches live families (%s)" % (where, rx, ", ".join(sorted(hit)[:3])))
    by_source = []
    for name in sorted(wanted):
        if name in live or name == "up":
            continue
        src = registered_in_source(name)
        if src:
            by_source.append("%s (%s)" % (name, ", ".join(src)))
        else:
            t.ok(False, "%s names %s, which nothing registers" % (", ".join(sorted(wanted[name])), name))
    n_live = len([n for n in wanted if n in live])
    t.ok(n_live >= 50, "%d metric names checked against the live daemon" % n_live)
    t.ok(True, "%d names of components not running here, found in their source: %s" %
         (len(by_source), "; ".join(by_source)))

    # ---- PromQL: a real Prometheus runs every query and loads the rules
    if shutil.which("prometheus"):
        prom = Prometheus(d.port, rule_files=[RULES])
        poll(lambda: prom.value('up{job="mpc-indexer"}') == 1, tries=120)
        errors = []
        for title, e in exprs:
            q = e.replace("$__rate_interval", "1m").replace("$instance", ".*")
            try:
                prom.query(q)
            except Exception as ex:  # noqa: BLE001
                errors.append("%s: %s: %s" % (title, q, ex))
        t.ok(not errors, "Prometheus runs all %d dashboard queries without error" % len(exprs), "\n".join(errors))
        groups = poll(lambda: [g for g in prom.rules() if g["rules"] and
                               all(r.get("health") == "ok" for r in g["rules"])] or None, tries=60)
        n_rules = sum(len(g["rules"]) for g in (groups or []))
        t.ok(n_rules == len(rule_exprs), "Prometheus loads and evaluates the %d alert rules (health ok)" % n_rules,
             json.dumps(prom.rules())[:2000])
    else:
        t.ok(True, "# SKIP prometheus not installed: queries not run")
finally:
    for x in (prom, d):
        if x:
            x.cleanup()
    if sim:
        sim.stop()
t.done()
