"""What GKEDM costs: time per epoch and parameters with the module on and off, per backbone.

ms/epoch is fit time divided by epochs (graph preparation included), median over
seeds, on the Planetoid public split with default settings. With ``--early-stopping``
a second table compares GKEDM runs with and without early stopping, whose every epoch
also evaluates the held-out validation nodes (a no-grad forward pass); these runs never
stop early (``n_iter_no_change=max_epochs``), so both train the same number of epochs.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_overhead.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] [--seeds 3] \
        [--early-stopping] [--set PAPER_GKEDM]

``--set`` passes GKEDM options to every run with the module on, as in
``gkedm_effectiveness.py``; ``--set PAPER_GKEDM`` times the paper's module
(``skgkedm.PAPER_GKEDM``) instead of the package default.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from gkedm_effectiveness import parse_options
from sklearn.exceptions import ConvergenceWarning

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid


def ms_per_epoch(data, params, seeds):
    """Median fit time per epoch (ms) and the parameter count."""
    timings = []
    for seed in seeds:
        model = GKEDMClassifier(device="cpu", random_state=seed, **params)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(data.X[data.train_index], data.y[data.train_index])
        timings.append(1000 * (time.perf_counter() - started) / model.n_iter_)
    return float(np.median(timings)), model.n_parameters_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage", "gat", "gin"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="also time GKEDM with early stopping (a validation pass every epoch)",
    )
    parser.add_argument("--set", default="", help="GKEDM options, e.g. gkedm_heads=8")
    args = parser.parse_args()
    options = parse_options(args.set)
    seeds = range(args.seeds)
    datasets = {name: fetch_planetoid(name) for name in args.datasets}
    print(f"torch threads: {torch.get_num_threads()}\n")
    print(
        "| dataset | backbone | ms/epoch off | ms/epoch on | time ratio |"
        " parameters off | parameters on |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, data in datasets.items():
        for backbone in args.backbones:
            off, params_off = ms_per_epoch(data, {"backbone": backbone, "gkedm": False}, seeds)
            on, params_on = ms_per_epoch(data, {"backbone": backbone, **options}, seeds)
            print(
                f"| {name} | {backbone} | {off:.1f} | {on:.1f} | {on / off:.2f}x | "
                f"{params_off:,} | {params_on:,} |",
                flush=True,
            )
    if not args.early_stopping:
        return
    print(
        "\n| dataset | backbone | ms/epoch on | ms/epoch on, early stopping | time ratio |\n"
        "|---|---|---|---|---|"
    )
    for name, data in datasets.items():
        for backbone in args.backbones:
            plain, _ = ms_per_epoch(data, {"backbone": backbone, **options}, seeds)
            stopping = {
                "backbone": backbone,
                **options,
                "early_stopping": True,
                "n_iter_no_change": GKEDMClassifier().max_epochs,
            }
            validated, _ = ms_per_epoch(data, stopping, seeds)
            print(
                f"| {name} | {backbone} | {plain:.1f} | {validated:.1f} | "
                f"{validated / plain:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
