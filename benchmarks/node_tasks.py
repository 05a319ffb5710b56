"""Node tasks beyond single-label classification: regression, imbalance, multi-label.

Three real tasks, every model side by side in one process, on the same random splits
(model seed = split seed):

- **Node regression** (``fetch_musae(name, target="traffic")``, ``log1p`` of the monthly
  traffic of Wikipedia pages; chameleon and squirrel, 60/20/20 random splits): test R² of
  the default :class:`GKEDMRegressor` (the hidden-layer recipe ``HIDDEN_GKEDM``; also
  given the 20 % validation split as ``X_val``, which every other model leaves unused), the
  classifier's recipe on it (``PROPAGATION_DEFAULTS``: an MLP's outputs propagated ten
  hops, consistency loss; with and without the consistency loss), its plain GCN
  (``gkedm=False``) and a network on the features alone (``backbone="mlp",
  gkedm=False``), against ``RidgeCV`` and ``MLPRegressor`` on the features alone, and
  ``RidgeCV`` on SGC-style propagated features ``[X, PX, P²X]`` (``P`` the
  symmetric-normalised adjacency with self-loops).
- **Feature-row regression** (``--tasks diabetes``, not run by default): scikit-learn's
  diabetes data in the k-nearest-neighbour graph mode, the same GKEDMRegressor arms
  and ``RidgeCV``, each behind a ``StandardScaler``, shuffled 5-fold R² per seed.
- **Imbalanced binary** (Twitch DE ``mature``, 60/20/20 stratified splits): balanced
  accuracy and ROC-AUC of the default :class:`GKEDMClassifier`, the model it wraps
  (``gkedm=False``: an MLP on the features) and the previous default
  (``HIDDEN_GKEDM``), each with and without ``class_weight="balanced"``, against
  ``LogisticRegression(class_weight="balanced")`` on the features.
- **Multi-label** (BlogCatalog, 39 groups, no node features: the 15 structural features
  of :class:`GraphNodes`), 10 % and 50 % of the nodes labelled, DeepWalk's protocol:
  each test node gets its true number k of labels, the k most probable ones; Micro- and
  Macro-F1 of the default :class:`GKEDMClassifier` on the indicator matrix, with
  ``gkedm=False`` and ``HIDDEN_GKEDM``, against one-vs-rest logistic regression on the
  same features.

Run from the repository root (minutes to an hour on a laptop CPU; ``--tasks`` picks a
subset, ``--output`` writes every seed's results as JSON)::

    SKGKEDM_DATA=/abs/path/to/data OMP_NUM_THREADS=1 python benchmarks/node_tasks.py \
        --seeds 3 [--tasks chameleon squirrel twitch blogcatalog] [--output FILE.json]

``--models`` runs only the regression models of the labels given (as printed).
It prints a markdown table per task (mean ± std over seeds) and the seconds per fit;
for the default classifier, also what its ``gkedm_check`` chose on each seed.
"""

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from _record import machine, versions, write_record
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score, f1_score, r2_score, roc_auc_score
from sklearn.model_selection import KFold, train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm._classifier import HIDDEN_GKEDM, PROPAGATION_DEFAULTS
from skgkedm.datasets import fetch_blogcatalog, fetch_musae

RECORD = {"tables": []}
"""Every table's per-seed results, written with ``--output``."""


def splits(n_nodes, seed, stratify=None):
    """60/20/20 train/validation/test positions (validation unused by default models)."""
    positions = np.arange(n_nodes)
    train, rest = train_test_split(positions, train_size=0.6, random_state=seed, stratify=stratify)
    rest_stratify = None if stratify is None else stratify[rest]
    validation, test = train_test_split(
        rest, test_size=0.5, random_state=seed, stratify=rest_stratify
    )
    return train, validation, test


def propagated(X, hops=2):
    """``[X, PX, ..., P^hops X]`` with P the symmetric-normalised adjacency plus self-loops."""
    adjacency = sp.csr_array(X.adjacency, dtype=np.float64)
    adjacency = adjacency + sp.identity(adjacency.shape[0], format="csr")
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = sp.diags(1 / np.sqrt(degree))
    P = scale @ adjacency @ scale
    features = sp.csr_array(X.features, dtype=np.float64)
    blocks = [features]
    for _ in range(hops):
        blocks.append(P @ blocks[-1])
    return sp.hstack(blocks, format="csr")


def fit_and_time(model, X, y, **fit_params):
    started = time.perf_counter()
    model.fit(X, y, **fit_params)
    seconds = time.perf_counter() - started
    print(f"  fitted {type(model).__name__} in {seconds:.1f} s", file=sys.stderr, flush=True)
    return model, seconds


def choice(model):
    """What a GKEDM estimator's ``gkedm_check`` chose (None: no check, or no estimator)."""
    return getattr(model, "gkedm_check_choice_", None)


