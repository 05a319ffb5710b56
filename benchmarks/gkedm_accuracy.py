"""Does the default GKEDMClassifier lead? Against APPNP, its plain backbone and features alone.

Every arm runs side by side in one process, on the same splits and seeds:

- ``default``: ``GKEDMClassifier()`` as shipped (with 200 labelled nodes or more its
  ``gkedm_check`` picks the module, the plain backbone, a network on the features
  alone or a linear model of them: the last column counts its choices,
  linear/features/plain/GKEDM);
- ``attention``: the same with ``gkedm_scoring="cosine"`` (attention instead of equal
  weights: the default, an MLP's class scores propagated ten hops with equal weights
  and the consistency loss, is the uniform control of it);
- ``no consistency``: the default with ``consistency=0`` (cross-entropy alone);
- ``dropout 0.625``: the default with ``dropout=0.625`` (``"auto"`` is 0.5 on a
  graph; issue #24's ``default_neighbourhood.py`` found 0.625 better on Cora's and
  CiteSeer's validation nodes, but it lost on the homophily sweep and is not the
  default); ``dropout 0.5``: the default's own rate, given outright;
- ``fixed hop weights``: the default with the module's per-hop weights frozen at their
  initialisation, APPNP's personalised PageRank weights (issue #24's patch
  ``hop_weights("fixed")`` of ``default_neighbourhood.py``, applied for the length of
  the fit, the ``gkedm_check`` included);
- ``check from 100 labels``: the default with its ``gkedm_check`` run from 100
  labelled nodes instead of ``CHECK_MIN_LABELS`` = 200 (the constant patched to 100
  for the length of the fit): does the check close the few-label gap to the features
  alone (squirrel, 20 labels per class) without costing elsewhere (Cora's and
  CiteSeer's public splits, 140 and 120 labels, are then checked)?
- ``validation nodes``: the default given the task's validation nodes as ``fit``'s
  ``X_val`` and ``y_val``: all 200 epochs trained, the best validation epoch's
  weights kept, as the anchors pick theirs, and with 200 validation nodes or more
  ``gkedm_check`` scores its candidates on them; ``validation nodes, early
  stopping``: the same with ``early_stopping=True`` (training stops after 50 epochs
  without gain);
- ``plain``: the default's backbone alone, ``gkedm=False`` (an MLP on the features);
- ``distilled MLP``: ``DistilledGCNClassifier(GKEDMClassifier(),
  GKEDMClassifier(backbone="mlp", gkedm=False))``, the default teacher distilled into
  a graph-free MLP (soft labels over every node of the training graph), which predicts
  the test nodes from their features; ``distilled MLP, validation nodes``: the same
  given the validation nodes (teacher and student each keep their best epoch);
  ``self-distilled, 100 + 100 epochs``: a born-again network within the default's
  epochs, ``DistilledGCNClassifier(GKEDMClassifier(max_epochs=100),
  GKEDMClassifier(max_epochs=100))`` (the default's model distilled into the same
  model, each trained for half the default's 200 epochs);
- ``previous``: the default until issue #24 (``skgkedm._classifier.HIDDEN_GKEDM``, 200
  epochs: one equal-weight GKEDM step on a GCN's hidden layer, two phases); ``gcn``:
  its backbone alone; ``cosine``, ``uniform``, ``unchecked``, ``ten hops`` and ``ten
  hops uniform``: the variants of it that earlier records ran;
- ``appnp``: PyTorch Geometric's ``APPNP`` (K=10, alpha=0.1) after a two-layer MLP,
  as PyG's citation example (64 hidden, dropout 0.5, Adam lr 0.01, weight decay
  5e-4, 200 epochs), test accuracy at the epoch of best validation accuracy;
- ``mlp``: the same MLP without propagation (features alone), selected the same way;
- ``logistic``: scikit-learn's ``LogisticRegression`` on the features alone.

The GKEDM arms but ``validation nodes`` never see the validation nodes: they fit on
the training nodes and are scored once, at the end. The anchors (``appnp``, ``mlp``)
use the validation nodes to pick their epoch, which favours them.

Suites (``--suite``):

- ``planetoid``: Cora and CiteSeer, public splits (20 labels per class, 500
  validation, 1,000 test nodes);
- ``musae``: chameleon and squirrel (5 traffic classes, also with duplicate pages
  removed, ``drop_duplicates=True``), facebook (4 page types) and Twitch DE (mature
  or not: balanced accuracy), random 60/20/20 splits per seed, as the heterophily
  literature uses; the MUSAE files must be in ``$SKGKEDM_DATA/musae``;
- ``homophily``: generated graphs (``make_node_classification``: 2,000 nodes, 5
  classes, ``class_sep=0.5``) with edge homophily 0.1 to 0.9, 10 % labelled, 10 %
  validation (for the anchors), the rest scored.

    SKGKEDM_DATA=/abs/path python benchmarks/gkedm_accuracy.py --suite planetoid \\
        --datasets cora --seeds 10 --arms default attention previous gcn appnp mlp \\
        logistic --output benchmarks/results/gkedm_accuracy/planetoid-cora.json
    (the same with citeseer, to planetoid-citeseer.json; planetoid.json holds the
    previous default's record, whose ``plain`` is today's ``gcn``; the records of
    issue #24 also hold CPU seconds per fit, which the script then recorded)
    SKGKEDM_DATA=/abs/path python benchmarks/gkedm_accuracy.py --suite musae --seeds 5 \\
        --output benchmarks/results/gkedm_accuracy/musae.json
    python benchmarks/gkedm_accuracy.py --suite homophily --seeds 5 \\
        --output benchmarks/results/gkedm_accuracy/homophily.json
    (issue #24's fixed hop weights: ``--arms default "fixed hop weights"`` with
    ``--suite musae --seeds 5`` (facebook apart, 4 seeds) and ``--suite homophily
    --seeds 10``, ``appnp`` added with ``--suite planetoid --seeds 30``, to
    ``fixed-hop-weights-*.json``; each record holds its command)
    (issue #24's check from 100 labels: ``--arms default "check from 100 labels"``
    with ``--suite planetoid --seeds 10``, ``--suite musae --datasets chameleon
    "chameleon filtered" squirrel "squirrel filtered" --train-per-class 20 --seeds 10``
    (squirrel and chameleon filtered again with ``--seeds 20``) and ``--suite homophily
    --train-per-class 20 --seeds 10``, to ``check-100-*.json``)

``--arms`` picks arms, ``--datasets`` data sets of a suite. ``--train-per-class N``
keeps, of every task's training positions, only the first N of each class in their
given (seeded, permuted) order: few labels (for planetoid the first N of each class
of the public training set, as ``gkedm_regimes.py``'s "5 per class"); the validation
and test positions stay as they are. An arm that needs the package patched during its
fit names, in ``ARM_PATCHES``, a factory of the context manager it is fitted under (its
options stay in ``GKEDM_ARMS``). Each table row gives the
mean ± std over seeds, the paired difference to ``plain`` in points, and seconds per
fit (CPU, one torch thread; the machine may be shared).
"""

