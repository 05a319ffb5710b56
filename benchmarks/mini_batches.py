"""Neighbour-sampled mini-batches: accuracy against full batch, and a graph past memory.

``accuracy``: default ``GKEDMClassifier`` (GCN + GKEDM) on the public splits of Cora and
CiteSeer, full batch against ``batch_size`` (default fanouts: 10 per hop), same seeds;
mean ± std of test accuracy and seconds per fit.

``large``: one fit and one predict on a generated graph (``make_node_classification``,
average degree 10, 100 dense features) with mini-batches, in a fresh subprocess so the
peak memory (max RSS) is the run's own; a fraction of the nodes is labelled.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/mini_batches.py accuracy \
        [--datasets cora citeseer] [--seeds 10] [--batch-size 32]
    python benchmarks/mini_batches.py large [--nodes 5000000] [--labelled 0.01] \
        [--epochs 1] [--batch-size 1024] [--fanouts 10 5 5] [--no-gkedm]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def accuracy(args):
    from skgkedm import GKEDMClassifier
    from skgkedm.datasets import fetch_planetoid

    print(f"seeds: {args.seeds}, batch_size: {args.batch_size}\n")
    print("| dataset | full batch | mini-batch | difference | s per fit (full / mini) |")
    print("|---|---|---|---|---|")
    for name in args.datasets:
        data = fetch_planetoid(name)
        train, test = data.train_index, data.test_index
        scores, seconds = {None: [], args.batch_size: []}, {None: [], args.batch_size: []}
        for seed in range(args.seeds):
            for batch_size in scores:
                model = GKEDMClassifier(batch_size=batch_size, random_state=seed)
                started = time.perf_counter()
                model.fit(data.X[train], data.y[train])
                seconds[batch_size].append(time.perf_counter() - started)
                scores[batch_size].append(model.score(data.X[test], data.y[test]))
        full, mini = (np.array(scores[key]) for key in scores)
        print(
            f"| {name} | {full.mean():.3f} ± {full.std():.3f} | {mini.mean():.3f} ± "
            f"{mini.std():.3f} | {100 * (mini.mean() - full.mean()):+.1f} points | "
            f"{np.median(seconds[None]):.1f} / {np.median(seconds[args.batch_size]):.1f} |",
            flush=True,
        )


def large_one(args):
    from skgkedm import GKEDMClassifier
    from skgkedm.datasets import make_node_classification

    started = time.perf_counter()
    X, y = make_node_classification(
        args.nodes, n_classes=5, n_features=100, average_degree=10, random_state=0
    )
    result = {"nodes": args.nodes, "edges": int(X.adjacency.nnz)}
    result["build_s"] = time.perf_counter() - started
    result["graph_gb"] = peak_rss_gb()
    labelled = np.flatnonzero(np.random.default_rng(0).random(args.nodes) < args.labelled)
    model = GKEDMClassifier(
        gkedm=not args.no_gkedm,
        batch_size=args.batch_size,
        fanouts=args.fanouts,
        max_epochs=args.epochs,
        schedule="joint",
        random_state=0,
    )
    started = time.perf_counter()
    model.fit(X[labelled], y[labelled])
    result["fit_s"] = time.perf_counter() - started
    result["fit_peak_gb"] = peak_rss_gb()
    result["labelled"] = len(labelled)
    started = time.perf_counter()
    test = np.setdiff1d(np.arange(args.nodes), labelled)[:100_000]
    result["accuracy"] = model.score(X[test], y[test])
    result["predict_s"] = time.perf_counter() - started
    result["predict_peak_gb"] = peak_rss_gb()
    print(json.dumps(result))


def large(args):
    command = [sys.executable, __file__, "large-one", *sys.argv[2:]]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        print(completed.stderr[-3000:])
        print(f"failed with exit code {completed.returncode} (killed for memory if -9)")
        return
    r = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"{r['nodes']:,} nodes, {r['edges']:,} stored edges, {r['labelled']:,} labelled; "
        f"GKEDM {'off' if args.no_gkedm else 'on'}, batch_size {args.batch_size}, "
        f"fanouts {args.fanouts}, {args.epochs} epoch(s)\n"
    )
    print("| step | seconds | peak RSS after it (GB) |")
    print("|---|---|---|")
    print(f"| generate the graph | {r['build_s']:.1f} | {r['graph_gb']:.1f} |")
    print(f"| fit (mini-batches) | {r['fit_s']:.1f} | {r['fit_peak_gb']:.1f} |")
    predicted = f"{r['predict_s']:.1f} | {r['predict_peak_gb']:.1f}"
    print(f"| predict 100,000 nodes (whole graph) | {predicted} |")
    print(f"\naccuracy on 100,000 unlabelled nodes: {r['accuracy']:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    acc = commands.add_parser("accuracy")
    acc.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    acc.add_argument("--seeds", type=int, default=10)
    acc.add_argument("--batch-size", type=int, default=32)
    for name in ("large", "large-one"):
        big = commands.add_parser(name)
        big.add_argument("--nodes", type=int, default=5_000_000)
        big.add_argument("--labelled", type=float, default=0.01)
        big.add_argument("--epochs", type=int, default=1)
        big.add_argument("--batch-size", type=int, default=1024)
        big.add_argument("--fanouts", type=int, nargs="+", default=[10, 5, 5])
        big.add_argument("--no-gkedm", action="store_true")
    args = parser.parse_args()
    {"accuracy": accuracy, "large": large, "large-one": large_one}[args.command](args)


if __name__ == "__main__":
    main()
