#!/usr/bin/env python3
"""make soak: mpc-indexer with all four plugins and bridge clients, against nearsim with
every fault class switching on and off at random, for SOAK_DURATION seconds (default 600);
then the checks of checks.py, a report on stdout and in SOAK_REPORT.

Environment: SOAK_DURATION (seconds), SOAK_SEED (default: random, printed),
SOAK_BLOCK_MS (nearsim's block time, default 300), SOAK_REPORT (default
$top_builddir/soak-report.txt), SOAK_DIR (work directory, default a new one under
$top_builddir; kept when the soak fails or SOAK_KEEP=1), SOAK_WRAPPER (a command the
daemon runs under, e.g. valgrind)."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import checks  # noqa: E402
from chain import Chain  # noqa: E402
from clients import BlockSubscriber, StateSubscriber, TxClient  # noqa: E402
from events import Events  # noqa: E402
from faults import CLASSES, Episode, FaultScheduler  # noqa: E402
from monitor import Monitor, scrape  # noqa: E402
from world import ACCOUNT, DAEMON, START_HEIGHT, TOP_BUILDDIR, World, needed_files  # noqa: E402
from backup_util import near_pub  # noqa: E402

T0 = time.time()


def log(msg):
    print("[%7.1f s] %s" % (time.time() - T0, msg), flush=True)


def env_int(name, default):
    v = os.environ.get(name, "")
    if not v:
        return default
    try:
        return int(v)
    except ValueError:
        sys.exit("soak: %s=%r is not a whole number" % (name, v))


def wait(cond, limit, step=0.5):
    end = time.time() + limit
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def main():
    duration = env_int("SOAK_DURATION", 600)
    seed = env_int("SOAK_SEED", random.SystemRandom().randrange(1, 2**31))
    block_ms = env_int("SOAK_BLOCK_MS", 300)
    report_path = os.environ.get("SOAK_REPORT") or os.path.join(TOP_BUILDDIR, "soak-report.txt")
    missing = [p for p in needed_files() if not os.path.exists(p)]
    if missing:
        sys.exit("soak: not built: %s (run make first)" % ", ".join(missing))
    work = os.environ.get("SOAK_DIR") or tempfile.mkdtemp(prefix="soak-%d-" % seed, dir=os.path.abspath(TOP_BUILDDIR))
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o700)
    rng = random.Random(seed)
    log("soak: seed %d, duration %d s, block time %d ms, work directory %s" % (seed, duration, block_ms, work))
    log("reproduce with: SOAK_SEED=%d SOAK_DURATION=%d make soak" % (seed, duration))
    run = {"seed": seed, "duration": duration, "block_ms": block_ms, "work": work,
           "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(),
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}

    world = World(work, seed, block_ms, epochs_ahead=duration // 5 + 50)
    threads = []
    result = None
    try:
        world.start_sim()
        chain = Chain(world.sim.port)
        world.make_keys()
        world.start_fakes()
        # the backup service is registered by hand (the plugin would need the full-access
        # key, which the harness's own transactions use)
        chain.transact("register_backup_service",
                       {"backup_service_info": {"public_key": near_pub(world.backup_pub)}}, deposit="1")
        if not wait(lambda: (chain.view("migration_info").get(ACCOUNT) or [None])[0], 60):
            raise RuntimeError("register_backup_service did not take")
        world.start_daemon()
        world.start_final_follower()
        log("nearsim on port %d, daemon pid %d (metrics port %d), final-mode follower pid %d" %
            (world.sim.port, world.daemon.pid, world.metrics_port, world.final_cli.pid))

        blocks = BlockSubscriber(world.bridge_sock, START_HEIGHT, os.path.join(work, "bridge-blocks.jsonl"))
        state = StateSubscriber(world.bridge_sock)
        txw = TxClient(world.bridge_sock, "txwait", True, random.Random(rng.random()))
        txs = TxClient(world.bridge_sock, "txsend", False, random.Random(rng.random()))
        mon = Monitor(world, chain)
        threads = [blocks, state, txw, txs, mon]
        for t in threads:
            t.start()

        faults = FaultScheduler(chain, random.Random(rng.random()), duration, log)
        events = Events(world, chain, random.Random(rng.random()), duration, log)
        faults.start()
        events.start()
        run["t_faults"] = time.time()
        end = time.time() + duration
        while time.time() < end:
            time.sleep(min(30, max(0.1, end - time.time())))
            s = mon.samples[-1] if mon.samples else {}
            log("head %s final %s | bridge at %d (%d reconnects) | txs %d+%d | RSS %s kB | faults on: %s" %
                (s.get("head"), s.get("final"), blocks.last_height(), blocks.reconnects,
                 len(txw.subs), len(txs.subs), s.get("VmRSS"), " ".join(sorted(faults.active)) or "-"))
            if world.daemon.poll() is not None:
                log("the daemon exited with %s" % world.daemon.returncode)
                break
        faults.join()
        log("faults over; waiting for the event in progress")
        events.join()
        run["t_faults_end"] = time.time()
        txw.stop()
        txs.stop()
        for t in (txw, txs):
            t.join(300)
        log("transactions done: %d + %d submitted" % (len(txw.subs), len(txs.subs)))

        # the receipts of the last transactions execute a block or two after inclusion
        h0 = chain.stats()["head"]
        wait(lambda: chain.stats()["head"] >= h0 + 3, 60)
        # a fixed point: production stops, both followers catch up with the chain
        chain.admin("/stall", {"on": True})
        faults.episodes.append(Episode("stall", "chain", {"stall": True, "end_of_run": True}, time.time()))
        st = chain.stats()
        head, final = st["head"], st["final"]
        log("production stopped at head %d final %d; waiting for the followers" % (head, final))
        wait(lambda: blocks.last_height() >= head and checks.last_final_height(world.final_out) >= final
             and world.daemon.poll() is None, 300)
        wait(lambda: max(mon.backups or [-1]) >= chain.contract_phase()[1], 120)
        time.sleep(3)           # a last view poll, a last metrics update
        run["metrics"] = scrape(world.metrics_port)
        mon.stop()
        for t in (blocks, state):
            t.stop()
            t.join(30)
        run["t_end"] = time.time()
        run["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        run["daemon_exit"] = world.stop_process(world.daemon)
        run["final_cli_exit"] = world.stop_process(world.final_cli)
        faults.episodes[-1].off = time.time()
        p = subprocess.run([DAEMON, "-c", world.conf, "backup", "verify"], capture_output=True, text=True)
        run["backup_verify"] = (p.returncode, p.stdout + p.stderr)
        run["head"], run["final"] = head, final

        with open(os.path.join(work, "samples.json"), "w") as f:
            json.dump(mon.samples, f)
        result = checks.run_all(run, world, chain, faults, events, blocks, state, [txw, txs], mon)
    except Exception as e:
        import traceback
        traceback.print_exc()
        result = checks.Result()
        result.add("the soak ran to its end", False, "%r" % e)
    finally:
        for t in threads:
            if hasattr(t, "stop"):
                t.stop()
        world.stop_all()

    text = checks.render(run, result, CLASSES)
    print(text)
    with open(report_path, "w") as f:
        f.write(text)
    log("report written to %s" % report_path)
    if result.ok and not os.environ.get("SOAK_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    else:
        log("work directory kept: %s" % work)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
