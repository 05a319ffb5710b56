"""Neighbour-sampled mini-batches: accuracy against full batch, trimming, a graph past memory.

``accuracy``: default ``GKEDMClassifier`` (GCN + GKEDM) on the public splits of Cora and
CiteSeer, full batch against ``batch_size`` (default fanouts: 10 per hop), same seeds;
mean ± std of test accuracy and seconds per fit.

``trim``: seconds per training step (forward and backward of the default network)
with each layer trimmed to the nodes the next layers need (as PyG's
``trim_to_layer``; the default) against every layer on the whole sampled subgraph, on
the same sampled batches, alternately, on a generated graph; then PyG's
``NeighborLoader`` on the same graph and fan-outs where it runs (it needs ``pyg-lib``
or ``torch-sparse``: the reason is printed where it does not).

Both run the GCN + GKEDM-on-the-hidden-layer recipe (``HIDDEN_GKEDM``, the default
until issue #24), trained jointly: the default since then propagates the class scores
ten hops with symmetric normalisation, a module that needs every node's in-edges, so
it runs untrimmed and predicts in one whole-graph pass.

``large``: one fit and one predict on a generated graph (``make_node_classification``,
average degree 10, 100 dense float32 features) with mini-batches, in a fresh subprocess;
a fraction of the nodes is labelled. Peak memory is the process's high-water mark
(VmHWM), reset once the graph is generated, so the generator's own temporaries do not
count: it holds the graph, then the fit, then the predict.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/mini_batches.py accuracy \
        [--datasets cora citeseer] [--seeds 10] [--batch-size 32]
    python benchmarks/mini_batches.py trim [--nodes 200000] [--labelled 0.02] \
        [--steps 4] [--batch-size 1024] [--fanouts 10 5 5] [--repeats 3] [--output PATH]
    python benchmarks/mini_batches.py large [--nodes 5000000] [--labelled 0.01] \
        [--epochs 1] [--batch-size 1024] [--fanouts 10 5 5] [--no-gkedm] [--untrimmed] \
        [--output PATH]
"""

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _record import machine, versions, write_record


def peak_rss_gb():
    """The process's peak resident memory since the last :func:`reset_peak` (GB)."""
    return _status_gb("VmHWM")


def rss_gb():
    return _status_gb("VmRSS")


