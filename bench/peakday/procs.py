"""Where the CPU time and the memory go, from ``/proc`` (Linux): the server's processes
(gunicorn's master and workers, the task worker), the PostgreSQL backends serving the
benchmark's database, this process, and the whole machine. A thread samples every half
second; ``mark(stage)`` takes a sample at once and remembers it, so each stage's CPU seconds
per group are the differences between two marks."""

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
GROUPS = ("web", "tasks", "postgres", "bench")


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds in user and system mode) of a live process."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _cmdline(pid: int) -> str:
    return (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()


def _program(cmdline: str) -> str:
    """What a process runs: "gunicorn" (also as ``python …/gunicorn``), "python", or the
    name of its executable (a shell whose script merely mentions gunicorn is "bash")."""
    argv = cmdline.split()
    if not argv:
        return ""
    name = argv[0].rsplit("/", 1)[-1]
    if name.startswith("python"):
        script = argv[1].rsplit("/", 1)[-1] if len(argv) > 1 else ""
        return "gunicorn" if script == "gunicorn" else "python"
    return name


def _memory_kb(pid: int) -> tuple[int, int]:
    """(resident now, resident at its highest) in kB."""
    rss = hwm = 0
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    first = (_read("/proc/stat") or "cpu 0").splitlines()[0].split()[1:]
    values = [int(v) for v in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


@dataclass
class Proc:
    pid: int
    group: str
    role: str  # e.g. "gunicorn master", "gunicorn worker", "task worker", "postgres backend"
    cpu: float = 0.0
    rss_kb: int = 0
    peak_kb: int = 0


@dataclass
class Marks:
    names: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)  # group -> CPU s so far
    machine: list[float] = field(default_factory=list)


class Sampler:
    def __init__(self, *, root_pids: list[int], database: str, interval: float = 0.5):
        self.root_pids = root_pids
        self.database = database
        self.interval = interval
        self.procs: dict[int, Proc] = {}
        self.ignored: set[int] = set()
        self.marks = Marks()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sampler", daemon=True)
        self.load: list[float] = []

    def start(self) -> None:
        self.sample()
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sample()

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()

    def _classify(self, cmdline: str, parent_cmdline: str) -> tuple[str, str]:
        if _program(cmdline) == "gunicorn":
            worker = _program(parent_cmdline) == "gunicorn"
            return "web", "gunicorn worker" if worker else "gunicorn master"
        if _program(cmdline) == "python" and " db_worker" in cmdline:
            return "tasks", "task worker"
        return "", ""

    def sample(self) -> None:
        with self.lock:
            parents: dict[int, int] = {}
            stats: dict[int, float] = {}
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                stat = _stat(int(name))
                if stat:
                    parents[int(name)], stats[int(name)] = stat
            children = defaultdict(list)
            for pid, parent in parents.items():
                children[parent].append(pid)
            tree, todo = set(), list(self.root_pids)
            while todo:
                pid = todo.pop()
                if pid in tree:
                    continue
                tree.add(pid)
                todo.extend(children.get(pid, ()))
            me = os.getpid()
            for pid in stats:
                if pid in self.ignored:
                    continue
                known = self.procs.get(pid)
                if known is None:
                    if pid == me:
                        group, role = "bench", "bench (clients, checks)"
                    elif pid in tree:
                        cmd = _cmdline(pid)
                        parent_cmd = _cmdline(parents.get(pid, 0)) if pid in parents else ""
                        group, role = self._classify(cmd, parent_cmd)
                    else:
                        cmd = _cmdline(pid)
                        group, role = (
                            ("postgres", "postgres backend")
                            if cmd.startswith("postgres:") and f" {self.database} " in cmd
                            else ("", "")
                        )
                    if not group:
                        if pid not in tree and not cmd.startswith("postgres"):
                            self.ignored.add(pid)
                        continue
                    known = self.procs[pid] = Proc(pid, group, role)
                known.cpu = stats[pid]
                rss, hwm = _memory_kb(pid)
                if rss:
                    known.rss_kb = rss
                    known.peak_kb = max(known.peak_kb, hwm, rss)
            self.load.append(os.getloadavg()[0])

    def totals(self) -> dict[str, float]:
        totals = dict.fromkeys(GROUPS, 0.0)
        for proc in self.procs.values():
            totals[proc.group] += proc.cpu
        return totals

    def mark(self, name: str) -> None:
        self.sample()
        with self.lock:
            self.marks.names.append(name)
            self.marks.times.append(time.perf_counter())
            self.marks.cpu.append(self.totals())
            self.marks.machine.append(machine_busy())

    def stage_cpu(self) -> dict[str, dict[str, float]]:
        """{stage: {group: CPU seconds, "machine": busy CPU seconds of the whole machine}}."""
        m = self.marks
        out = {}
        for i in range(len(m.names) - 1):
            row = {g: m.cpu[i + 1][g] - m.cpu[i].get(g, 0.0) for g in GROUPS}
            row["machine"] = m.machine[i + 1] - m.machine[i]
            row["seconds"] = m.times[i + 1] - m.times[i]
            out[m.names[i]] = row
        return out
