"""What GKEDM costs: time per epoch and parameters with the module on and off, per backbone.

ms/epoch is fit time divided by epochs (graph preparation included), median over
seeds, on the Planetoid public split with default settings.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_overhead.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] [--seeds 3]
"""

import argparse
import time

import numpy as np
import torch

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid


def ms_per_epoch(data, params, seeds):
    """Median fit time per epoch (ms) and the parameter count."""
    timings = []
    for seed in seeds:
        model = GKEDMClassifier(device="cpu", random_state=seed, **params)
        started = time.perf_counter()
        model.fit(data.X[data.train_index], data.y[data.train_index])
        timings.append(1000 * (time.perf_counter() - started) / model.n_iter_)
    return float(np.median(timings)), model.n_parameters_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage", "gat", "gin"])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(f"torch threads: {torch.get_num_threads()}\n")
    print(
        "| dataset | backbone | ms/epoch off | ms/epoch on | time ratio |"
        " parameters off | parameters on |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.datasets:
        data = fetch_planetoid(name)
        for backbone in args.backbones:
            off, params_off = ms_per_epoch(data, {"backbone": backbone, "gkedm": False}, seeds)
            on, params_on = ms_per_epoch(data, {"backbone": backbone, "gkedm": True}, seeds)
            print(
                f"| {name} | {backbone} | {off:.1f} | {on:.1f} | {on / off:.2f}x | "
                f"{params_off:,} | {params_on:,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
