"""Would sharper attention maps carry knowledge? Cosine attention at higher temperatures.

The default GKEDM module scores an edge by ``beta * cos(h_i, h_j)`` with one learned
temperature ``beta`` that starts at 1. Trained, ``beta`` stays near 1 to 1.5 (Adam
moves it by about the learning rate per step), and on non-negative (ReLU)
representations the maps are then almost uniform: their entropy is 0.999 of the
uniform map's. This benchmark asks whether sharper maps would be worth having, with two
variants that are *not* in the package (they are patched in here, for measurement):

- ``beta`` starting at 5, 10 or 20 instead of 1;
- "neighbour-mean self-loop": a node's own score is the mean of its neighbours' scores
  instead of ``beta * cos(h_i, h_i) = beta``, the largest possible score. Without it a
  high temperature puts almost all the weight on the self-loop and the module stops
  propagating.

For every variant it prints (``--part models``) the default ``GKEDMClassifier``'s test
accuracy on the public Cora and CiteSeer splits, the entropy of its maps over the
uniform map's, and on generated graphs of homophily 0.3, 0.5 and 0.7 (as
``gkedm_regimes.py --regime homophily``) the accuracy and the weight of same-class and
cross-class edges relative to uniform; and (``--part distillation``) the student of
``benchmarks/distillation.py --module cosine`` (teacher 256 wide, student 16 wide,
trained jointly, ``attention_weight=1``), teacher and student both of the variant: the
student alone, with the attention term only, with soft labels only and with both, from
the same frozen teacher per seed::

    SKGKEDM_DATA=/abs/path python benchmarks/attention_sharpness.py --seeds 5
"""

import argparse
import warnings
from contextlib import contextmanager

import numpy as np
import torch
from gkedm_regimes import edge_weighting
from sklearn.frozen import FrozenEstimator

from skgkedm import DistilledGCNClassifier, GKEDMClassifier
from skgkedm.datasets import fetch_planetoid, make_node_classification
from skgkedm.nn import GKEDM

COSINE = {"gkedm_scoring": "cosine", "gkedm_check": False}
"""The module these variants sharpen: cosine attention, never checked against the
backbone (the classifier's default has equal weights since 0.2.0.dev0)."""

# (initial temperature, neighbour-mean self-loop score)
VARIANTS = {
    "default (beta from 1)": (1.0, False),
    "beta from 5": (5.0, False),
    "beta from 10": (10.0, False),
    "beta from 20": (20.0, False),
    "beta from 5, neighbour-mean self": (5.0, True),
    "beta from 10, neighbour-mean self": (10.0, True),
    "beta from 20, neighbour-mean self": (20.0, True),
}
DISTILLATION_VARIANTS = (
    "default (beta from 1)",
    "beta from 10",
    "beta from 10, neighbour-mean self",
)


@contextmanager
def cosine_variant(initial_temperature, neighbour_mean_self):
    """Patch GKEDM's cosine scoring for the duration of the block."""
    reset_parameters, scores = GKEDM.reset_parameters, GKEDM._scores

    def patched_reset(module):
        reset_parameters(module)
        if module.scoring == "cosine":
            torch.nn.init.constant_(module.temperature, initial_temperature)

    def patched_scores(module, h, layout):
        score = scores(module, h, layout)
        if module.scoring != "cosine" or not neighbour_mean_self:
            return score
        loop = layout.source == layout.target
        others = (~loop).to(score.dtype).unsqueeze(1)
        total = score.new_zeros(h.size(0), score.size(1)).index_add_(
            0, layout.target, score * others
        )
        count = score.new_zeros(h.size(0), 1).index_add_(0, layout.target, others)
        mean = (total / count.clamp_min(1)).index_select(0, layout.target)
        return torch.where(loop.unsqueeze(1), mean, score)

    GKEDM.reset_parameters, GKEDM._scores = patched_reset, patched_scores
    try:
        yield
    finally:
        GKEDM.reset_parameters, GKEDM._scores = reset_parameters, scores


def entropy_over_uniform(attention):
    """Mean over nodes with neighbours of the map's entropy divided by log(in-degree)."""
    weights = attention.weights.mean(axis=1)
    _, inverse, degree = np.unique(attention.target, return_inverse=True, return_counts=True)
    entropy = np.bincount(inverse, -weights * np.log(np.maximum(weights, 1e-12)))
    attended = degree > 1
    return float(np.mean(entropy[attended] / np.log(degree[attended])))


def learned_temperature(model):
    return float(next(v for k, v in model._weights.items() if k.endswith("temperature")))


