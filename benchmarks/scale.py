"""Scale: full-batch fit and predict on generated graphs, against PyG and the memory floor.

For each size (a fresh subprocess, so peak memory is its own) the script generates a
graph with ``make_node_classification`` (average degree 10, 100 dense features, 5
classes), trains on 10% of the nodes and prints, per epoch of a 2-layer GCN (64 hidden):

- ``prep``: building the graph tensors once (what every fit and predict pays);
- ``plain``: the GCN, ``GKEDMClassifier(**HIDDEN_GKEDM, gkedm=False)``, fit time / epochs
  (preparation included);
- ``gkedm``: the GCN with one GKEDM step on its hidden layer (``HIDDEN_GKEDM``, the
  default until 0.2.0.dev0) trained jointly (every epoch runs it), and its ratio to
  ``plain``;
- ``default``: the network ``GKEDMClassifier()`` trains as it comes (an MLP whose class
  scores are propagated ten hops, two dropout views per step for the consistency loss),
  without its ``gkedm_check`` (which trains the candidates first; see
  ``benchmarks/check_cost.py``), and its ratio to ``plain``;
- ``predict``: one ``predict`` of the plain GCN over every node (a forward pass,
  preparation included);
- ``pyg``: PyTorch Geometric's full-batch ``GCNConv`` loop on the same graph in the same
  process (``edge_index`` and dense features, ``cached=True``: normalisation once), its
  tensors' construction included;
- ``floor``: the bytes a plain epoch must move at least (each array read or written once
  per use, see :func:`epoch_bytes`) divided by the memory bandwidth of a large array copy
  measured in the same process — how far each time is from what the hardware allows;
- peak memory (max RSS; on CUDA also the device's peak allocation).

    python benchmarks/scale.py [--nodes 10000 100000 1000000] [--epochs 3] \
        [--threads 2] [--device cpu] [--no-pyg] [--compare-order] [--output FILE.json]

``--output`` writes every size's measurements, the command, versions and the load
average as JSON.

``--compare-order`` also fits and predicts the plain model with the nodes renumbered in
a cache-friendly order (by decreasing degree, ``skgkedm.loader._graph_tensors.cache_order``;
off by default), in the same process, and prints the ratios to the given order.

``--threads`` fixes torch's thread count (the package's load-dependent thread policy is
bypassed so the figure does not depend on what else runs).

The environment variables that change how the CPU allocates memory are recorded with
the measurements and printed: ``THP_MEM_ALLOC_ENABLE=1`` (PyTorch's: tensors of 2 MB
and more on transparent huge pages) and glibc's ``MALLOC_MMAP_THRESHOLD_`` /
``MALLOC_TRIM_THRESHOLD_``. At a million nodes every large temporary pays the kernel's
page faults on first touch; compare with ``THP_MEM_ALLOC_ENABLE=1 python
benchmarks/scale.py ...``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _record import versions, write_record

FEATURES, HIDDEN, CLASSES = 100, 64, 5
ALLOCATION_VARIABLES = ("THP_MEM_ALLOC_ENABLE", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def allocation_environment():
    """The environment variables set that change how memory is allocated."""
    return {name: os.environ[name] for name in ALLOCATION_VARIABLES if name in os.environ}


def copy_bandwidth(device):
    """Bytes per second of a 256 MB float32 copy (read + write), best of five."""
    import torch

    source = torch.rand(64 * 2**20, device=device)
    target = torch.empty_like(source)
    best = float("inf")
    for _ in range(5):
        synchronize(device)
        started = time.perf_counter()
        target.copy_(source)
        synchronize(device)
        best = min(best, time.perf_counter() - started)
    return 2 * source.numel() * 4 / best


def synchronize(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def epoch_bytes(n_nodes, n_edges, forward_only=False):
    """Least bytes a 2-layer GCN epoch (or forward pass) moves through memory.

    CSR adjacency with self-loops: 8-byte column + 4-byte weight per entry, read once per
    propagation (2 forward, 2 backward). Features (float32) read once forward and once for
    the first weight's gradient. Each N x 64 activation array is written once and read
    once per use: X @ W1, its propagation, ReLU (forward), and in the backward pass the
    gradient through the second layer, ReLU, the first propagation and the weight gradient
    — ten N x 64 passes for an epoch, four for a forward pass. The N x 5 arrays are
    negligible and left out.
    """
    entries = n_edges + n_nodes
    adjacency = 12 * entries
    features = 4 * n_nodes * FEATURES
    hidden = 4 * n_nodes * HIDDEN
    if forward_only:
        return 2 * adjacency + features + 4 * hidden
    return 4 * adjacency + 2 * features + 10 * hidden


def pyg_epoch_seconds(X, y, train, epochs, device):
    """Seconds per epoch of PyG's full-batch GCNConv loop, its tensors' building included."""
    import numpy as np
    import torch
    from torch.nn import functional as F
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    synchronize(device)
    started = time.perf_counter()
    adjacency = X.adjacency.tocoo()
    edge_index = torch.from_numpy(np.vstack([adjacency.row, adjacency.col]).astype(np.int64))
    x = torch.from_numpy(np.asarray(X.features, dtype=np.float32)).to(device)
    edge_index, target = edge_index.to(device), torch.from_numpy(y).to(device)
    rows = torch.from_numpy(np.flatnonzero(train)).to(device)
    conv1 = GCNConv(x.shape[1], HIDDEN, cached=True).to(device)
    conv2 = GCNConv(HIDDEN, CLASSES, cached=True).to(device)
    optimizer = torch.optim.Adam([*conv1.parameters(), *conv2.parameters()], lr=0.01)
    for _ in range(epochs):
        optimizer.zero_grad()
        hidden = F.dropout(F.relu(conv1(x, edge_index)), 0.5)
        loss = F.cross_entropy(conv2(hidden, edge_index)[rows], target[rows])
        loss.backward()
        optimizer.step()
    synchronize(device)
    return (time.perf_counter() - started) / epochs


def fixed_threads(threads):
    """Make the package's thread policy use exactly ``threads`` threads."""
    import torch

    from skgkedm.utils import _threads

    torch.set_num_threads(threads)

    def forced(policy, wait=None):
        torch.set_num_threads(threads)
        return threads

    _threads.ThreadPolicy.update = forced


