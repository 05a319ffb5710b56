"""Where does GKEDM help? Plain backbones against GKEDM and its controls, by regime.

Three regimes (``--regime``), each a table of test accuracy (mean ± std over seeds),
its difference to the plain arm, and seconds per fit:

- ``depth``: Planetoid public splits (fit on ``train_index``, score on ``test_index``)
  for each backbone and depth (message-passing layers, the output layer included:
  ``depth - 1`` hidden layers of 64). Deep plain GCNs over-smooth; the paper
  motivates GKEDM by this.
- ``label-rate``: default depth, Cora and CiteSeer with 5 labelled nodes per class
  (the first 5 of each class in the public training set), the public split (20 per
  class) and a random 60/20/20 split per seed (fit on 60 %, score on 20 %).
- ``homophily``: generated graphs (``make_node_classification``: 2,000 nodes, 5
  classes, weakly informative features, ``class_sep=0.5``) whose edges join nodes of
  the same class with probability 0.1 to 0.9; fit on a random 10 %, score on the
  rest. GKEDM's cosine attention could down-weight edges between unlike nodes: for
  every arm with attention the table also gives how much weight an edge into a
  scored node gets, relative to the uniform 1 / (in-degree + 1), on same-class and
  on cross-class edges (self-loops left out).

Arms (``--arms`` picks some; the plain arm is always run, as the reference). Every arm
but ``default`` builds on the recipe of the GKEDM module on a hidden layer
(``HIDDEN_GKEDM``, the default until 0.2.0.dev0) with the given backbone and depth:

- ``plain``: the backbone alone (``gkedm=False``);
- ``default``: ``GKEDMClassifier()`` as shipped, whatever ``--backbones`` and
  ``--depths`` say (an MLP whose class scores are propagated ten hops; its
  ``gkedm_check`` runs from 200 labelled nodes);
- ``previous``: the previous default itself (``HIDDEN_GKEDM``: one equal-weight step,
  two phases), whatever ``--schedule`` says;
- ``gkedm last``: GKEDM after the last hidden layer (cosine attention, no check);
- ``gkedm every``: GKEDM after every hidden layer (``gkedm_layers="every"``);
- ``gkedm every residual``: the same with the residual update (``h + gamma z``, gamma
  learned from 0), which keeps each layer's own representation;
- ``uniform last`` / ``uniform every``: the controls, the same aggregation steps with
  equal weights on all edges (``gkedm_scoring="uniform"``): what one more propagation
  step gives without attention.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_regimes.py \
        [--regime depth] [--datasets cora citeseer] [--backbones gcn sage gat gin] \
        [--depths 2 4 8 16] [--seeds 10] [--n-jobs 2] [--schedule joint] \
        [--arms plain "gkedm every" "uniform every"]
    python benchmarks/gkedm_regimes.py --regime homophily --arms "gkedm last" "uniform last"
    SKGKEDM_DATA=... python benchmarks/gkedm_regimes.py --regime label-rate \
        --settings "5 per class" public --backbones gcn --arms default previous
    SKGKEDM_DATA=... python benchmarks/gkedm_regimes.py --regime label-rate \
        --arms "gkedm last" "uniform last"

``--output PATH`` also writes every seed's accuracy and time to a JSON file (with the
command and library versions); the plots of the user guide's "When does GKEDM help?"
page are drawn from the files in ``benchmarks/results/gkedm_regimes/``.
"""

import argparse
import shlex
import sys
import time
from itertools import product
from pathlib import Path

import numpy as np
from _record import machine, versions, write_record
from joblib import Parallel, delayed

from skgkedm import GKEDMClassifier
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.datasets import fetch_planetoid, make_node_classification

ARMS = {
    "plain": {"gkedm": False},
    "default": None,
    "previous": {},
    "gkedm last": {"gkedm_scoring": "cosine", "gkedm_check": False},
    "gkedm every": {"gkedm_layers": "every", "gkedm_scoring": "cosine", "gkedm_check": False},
    "gkedm every residual": {
        "gkedm_layers": "every",
        "gkedm_update": "residual",
        "gkedm_scoring": "cosine",
        "gkedm_check": False,
    },
    "uniform last": {"gkedm_scoring": "uniform", "gkedm_check": False},
    "uniform every": {"gkedm_layers": "every", "gkedm_scoring": "uniform", "gkedm_check": False},
}
LABEL_RATES = ("5 per class", "public", "60/20/20")
HOMOPHILIES = (0.1, 0.3, 0.5, 0.7, 0.9)


def task(regime, dataset, setting, seed):
    """(X_train, y_train, X_test, y_test, y of every node) of a regime's setting and seed."""
    if regime == "homophily":
        X, y = make_node_classification(
            2000, n_classes=5, homophily=setting, class_sep=0.5, random_state=seed
        )
        train = np.random.default_rng(seed).random(len(y)) < 0.1
        return X[train], y[train], X[~train], y[~train], y
    data = fetch_planetoid(dataset)
    X, y = data.X, data.y
    if setting == "5 per class":
        public = data.train_index
        train = np.concatenate([public[y[public] == c][:5] for c in np.unique(y)])
        return X[train], y[train], X[data.test_index], y[data.test_index], y
    if setting == "60/20/20":
        order = np.random.default_rng(seed).permutation(len(y))
        n_train, n_test = int(0.6 * len(y)), int(0.2 * len(y))
        train, test = order[:n_train], order[n_train : n_train + n_test]
        return X[train], y[train], X[test], y[test], y
    train, test = data.train_index, data.test_index
    return X[train], y[train], X[test], y[test], y


