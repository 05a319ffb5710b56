"""Dask search: bytes shipped to the workers, threads inside them, equality with serial.

Runs one ``GridSearchCV(GKEDMClassifier)`` on Cora's public training nodes (a
``GraphNodes`` of 140 selected nodes that carries the whole 2,708-node graph),
``--candidates`` candidates times ``--folds`` folds, first serially in this process
(the reference), then on a ``LocalCluster`` of ``--workers`` worker processes of one
thread each under ``joblib.parallel_backend("dask")``, three ways:

- ``no scatter``: ``parallel_backend("dask")``;
- ``scatter=[X, y]``: ``parallel_backend("dask", scatter=[X, y])``;
- ``no scatter, X sized as before 0.2``: as the first, with ``GraphNodes.__sizeof__``
  patched in this process to report the 56 bytes of a bare Python object, as before
  skgkedm 0.2.0. joblib scatters by itself every argument that ``dask.sizeof`` puts
  above 1 kB, and GraphNodes now report the bytes of the graph they carry.

For each it counts, on the TCP connections, the bytes this process's client wrote to
the scheduler (``client->sched``), the bytes the workers read from the scheduler
(``sched->workers``, heartbeats and this script's own queries included) and from
each other (``worker->worker``), and how many times a ``GraphNodes``, that is a copy
of the graph, was unpickled on a worker (``X unpickled``). The searches are timed
with the workers started and past their first fit. It records
``torch.get_num_threads()`` in the workers before the first fit and at every thread
decision during the fits, and checks ``cv_results_["mean_test_score"]`` and the
best estimator's ``predict_proba`` against the serial search bit for bit
(``equal``).

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/dask_search.py \
        [--candidates 4] [--folds 3] [--epochs 20] [--workers 2]

The bytes do not depend on ``--epochs``; the times do, and are those of whatever
else the machine is running.
"""

import argparse
import gc
import os
import pickle
import time

import joblib
import numpy as np
import torch
from dask.distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm.datasets import fetch_planetoid

LEARNING_RATES = [0.01, 0.005, 0.02, 0.002, 0.05, 0.001]


# --- installed in every process: the workers and this one (client and scheduler) -------


def install_probes():
    """Count bytes through TCP by peer, GraphNodes unpickled and torch thread decisions."""
    import collections
    import contextvars

    import distributed.comm.tcp as tcp
    import torch

    from skgkedm.data import _graph_nodes
    from skgkedm.utils import _threads

    if hasattr(tcp, "probe_read"):
        return
    tcp.probe_read, tcp.probe_written = collections.Counter(), collections.Counter()
    peer = contextvars.ContextVar("peer")
    read, write, from_frames = tcp.TCP.read, tcp.TCP.write, tcp.from_frames

    async def counted_read(self, *args, **kwargs):
        token = peer.set(self.peer_address)
        try:
            return await read(self, *args, **kwargs)
        finally:
            peer.reset(token)

    async def counted_from_frames(frames, **kwargs):
        tcp.probe_read[peer.get(None)] += sum(memoryview(frame).nbytes for frame in frames)
        return await from_frames(frames, **kwargs)

    async def counted_write(self, *args, **kwargs):
        nbytes = await write(self, *args, **kwargs)
        tcp.probe_written[self.peer_address] += nbytes
        return nbytes

    tcp.TCP.read, tcp.TCP.write, tcp.from_frames = counted_read, counted_write, counted_from_frames

    _graph_nodes.probe_unpickled = 0
    setstate = _graph_nodes.GraphNodes.__setstate__

    def counted_setstate(self, state):
        _graph_nodes.probe_unpickled += 1
        setstate(self, state)

    _graph_nodes.GraphNodes.__setstate__ = counted_setstate

    _threads.probe_before = (os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads())
    _threads.probe_during = set()
    update = _threads.ThreadPolicy.update

    def recorded_update(self, wait=None):
        threads = update(self, wait)
        _threads.probe_during.add(torch.get_num_threads())
        return threads

    _threads.ThreadPolicy.update = recorded_update


def read_probes():
    """Bytes read and written by peer address, and GraphNodes unpickled, in this process."""
    import distributed.comm.tcp as tcp

    from skgkedm.data import _graph_nodes

    return dict(tcp.probe_read), dict(tcp.probe_written), _graph_nodes.probe_unpickled


def read_threads():
    """OMP_NUM_THREADS and torch's threads before the first fit, during fits, and now."""
    import torch

    from skgkedm.utils import _threads

    return (*_threads.probe_before, sorted(_threads.probe_during), torch.get_num_threads())


