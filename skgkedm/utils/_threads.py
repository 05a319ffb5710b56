"""How many intra-op threads torch uses during a fit or a predict, and restoring the caller's.

torch runs its operators on an OpenMP pool as wide as the machine. On small graphs each
operator lasts microseconds, and a second thread only adds synchronisation: on a busy
machine a thread that waits for a descheduled partner at every operator made fits up to
ten times slower than one thread. So a call uses one thread unless the graph is large,
and on a large graph only as many threads as there are idle cores among the process's
own, re-checked every few seconds.

The process's own cores are those it may run on (``os.sched_getaffinity``: a cgroup
cpuset, a Slurm or ``taskset`` allocation), capped by a cgroup CPU quota (a
container's ``--cpus``) where one is set. Only the load on those cores counts: other
jobs busy on the rest of a shared node do not take threads from a job with dedicated
cores. Where the operating system says neither which cores nor how busy they are
(macOS, Windows: no affinity, no ``/proc/stat``), every core of ``os.cpu_count()``
counts as the process's own and idle. The limit the caller set (``torch.set_num_threads``,
``OMP_NUM_THREADS``, threadpoolctl, joblib's worker limits) is never exceeded, and it is
restored afterwards. torch's CPU kernels used here give bit-identical results whatever the
thread count, so the choice changes speed, not the model.
"""

import os
import threading
import time
from contextlib import contextmanager

import torch

# Below this many stored entries (adjacency plus nodes), one thread is fastest even on an
# idle machine: see the thread table in docs/performance.rst (benchmarks/threads.py).
LARGE_GRAPH_ENTRIES = 1_000_000
# How often a long fit re-reads the machine's load, in seconds.
RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_active_calls = 0
_caller_threads = None


def _read_proc_stat():
    """The text of /proc/stat, or None where there is none (macOS, Windows)."""
    try:
        with open("/proc/stat") as stat:
            return stat.read()
    except OSError:
        return None


def _cpu_times(cpus):
    """(busy, total) CPU jiffies summed over the cores ``cpus`` (all if None), or None."""
    text = _read_proc_stat()
    if text is None:
        return None
    busy = total = 0
    try:
        for line in text.splitlines():
            name, *values = line.split()
            if not name.startswith("cpu") or (name == "cpu") != (cpus is None):
                continue
            if cpus is not None and int(name[3:]) not in cpus:
                continue
            fields = [int(value) for value in values]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
            busy, total = busy + sum(fields) - idle, total + sum(fields)
    except (ValueError, IndexError):
        return None
    return (busy, total) if total else None


def _cpu_quota():
    """Cores' worth of CPU time the process's cgroup may use, or None if unlimited."""
    for path, parse in (
        ("/sys/fs/cgroup/cpu.max", lambda text: text.split()[:2]),  # cgroup v2
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", None),  # cgroup v1
    ):
        try:
            with open(path) as file:
                text = file.read()
            if parse is None:
                with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as file:
                    quota, period = text.strip(), file.read().strip()
            else:
                quota, period = parse(text)
            if quota in ("max", "-1"):
                return None
            return int(quota) / int(period)
        except (OSError, ValueError):
            continue
    return None


def own_cores():
    """The cores this process may run on (None: not known), and how many it may use.

    The cores are the affinity set where the operating system gives one (Linux); their
    number is capped by a cgroup CPU quota, rounded down (at least 1). Without an
    affinity set (macOS, Windows) every core of ``os.cpu_count()`` counts.
    """
    cpus = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    usable = len(cpus) if cpus else (os.cpu_count() or 1)
    quota = _cpu_quota()
    if quota is not None:
        usable = max(1, min(usable, int(quota)))
    return cpus or None, usable