def warm_up(device, with_pyg):
    """Run every timed code path once on a small graph (first-call costs off the clock)."""
    import numpy as np

    from skgkedm import GKEDMClassifier
    from skgkedm.datasets import make_node_classification

    X, y = make_node_classification(500, n_classes=CLASSES, n_features=FEATURES, random_state=0)
    from skgkedm._classifier import HIDDEN_GKEDM

    for gkedm in (False, True):
        GKEDMClassifier(**{**HIDDEN_GKEDM, "schedule": "joint"}, gkedm=gkedm, max_epochs=2,
                        device=device).fit(X, y)  # fmt: skip
    GKEDMClassifier(max_epochs=2, device=device, gkedm_check=False).fit(X, y)
    if with_pyg:
        pyg_epoch_seconds(X, y, np.ones(len(y), dtype=bool), 2, device)


def cache_order():
    """Context: graphs are renumbered in the cache-friendly order (off by default)."""
    import contextlib

    from skgkedm.loader import _graph_tensors

    @contextlib.contextmanager
    def kept():
        threshold = _graph_tensors.REORDER_MIN_NODES
        _graph_tensors.REORDER_MIN_NODES = 0
        try:
            yield
        finally:
            _graph_tensors.REORDER_MIN_NODES = threshold

    return kept()


