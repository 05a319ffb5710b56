"""Plain feature matrices: GKEDMClassifier's k-NN graph mode against simple models.

On scikit-learn's iris, wine, breast_cancer and digits, every model sits in a
``StandardScaler`` pipeline and is scored by stratified 5-fold cross-validation
(shuffled; ``--repeats`` reshuffles with seeds 0, 1, ...; the models' own
``random_state`` is the repeat's seed). Models:

- ``gkedm``: ``GKEDMClassifier()`` with the package defaults (plus any ``--set``
  options), on the CPU;
- ``knn``: ``KNeighborsClassifier()`` (5 neighbours);
- ``label_spreading``: ``LabelSpreading(kernel="knn")`` (7 neighbours), every
  training label known;
- ``mlp``: ``MLPClassifier(max_iter=1000)`` (one hidden layer of 100; the default
  200 iterations stop before convergence on these data sets);
- one arm per ``--variant NAME:key=value,...``: ``GKEDMClassifier`` with those options
  on top of ``--set``, for exploring settings.

Prints an rst table of accuracy (mean ± std over all folds and repeats) and median fit
time per fold, then, per data set, the gap between each GKEDM arm and the best other
model.
Torch runs on one thread per fit (small networks; on a shared machine more threads
slow them down); ``--n-jobs`` runs folds in parallel. Run from the repository root::

    python benchmarks/tabular.py [--datasets iris wine breast_cancer digits] \
        [--repeats 5] [--arms gkedm knn label_spreading mlp] [--set max_epochs=300] \
        [--variant k5:n_neighbors=5] [--n-jobs 1]

The table in docs/performance.rst (a few minutes on one core)::

    OMP_NUM_THREADS=1 python benchmarks/tabular.py \
        --variant residual:gkedm_update=residual \
        --variant residual_dropout_0.2:gkedm_update=residual,dropout=0.2
"""

import argparse
import time
import warnings

import numpy as np
import torch
from gkedm_effectiveness import add_arm_options, parse_options
from joblib import Parallel, delayed
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from skgkedm import GKEDMClassifier

LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
BASELINES = ("knn", "label_spreading", "mlp")


def make_model(arm, options, seed):
    """The pipeline of one arm; ``options`` are GKEDMClassifier parameters (None: baseline)."""
    if arm == "knn":
        model = KNeighborsClassifier()
    elif arm == "label_spreading":
        model = LabelSpreading(kernel="knn")
    elif arm == "mlp":
        model = MLPClassifier(max_iter=1000, random_state=seed)
    else:
        model = GKEDMClassifier(device="cpu", random_state=seed, **options)
    return make_pipeline(StandardScaler(), model)


def fit_and_score(name, arm, options, seed, train, test):
    """Accuracy and fit seconds of one arm on one fold."""
    torch.set_num_threads(1)
    X, y = LOADERS[name](return_X_y=True)
    model = make_model(arm, options, seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train], y[train])
    seconds = time.perf_counter() - started
    return model.score(X[test], y[test]), seconds


def folds(name, repeats):
    """(seed, train, test) for every fold of every repeat."""
    X, y = LOADERS[name](return_X_y=True)
    for seed in range(repeats):
        splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
        for train, test in splitter.split(X, y):
            yield seed, train, test


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--repeats", type=int, default=5, help="shuffled 5-fold runs")
    arms = ["gkedm", *BASELINES]
    parser.add_argument("--arms", nargs="+", default=arms, choices=arms)
    add_arm_options(parser)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()

    shared = parse_options(args.set)
    arms = {arm: None if arm in BASELINES else shared for arm in args.arms}
    for variant in args.variant:
        label, _, options = variant.partition(":")
        arms[label] = {**shared, **parse_options(options)}
    tasks = [
        (name, arm, options, seed, train, test)
        for name in args.datasets
        for seed, train, test in folds(name, args.repeats)
        for arm, options in arms.items()
    ]
    outcomes = Parallel(n_jobs=args.n_jobs)(delayed(fit_and_score)(*task) for task in tasks)
    results = {}
    for (name, arm, *_), outcome in zip(tasks, outcomes, strict=True):
        results.setdefault((name, arm), []).append(outcome)

    print(f"5-fold stratified CV x {args.repeats} repeats, StandardScaler pipelines")
    print(f"torch threads per fit: 1, parallel fits: {args.n_jobs}")
    print(f"options for every GKEDM arm: {shared or 'package defaults'}\n")
    header = ("data set", "model", "accuracy", "fit s")
    rows = []
    for (name, arm), outcome in results.items():
        scores = np.array([score for score, _ in outcome])
        seconds = np.median([seconds for _, seconds in outcome])
        rows.append((name, arm, f"{scores.mean():.3f} ± {scores.std():.3f}", f"{seconds:.3f}"))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * width for width in widths)
    print(rule, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule, sep="\n")
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(rule)
    gkedm_arms = [arm for arm, options in arms.items() if options is not None]
    others = [arm for arm in BASELINES if arm in arms]
    if not others:
        return
    print("\nGap to the best other model, in points:")
    for name in args.datasets:
        mean = {arm: np.mean([score for score, _ in results[name, arm]]) for arm in arms}
        best = max(others, key=mean.get)
        gaps = ", ".join(f"{arm} {100 * (mean[arm] - mean[best]):+.1f}" for arm in gkedm_arms)
        print(f"{name}: best {best} {mean[best]:.3f}; {gaps}")


if __name__ == "__main__":
    main()