def report(title, results, metrics):
    RECORD["tables"].append({"title": title, "metrics": metrics, "results": results})
    print(f"\n### {title}\n")
    print("| model | " + " | ".join(metrics) + " | s / fit |")
    print("|---|" + "---|" * (len(metrics) + 1))
    for model, rows in results.items():
        cells = []
        for metric in metrics:
            values = np.array([row[metric] for row in rows])
            cells.append(f"{values.mean():.3f} ± {values.std():.3f}")
        seconds = np.mean([row["seconds"] for row in rows])
        choices = [row.get("check") for row in rows]
        chosen = (
            "" if all(c is None for c in choices) else f" (check: {', '.join(map(str, choices))})"
        )
        print(f"| {model}{chosen} | " + " | ".join(cells) + f" | {seconds:.1f} |", flush=True)


def regression(name, seeds, only=None):
    """Test R² of the regression models (``only``: those of these labels)."""
    data = fetch_musae(name, target="traffic")
    X, y = data.X, data.y
    features = sp.csr_array(X.features, dtype=np.float64)
    sgc = propagated(X)
    alphas = np.logspace(-2, 4, 13)
    results = {}
    for seed in seeds:
        train, validation, test = splits(len(y), seed)
        models = {
            "GKEDMRegressor (default)": (GKEDMRegressor(random_state=seed), X),
            "GKEDMRegressor (default), validation nodes": (GKEDMRegressor(random_state=seed), X),
            "GKEDMRegressor(**PROPAGATION_DEFAULTS)": (
                GKEDMRegressor(**PROPAGATION_DEFAULTS, random_state=seed),
                X,
            ),
            "GKEDMRegressor(**PROPAGATION_DEFAULTS, consistency=0)": (
                GKEDMRegressor(**{**PROPAGATION_DEFAULTS, "consistency": 0.0}, random_state=seed),
                X,
            ),
            "GKEDMRegressor(gkedm=False)": (GKEDMRegressor(gkedm=False, random_state=seed), X),
            'GKEDMRegressor(backbone="mlp", gkedm=False)': (
                GKEDMRegressor(backbone="mlp", gkedm=False, random_state=seed),
                X,
            ),
            'GKEDMRegressor(gkedm_update="residual")': (
                GKEDMRegressor(gkedm_update="residual", random_state=seed),
                X,
            ),
            'GKEDMRegressor(backbone="sage", gkedm_update="residual", schedule="joint")': (
                GKEDMRegressor(
                    backbone="sage", gkedm_update="residual", schedule="joint", random_state=seed
                ),
                X,
            ),
            "RidgeCV on X": (RidgeCV(alphas=alphas), features),
            "MLPRegressor on X": (
                MLPRegressor(
                    hidden_layer_sizes=(64,), early_stopping=True, max_iter=300, random_state=seed
                ),
                features,
            ),
            "RidgeCV on [X, PX, P²X]": (RidgeCV(alphas=alphas), sgc),
        }
        for label, (model, inputs) in models.items():
            if only and label not in only:
                continue
            # The 20 % validation split, which the other models leave unused.
            validated = {}
            if label.endswith("validation nodes"):
                validated = {"X_val": inputs[validation], "y_val": y[validation]}
            model, seconds = fit_and_time(model, inputs[train], y[train], **validated)
            predicted = model.predict(inputs[test])
            results.setdefault(label, []).append(
                {"R²": r2_score(y[test], predicted), "seconds": seconds, "check": choice(model)}
            )
    report(f"Node regression: {name}, log1p traffic, test R²", results, ["R²"])


def diabetes(seeds):
    """Feature rows (the k-nearest-neighbour graph mode): scikit-learn's diabetes data.

    Each seed is a shuffled 5-fold split (its test folds pooled into one R²); every model
    sits behind a ``StandardScaler``.
    """
    X, y = load_diabetes(return_X_y=True)
    alphas = np.logspace(-2, 4, 13)
    results = {}
    for seed in seeds:
        models = {
            "GKEDMRegressor (default)": GKEDMRegressor(random_state=seed),
            "GKEDMRegressor(**PROPAGATION_DEFAULTS)": GKEDMRegressor(
                **PROPAGATION_DEFAULTS, random_state=seed
            ),
            "GKEDMRegressor(gkedm=False)": GKEDMRegressor(gkedm=False, random_state=seed),
            'GKEDMRegressor(backbone="mlp", gkedm=False)': GKEDMRegressor(
                backbone="mlp", gkedm=False, random_state=seed
            ),
            "RidgeCV": RidgeCV(alphas=alphas),
        }
        for label, estimator in models.items():
            predicted, seconds = np.empty_like(y), []
            for train, test in KFold(5, shuffle=True, random_state=seed).split(X):
                model, fold_seconds = fit_and_time(
                    make_pipeline(StandardScaler(), clone(estimator)), X[train], y[train]
                )
                predicted[test] = model.predict(X[test])
                seconds.append(fold_seconds)
            results.setdefault(label, []).append(
                {
                    "R²": r2_score(y, predicted),
                    "seconds": float(np.mean(seconds)),
                    "check": choice(model[-1]),
                }
            )
    report("Feature-row regression: diabetes (k-NN graph), 5-fold R²", results, ["R²"])


