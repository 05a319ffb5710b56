"""What a training epoch costs, before and after a change to the package, in one process.

The working tree's ``skgkedm`` ("after") and an earlier copy of the package ("before",
imported under another name) fit the same ``GKEDMClassifier(backbone=..., random_state=0)``
(the package's other defaults) in turns, alternating which goes first, so that both see the
same machine load. A fit's CPU time (``time.process_time``) and wall time are divided by
its epochs (graph preparation included); the table gives medians over the repeats and
the median of the paired after/before ratios. Graphs: Cora (public split: 140 training
nodes, 1,433 sparse features) and a generated graph (2,000 nodes, 16 dense features,
the first 200 nodes labelled) and, with ``--graphs large``, ``benchmarks/scale.py``'s
graph (``--large-nodes`` nodes, average degree 10, 100 dense features, 5 classes, every
tenth node labelled). ``--model plain`` fits the plain backbone of ``scale.py``'s
"plain" column instead (``HIDDEN_GKEDM`` without the module); ``--epochs`` caps the
epochs. The last columns check that both versions train the same model: the largest
difference of their loss curves and the share of equal predictions. ``--profile`` adds,
for each version, the operators with the most self CPU time per epoch under torch's
profiler (one fit per graph and backbone, one thread).

    mkdir -p /tmp/base && git archive <commit before the change> skgkedm | tar -x -C /tmp/base
    SKGKEDM_DATA=/abs/path/to/data python benchmarks/epoch_cost.py \\
        --baseline /tmp/base/skgkedm [--repeats 5] [--backbones gcn sage] [--profile 12] \\
        [--graphs cora generated large] [--model default|plain] [--epochs N] [--threads N]
"""

import argparse
import importlib
import importlib.util
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import skgkedm

BASELINE_NAME = "skgkedm_before"


def import_baseline(folder):
    """Import the package in ``folder`` as ``skgkedm_before`` (its imports are relative)."""
    folder = Path(folder).resolve()
    spec = importlib.util.spec_from_file_location(
        BASELINE_NAME, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[BASELINE_NAME] = module
    spec.loader.exec_module(module)
    return module


def training_sets(package, graphs, large_nodes):
    """{name: (X, y)} of each benchmark graph in ``graphs``, built with ``package``'s classes."""
    datasets = importlib.import_module(f"{package.__name__}.datasets")
    sets = {}
    if "cora" in graphs:
        cora = datasets.fetch_planetoid("cora")
        sets["cora"] = (cora.X[cora.train_index], cora.y[cora.train_index])
    if "generated" in graphs:
        X, y = datasets.make_node_classification(
            2000, n_classes=4, n_features=16, homophily=0.8, class_sep=0.8, random_state=0
        )
        sets["generated"] = (X[:200], y[:200])
    if "large" in graphs:  # benchmarks/scale.py's graph
        X, y = datasets.make_node_classification(
            large_nodes, n_classes=5, n_features=100, average_degree=10, random_state=0
        )
        rows = np.arange(0, large_nodes, 10)
        sets["large"] = (X[rows], y[rows])
    return sets


GRAPHS = ("cora", "generated", "large")
MODELS = ("default", "plain")


def model_options(package, model, epochs):
    """Keyword arguments of the ``GKEDMClassifier`` that ``--model`` names.

    "plain" is ``package``'s ``HIDDEN_GKEDM`` without the module: scale.py's plain GCN.
    """
    options = {}
    if model == "plain":
        classifier = importlib.import_module(f"{package.__name__}._classifier")
        options = {**classifier.HIDDEN_GKEDM, "gkedm": False}
    if epochs is not None:
        options["max_epochs"] = epochs
    return options


def fit(package, data, backbone, options=None):
    """Fit a model; return it with its CPU and wall ms per epoch."""
    model = package.GKEDMClassifier(**{**(options or {}), "backbone": backbone}, random_state=0)
    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(*data)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return model, 1000 * cpu / model.n_iter_, 1000 * wall / model.n_iter_


def compare(versions, graph, backbone, repeats):
    """One table row: paired before/after timings and the agreement of their models.

    ``versions`` maps "before" and "after" to ``(package, training sets, options)``.
    """
    timings = {name: {"cpu": [], "wall": []} for name in versions}
    models = {
        name: fit(package, data[graph], backbone, options)[0]
        for name, (package, data, options) in versions.items()
    }
    for repeat in range(repeats):
        order = list(versions) if repeat % 2 == 0 else list(versions)[::-1]
        for name in order:
            package, data, options = versions[name]
            _, cpu, wall = fit(package, data[graph], backbone, options)
            timings[name]["cpu"].append(cpu)
            timings[name]["wall"].append(wall)
    before, after = models["before"], models["after"]
    loss_gap = np.max(np.abs(np.subtract(before.loss_curve_, after.loss_curve_)))
    agreement = np.mean(before.transduction_ == after.transduction_)
    cells = [graph, backbone]
    for clock in ("cpu", "wall"):
        old, new = timings["before"][clock], timings["after"][clock]
        ratio = statistics.median(n / o for n, o in zip(new, old, strict=True))
        cells += [f"{statistics.median(old):.2f}", f"{statistics.median(new):.2f}", f"{ratio:.2f}"]
    return "| " + " | ".join([*cells, f"{loss_gap:.1e}", f"{agreement:.3f}"]) + " |"


def profile(package, data, backbone, top, options):
    """Markdown rows of the operators with the most self CPU time per epoch."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    fit(package, data, backbone, options)
    with torch_profile(activities=[ProfilerActivity.CPU]) as profiler:
        model, _, _ = fit(package, data, backbone, options)
    events = profiler.key_averages()
    epochs = model.n_iter_
    total = sum(event.self_cpu_time_total for event in events) / 1000 / epochs
    rows = [f"| all operators | {total:.2f} | |"]
    for event in sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]:
        per_epoch = event.self_cpu_time_total / 1000 / epochs
        rows.append(f"| `{event.key}` | {per_epoch:.3f} | {event.count / epochs:.2f} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="folder of the earlier skgkedm")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage"])
    parser.add_argument("--graphs", nargs="+", default=["cora", "generated"], choices=GRAPHS)
    parser.add_argument("--large-nodes", type=int, default=1_000_000)
    parser.add_argument("--model", default="default", choices=MODELS)
    parser.add_argument("--epochs", type=int, help="cap on the epochs (default: the model's)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the package's)")
    parser.add_argument("--profile", type=int, default=0, help="top operators to list")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    baseline = import_baseline(args.baseline)
    versions = {"before": baseline, "after": skgkedm}
    versions = {
        name: (
            package,
            training_sets(package, args.graphs, args.large_nodes),
            model_options(package, args.model, args.epochs),
        )
        for name, package in versions.items()
    }
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}, model: {args.model}\n")
    print(
        "| graph | backbone | CPU ms/epoch before | after | after/before |"
        " wall ms/epoch before | after | after/before | max loss gap | same predictions |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for graph in args.graphs:
        for backbone in args.backbones:
            print(compare(versions, graph, backbone, args.repeats), flush=True)
    if not args.profile:
        return
    torch.set_num_threads(1)
    for graph in args.graphs:
        for backbone in args.backbones:
            for name, (package, data, options) in versions.items():
                print(f"\n{graph}, {backbone}, {name}: self CPU time per epoch (profiler)\n")
                print("| operator | ms/epoch | calls/epoch |\n|---|---|---|")
                print("\n".join(profile(package, data[graph], backbone, args.profile, options)))


if __name__ == "__main__":
    main()
