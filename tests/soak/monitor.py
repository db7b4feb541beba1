"""Samples taken during the soak, every `interval` seconds: the daemon's memory
(/proc/PID/status VmRSS, VmHWM) and open file descriptors, nearsim's head and final
height, and when each backup file first appeared. Plus reading /metrics."""
import os
import re
import threading
import time
import urllib.request


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    out[k] = int(v.split()[0])
        out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None
    return out


def scrape(port):
    """{'name{labels}': value} from prometheus-monitor; {} when it cannot be read."""
    out = {}
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=20).read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)", line)
        if m:
            try:
                out[m.group(1)] = float(m.group(3))
            except ValueError:
                pass
    return out


def metric_sum(metrics, name, **labels):
    """Sum of the series of `name` whose labels include `labels`."""
    total = 0.0
    for k, v in metrics.items():
        base, _, rest = k.partition("{")
        if base != name:
            continue
        if all('%s="%s"' % (lk, lv) in rest for lk, lv in labels.items()):
            total += v
    return total


class Monitor(threading.Thread):
    def __init__(self, world, chain, interval=2.0):
        super().__init__(name="monitor", daemon=True)
        self.world = world
        self.chain = chain
        self.interval = interval
        self.samples = []       # dicts: t, VmRSS, VmHWM, Threads, fds, head, final, heap_kB
        self.backups = {}       # epoch -> first time its file was seen
        self.stop_ev = threading.Event()

    def sample(self):
        s = proc_status(self.world.daemon.pid)
        if s is None:
            return
        s["t"] = time.time()
        try:
            st = self.chain.stats()
            s["head"], s["final"] = st["head"], st["final"]
        except Exception:
            pass
        heap = scrape(self.world.metrics_port).get("mpc_indexer_heap_in_use_bytes")
        if heap is not None:
            s["heap_kB"] = int(heap / 1024)
        self.samples.append(s)
        try:
            for name in os.listdir(self.world.backup_dir):
                m = re.match(r"epoch-(\d+)\.mpcbak$", name)
                if m and int(m.group(1)) not in self.backups:
                    self.backups[int(m.group(1))] = time.time()
        except OSError:
            pass

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join(30)
