"""Test accuracy of GKEDMClassifier on the Planetoid public splits, mean ± std over seeds.

Trains on ``train_index``, reports accuracy on ``test_index`` (no model selection on
the validation nodes), for each backbone with GKEDM on and off, default settings.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/planetoid_accuracy.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] [--seeds 10]
"""

import argparse
import time

import numpy as np

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid


def evaluate(data, params, seeds):
    """Fit once per seed; return test accuracies, seconds per fit and parameter count."""
    X, y = data.X, data.y
    accuracies, seconds = [], []
    for seed in seeds:
        started = time.perf_counter()
        model = GKEDMClassifier(random_state=seed, **params)
        model.fit(X[data.train_index], y[data.train_index])
        seconds.append(time.perf_counter() - started)
        accuracies.append(model.score(X[data.test_index], y[data.test_index]))
    return np.array(accuracies), float(np.mean(seconds)), model.n_parameters_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn"])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(
        f"| dataset | backbone | GKEDM | test accuracy ({args.seeds} seeds) | parameters |"
        " fit (s) |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.datasets:
        data = fetch_planetoid(name)
        for backbone in args.backbones:
            for gkedm in (False, True):
                accuracies, seconds, n_parameters = evaluate(
                    data, {"backbone": backbone, "gkedm": gkedm}, seeds
                )
                print(
                    f"| {name} | {backbone} | {'on' if gkedm else 'off'} | "
                    f"{accuracies.mean():.3f} ± {accuracies.std():.3f} | {n_parameters:,} | "
                    f"{seconds:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
