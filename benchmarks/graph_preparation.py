"""Graph preparation: seconds to build a graph's tensors, optionally against another version.

Times ``graph_tensors`` (what every fit and predict pays before the network runs) on a
generated graph (average degree 10, 100 dense features), for the plain GCN, GCN +
GKEDM (``HIDDEN_GKEDM``) and the default network (an MLP and ten hops), with
gradients (a fit: transposes included) and without (a predict), best of ``--repeats``.
With ``--against DIR`` (a checkout of another version, e.g. a git worktree of an older
commit) that version's ``graph_tensors`` runs on the same graph
in the same process, alternating with this one, and the ratios are printed:

    python benchmarks/graph_preparation.py --nodes 100000 1000000 --threads 2 \\
        [--device cpu] [--against /path/to/older/checkout]
"""

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time


def other_version(directory):
    """The ``graph_tensors`` of the checkout at ``directory``, imported as another package."""
    staging = tempfile.mkdtemp()
    shutil.copytree(os.path.join(directory, "skgkedm"), os.path.join(staging, "skgkedm_other"))
    sys.path.insert(0, staging)
    return importlib.import_module("skgkedm_other.loader._graph_tensors").graph_tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--against", help="a checkout of another version to compare with")
    args = parser.parse_args()

    import torch

    from skgkedm import GKEDMClassifier
    from skgkedm._classifier import HIDDEN_GKEDM
    from skgkedm.datasets import make_node_classification
    from skgkedm.loader._graph_tensors import graph_tensors

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    versions = {"this": graph_tensors}
    if args.against:
        versions["other"] = other_version(args.against)
    small, small_y = make_node_classification(300, n_features=100, random_state=0)
    models = {
        "plain GCN": {**HIDDEN_GKEDM, "gkedm": False},
        "GCN + GKEDM": HIDDEN_GKEDM,
        "default": {},  # an MLP whose class scores GKEDM propagates ten hops
    }
    specs = {
        name: GKEDMClassifier(**options, max_epochs=1, gkedm_check=False)
        .fit(small, small_y)
        ._architecture
        for name, options in models.items()
    }

    def timed(prepare, X, spec, gradients):
        with torch.set_grad_enabled(gradients):
            started = time.perf_counter()
            prepare(X, True, spec, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - started

    print(f"threads {args.threads}, device {device}, best of {args.repeats}\n")
    print("| nodes | model | call | " + " | ".join(f"{v} s" for v in versions) + " | ratio |")
    print("|---|---|---|" + "---|" * len(versions) + "---|")
    for n_nodes in args.nodes:
        X, _ = make_node_classification(n_nodes, n_features=100, average_degree=10, random_state=0)
        for model, spec in specs.items():
            for call, gradients in (("fit", True), ("predict", False)):
                best = {name: float("inf") for name in versions}
                for _ in range(args.repeats):
                    for name, prepare in versions.items():
                        best[name] = min(best[name], timed(prepare, X, spec, gradients))
                ratio = f"{best['this'] / best['other']:.2f}x" if "other" in best else "-"
                cells = " | ".join(f"{best[name]:.3f}" for name in versions)
                print(f"| {n_nodes:,} | {model} | {call} | {cells} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
