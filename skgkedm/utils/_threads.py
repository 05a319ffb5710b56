"""How many intra-op threads torch uses during a fit or a predict, and restoring the caller's.

torch runs its operators on an OpenMP pool as wide as the machine. On small graphs each
operator lasts microseconds, and a second thread only adds synchronisation: on a busy
machine a thread that waits for a descheduled partner at every operator made fits up to
ten times slower than one thread. So a call uses one thread unless the graph is large,
and on a large graph only as many threads as there are cores the rest of the machine
leaves idle, re-checked every few seconds. The limit the caller set (``torch.set_num_threads``,
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


def _cpu_times():
    """(busy, total) CPU jiffies of the whole machine from /proc/stat, or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class MachineLoad:
    """Cores that other processes keep busy, measured between two calls of :meth:`idle_cores`.

    Our own process's CPU time is subtracted, so the measure can run while we compute.
    Where /proc/stat is missing (macOS, Windows) every core counts as idle.
    """

    def __init__(self):
        self._usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        self._mark()

    def _mark(self):
        self._machine, self._own, self._wall = _cpu_times(), time.process_time(), time.monotonic()

    def idle_cores(self, minimum_wait=0.05):
        """Usable cores left idle by other processes since the last call (or construction)."""
        wait = minimum_wait - (time.monotonic() - self._wall)
        if wait > 0:
            time.sleep(wait)
        before, own_before, wall_before = self._machine, self._own, self._wall
        self._mark()
        if before is None or self._machine is None or self._machine[1] <= before[1]:
            return float(self._usable)
        busy, total = (now - then for now, then in zip(self._machine, before, strict=True))
        own = (self._own - own_before) / max(self._wall - wall_before, 1e-9)
        others = max(busy / total * (os.cpu_count() or 1) - own, 0.0)
        return max(self._usable - others, 0.0)


class ThreadPolicy:
    """Choose and apply torch's thread count for one call on one graph.

    Parameters
    ----------
    graph_entries : int
        Stored adjacency entries plus nodes of the graph the call works on.
    caller_threads : int
        The most threads the caller allows.

    Attributes
    ----------
    threads : int
        Threads in use since the last :meth:`update`.
    """

    def __init__(self, graph_entries, caller_threads):
        self.limit = 1 if graph_entries < LARGE_GRAPH_ENTRIES else caller_threads
        self._load = MachineLoad() if self.limit > 1 else None
        self._checked = -RECHECK_SECONDS
        self.threads = None

    def update(self):
        """Re-read the load when due and set torch's threads; return the count in use.

        Calls running at once in threads of one process use one thread each.
        """
        threads = self.threads or 1
        if _active_calls > 1 or self._load is None:
            threads = 1
        elif time.monotonic() - self._checked >= RECHECK_SECONDS:
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
def thread_policy(entries):
    """Run a block under the thread policy for a graph of ``entries``; restore afterwards.

    Yields the :class:`ThreadPolicy`, whose :meth:`~ThreadPolicy.update` a long loop calls
    between steps. When calls run at once in threads of one process, the last to finish
    restores the setting the first one found.
    """
    global _active_calls, _caller_threads
    own_threads = torch.get_num_threads()
    with _lock:
        if _active_calls == 0:
            _caller_threads = own_threads
        _active_calls += 1
    policy = ThreadPolicy(entries, own_threads)
    try:
        policy.update()
        yield policy
    finally:
        with _lock:
            _active_calls -= 1
            torch.set_num_threads(_caller_threads if _active_calls == 0 else own_threads)