import argparse
import shlex
import sys
import time
from contextlib import nullcontext
from itertools import product
from pathlib import Path
from unittest.mock import patch

import numpy as np
import torch
from _record import machine, versions, write_record
from default_neighbourhood import hop_weights
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from skgkedm import DistilledGCNClassifier, GKEDMClassifier
from skgkedm import _gkedm_check as check
from skgkedm._classifier import HIDDEN_GKEDM as PREVIOUS_RECIPE
from skgkedm.datasets import fetch_musae, fetch_planetoid, make_node_classification

HIDDEN_GKEDM = {**PREVIOUS_RECIPE, "max_epochs": 200}  # the previous default, in full

GKEDM_ARMS = {
    "default": {},
    "attention": {"gkedm_scoring": "cosine"},
    "no consistency": {"consistency": 0.0},
    # The candidate of issue #24's default neighbourhood (default_neighbourhood.py).
    "dropout 0.625": {"dropout": 0.625},
    "dropout 0.5": {"dropout": 0.5},  # the default's, given outright
    "previous": HIDDEN_GKEDM,
    "gcn": {**HIDDEN_GKEDM, "gkedm": False},
    # Arms of earlier records: variants of the previous default.
    "cosine": {**HIDDEN_GKEDM, "gkedm_scoring": "cosine"},
    "uniform": HIDDEN_GKEDM,
    "unchecked": {**HIDDEN_GKEDM, "gkedm_scoring": "cosine", "gkedm_check": False},
    "ten hops": {**HIDDEN_GKEDM, "gkedm_scoring": "cosine", "gkedm_hops": 10},
    "ten hops uniform": {**HIDDEN_GKEDM, "gkedm_hops": 10},
    "fixed hop weights": {},  # under ARM_PATCHES' patch
    "check from 100 labels": {},  # under ARM_PATCHES' patch
    "validation nodes": {},  # fitted with X_val, y_val: VALIDATED_ARMS
    "validation nodes, early stopping": {"early_stopping": True},
    "plain": {"gkedm": False},
}
STUDENT = {"backbone": "mlp", "gkedm": False}
"""The distilled MLP's graph-free student (``graph_free_students.py``'s)."""
DISTILLED_ARMS = {
    "distilled MLP": ({}, STUDENT),
    "distilled MLP, validation nodes": ({}, STUDENT),
    "self-distilled, 100 + 100 epochs": ({"max_epochs": 100}, {"max_epochs": 100}),
}
"""Arms that fit ``DistilledGCNClassifier(GKEDMClassifier(**teacher),
GKEDMClassifier(**student))``: arm name -> (teacher's parameters, student's)."""
ARM_PATCHES = {
    "fixed hop weights": lambda: hop_weights("fixed"),
    "check from 100 labels": lambda: patch.object(check, "CHECK_MIN_LABELS", 100),
}
"""Arms fitted under a patch: arm name -> factory of the context manager (default: none)."""
VALIDATED_ARMS = {
    "validation nodes",
    "validation nodes, early stopping",
    "distilled MLP, validation nodes",
}
"""Arms fitted with the task's validation nodes as ``X_val, y_val`` (early stopping on
them, the best epoch's weights kept), the information the anchors pick their epoch by."""
ARMS = [*GKEDM_ARMS, *DISTILLED_ARMS, "candidates", "appnp", "mlp", "logistic"]
MARGINS = (0.0, 0.5, 1.0)
"""Standard errors the ``candidates`` arm tries as ``gkedm_check``'s margin."""
SUITES = {
    "planetoid": ["cora", "citeseer"],
    "musae": [
        "chameleon",
        "chameleon filtered",
        "squirrel",
        "squirrel filtered",
        "facebook",
        "twitch_de",
    ],
    "homophily": [0.1, 0.3, 0.5, 0.7, 0.9],
}


