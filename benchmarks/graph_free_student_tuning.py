"""Graph-free students: distiller and student settings, chosen on validation nodes.

The distilled MLP of ``benchmarks/graph_free_students.py`` (``STUDENT``, the
distiller's defaults: ``soft_label_weight=10``, ``temperature=2``) against variants of
one setting each, every one distilled from the same frozen default teacher
(``GKEDMClassifier()``) with the same seed. Scored on *validation* nodes only, never on
the test nodes of the accuracy benchmark: Cora and CiteSeer the public split's 500;
facebook 2,000 nodes drawn per seed among the non-training ones.

- **transductive**: teacher and students trained on the whole graph; the students
  predict the validation nodes from their features;
- **inductive**: the validation nodes are removed from the training graph with their
  edges; the teacher predicts them on the full graph, the students from their features.

The record gives each model's accuracy per seed and the students' mean gap to their
teacher (points). Run from the repository root::

    OMP_NUM_THREADS=1 SKGKEDM_DATA=/abs/path/to/data python benchmarks/graph_free_student_tuning.py

``--datasets`` (``cora citeseer facebook``), ``--seeds`` (default 3), ``--settings``
(``transductive inductive``) and ``--variants`` (names of ``VARIANTS``; default the
first six, the first round) pick parts;
results are merged into ``benchmarks/results/graph_free_student_tuning.json`` keyed by
data set and setting (and ``--tag``), so parts may run as separate processes. The
second round::

    python benchmarks/graph_free_student_tuning.py --tag " (round 2)" --variants default \
        "soft-label weight 100" "soft-label weight 30, 500 epochs" "dropout 0.2" "width 256"
"""

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.frozen import FrozenEstimator

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from graph_free_students import STUDENT, induced, teacher_description
from graph_free_students import load as load_task

from skgkedm import DistilledGCNClassifier, GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

VARIANTS = {
    "default": ({}, {}),
    "temperature 1": ({}, {"temperature": 1.0}),
    "temperature 4": ({}, {"temperature": 4.0}),
    "soft-label weight 30": ({}, {"soft_label_weight": 30.0}),
    "500 epochs": ({"max_epochs": 500}, {}),
    "no weight decay": ({"weight_decay": 0.0}, {}),
    "soft-label weight 100": ({}, {"soft_label_weight": 100.0}),
    "soft-label weight 30, 500 epochs": ({"max_epochs": 500}, {"soft_label_weight": 30.0}),
    "dropout 0.2": ({"dropout": 0.2}, {}),
    "width 256": ({"hidden_dims": (256,)}, {}),
}
"""Name: (student parameters over ``STUDENT``, distiller parameters over its defaults)."""

RESULTS = pathlib.Path(__file__).parent / "results" / "graph_free_student_tuning.json"


def load(name, seed):
    """(GraphNodes, y, train, validation) for one seed: ``graph_free_students.py``'s
    training nodes, and validation nodes out of the nodes it scores."""
    X, y, train, rest, _ = load_task(name, seed)
    if name in ("cora", "citeseer"):
        return X, y, train, fetch_planetoid(name).val_index
    validation = np.sort(np.random.RandomState(2000 + seed).choice(rest, 2000, replace=False))
    return X, y, train, validation


def run_seed(name, seed, setting, variants):
    """Validation accuracy of the teacher and of each variant's student."""
    X, y, train, validation = load(name, seed)
    if setting == "inductive":
        keep = np.setdiff1d(np.arange(X.n_nodes), validation)
        position = np.full(X.n_nodes, -1)
        position[keep] = np.arange(len(keep))
        graph, graph_y, graph_train = induced(X, keep), y[keep], position[train]
    else:
        graph, graph_y, graph_train = X, y, train
    labels = np.full(graph.n_nodes, -1)
    labels[graph_train] = graph_y[graph_train]
    teacher = GKEDMClassifier(random_state=seed).fit(graph, labels)
    scores = {"teacher": teacher.score(X[validation], y[validation])}
    for variant in variants:
        student, distiller = VARIANTS[variant]
        model = DistilledGCNClassifier(
            FrozenEstimator(teacher),
            GKEDMClassifier(**{**STUDENT, **student}),
            random_state=seed,
            **distiller,
        ).fit(graph, labels)
        scores[variant] = model.score(X.features[validation], y[validation])
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["cora", "citeseer", "facebook"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--settings", nargs="*", default=["transductive", "inductive"])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS)[:6])
    parser.add_argument("--tag", default="", help="appended to the record's keys")
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    command = "python benchmarks/graph_free_student_tuning.py " + " ".join(sys.argv[1:])
    measured = {}
    for name in args.datasets:
        for setting in args.settings:
            runs = []
            for seed in range(args.seeds):
                started = time.perf_counter()
                runs.append(run_seed(name, seed, setting, args.variants))
                gaps = ", ".join(
                    f"{v} {100 * (runs[-1][v] - runs[-1]['teacher']):+.1f}" for v in args.variants
                )
                print(
                    f"{name} {setting} seed {seed} ({time.perf_counter() - started:.0f} s): "
                    f"teacher {100 * runs[-1]['teacher']:.1f}; {gaps}",
                    flush=True,
                )
            gap = {
                v: float(np.mean([100 * (r[v] - r["teacher"]) for r in runs]))
                for v in args.variants
            }
            measured[f"{name} {setting}{args.tag}"] = {
                "seeds": args.seeds,
                "runs": runs,
                "mean gap to the teacher (points)": gap,
                "variants": {v: VARIANTS[v] for v in args.variants},
                "teacher": teacher_description(),
                "command": command,
            }
            print(f"{name} {setting}: " + ", ".join(f"{v} {g:+.2f}" for v, g in gap.items()))
    results = json.loads(args.output.read_text()) if args.output.exists() else {}
    results.update(measured)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