def edge_weighting(model, X_test, labels):
    """Attention on same-class and cross-class edges into the scored nodes, over uniform.

    Each edge's weight (mean over heads) times its target's in-degree with the
    self-loop: 1 is the uniform weight. Self-loops are left out.
    """
    attention = model.attention_weights(X_test)
    source, target = attention.source, attention.target
    _, inverse, degree = np.unique(target, return_inverse=True, return_counts=True)
    relative = attention.weights.mean(axis=1) * degree[inverse]
    edges = source != target
    same = labels[source] == labels[target]
    return float(relative[edges & same].mean()), float(relative[edges & ~same].mean())


def fit_one(regime, dataset, setting, backbone, depth, arm, seed, schedule):
    """Test accuracy, seconds and (homophily, attention arms) the edge weighting."""
    X_train, y_train, X_test, y_test, labels = task(regime, dataset, setting, seed)
    if ARMS[arm] is None:
        model = GKEDMClassifier(random_state=seed)
    else:
        recipe = {**HIDDEN_GKEDM, "backbone": backbone, "hidden_dims": (64,) * (depth - 1)}
        if arm != "previous":
            recipe["schedule"] = schedule
        model = GKEDMClassifier(**recipe, **ARMS[arm], random_state=seed)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    weighting = None
    if regime == "homophily" and arm.startswith("gkedm"):
        weighting = edge_weighting(model, X_test, labels)
    return model.score(X_test, y_test), seconds, weighting


def groups(args):
    """(dataset, setting, backbone, depth) of every table group of the regime."""
    if args.regime == "depth":
        return product(args.datasets, [None], args.backbones, args.depths)
    if args.regime == "label-rate":
        return product(args.datasets, args.settings, args.backbones, [2])
    return product(["generated"], HOMOPHILIES, args.backbones, [2])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regime", choices=["depth", "label-rate", "homophily"], default="depth")
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage", "gat", "gin"])
    parser.add_argument("--depths", nargs="+", type=int, default=[2, 4, 8, 16])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--settings", nargs="+", default=list(LABEL_RATES), choices=LABEL_RATES,
        help="label-rate settings to run",
    )  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--schedule",
        default="two_phase",
        choices=["two_phase", "joint", "two_phase_finetune"],
        help="schedule of the GKEDM arms (the plain arm has one phase)",
    )
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--output", type=Path, help="also write every seed's results here")
    args = parser.parse_args()
    arms = ["plain", *(arm for arm in args.arms if arm != "plain")]
    record = {
        "command": "python " + shlex.join(sys.argv),
        "versions": versions(),
        "machine": machine(),
        "regime": args.regime,
        "schedule": args.schedule,
        "seeds": args.seeds,
        "groups": [],
    }
    print(f"regime: {args.regime}, seeds: {args.seeds}, schedule of GKEDM arms: {args.schedule}\n")
    print(
        "| dataset | setting | backbone | depth | arm | test accuracy | vs plain | s/fit | "
        "same-class / cross-class edge weight |"
    )
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    # One group at a time, printed as it ends: a long sweep shows its results as it goes.
    with Parallel(n_jobs=args.n_jobs) as parallel:
        for dataset, setting, backbone, depth in groups(args):
            runs = list(product(arms, range(args.seeds)))
            results = parallel(
                delayed(fit_one)(
                    args.regime, dataset, setting, backbone, depth, arm, seed, args.schedule
                )
                for arm, seed in runs
            )
            table = {}
            for (arm, _), result in zip(runs, results, strict=True):
                table.setdefault(arm, []).append(result)
            plain = np.mean([accuracy for accuracy, _, _ in table["plain"]])
            for arm, values in table.items():
                accuracy, seconds, weighting = map(list, zip(*values, strict=True))
                record["groups"].append(
                    {
                        "dataset": dataset,
                        "setting": setting,
                        "backbone": backbone,
                        "depth": depth,
                        "arm": arm,
                        "accuracy": accuracy,
                        "seconds": seconds,
                        "edge_weight": weighting,
                    }
                )
                accuracy, seconds = np.array(accuracy), np.mean(seconds)
                weighting = [value for value in weighting if value is not None]
                weights = "-"
                if weighting:
                    same, cross = np.mean(weighting, axis=0)
                    weights = f"{same:.3f} / {cross:.3f}"
                print(
                    f"| {dataset} | {setting or '-'} | {backbone} | {depth} | {arm} | "
                    f"{accuracy.mean():.3f} ± {accuracy.std():.3f} | "
                    f"{100 * (accuracy.mean() - plain):+.1f} | {seconds:.1f} | {weights} |",
                    flush=True,
                )
            write_record(args.output, record)


if __name__ == "__main__":
    main()
