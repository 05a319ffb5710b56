"""Where does GKEDM help? Plain backbones against GKEDM as depth grows.

For each dataset (Planetoid public split: fit on ``train_index``, score on
``test_index``), backbone, depth (message-passing layers, the output layer included:
``depth - 1`` hidden layers of 64) and seed, fits three arms with the package
defaults otherwise:

- ``plain``: the backbone alone (``gkedm=False``);
- ``gkedm last``: GKEDM after the last hidden layer (the default);
- ``gkedm every``: GKEDM after every hidden layer (``gkedm_layers="every"``).

Deep plain GCNs over-smooth (node representations converge); the paper motivates
GKEDM by this. Prints test accuracy (mean ± std over seeds) and seconds per fit.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_regimes.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] \
        [--depths 2 4 8 16] [--seeds 10] [--n-jobs 2] [--schedule joint]

Label rate and homophily sweeps (the other regimes) are not measured yet.
"""

import argparse
import time

import numpy as np
from joblib import Parallel, delayed

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

ARMS = {
    "plain": {"gkedm": False},
    "gkedm last": {},
    "gkedm every": {"gkedm_layers": "every"},
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
    args = parser.parse_args()
    runs = [
        (dataset, backbone, depth, arm, seed)
        for dataset in args.datasets
        for backbone in args.backbones
        for depth in args.depths
        for arm in ARMS
        for seed in range(args.seeds)
    ]
    results = Parallel(n_jobs=args.n_jobs)(delayed(fit_one)(*run, args.schedule) for run in runs)
    table = {}
    for (dataset, backbone, depth, arm, _), result in zip(runs, results, strict=True):
        table.setdefault((dataset, backbone, depth, arm), []).append(result)
    print(f"seeds: {args.seeds}, schedule of the GKEDM arms: {args.schedule}\n")
    print("| dataset | backbone | depth | arm | test accuracy | vs plain | s/fit |")
    print("|---|---|---|---|---|---|---|")
    for (dataset, backbone, depth, arm), values in table.items():
        accuracy = np.array([value[0] for value in values])
        plain = np.mean([value[0] for value in table[(dataset, backbone, depth, "plain")]])
        seconds = np.mean([value[1] for value in values])
        print(
            f"| {dataset} | {backbone} | {depth} | {arm} | {accuracy.mean():.3f} ± "
            f"{accuracy.std():.3f} | {100 * (accuracy.mean() - plain):+.1f} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
