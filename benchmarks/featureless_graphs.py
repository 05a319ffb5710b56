"""Node classification on graphs without node features: which features to compute.

Each graph comes from networkx with ground-truth node labels; half of the nodes
(stratified) are labelled, the other half hidden, and the table gives the accuracy
of ``GKEDMClassifier`` (defaults but the backbone, ``random_state=seed``) on the
hidden nodes, mean and standard deviation over seeds (the seed draws both the split
and the model):

- karate: Zachary's karate club, labels = the ``club`` each member joined;
- planted 4x50 / 10x30: ``planted_partition_graph`` communities (``block``);
- sbm 60/80/100: ``stochastic_block_model`` with unequal blocks (``block``);
- davis: ``davis_southern_women_graph``, labels = the side, woman or event
  (``bipartite``): labels that alternate along edges rather than communities, with
  the GCN backbone (which averages a node with its neighbours) and with GraphSAGE
  (which keeps the node's own representation apart).

Edges are unweighted. (Les Misérables and the Florentine families come without
labels.) Feature sets:

- ``degree (before)``: the 3 structural features GraphNodes used to compute;
- ``default (after)``: what ``GraphNodes(adjacency)`` computes now;
- ``low only (8+0)``: without the 4 least smooth eigenvectors (the choice of N_HIGH);
- ``one-hot ids``: the identity matrix (a reference; it cannot describe a new graph).

``--timing`` also times ``GraphNodes(adjacency)`` on generated graphs of 10,000 and
100,000 nodes (average degree 10), with BLAS on one thread.

    python benchmarks/featureless_graphs.py [--seeds 10] [--timing]
"""

import argparse
import time
import warnings

import networkx as nx
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm.data._structural_features import positional_features, structural_features
from skgkedm.datasets import make_node_classification


def labelled_graphs():
    """(name, graph, labels, backbone) of networkx graphs with ground-truth node labels."""
    karate = nx.karate_club_graph()
    yield "karate", karate, [karate.nodes[v]["club"] for v in karate], "gcn"
    for name, graph in [
        ("planted 4x50", nx.planted_partition_graph(4, 50, 0.15, 0.02, seed=0)),
        ("planted 10x30", nx.planted_partition_graph(10, 30, 0.3, 0.01, seed=0)),
        (
            "sbm 60/80/100",
            nx.stochastic_block_model(
                [60, 80, 100],
                [[0.1, 0.02, 0.01], [0.02, 0.08, 0.02], [0.01, 0.02, 0.06]],
                seed=1,
            ),
        ),
    ]:
        yield name, graph, [graph.nodes[v]["block"] for v in graph], "gcn"
    davis = nx.davis_southern_women_graph()
    for backbone in ("gcn", "sage"):
        yield f"davis ({backbone})", davis, [davis.nodes[v]["bipartite"] for v in davis], backbone


def feature_sets(adjacency):
    degree = structural_features(adjacency)
    return {
        "degree (before)": degree,
        "default (after)": None,
        "low only (8+0)": np.hstack([degree, positional_features(adjacency, 8, 0)]),
        "one-hot ids": np.eye(adjacency.shape[0], dtype=np.float32),
    }


def hidden_accuracy(X, y, seeds, backbone="gcn"):
    scores = []
    for seed in seeds:
        train, test = train_test_split(
            np.arange(len(y)), train_size=0.5, stratify=y, random_state=seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = GKEDMClassifier(backbone=backbone, random_state=seed)
            model.fit(X[train], y[train])
        scores.append(model.score(X[test], y[test]))
    return np.mean(scores), np.std(scores)


def print_accuracy_table(seeds):
    for name, graph, labels, backbone in labelled_graphs():
        adjacency = nx.to_scipy_sparse_array(graph, weight=None, format="csr")
        y = np.unique(labels, return_inverse=True)[1]
        cells = []
        for features in feature_sets(adjacency).values():
            mean, std = hidden_accuracy(GraphNodes(adjacency, features), y, seeds, backbone)
            cells.append(f"{mean:.3f} ± {std:.3f}")
        print(f"| {name} | {len(y)} | " + " | ".join(cells) + " |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    header = " | ".join(feature_sets(nx.to_scipy_sparse_array(nx.path_graph(3))))
    print(f"| graph | nodes | {header} |")
    print_accuracy_table(range(args.seeds))
    if args.timing:
        print("\n| nodes | edges | GraphNodes(adjacency) seconds |")
        for n_nodes in (10_000, 100_000):
            adjacency = make_node_classification(n_nodes, random_state=0)[0].adjacency
            with threadpool_limits(1):
                started = time.perf_counter()
                GraphNodes(adjacency)
                seconds = time.perf_counter() - started
            print(f"| {n_nodes} | {adjacency.nnz // 2} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