def _status_gb(field):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def reset_peak():
    """Reset the peak (Linux: VmHWM via clear_refs); False where it cannot be reset."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


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


def generated_graph(n_nodes):
    from skgkedm.datasets import make_node_classification

    return make_node_classification(
        n_nodes, n_classes=5, n_features=100, average_degree=10, random_state=0
    )


def labelled_nodes(n_nodes, fraction):
    return np.flatnonzero(np.random.default_rng(0).random(n_nodes) < fraction)


def trim(args):
    import torch

    from skgkedm import GKEDMClassifier
    from skgkedm._classifier import HIDDEN_GKEDM
    from skgkedm.loader._node_batches import NodeBatches
    from skgkedm.nn._network import GKEDMNetwork, hop_graphs

    torch.set_num_threads(args.threads)
    X, y = generated_graph(args.nodes)
    labelled = labelled_nodes(args.nodes, args.labelled)
    model = GKEDMClassifier(
        **HIDDEN_GKEDM, batch_size=args.batch_size, fanouts=args.fanouts, schedule="joint"
    )
    spec = model._network_spec(X.n_features, 5)
    batches = NodeBatches(X, True, spec, torch.device("cpu"), tuple(args.fanouts), seed=0)
    torch.manual_seed(0)
    network = GKEDMNetwork(spec).train()
    rng = np.random.default_rng(0)
    print(
        f"{args.nodes:,} nodes, {X.adjacency.nnz:,} stored edges; {args.steps} batches of "
        f"{args.batch_size} labelled nodes, fanouts {args.fanouts}, GCN + GKEDM, "
        f"{args.threads} torch thread(s); per step: forward and backward on the same "
        f"sampled subgraph, trimmed and whole alternately, {args.repeats} times each\n"
    )
    seconds = {"trimmed": [], "whole": [], "sample": [], "hops": []}
    rows_per_layer = {"trimmed": None, "whole": None}
    for step in range(-1, args.steps):  # step -1 warms up (first calls), not counted
        if step == 0:
            seconds = {key: [] for key in seconds}
        targets = rng.choice(labelled, args.batch_size, replace=False)
        started = time.perf_counter()
        graph, rows = batches.graph(targets)
        seconds["sample"].append(time.perf_counter() - started)
        # Of the batch's build, the trimmed matrices of its hops (timed again alone).
        ends = [hop.n_rows for hop in graph.hops] + [graph.hops[-1].n_columns]
        started = time.perf_counter()
        hop_graphs(graph, np.diff([0, *ends]).tolist(), len(graph.hops))
        seconds["hops"].append(time.perf_counter() - started)
        variants = {"trimmed": graph, "whole": graph._replace(hops=None)}
        for _ in range(args.repeats):
            for name, tensors in variants.items():
                sizes = []
                hooks = [conv.register_forward_hook(lambda m, i, o, s=sizes: s.append(len(o)))
                         for conv in network.convs]  # fmt: skip
                started = time.perf_counter()
                logits = network(tensors).logits
                loss = torch.nn.functional.cross_entropy(logits[rows], torch.zeros_like(rows))
                loss.backward()
                seconds[name].append(time.perf_counter() - started)
                network.zero_grad()
                for hook in hooks:
                    hook.remove()
                rows_per_layer[name] = sizes
    trimmed, whole = (float(np.median(seconds[key])) for key in ("trimmed", "whole"))
    print("| layers run on | rows per layer (last batch) | s per step, median (min) |")
    print("|---|---|---|")
    for name, label in (("whole", "the whole sampled subgraph"), ("trimmed", "trimmed")):
        rows = ", ".join(f"{n:,}" for n in rows_per_layer[name])
        value = f"{np.median(seconds[name]):.3f} ({min(seconds[name]):.3f})"
        print(f"| {label} | {rows} | {value} |")
    print(f"\ntrimmed / whole: {trimmed / whole:.2f}")
    build, hops = (float(np.median(seconds[key])) for key in ("sample", "hops"))
    print(
        f"sampling and building a batch: {build:.3f} s (median), of which the trimmed "
        f"hops' matrices {hops:.3f} s; a whole step (build, forward, backward): "
        f"{build - hops + whole:.3f} s untrimmed, {build + trimmed:.3f} s trimmed"
    )
    pyg = pyg_neighbour_loader(X, y, labelled, args)
    print(f"\nPyG NeighborLoader: {pyg}")
    record = {"command": " ".join(sys.argv), "machine": machine(), "versions": versions()}
    write_record(args.output, {**record, "seconds": seconds, "rows": rows_per_layer,
                               "pyg_neighbor_loader": pyg})  # fmt: skip


def pyg_neighbour_loader(X, y, labelled, args):
    """Seconds per epoch of PyG's GCN on its NeighborLoader's batches, or why it did not run."""
    import torch

    try:
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader
        from torch_geometric.nn import GCNConv

        coo = X.adjacency.tocoo()
        edge_index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        data = Data(x=torch.from_numpy(np.asarray(X.features)), edge_index=edge_index,
                    y=torch.from_numpy(y))  # fmt: skip
        loader = NeighborLoader(data, num_neighbors=list(args.fanouts), shuffle=True,
                                batch_size=args.batch_size,
                                input_nodes=torch.from_numpy(labelled))  # fmt: skip
        next(iter(loader))
    except Exception as error:  # ImportError without pyg-lib / torch-sparse
        return f"not run: {type(error).__name__}: {error}".splitlines()[0]
    convs = torch.nn.ModuleList([GCNConv(100, 64), GCNConv(64, 64), GCNConv(64, 5)])
    optimiser = torch.optim.Adam(convs.parameters(), lr=0.01)
    started = time.perf_counter()
    for batch in loader:
        h = batch.x
        for position, conv in enumerate(convs):
            h = conv(h, batch.edge_index)
            h = h.relu() if position < len(convs) - 1 else h
        loss = torch.nn.functional.cross_entropy(
            h[: batch.batch_size], batch.y[: batch.batch_size]
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return f"{time.perf_counter() - started:.2f} s per epoch (3 GCNConv layers, untrimmed)"


def large_one(args):
    from skgkedm import GKEDMClassifier
    from skgkedm._classifier import HIDDEN_GKEDM
    from skgkedm.loader._node_batches import NodeBatches

    NodeBatches.trim = not args.untrimmed
    started = time.perf_counter()
    X, y = generated_graph(args.nodes)
    result = {"nodes": args.nodes, "edges": int(X.adjacency.nnz)}
    result["build_s"] = time.perf_counter() - started
    result["generate_peak_gb"] = peak_rss_gb()
    labelled = labelled_nodes(args.nodes, args.labelled)
    test = np.setdiff1d(np.arange(args.nodes), labelled)[:100_000]
    result["peak_reset"] = reset_peak()
    result["graph_gb"] = rss_gb()
    model = GKEDMClassifier(
        **{**HIDDEN_GKEDM, "schedule": "joint"},
        gkedm=not args.no_gkedm,
        batch_size=args.batch_size,
        fanouts=args.fanouts,
        max_epochs=args.epochs,
        random_state=0,
    )
    started = time.perf_counter()
    model.fit(X[labelled], y[labelled])
    result["fit_s"] = time.perf_counter() - started
    result["fit_peak_gb"] = peak_rss_gb()
    result["labelled"] = len(labelled)
    reset_peak()
    started = time.perf_counter()
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
        f"fanouts {args.fanouts}, {args.epochs} epoch(s), "
        f"{'untrimmed' if args.untrimmed else 'trimmed'} layers\n"
    )
    reset = "" if r["peak_reset"] else " (peak not resettable here: max RSS since start)"
    print(f"| step | seconds | peak memory during it (GB){reset} |")
    print("|---|---|---|")
    print(f"| generate the graph | {r['build_s']:.1f} | {r['generate_peak_gb']:.1f} |")
    print(f"| graph held in memory | | {r['graph_gb']:.1f} |")
    print(f"| fit (mini-batches) | {r['fit_s']:.1f} | {r['fit_peak_gb']:.1f} |")
    predicted = f"{r['predict_s']:.1f} | {r['predict_peak_gb']:.1f}"
    print(f"| predict 100,000 nodes | {predicted} |")
    print(f"\naccuracy on 100,000 unlabelled nodes: {r['accuracy']:.3f}")
    record = {"command": " ".join(sys.argv), "machine": machine(), "versions": versions()}
    write_record(args.output, {**record, **r})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    acc = commands.add_parser("accuracy")
    acc.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    acc.add_argument("--seeds", type=int, default=10)
    acc.add_argument("--batch-size", type=int, default=32)
    trimming = commands.add_parser("trim")
    trimming.add_argument("--nodes", type=int, default=200_000)
    trimming.add_argument("--labelled", type=float, default=0.02)
    trimming.add_argument("--steps", type=int, default=4)
    trimming.add_argument("--batch-size", type=int, default=1024)
    trimming.add_argument("--fanouts", type=int, nargs="+", default=[10, 5, 5])
    trimming.add_argument("--repeats", type=int, default=3)
    trimming.add_argument("--threads", type=int, default=2)
    trimming.add_argument("--output", type=Path, help="write the JSON record there")
    for name in ("large", "large-one"):
        big = commands.add_parser(name)
        big.add_argument("--nodes", type=int, default=5_000_000)
        big.add_argument("--labelled", type=float, default=0.01)
        big.add_argument("--epochs", type=int, default=1)
        big.add_argument("--batch-size", type=int, default=1024)
        big.add_argument("--fanouts", type=int, nargs="+", default=[10, 5, 5])
        big.add_argument("--no-gkedm", action="store_true")
        big.add_argument("--untrimmed", action="store_true")
        big.add_argument("--output", type=Path, help="write the JSON record there")
    args = parser.parse_args()
    {"accuracy": accuracy, "trim": trim, "large": large, "large-one": large_one}[args.command](
        args
    )


if __name__ == "__main__":
    main()
