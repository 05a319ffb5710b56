"""Node order: epoch time of the same graph with its nodes renumbered, in one process.

Propagation gathers the rows of the source nodes of each target: with neighbours
numbered far apart, every gather misses the cache. A cache-friendly numbering (reverse
Cuthill-McKee, which keeps neighbours' numbers close; or nodes by decreasing degree, so
the most gathered rows share cache lines) could make the gathers cheaper. This script
fits ``GKEDMClassifier(gkedm=False)`` (2-layer GCN, 64 hidden, as ``scale.py``) on a
graph in its given order and renumbered, in rounds (orders alternate, so machine load
hits all alike), and prints seconds per epoch (the graph preparation included, as a fit
pays it), the time to compute each order, and each time against the floor (bytes an
epoch moves / copy bandwidth, see ``scale.py``):

    python benchmarks/node_order.py --graph random --nodes 1000000 --epochs 2 --rounds 1
    python benchmarks/node_order.py --graph facebook --epochs 10 --rounds 3
    python benchmarks/node_order.py --graph squirrel --epochs 10 --rounds 3
"""

import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scale import copy_bandwidth, epoch_bytes, fixed_threads


def load(graph, n_nodes):
    """(GraphNodes, y) of the graph named ``graph``, with dense float32 features."""
    if graph == "random":
        from skgkedm.datasets import make_node_classification

        return make_node_classification(
            n_nodes, n_classes=5, n_features=100, average_degree=10, random_state=0
        )
    from skgkedm.datasets import fetch_musae

    data = fetch_musae(graph)
    y = data.y
    if y.dtype.kind == "f":  # regression targets (wikipedia): classes by quintile
        y = np.searchsorted(np.quantile(y, [0.2, 0.4, 0.6, 0.8]), y)
    return data.X, y


def orders(adjacency):
    """{name: (permutation, seconds)}: new position -> old node, for each order."""
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    symmetric = sp.csr_array(adjacency + adjacency.T)
    found = {"given": (np.arange(adjacency.shape[0]), 0.0)}
    started = time.perf_counter()
    rcm = reverse_cuthill_mckee(sp.csr_matrix(symmetric), symmetric_mode=True)
    found["rcm"] = (rcm, time.perf_counter() - started)
    started = time.perf_counter()
    degree = np.diff(symmetric.indptr)
    found["degree"] = (np.argsort(-degree, kind="stable"), time.perf_counter() - started)
    return found


def renumbered(X, permutation):
    """The graph of ``X`` with node ``permutation[k]`` renumbered ``k``."""
    from skgkedm.data import GraphNodes

    adjacency = sp.csr_array(X.adjacency)[permutation][:, permutation]
    features = X.features[permutation]
    if not sp.issparse(features):
        features = np.asarray(features, dtype=np.float32)
    return GraphNodes(sp.csr_array(adjacency), features)


def bandwidth_of(adjacency):
    """Mean |i - j| over the stored entries: how far apart neighbours are numbered."""
    coo = sp.coo_array(adjacency)
    return float(np.mean(np.abs(coo.row.astype(np.int64) - coo.col)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="facebook", help="random, or a musae graph name")
    parser.add_argument("--nodes", type=int, default=1_000_000, help="for --graph random")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from skgkedm import GKEDMClassifier

    fixed_threads(args.threads)
    X, y = load(args.graph, args.nodes)
    bandwidth = copy_bandwidth("cpu")
    found = orders(X.adjacency)
    n_nodes, n_edges = X.adjacency.shape[0], X.adjacency.nnz
    # The same labelled nodes in every order.
    train = np.random.default_rng(0).random(n_nodes) < 0.5
    graphs = {
        name: (renumbered(X, perm), y[perm], train[perm]) for name, (perm, _) in found.items()
    }
    times = {name: [] for name in graphs}
    for _ in range(args.rounds):
        for name, (graph, labels, labelled) in graphs.items():
            model = GKEDMClassifier(
                gkedm=False, max_epochs=args.epochs, early_stopping=False, schedule="joint",
                random_state=0,
            )  # fmt: skip
            started = time.perf_counter()
            model.fit(graph[labelled], labels[labelled])
            times[name].append((time.perf_counter() - started) / model.n_iter_)
    features = X.features
    n_features = features.shape[1]
    # epoch_bytes counts 100 dense features; count these features' own bytes instead
    # (12 per stored value of sparse ones), read twice an epoch.
    feature_bytes = 12 * features.nnz if sp.issparse(features) else 4 * features.size
    floor = epoch_bytes(n_nodes, n_edges) - 2 * 4 * n_nodes * 100 + 2 * feature_bytes
    floor /= bandwidth
    print(
        f"{args.graph}: {n_nodes:,} nodes, {n_edges:,} edges, {n_features} features, "
        f"{args.epochs} epochs x {args.rounds} rounds, threads {torch.get_num_threads()}, "
        f"copy bandwidth {bandwidth / 1e9:.1f} GB/s, epoch floor {floor:.4f} s\n"
    )
    print(
        "| order | mean neighbour distance | order s | s/epoch (best) | ratio to given | x floor |"
    )
    print("|---|---|---|---|---|---|")
    given = min(times["given"])
    for name, (_, seconds) in found.items():
        best = min(times[name])
        print(
            f"| {name} | {bandwidth_of(graphs[name][0].adjacency):,.0f} | {seconds:.3f} | "
            f"{best:.4f} | {best / given:.2f}x | {best / floor:.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
