"""Where does GKEDM help? Plain backbones against GKEDM as depth grows.

For each dataset (Planetoid public split: fit on ``train_index``, score on
``test_index``), backbone, depth (message-passing layers, the output layer included:
``depth - 1`` hidden layers of 64) and seed, fits three arms with the package
defaults otherwise:

- ``plain``: the backbone alone (``gkedm=False``);
- ``gkedm last``: GKEDM after the last hidden layer (the default);
- ``gkedm every``: GKEDM after every hidden layer (``gkedm_layers="every"``);
- ``gkedm every residual``: the same with the residual update (``h + gamma z``, gamma
  learned from 0), which keeps each layer's own representation;
- ``uniform last`` / ``uniform every``: the controls, the same aggregation steps with
  equal weights on all edges (``gkedm_scoring="uniform"``): what one more propagation
  step gives without attention.

``--arms`` picks some (default: all).
Deep plain GCNs over-smooth (node representations converge); the paper motivates
GKEDM by this. Prints test accuracy (mean ± std over seeds) and seconds per fit.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_regimes.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] \
        [--depths 2 4 8 16] [--seeds 10] [--n-jobs 2] [--schedule joint] \
        [--arms plain "gkedm every" "uniform every"]

Label rate and homophily sweeps (the other regimes) are not measured yet.
"""

import argparse
import time
from itertools import product

import numpy as np
from joblib import Parallel, delayed

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

ARMS = {
    "plain": {"gkedm": False},
    "gkedm last": {},
    "gkedm every": {"gkedm_layers": "every"},
    "gkedm every residual": {"gkedm_layers": "every", "gkedm_update": "residual"},
    "uniform last": {"gkedm_scoring": "uniform"},
    "uniform every": {"gkedm_layers": "every", "gkedm_scoring": "uniform"},
}


def fit_one(dataset, backbone, depth, arm, seed, schedule):
    """Test accuracy and seconds of one fit."""
    data = fetch_planetoid(dataset)
    model = GKEDMClassifier(
        backbone,
        hidden_dims=(64,) * (depth - 1),
        schedule=schedule,
        random_state=seed,
        **ARMS[arm],
    )
    started = time.perf_counter()
    model.fit(data.X[data.train_index], data.y[data.train_index])
    seconds = time.perf_counter() - started
    return model.score(data.X[data.test_index], data.y[data.test_index]), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage", "gat", "gin"])
    parser.add_argument("--depths", nargs="+", type=int, default=[2, 4, 8, 16])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--schedule",
        default="two_phase",
        choices=["two_phase", "joint", "two_phase_finetune"],
        help="schedule of the GKEDM arms (the plain arm has one phase)",
    )
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    args = parser.parse_args()
    arms = ["plain", *(arm for arm in args.arms if arm != "plain")]
    print(f"seeds: {args.seeds}, schedule of the GKEDM arms: {args.schedule}\n")
    print("| dataset | backbone | depth | arm | test accuracy | vs plain | s/fit |")
    print("|---|---|---|---|---|---|---|", flush=True)
    # One group at a time, printed as it ends: a long sweep shows its results as it goes.
    with Parallel(n_jobs=args.n_jobs) as parallel:
        for dataset, backbone, depth in product(args.datasets, args.backbones, args.depths):
            runs = list(product(arms, range(args.seeds)))
            results = parallel(
                delayed(fit_one)(dataset, backbone, depth, arm, seed, args.schedule)
                for arm, seed in runs
            )
            table = {}
            for (arm, _), result in zip(runs, results, strict=True):
                table.setdefault(arm, []).append(result)
            plain = np.mean([accuracy for accuracy, _ in table["plain"]])
            for arm, values in table.items():
                accuracy = np.array([value[0] for value in values])
                seconds = np.mean([value[1] for value in values])
                print(
                    f"| {dataset} | {backbone} | {depth} | {arm} | {accuracy.mean():.3f} ± "
                    f"{accuracy.std():.3f} | {100 * (accuracy.mean() - plain):+.1f} | "
                    f"{seconds:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