def imbalanced(seeds):
    data = fetch_musae("twitch_de", target="mature")
    X, y = data.X, data.y
    features = StandardScaler(with_mean=False).fit_transform(
        sp.csr_array(X.features, dtype=np.float64)
    )
    results = {}
    for seed in seeds:
        train, _, test = splits(len(y), seed, stratify=y)
        models = {}
        for weight in (None, "balanced"):
            shown = "" if weight is None else 'class_weight="balanced"'
            for name, params in [("", {}), ("gkedm=False", {"gkedm": False}),
                                 ("**HIDDEN_GKEDM", HIDDEN_GKEDM)]:  # fmt: skip
                arguments = ", ".join(part for part in (name, shown) if part)
                models[f"GKEDMClassifier({arguments})"] = (
                    GKEDMClassifier(**params, class_weight=weight, random_state=seed),
                    X,
                )
        models.update(
            {
                'LogisticRegression(class_weight="balanced") on X': (
                    LogisticRegression(class_weight="balanced", max_iter=2000),
                    features,
                ),
            }
        )
        for label, (model, inputs) in models.items():
            model, seconds = fit_and_time(model, inputs[train], y[train])
            results.setdefault(label, []).append(
                {
                    "balanced accuracy": balanced_accuracy_score(
                        y[test], model.predict(inputs[test])
                    ),
                    "ROC-AUC": roc_auc_score(y[test], model.predict_proba(inputs[test])[:, 1]),
                    "seconds": seconds,
                    "check": choice(model),
                }
            )
    counts = np.bincount(y)
    report(
        f"Imbalanced: Twitch DE mature ({counts[1]} of {len(y)} positive), test split",
        results,
        ["balanced accuracy", "ROC-AUC"],
    )


def top_k(proba, Y_true):
    """DeepWalk's protocol: each node's k most probable labels, k its true label count."""
    predicted = np.zeros_like(Y_true)
    counts = Y_true.sum(axis=1)
    order = np.argsort(-proba, axis=1)
    for row, k in enumerate(counts):
        predicted[row, order[row, :k]] = 1
    return predicted


def multilabel(seeds, fractions=(0.1, 0.5)):
    data = fetch_blogcatalog()
    X, Y = data.X, data.y
    features = StandardScaler().fit_transform(np.asarray(X.features, dtype=np.float64))
    labelled = np.flatnonzero(Y.sum(axis=1) > 0)
    for fraction in fractions:
        results = {}
        for seed in seeds:
            train, test = train_test_split(labelled, train_size=fraction, random_state=seed)
            models = {
                "GKEDMClassifier (indicator y)": (GKEDMClassifier(random_state=seed), X),
                "GKEDMClassifier(consistency=0)": (
                    GKEDMClassifier(consistency=0.0, random_state=seed),
                    X,
                ),
                "GKEDMClassifier(gkedm=False)": (
                    GKEDMClassifier(gkedm=False, random_state=seed),
                    X,
                ),
                "GKEDMClassifier(**HIDDEN_GKEDM)": (
                    GKEDMClassifier(**HIDDEN_GKEDM, random_state=seed),
                    X,
                ),
                "one-vs-rest LogisticRegression on X": (
                    OneVsRestClassifier(LogisticRegression(max_iter=1000)),
                    features,
                ),
            }
            for label, (model, inputs) in models.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # rare labels' empty columns
                    model, seconds = fit_and_time(model, inputs[train], Y[train])
                predicted = top_k(model.predict_proba(inputs[test]), Y[test])
                results.setdefault(label, []).append(
                    {
                        "Micro-F1": f1_score(Y[test], predicted, average="micro"),
                        "Macro-F1": f1_score(Y[test], predicted, average="macro", zero_division=0),
                        "seconds": seconds,
                        "check": choice(model),
                    }
                )
        report(
            f"Multi-label: BlogCatalog, {fraction:.0%} labelled, top-k protocol",
            results,
            ["Micro-F1", "Macro-F1"],
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=["chameleon", "squirrel", "twitch", "blogcatalog"],
        choices=["chameleon", "squirrel", "twitch", "blogcatalog", "diabetes"],
    )
    parser.add_argument(
        "--models", nargs="+", help="regression tasks: only the models of these labels"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, help="also write every seed's results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    print(f"seeds {seeds}, torch threads {args.threads}")
    RECORD.update(
        command="python benchmarks/node_tasks.py " + shlex.join(sys.argv[1:]),
        versions=versions(),
        machine=machine(),
        seeds=seeds,
    )
    for task in args.tasks:
        if task in ("chameleon", "squirrel"):
            regression(task, seeds, args.models)
        elif task == "twitch":
            imbalanced(seeds)
        elif task == "diabetes":
            diabetes(seeds)
        else:
            multilabel(seeds)
        write_record(args.output, RECORD)  # after every task: a partial run keeps its tables


if __name__ == "__main__":
    main()
