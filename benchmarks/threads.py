"""Thread policy: default fits against fits forced to one or two torch threads.

For each machine state (``idle``; ``loaded``: as many processes as cores spinning in
a busy loop beside the fits, like a laptop with other work) and each graph (Cora's
public split; a generated graph of ``--nodes`` nodes), fits a default
``GKEDMClassifier`` three ways, alternating, ``--repeats`` times: with the package's
thread policy, forced to one thread, and forced to ``--threads`` threads. Prints the
best time of each (fit, and one predict on the whole graph) and the ratio of the
policy to the forced single thread.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/threads.py \
        [--nodes 1000000] [--epochs 3] [--cora-epochs 200] [--repeats 2] [--threads 2]

Run it without ``OMP_NUM_THREADS``: the point is what a user gets.
"""

import argparse
import multiprocessing
import os
import time
from contextlib import contextmanager

import torch

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid, make_node_classification
from skgkedm.utils import _threads


def burn():
    """Spin forever (a process standing for the user's other work)."""
    while True:
        pass


@contextmanager
def machine(state):
    """Run a block with the machine idle, or with every core kept busy by a spinner."""
    spinners = []
    if state == "loaded":
        context = multiprocessing.get_context("spawn")
        spinners = [context.Process(target=burn, daemon=True) for _ in range(os.cpu_count())]
        for spinner in spinners:
            spinner.start()
        time.sleep(1.0)
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


@contextmanager
def threads(setting):
    """``"policy"``: the package's policy; an int: that many threads, policy bypassed."""
    if setting == "policy":
        yield
        return
    original = _threads.ThreadPolicy.update

    def forced(policy, wait=None):
        torch.set_num_threads(setting)
        return setting

    _threads.ThreadPolicy.update = forced
    try:
        yield
    finally:
        _threads.ThreadPolicy.update = original


def time_fit(X, y, X_all, epochs, setting):
    """Seconds of one default fit and of one predict over every node."""
    clf = GKEDMClassifier(max_epochs=epochs, random_state=0)
    with threads(setting):
        started = time.perf_counter()
        clf.fit(X, y)
        fitted = time.perf_counter()
        clf.predict(X_all)
        done = time.perf_counter()
    return fitted - started, done - fitted


def graphs(args):
    cora = fetch_planetoid("cora")
    yield "Cora", cora.X[cora.train_index], cora.y[cora.train_index], cora.X, args.cora_epochs
    X, y = make_node_classification(args.nodes, n_classes=4, random_state=0)
    yield f"generated {args.nodes:,} nodes", X, y, X, args.epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cora-epochs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--states", nargs="+", default=["idle", "loaded"])
    args = parser.parse_args()
    settings = ["policy", 1, args.threads]
    print(
        f"torch {torch.__version__}, {os.cpu_count()} cores, torch default threads "
        f"{torch.get_num_threads()}"
    )
    header = f"{'machine':8} {'graph':28} {'threads':8} {'fit s':>8} {'predict s':>9} {'vs 1':>6}"
    print(header)
    for name, X, y, X_all, epochs in graphs(args):
        for state in args.states:
            with machine(state):
                best = {s: (float("inf"), float("inf")) for s in settings}
                for _ in range(args.repeats):
                    for setting in settings:
                        fit, predict = time_fit(X, y, X_all, epochs, setting)
                        best[setting] = tuple(map(min, best[setting], (fit, predict)))
            for setting in settings:
                fit, predict = best[setting]
                ratio = fit / best[1][0]
                print(
                    f"{state:8} {name:28} {setting!s:8} {fit:8.2f} {predict:9.2f} {ratio:6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
