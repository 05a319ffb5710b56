"""What a default fit costs against its accuracy: today's default against the previous recipe.

The previous default trained 200 epochs of backbone and 200 with GKEDM (two-phase,
``max_epochs`` per phase); today ``max_epochs=200`` is the total, split 150 + 50 by
``second_phase_fraction=0.25``. The previous recipe is reached today with
``max_epochs=400, second_phase_fraction=0.5``. For each data set (Planetoid public
split) and backbone, fits both over ``--seeds`` seeds and prints test accuracy
(mean ± std) and CPU seconds per fit.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/default_cost.py \
        [--datasets cora citeseer] [--backbones gcn] [--seeds 10]
"""

import argparse
import time

import numpy as np

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

RECIPES = {
    "default (150 + 50)": {},
    "previous (200 + 200)": {"max_epochs": 400, "second_phase_fraction": 0.5},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn"])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    print(f"{'dataset':9} {'backbone':8} {'recipe':22} {'test accuracy':>15} {'CPU s/fit':>9}")
    for name in args.datasets:
        data = fetch_planetoid(name)
        train, test = data.train_index, data.test_index
        for backbone in args.backbones:
            for recipe, params in RECIPES.items():
                scores, started = [], time.process_time()
                for seed in range(args.seeds):
                    clf = GKEDMClassifier(backbone=backbone, random_state=seed, **params)
                    clf.fit(data.X[train], data.y[train])
                    scores.append(clf.score(data.X[test], data.y[test]))
                cpu = (time.process_time() - started) / args.seeds
                accuracy = f"{np.mean(scores):.3f} ± {np.std(scores):.3f}"
                print(f"{name:9} {backbone:8} {recipe:22} {accuracy:>15} {cpu:9.2f}", flush=True)


if __name__ == "__main__":
    main()