def models_part(variant, seeds):
    """Rows of accuracy, learned temperature, entropy and edge weights for one variant."""
    rows = []
    for name in ("cora", "citeseer"):
        data = fetch_planetoid(name)
        X, y, train, test = data.X, data.y, data.train_index, data.test_index
        results = []
        for seed in range(seeds):
            model = GKEDMClassifier(random_state=seed, **COSINE).fit(X[train], y[train])
            results.append(
                (
                    model.score(X[test], y[test]),
                    learned_temperature(model),
                    entropy_over_uniform(model.attention_weights(X[test])),
                )
            )
        accuracy, beta, entropy = np.array(results).T
        rows.append(
            f"| {variant} | {name} | {accuracy.mean():.3f} ± {accuracy.std():.3f} | "
            f"{beta.mean():.1f} | {entropy.mean():.3f} | - |"
        )
    for homophily in (0.3, 0.5, 0.7):
        accuracy, weighting = [], []
        for seed in range(seeds):
            X, y = make_node_classification(
                2000, n_classes=5, homophily=homophily, class_sep=0.5, random_state=seed
            )
            train = np.random.default_rng(seed).random(len(y)) < 0.1
            model = GKEDMClassifier(random_state=seed, **COSINE).fit(X[train], y[train])
            accuracy.append(model.score(X[~train], y[~train]))
            weighting.append(edge_weighting(model, X[~train], y))
        same, cross = np.mean(weighting, axis=0)
        rows.append(
            f"| {variant} | homophily {homophily} | {np.mean(accuracy):.3f} ± "
            f"{np.std(accuracy):.3f} | - | - | {same:.3f} / {cross:.3f} |"
        )
    return rows


def distillation_part(variant, seeds):
    """Rows of teacher and student accuracy (%) for one variant."""
    members = {
        "teacher": GKEDMClassifier(hidden_dims=(256,), gkedm_scoring="cosine"),
        "student": GKEDMClassifier(hidden_dims=(16,), gkedm_scoring="cosine", schedule="joint"),
    }
    terms = {
        "student alone": {"attention_weight": 0.0, "soft_label_weight": 0.0},
        "+ attention": {"attention_weight": 1.0, "soft_label_weight": 0.0},
        "+ soft labels": {"attention_weight": 0.0},
        "+ both": {"attention_weight": 1.0},
    }
    rows = []
    for name in ("cora", "citeseer"):
        data = fetch_planetoid(name)
        X, y, train, test = data.X, data.y, data.train_index, data.test_index
        scores = {"teacher": [], **{term: [] for term in terms}}
        for seed in range(seeds):
            first = DistilledGCNClassifier(random_state=seed, **members, **terms["+ attention"])
            first.fit(X[train], y[train])
            scores["teacher"].append(first.teacher_.score(X[test], y[test]))
            scores["+ attention"].append(first.score(X[test], y[test]))
            frozen = {**members, "teacher": FrozenEstimator(first.teacher_)}
            for term, weights in terms.items():
                if term != "+ attention":
                    student = DistilledGCNClassifier(random_state=seed, **frozen, **weights)
                    scores[term].append(student.fit(X[train], y[train]).score(X[test], y[test]))
        alone = 100 * np.mean(scores["student alone"])
        cells = [
            f"{100 * np.mean(v):.1f} ± {100 * np.std(v):.1f}"
            + (
                ""
                if term in ("teacher", "student alone")
                else f" ({100 * np.mean(v) - alone:+.1f})"
            )
            for term, v in scores.items()
        ]
        rows.append(f"| {variant} | {name} | " + " | ".join(cells) + " |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--part", choices=["models", "distillation", "both"], default="both")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    if args.part in ("models", "both"):
        print("| variant | data | test accuracy | learned beta | entropy / uniform | "
              "same / cross-class edge weight |")  # fmt: skip
        print("|---|---|---|---|---|---|", flush=True)
        for variant, options in VARIANTS.items():
            with cosine_variant(*options):
                print("\n".join(models_part(variant, args.seeds)), flush=True)
    if args.part in ("distillation", "both"):
        print(
            "\n| variant | data | teacher | student alone | + attention | + soft labels | + both |"
        )
        print("|---|---|---|---|---|---|---|", flush=True)
        for variant in DISTILLATION_VARIANTS:
            with cosine_variant(*VARIANTS[variant]):
                print("\n".join(distillation_part(variant, args.seeds)), flush=True)


if __name__ == "__main__":
    main()