def run_one(n_nodes, epochs, threads, device, with_pyg, compare_order=False):
    """Build, fit and predict one graph; return a dict of measurements."""
    import numpy as np
    import torch

    from skgkedm import GKEDMClassifier
    from skgkedm._classifier import HIDDEN_GKEDM, PROPAGATION_DEFAULTS
    from skgkedm.datasets import make_node_classification
    from skgkedm.loader._graph_tensors import graph_tensors

    if threads:
        fixed_threads(threads)
    bandwidth = copy_bandwidth(device)
    X, y = make_node_classification(
        n_nodes, n_classes=CLASSES, n_features=FEATURES, average_degree=10, random_state=0
    )
    train = np.random.default_rng(0).random(n_nodes) < 0.1
    warm_up(device, with_pyg)
    result = {
        "nodes": n_nodes,
        "edges": int(X.adjacency.nnz),
        "threads": torch.get_num_threads(),
        "bandwidth_gb_s": bandwidth / 1e9,
    }

    def fit(**options):
        options = {**HIDDEN_GKEDM, "schedule": "joint", **options}
        model = GKEDMClassifier(max_epochs=epochs, device=device, random_state=0, **options)
        started = time.perf_counter()
        model.fit(X[train], y[train])
        return model, (time.perf_counter() - started) / model.n_iter_

    plain, result["plain_s"] = fit(gkedm=False)
    started = time.perf_counter()
    graph_tensors(X, True, plain._architecture, torch.device(device))
    synchronize(device)
    result["prep_s"] = time.perf_counter() - started
    _, result["gkedm_s"] = fit()
    _, result["default_s"] = fit(**PROPAGATION_DEFAULTS, gkedm_check=False)
    started = time.perf_counter()
    result["accuracy"] = float(np.mean(plain.predict(X)[~train] == y[~train]))
    result["predict_s"] = time.perf_counter() - started
    if compare_order:
        with cache_order():
            _, result["plain_cache_order_s"] = fit(gkedm=False)
            started = time.perf_counter()
            plain.predict(X)
            result["predict_cache_order_s"] = time.perf_counter() - started
    if with_pyg:
        result["pyg_s"] = pyg_epoch_seconds(X, y, train, epochs, device)
    edges = result["edges"]
    result["floor_epoch_s"] = epoch_bytes(n_nodes, edges) / bandwidth
    result["floor_predict_s"] = epoch_bytes(n_nodes, edges, forward_only=True) / bandwidth
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if str(device).startswith("cuda"):
        result["peak_device_gb"] = torch.cuda.max_memory_allocated() / 2**30
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="0: the package's policy")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-pyg", action="store_true", help="skip the PyG reference loop")
    parser.add_argument(
        "--compare-order", action="store_true", help="also time the cache-friendly node order"
    )
    parser.add_argument("--output", type=Path, help="write the measurements as JSON here")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = run_one(
            args.one, args.epochs, args.threads, args.device, not args.no_pyg, args.compare_order
        )
        print(json.dumps(result))
        return
    print(
        f"epochs: {args.epochs}, threads: {args.threads or 'policy'}, device: {args.device}, "
        f"allocation environment: {allocation_environment() or 'default'}\n"
    )
    print(
        "| nodes | edges | prep s | plain s/epoch | floor s | gkedm s/epoch (ratio) | "
        "default s/epoch (ratio) | predict s (floor) | PyG s/epoch (ratio to plain) | "
        "peak RSS GB | accuracy |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bandwidths, orders, records = [], [], []
    for n_nodes in args.nodes:
        command = [sys.executable, __file__, "--one", str(n_nodes), "--epochs", str(args.epochs)]
        command += ["--threads", str(args.threads), "--device", args.device]
        command += ["--no-pyg"] * args.no_pyg + ["--compare-order"] * args.compare_order
        completed = subprocess.run(command, capture_output=True, text=True, env=os.environ)
        if completed.returncode != 0:
            print(f"| {n_nodes:,} | failed: {completed.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(completed.stdout.strip().splitlines()[-1])
        pyg = f"{r['pyg_s']:.3f} ({r['pyg_s'] / r['plain_s']:.1f}x)" if "pyg_s" in r else "-"
        memory = f"{r['peak_rss_gb']:.1f}"
        if "peak_device_gb" in r:
            memory += f" (device {r['peak_device_gb']:.1f})"
        print(
            f"| {r['nodes']:,} | {r['edges']:,} | {r['prep_s']:.3f} | "
            f"{r['plain_s']:.3f} | {r['floor_epoch_s']:.3f} | "
            f"{r['gkedm_s']:.3f} ({r['gkedm_s'] / r['plain_s']:.2f}x) | "
            f"{r['default_s']:.3f} ({r['default_s'] / r['plain_s']:.2f}x) | "
            f"{r['predict_s']:.3f} ({r['floor_predict_s']:.3f}) | {pyg} | {memory} | "
            f"{r['accuracy']:.3f} |",
            flush=True,
        )
        bandwidths.append(r["bandwidth_gb_s"])
        records.append(r)
        if "plain_cache_order_s" in r:
            orders.append(
                f"| {r['nodes']:,} | {r['plain_s']:.3f} | {r['plain_cache_order_s']:.3f} | "
                f"{r['plain_cache_order_s'] / r['plain_s']:.2f}x | {r['predict_s']:.3f} | "
                f"{r['predict_cache_order_s']:.3f} | "
                f"{r['predict_cache_order_s'] / r['predict_s']:.2f}x |"
            )
    if bandwidths:
        measured = ", ".join(f"{value:.1f}" for value in bandwidths)
        print(f"\nmemory bandwidth (copy, per size): {measured} GB/s")
    if orders:
        print(
            "\nnode order (plain model): | nodes | epoch s, given order | cache order | "
            "ratio | predict s, given order | cache order | ratio |"
        )
        print("\n".join(orders))
    write_record(
        args.output,
        {
            "command": " ".join(
                [f"{name}={value}" for name, value in allocation_environment().items()]
                + ["python benchmarks/scale.py", *sys.argv[1:]]
            ),
            "environment": allocation_environment(),
            "versions": versions(),
            "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()}",
            "sizes": records,
        },
    )


if __name__ == "__main__":
    main()
