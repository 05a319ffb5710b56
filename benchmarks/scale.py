"""Scale: fit and predict a 2-layer GCN + GKEDM full-batch on generated graphs.

Each size runs in a fresh subprocess so its peak memory (max RSS) is its own. Graphs come
from ``make_node_classification`` (average degree 10, 100 features, 5 classes), the model
trains on 10% of the nodes for ``--epochs`` epochs.

    python benchmarks/scale.py [--nodes 10000 100000 1000000] [--epochs 5] \
        [--no-gkedm | --paper-module]

``--paper-module`` runs the paper's GKEDM, ``skgkedm.PAPER_GKEDM``, instead of the
package default.
"""

import argparse
import json
import resource
import subprocess
import sys
import time


def run_one(n_nodes, epochs, gkedm, paper_module):
    """Build, fit and predict one graph; return a dict of measurements."""
    import numpy as np

    from skgkedm import PAPER_GKEDM, GKEDMClassifier
    from skgkedm.datasets import make_node_classification

    started = time.perf_counter()
    X, y = make_node_classification(
        n_nodes, n_classes=5, n_features=100, average_degree=10, random_state=0
    )
    build = time.perf_counter() - started
    train = np.random.default_rng(0).random(n_nodes) < 0.1
    options = PAPER_GKEDM if paper_module else {}
    model = GKEDMClassifier(
        gkedm=gkedm, max_epochs=epochs, device="cpu", random_state=0, **options
    )
    started = time.perf_counter()
    model.fit(X[train], y[train])
    fit = time.perf_counter() - started
    started = time.perf_counter()
    accuracy = model.score(X[~train], y[~train])
    predict = time.perf_counter() - started
    return {
        "nodes": n_nodes,
        "edges": int(X.adjacency.nnz),
        "build_s": build,
        "s_per_epoch": fit / model.n_iter_,
        "predict_s": predict,
        "accuracy": accuracy,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-gkedm", action="store_true")
    parser.add_argument(
        "--paper-module",
        action="store_true",
        help="the paper's GKEDM (skgkedm.PAPER_GKEDM) instead of the package default",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.epochs, not args.no_gkedm, args.paper_module)))
        return
    print(f"GKEDM: {'off' if args.no_gkedm else 'on'}, epochs: {args.epochs}\n")
    print("| nodes | directed edges | fit s/epoch | predict s | peak RSS (GB) | accuracy |")
    print("|---|---|---|---|---|---|")
    for n_nodes in args.nodes:
        command = [sys.executable, __file__, "--one", str(n_nodes), "--epochs", str(args.epochs)]
        command += ["--no-gkedm"] * args.no_gkedm + ["--paper-module"] * args.paper_module
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"| {n_nodes:,} | failed: {result.stderr.strip().splitlines()[-1]} |||||")
            continue
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['s_per_epoch']:.2f} | "
            f"{r['predict_s']:.2f} | {r['peak_rss_gb']:.1f} | {r['accuracy']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