def task(suite, dataset, seed):
    """(X: GraphNodes, y, train, validation, test positions, balanced) of a seed."""
    if suite == "planetoid":
        data = fetch_planetoid(dataset)
        return data.X, data.y, data.train_index, data.val_index, data.test_index, False
    if suite == "homophily":
        X, y = make_node_classification(
            2000, n_classes=5, homophily=dataset, class_sep=0.5, random_state=seed
        )
        order = np.random.default_rng(seed).permutation(len(y))
        return X, y, order[:200], order[200:400], order[400:], False
    name, _, filtered = dataset.partition(" ")
    data = fetch_musae(name, target="classes" if name in ("chameleon", "squirrel") else None,
                       drop_duplicates=bool(filtered))  # fmt: skip
    y = data.y
    order = np.random.default_rng(seed).permutation(len(y))
    n_train, n_validation = int(0.6 * len(y)), int(0.2 * len(y))
    train = order[:n_train]
    validation = order[n_train : n_train + n_validation]
    return data.X, y, train, validation, order[n_train + n_validation :], name == "twitch_de"


def first_per_class(train, y, n):
    """The positions of ``train`` among the first ``n`` of their class, in their order."""
    labels = y[train]
    kept = np.zeros(len(train), dtype=bool)
    for label in np.unique(labels):
        kept[np.flatnonzero(labels == label)[:n]] = True
    return train[kept]