def warm_up():
    """One tiny fit, so that no timed search pays for the first one's imports."""
    from skgkedm import GKEDMClassifier
    from skgkedm.datasets import make_node_classification

    GKEDMClassifier(max_epochs=1, random_state=0).fit(*make_node_classification(50))


def scheduler_tasks(dask_scheduler):
    return len(dask_scheduler.tasks)


# --- here ---------------------------------------------------------------------------------


def counters(client):
    """[client to scheduler, scheduler to workers, worker to worker, GraphNodes unpickled]."""
    scheduler = client.scheduler.address
    workers = set(client.scheduler_info()["workers"])
    counts = np.zeros(4, dtype=np.int64)
    counts[0] = read_probes()[1].get(scheduler, 0)
    for read, _, unpickled in client.run(read_probes).values():
        for address, nbytes in read.items():
            counts[2 if address in workers else 1] += nbytes
        counts[3] += unpickled
    return counts


def search(args):
    grid = {"learning_rate": LEARNING_RATES[: args.candidates]}
    estimator = GKEDMClassifier(max_epochs=args.epochs, random_state=0)
    return GridSearchCV(estimator, grid, cv=args.folds)


def run_dask(client, args, X, y, mode):
    """Fit the search on the cluster; return it with the counters' increase and seconds."""
    scatter = [X, y] if mode == "scatter=[X, y]" else None
    original_sizeof = GraphNodes.__sizeof__
    if mode == "no scatter, X sized as before 0.2":
        GraphNodes.__sizeof__ = object.__sizeof__
    try:
        before = counters(client)
        started = time.perf_counter()
        with joblib.parallel_backend("dask", scatter=scatter):
            fitted = search(args).fit(X, y)
        seconds = time.perf_counter() - started
        after = counters(client)
    finally:
        GraphNodes.__sizeof__ = original_sizeof
    # Let the scattered data go before the next configuration: it would be found there.
    gc.collect()
    deadline = time.monotonic() + 30
    while client.run_on_scheduler(scheduler_tasks) and time.monotonic() < deadline:
        time.sleep(0.2)
    return fitted, after - before, seconds


def same(reference, fitted, X):
    try:
        np.testing.assert_array_equal(
            reference.cv_results_["mean_test_score"], fitted.cv_results_["mean_test_score"]
        )
        np.testing.assert_array_equal(reference.predict_proba(X), fitted.predict_proba(X))
    except AssertionError:
        return "NO"
    return "yes"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=4, choices=range(1, 7))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    cora = fetch_planetoid("cora")
    X, y = cora.X[cora.train_index], cora.y[cora.train_index]
    X_all = cora.X
    fits = args.candidates * args.folds
    print(
        f"torch {torch.__version__}, {os.cpu_count()} cores; Cora: {X!r}\n"
        f"pickled X: {len(pickle.dumps(X, protocol=5)):,} bytes (y: "
        f"{len(pickle.dumps(y, protocol=5)):,}); {args.candidates} candidates x "
        f"{args.folds} folds = {fits} fits of {args.epochs} epochs"
    )

    warm_up()
    started = time.perf_counter()
    reference = search(args).fit(X, y)
    print(f"serial search in this process: {time.perf_counter() - started:.1f} s")

    header = (
        f"{'configuration':22} {'client->sched':>13} {'sched->workers':>14} "
        f"{'worker->worker':>14} {'X unpickled':>11} {'s':>6} {'equal':>5}"
    )
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        up = time.perf_counter()
        install_probes()
        client.run(install_probes)
        client.run(warm_up)
        print(
            f"cluster of {args.workers} workers started in {up - started:.1f} s; their first "
            f"fit (importing PyTorch Geometric) took {time.perf_counter() - up:.1f} s"
        )
        print(header)
        for mode in ("no scatter", "scatter=[X, y]", "no scatter, X sized as before 0.2"):
            fitted, counted, seconds = run_dask(client, args, X, y, mode)
            to_scheduler, to_workers, worker_worker, unpickled = counted
            print(
                f"{mode:22} {to_scheduler:13,} {to_workers:14,} {worker_worker:14,} "
                f"{unpickled:11,} {seconds:6.1f} {same(reference, fitted, X_all):>5}",
                flush=True,
            )
        print("threads in each worker: OMP_NUM_THREADS, torch before, during fits, after")
        for address, (omp, before, during, after) in client.run(read_threads).items():
            print(f"  {address}: {omp}, {before}, {during}, {after}")


if __name__ == "__main__":
    main()