class MachineLoad:
    """Idle cores among the process's own, measured between two calls of :meth:`idle_cores`.

    Only the load on the cores the process may run on counts (see the module's
    docstring), and our own process's CPU time is subtracted, so the measure can run
    while we compute. Where /proc/stat is missing (macOS, Windows) every one of the
    process's cores counts as idle.
    """

    def __init__(self):
        self._cpus, self._usable = own_cores()
        self._mark()

    def _mark(self):
        self._machine = _cpu_times(self._cpus)
        self._own, self._wall = time.process_time(), time.monotonic()

    def ready(self, minimum_wait=0.05):
        """Whether :meth:`idle_cores` would measure without sleeping."""
        return time.monotonic() - self._wall >= minimum_wait

    def idle_cores(self, minimum_wait=0.05):
        """The process's cores left idle by other processes since the last call."""
        wait = minimum_wait - (time.monotonic() - self._wall)
        if wait > 0:
            time.sleep(wait)
        before, own_before, wall_before = self._machine, self._own, self._wall
        self._mark()
        if before is None or self._machine is None or self._machine[1] <= before[1]:
            return float(self._usable)
        busy, total = (now - then for now, then in zip(self._machine, before, strict=True))
        cores = len(self._cpus) if self._cpus else (os.cpu_count() or 1)
        own = (self._own - own_before) / max(self._wall - wall_before, 1e-9)
        others = max(busy / total * cores - own, 0.0)
        return max(min(self._usable, cores - others), 0.0)


class ThreadPolicy:
    """Choose and apply torch's thread count for one call on one graph.

    Parameters
    ----------
    graph_entries : int
        Stored adjacency entries plus nodes of the graph the call works on.
    caller_threads : int
        The most threads the caller allows.
    wait : bool, default=True
        Whether :meth:`update` may sleep (50 ms) to measure the load. If False, it
        measures only once that much time has passed since the policy began, and
        keeps the threads in use (one at first) until then: for calls that may
        finish sooner, such as a graph-free network's predictions, called between
        their steps.

    Attributes
    ----------
    threads : int
        Threads in use since the last :meth:`update`.
    """

    def __init__(self, graph_entries, caller_threads, wait=True):
        self.limit = 1 if graph_entries < LARGE_GRAPH_ENTRIES else caller_threads
        self.wait = wait
        self._load = MachineLoad() if self.limit > 1 else None
        self._checked = -RECHECK_SECONDS
        self.threads = None

    def update(self, wait=None):
        """Re-read the load when due and set torch's threads; return the count in use.

        Calls running at once in threads of one process use one thread each. ``wait``
        overrides the policy's own ``wait`` for this call: a call that began with
        ``wait=False`` and did host work since (preparing a graph) measures the load
        over that work and sleeps only what remains of the 50 ms window.
        """
        wait = self.wait if wait is None else wait
        threads = self.threads or 1
        if _active_calls > 1 or self._load is None:
            threads = 1
        elif time.monotonic() - self._checked >= RECHECK_SECONDS and (wait or self._load.ready()):
            self._checked = time.monotonic()
            threads = int(min(self.limit, max(1, round(self._load.idle_cores()))))
        if threads != self.threads:
            torch.set_num_threads(threads)
            self.threads = threads
        return threads


def graph_entries(nodes):
    """Size of a graph for the thread policy: stored adjacency entries plus nodes."""
    adjacency = nodes.adjacency
    return int(adjacency.nnz + adjacency.shape[0])


@contextmanager
def thread_policy(entries, wait=True):
    """Run a block under the thread policy for a graph of ``entries``; restore afterwards.

    Yields the :class:`ThreadPolicy`, whose :meth:`~ThreadPolicy.update` a long loop calls
    between steps; ``wait=False`` keeps it from sleeping to measure the load (see
    :class:`ThreadPolicy`). When calls run at once in threads of one process, the last to
    finish restores the setting the first one found.
    """
    global _active_calls, _caller_threads
    own_threads = torch.get_num_threads()
    with _lock:
        if _active_calls == 0:
            _caller_threads = own_threads
        _active_calls += 1
    policy = ThreadPolicy(entries, own_threads, wait)
    try:
        policy.update()
        yield policy
    finally:
        with _lock:
            _active_calls -= 1
            torch.set_num_threads(_caller_threads if _active_calls == 0 else own_threads)