def anchor(X, y, train, validation, test, seed, propagate, score):
    """PyG's citation-example MLP (with APPNP after it when ``propagate``), best validation."""
    from torch import nn
    from torch.nn import functional as F
    from torch_geometric.nn import APPNP

    features = X.features.tocoo() if hasattr(X.features, "tocoo") else None
    if features is not None:  # sparse: dropout on the stored values (zeros stay zero)
        indices = torch.tensor(np.vstack([features.row, features.col]), dtype=torch.long)
        values = torch.tensor(features.data, dtype=torch.float32)
        shape = features.shape
    else:
        dense = torch.tensor(np.asarray(X.features), dtype=torch.float32)
    adjacency = X.adjacency.tocoo()
    edge_index = torch.tensor(np.vstack([adjacency.row, adjacency.col]), dtype=torch.long)
    targets = torch.tensor(y)
    torch.manual_seed(seed)
    n_classes = int(y.max()) + 1
    first = nn.Linear(X.features.shape[1], 64)
    second = nn.Linear(64, n_classes)
    propagation = APPNP(K=10, alpha=0.1, cached=True)
    parameters = [*first.parameters(), *second.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=0.01, weight_decay=5e-4)

    def forward(training):
        if features is not None:
            kept = F.dropout(values, 0.5, training)
            x = torch.sparse_coo_tensor(indices, kept, shape, is_coalesced=True)
            h = torch.sparse.mm(x, first.weight.t()) + first.bias
        else:
            h = first(F.dropout(dense, 0.5, training))
        h = second(F.dropout(F.relu(h), 0.5, training))
        return propagation(h, edge_index) if propagate else h

    train_t = torch.as_tensor(train)
    best, test_score = -1.0, 0.0
    for _ in range(200):
        optimizer.zero_grad()
        F.cross_entropy(forward(True)[train_t], targets[train_t]).backward()
        optimizer.step()
        with torch.no_grad():
            predicted = forward(False).argmax(dim=1).numpy()
        validation_score = score(y[validation], predicted[validation])
        if validation_score > best:
            best, test_score = validation_score, score(y[test], predicted[test])
    return test_score


def check_candidates(X, y, train, test, seed, score):
    """Every candidate of the default's ``gkedm_check``, refitted and scored on the test nodes.

    One default fit records the check's candidates (held-out scores, per-node shares);
    each candidate it did not choose is then fitted as the default's final fit would
    fit it (same seed, all training labels): the fit replays the recorded check
    instead of running it again (the check draws on its own generator, so the final
    fit is the same either way) with its choice forced to that candidate. Returns the
    check's choice, the test score of the choice under each margin of ``MARGINS`` (in
    held-out standard errors, the same for every candidate; the shipped classifier's
    is ``CHECK_STANDARD_ERRORS``, ``CHECK_GRAPH_FREE_STANDARD_ERRORS`` for the
    graph-free candidates), the
    candidates' test and held-out scores, and each candidate's held-out share of the
    score node by node (``held_out_shares``: a string of 0s and 1s, a node's
    correctness, in the check's order of held-out nodes, the same for every candidate;
    ``held_out_weights``: their weights, None for equal).
    """

    seen = {}
    original = check._check_choice

    def recording(candidates, weights, *margins):
        seen.update(candidates=candidates, weights=weights)
        return original(candidates, weights, *margins)

    with patch.object(check, "_check_choice", recording):
        model = GKEDMClassifier(random_state=seed).fit(X[train], y[train])
    candidates, weights = seen["candidates"], seen["weights"]
    test_scores = {model.gkedm_check_choice_: score(y[test], model.predict(X[test]))}

    def replayed(self, *args):
        return candidates, weights, None

    for name in candidates:
        if name in test_scores:
            continue
        with (
            patch.object(check.GKEDMCheckMixin, "_check_gkedm", replayed),
            patch.object(check, "_check_choice", lambda *args, name=name: name),
        ):
            refit = GKEDMClassifier(random_state=seed).fit(X[train], y[train])
        test_scores[name] = score(y[test], refit.predict(X[test]))
    chosen = {}
    for margin in MARGINS:
        with patch.object(check, "CHECK_STANDARD_ERRORS", margin):
            chosen[margin] = original(candidates, weights)
    return {
        "choice": model.gkedm_check_choice_,
        "test": test_scores,
        "held_out": {name: candidate.score for name, candidate in candidates.items()},
        "chosen": {str(margin): name for margin, name in chosen.items()},
        "margin_scores": {str(margin): test_scores[name] for margin, name in chosen.items()},
        "held_out_shares": {
            name: "".join(str(int(share)) for share in candidate.per_sample)
            for name, candidate in candidates.items()
        },
        "held_out_weights": None if weights is None else weights.tolist(),
    }


