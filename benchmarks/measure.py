"""Running one sample in a worker process while watching its memory and the sandbox's.

The parent samples, four times a second, the resident memory of the worker's whole process tree
(the worker plus e.g. its dbt subprocess), the peak of each of the worker's subprocesses and the
sandbox server's memory, and reads both processes' CPU time before and after. The worker reports
its own timings and peak (``VmHWM``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_mb(pid: int) -> float:
    """Current resident memory of one process in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_KB / 1024
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return 0.0


def hwm_mb(pid: int) -> float:
    """Peak resident memory of a live process since it started (``VmHWM``), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            parent = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _not_yet_executed(pid: int) -> bool:
    """Whether `pid` is a fork that has not yet run its own program: its command line is still its parent's, and so
    is its memory (``VmHWM`` then reads the parent's resident memory)."""
    try:
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        return Path(f"/proc/{pid}/cmdline").read_bytes() == Path(f"/proc/{parent}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Sampler(threading.Thread):
    """Peak tree RSS of a worker, the largest peak of one of its subprocesses, and peak RSS of the sandbox.

    A subprocess's peak is its ``VmHWM``, read while it lives (so growth in its last quarter second is missed) and
    runs its own program (between fork and exec it reads the worker's memory: a sample there failed the harness
    test once in CI): its ``ru_maxrss``, which the worker could read after it ended, starts at the worker's RSS
    when the worker forked it (Linux keeps it across exec), so it told the worker's memory, not the subprocess's.
    """

    def __init__(self, worker_pid: int, sandbox_pid: int | None, interval: float = 0.25,
                 memory_limit_mb: float | None = None) -> None:
        super().__init__(daemon=True)
        self.worker_pid, self.sandbox_pid, self.interval = worker_pid, sandbox_pid, interval
        self.memory_limit_mb = memory_limit_mb
        self.killed_for_memory = False
        self.tree_peak_mb = 0.0
        self.child_peak_mb = 0.0
        self.sandbox_peak_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree = descendants(self.worker_pid)
            self.tree_peak_mb = max(self.tree_peak_mb, sum(rss_mb(p) for p in tree))
            self.child_peak_mb = max([self.child_peak_mb,
                                      *(hwm_mb(p) for p in tree[1:] if not _not_yet_executed(p))])
            if self.memory_limit_mb and self.tree_peak_mb > self.memory_limit_mb and not self.killed_for_memory:
                self.killed_for_memory = True  # a guard for a shared machine: stop the sample, keep the box alive
                for pid in reversed(tree):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, 9)
            if self.sandbox_pid:
                self.sandbox_peak_mb = max(self.sandbox_peak_mb, rss_mb(self.sandbox_pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_worker(spec: dict, folder: Path, sandbox_pid: int | None, timeout: float = 6 * 3600,
               memory_limit_mb: float | None = None) -> dict:
    """Run ``benchmarks.worker`` on `spec` in a fresh process; the worker's result plus what the parent saw.

    On failure the result has ``error`` (the tail of the worker's log) instead of timings.
    """
    folder.mkdir(parents=True, exist_ok=True)
    spec_path, result_path, log_path = folder / "spec.json", folder / "result.json", folder / "worker.log"
    spec_path.write_text(json.dumps(spec))
    result_path.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    sandbox_cpu_before = cpu_seconds(sandbox_pid) if sandbox_pid else 0.0
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", str(spec_path), str(result_path)],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = Sampler(process.pid, sandbox_pid, memory_limit_mb=memory_limit_mb)
        sampler.start()
        try:
            _, status, usage = _wait(process, timeout)
        finally:
            sampler.stop()
    elapsed = time.perf_counter() - started
    seen = {
        "process_seconds": round(elapsed, 3),
        "worker_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2) if usage else None,
        "tree_peak_rss_mb": round(sampler.tree_peak_mb, 1),
        "peak_child_rss_mb": round(sampler.child_peak_mb, 1),
        "sandbox_peak_rss_mb": round(sampler.sandbox_peak_mb, 1),
        "sandbox_cpu_seconds": round(cpu_seconds(sandbox_pid) - sandbox_cpu_before, 2) if sandbox_pid else None,
        "load_average_before": round(load_before, 2),
    }
    if sampler.killed_for_memory:
        return {**seen, "error": f"stopped by the memory guard: its processes passed {memory_limit_mb:,.0f} MB"}
    if status != 0 or not result_path.exists():
        tail = log_path.read_text(errors="replace")[-3000:]
        return {**seen, "error": f"worker exited with {status}: {tail}"}
    return {**json.loads(result_path.read_text()), **seen}


def _wait(process: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return pid, process.returncode, usage
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            process.returncode = -9
            return pid, -9, usage
        time.sleep(0.2)