def fit_one(suite, dataset, arm, seed, per_class=None):
    """Test score and seconds of one arm on one seed (``per_class`` labels of each class)."""
    X, y, train, validation, test, balanced = task(suite, dataset, seed)
    if per_class is not None:
        train = first_per_class(train, y, per_class)
    score = balanced_accuracy_score if balanced else (lambda a, b: float(np.mean(a == b)))
    started = time.perf_counter()
    if arm in ("appnp", "mlp"):
        result = anchor(X, y, train, validation, test, seed, arm == "appnp", score)
        return result, time.perf_counter() - started, None
    if arm == "candidates":
        result = check_candidates(X, y, train, test, seed, score)
        return result, time.perf_counter() - started, None
    if arm == "logistic":
        model = LogisticRegression(max_iter=1000).fit(X.features[train], y[train])
        predicted = model.predict(X.features[test])
        return score(y[test], predicted), time.perf_counter() - started, None
    validated = {"X_val": X[validation], "y_val": y[validation]} if arm in VALIDATED_ARMS else {}
    with ARM_PATCHES.get(arm, nullcontext)():
        if arm in DISTILLED_ARMS:
            teacher, student = (GKEDMClassifier(**params) for params in DISTILLED_ARMS[arm])
            model = DistilledGCNClassifier(teacher, student, random_state=seed)
        else:
            model = GKEDMClassifier(random_state=seed, **GKEDM_ARMS[arm])
        model.fit(X[train], y[train], **validated)
    seconds = time.perf_counter() - started
    # A distiller's check is its teacher's.
    choice = getattr(getattr(model, "teacher_", model), "gkedm_check_choice_", None)
    return score(y[test], model.predict(X[test])), seconds, choice


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=list(SUITES), default="planetoid")
    parser.add_argument("--datasets", nargs="+", help="some of the suite's data sets")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--arms", nargs="+", default=ARMS, choices=ARMS)
    parser.add_argument(
        "--train-per-class", type=int, help="fit on the first N training nodes of each class"
    )
    parser.add_argument("--output", type=Path, help="also write every seed's results here")
    args = parser.parse_args()
    datasets = SUITES[args.suite]
    if args.datasets:
        chosen = [str(name) for name in args.datasets]
        datasets = [dataset for dataset in datasets if str(dataset) in chosen]
    arms = ["plain", *(arm for arm in args.arms if arm != "plain")]
    record = {
        "command": "python " + shlex.join(sys.argv),
        "versions": versions(),
        "machine": machine(),
        "suite": args.suite,
        "seeds": args.seeds,
        "train_per_class": args.train_per_class,
        "groups": [],
    }
    print(f"suite: {args.suite}, seeds: {args.seeds}, per class: {args.train_per_class}\n")
    print("| data set | arm | test score | vs plain | s/fit | check chose (l/f/p/g) |")
    print("|---|---|---|---|---|---|", flush=True)
    for dataset in datasets:
        table = {}
        for seed, arm in product(range(args.seeds), arms):  # arms alternate within a seed
            table.setdefault(arm, []).append(
                fit_one(args.suite, dataset, arm, seed, args.train_per_class)
            )
        plain = np.array([value for value, _, _ in table["plain"]])
        for arm, values in list(table.items()):
            if arm != "candidates":
                continue
            details, seconds, _ = map(list, zip(*values, strict=True))
            record["groups"].append(
                {"dataset": dataset, "arm": arm, "candidates": details, "seconds": seconds}
            )
            for margin in MARGINS:
                name = f"check, {margin:g} SE"
                chosen = [detail["chosen"][str(margin)] for detail in details]
                scores = [detail["margin_scores"][str(margin)] for detail in details]
                table[name] = [(value, np.nan, choice) for value, choice in
                               zip(scores, chosen, strict=True)]  # fmt: skip
            for name in ("linear", "features", "plain", "gkedm"):
                scores = [detail["test"].get(name, np.nan) for detail in details]
                table[f"candidate {name}"] = [(value, np.nan, None) for value in scores]
            del table[arm]
        for arm, values in table.items():
            scores, seconds, chosen = map(list, zip(*values, strict=True))
            record["groups"].append(
                {"dataset": dataset, "arm": arm, "score": scores, "seconds": seconds,
                 "check_choice": chosen}
            )  # fmt: skip
            scores = np.array(scores)
            checked = [value for value in chosen if value is not None]
            kept_text = (
                "/".join(
                    str(checked.count(name)) for name in ("linear", "features", "plain", "gkedm")
                )
                if checked
                else "-"
            )
            print(
                f"| {dataset} | {arm} | {scores.mean():.3f} ± {scores.std():.3f} | "
                f"{100 * (scores - plain).mean():+.1f} | {np.mean(seconds):.1f} | {kept_text} |",
                flush=True,
            )
        write_record(args.output, record)


if __name__ == "__main__":
    main()
