"""Which rule should ``gkedm_check`` choose its candidate by? Rules compared offline.

For every data set and seed, one default ``GKEDMClassifier`` fit records its check's
candidates (linear, features, gkedm, plain: held-out scores and each held-out node's
correctness over the check's folds) and every candidate is then fitted on all
training labels, as the default's final fit would fit it, and scored on the test
nodes (``gkedm_accuracy.check_candidates``); the anchors ``gcn``, ``mlp`` and
``logistic`` of ``gkedm_accuracy.py`` run beside it on the same split. The splits
and loaders are ``gkedm_accuracy.py``'s: MUSAE (chameleon and squirrel with 5
traffic classes, also with duplicates removed, facebook, Twitch DE with balanced
accuracy) on random 60/20/20 splits, the generated homophily sweep with 10 %
labelled. Each rule of ``RULES`` then picks a candidate from the held-out record
alone; the table gives, per data set, the mean test score of the rule's choice
(its choices counted linear/features/gkedm/plain), its difference in points to the
best anchor (of ``gcn``, ``mlp`` and ``logistic``, the one with the highest mean
score; paired by seed, ± the standard error of the mean difference),
each candidate's mean test score, the oracle (the candidate best on the test nodes,
seed by seed) and how often the check's held-out scores order two candidates as their
test scores do.

    OMP_NUM_THREADS=1 SKGKEDM_DATA=/abs/path python benchmarks/check_rules.py --seeds 5 \\
        --musae 'chameleon filtered' 'squirrel filtered' chameleon twitch_de squirrel \\
        --homophily 0.1 0.3 0.5 0.7 0.9 \\
        --output benchmarks/results/gkedm_accuracy/check-rules.json
    python benchmarks/check_rules.py --tables benchmarks/results/gkedm_accuracy/check-rules*.json

``--tables`` prints the tables of records without fitting anything (a data set's
seeds joined across records). The committed records ran the first command in parts:
``--musae 'chameleon filtered' 'squirrel filtered' --homophily 0.1 0.3 0.5 0.7 0.9``
to ``check-rules-small.json``, ``--musae chameleon twitch_de squirrel`` to
``check-rules-rest.json``, ``--musae facebook`` to ``check-rules-facebook.json``, and
the same with ``--first-seed 5`` and ``--first-seed 10`` to ``*-seeds-5-9.json`` and
``*-seeds-10-14.json`` (seeds 10-14: not facebook). ``--check-folds 5`` runs the check
over five folds instead of two (each candidate trained on four fifths of the labels,
nearer the final fit's), an experiment (``check-rules-5-folds.json``: the filtered
sets; its rows are marked "5 folds"). A record is written after every seed, so a run
cut short keeps what it measured.
"""

import argparse
import json
import shlex
import sys
from itertools import combinations
from pathlib import Path
from unittest.mock import patch

import numpy as np
from _record import machine, versions, write_record
from gkedm_accuracy import fit_one

from skgkedm import GKEDMClassifier
from skgkedm import _gkedm_check as gkedm_check
from skgkedm._gkedm_check import standard_error

ANCHORS = ("gcn", "mlp", "logistic")
"""``gkedm_accuracy.py`` arms a default must match: the plain GCN and the features alone."""

SHIPPED = ("linear", "features", "gkedm", "plain")
"""The check's order of preference with the default's graph-free backbone."""

GCN_FIRST = ("linear", "features", "plain", "gkedm")


def first_within(order, margin, margins=None):
    """The rule: the first candidate of ``order`` within ``margin`` SEs of the best score
    (``margins``: other margins for some candidates, by name)."""

    def rule(scores, shares, weights):
        best = max(order, key=lambda name: scores[name])
        for name in order:
            error = standard_error(shares[best] - shares[name], weights)
            if scores[name] >= scores[best] - (margins or {}).get(name, margin) * error:
                return name
        raise AssertionError("the best candidate is within any margin of itself")

    return rule


def against_plain(order, margin, plain_margin):
    """``first_within(order, margin)``, but a best plain GCN must beat the others by
    ``plain_margin`` SEs (its held-out score overrates its final fit the most)."""

    def rule(scores, shares, weights):
        best = max(order, key=lambda name: scores[name])
        return first_within(order, plain_margin if best == "plain" else margin)(
            scores, shares, weights
        )

    return rule


def tiers_within(tiers, margin):
    """The first tier holding a candidate within ``margin`` SEs of the best; in it, the best."""

    def rule(scores, shares, weights):
        order = [name for tier in tiers for name in tier]
        first = first_within(order, margin)(scores, shares, weights)
        tier = next(tier for tier in tiers if first in tier)
        return max(tier, key=lambda name: (scores[name], -tier.index(name)))

    return rule


def stepwise(order, margin):
    """From the simplest, step to each richer candidate only if it beats the current one
    by more than ``margin`` SEs of their paired difference."""

    def rule(scores, shares, weights):
        current = order[0]
        for name in order[1:]:
            error = standard_error(shares[name] - shares[current], weights)
            if scores[name] > scores[current] + margin * error:
                current = name
        return current

    return rule


def recorded(scores, shares, weights):
    """Placeholder of the fit's own choice in ``RULES`` (read from the record)."""
    raise NotImplementedError


def package(scores, shares, weights):
    """The rule of the package's ``gkedm_check``, as the classifier calls it."""
    candidates = {
        name: gkedm_check.CheckCandidate(None, scores[name], shares[name]) for name in scores
    }
    margin = GKEDMClassifier._check_graph_free_standard_errors
    return gkedm_check._check_choice(candidates, weights, margin)


RULES = {
    "the fit's own choice": recorded,
    "package (graph-free 0.5 SE, the rest 1 SE)": package,
    "previous: 1 SE, l f g p": first_within(SHIPPED, 1.0),
    "best held-out": first_within(SHIPPED, 0.0),
    "0.5 SE, l f g p": first_within(SHIPPED, 0.5),
    "1.5 SE, l f g p": first_within(SHIPPED, 1.5),
    "2 SE, l f g p": first_within(SHIPPED, 2.0),
    "1 SE, l f p g (GCN before gkedm)": first_within(GCN_FIRST, 1.0),
    "1 SE, gkedm within 2 SE": first_within(SHIPPED, 1.0, {"gkedm": 2.0}),
    "0.5 SE, gkedm within 2 SE": first_within(SHIPPED, 0.5, {"gkedm": 2.0}),
    "1 SE, a best GCN by 2 SE": against_plain(SHIPPED, 1.0, 2.0),
    "1 SE, a best GCN by 1.5 SE": against_plain(SHIPPED, 1.0, 1.5),
    "0.5 SE, l f p g": first_within(GCN_FIRST, 0.5),
    "1 SE, l p f g (GCN before the MLPs)": first_within(
        ("linear", "plain", "features", "gkedm"), 1.0
    ),
    "1 SE, l f (g=p): GCN equal to gkedm": tiers_within(
        [("linear",), ("features",), ("gkedm", "plain")], 1.0
    ),
    "0.5 SE, l f (g=p)": tiers_within([("linear",), ("features",), ("gkedm", "plain")], 0.5),
    "1 SE, (l=f) (g=p)": tiers_within([("linear", "features"), ("gkedm", "plain")], 1.0),
    "stepwise 1 SE, l f g p": stepwise(SHIPPED, 1.0),
}
"""Rules that pick a candidate from the check's held-out record alone."""


def candidate_record(detail):
    """(held-out scores, per-node shares as arrays, weights) of one seed's check."""
    shares = {
        name: np.array([float(c) for c in text])
        for name, text in detail["held_out_shares"].items()
    }
    weights = detail["held_out_weights"]
    return detail["held_out"], shares, None if weights is None else np.asarray(weights)


def agreement(runs, pairs):
    """How many of ``pairs`` of candidates, over the seeds, the check's held-out scores
    order as their test scores do (ties either side count as disagreement), of how many."""
    agree = 0
    for run in runs:
        held, test = run["candidates"]["held_out"], run["candidates"]["test"]
        agree += sum((held[a] - held[b]) * (test[a] - test[b]) > 0 for a, b in pairs)
    return f"{agree}/{len(runs) * len(pairs)}"


def merged(records):
    """One record of the groups of ``records``, a data set's seeds from every record joined."""
    groups = {}
    for record in records:
        for group in record["groups"]:
            key = (group["suite"], group["dataset"], group.get("check_folds", 2))
            if key not in groups:
                groups[key] = {**group, "seeds": []}
            groups[key]["seeds"] += group["seeds"]
    return {"groups": list(groups.values())}


def group_label(group):
    """A group's data set, with its check's folds where they are not two."""
    dataset = str(group["dataset"])
    if group["suite"] == "homophily":
        dataset = f"homophily {dataset}"
    if group.get("check_folds", 2) != 2:  # the records before --check-folds: two
        dataset = f"{dataset}, {group['check_folds']} folds"
    return dataset


def rule_scores(runs, rule):
    """(choices, test scores of the choices) of ``rule`` over the seeds ``runs``."""
    if rule is recorded:
        chosen = [run["candidates"]["choice"] for run in runs]
    else:
        chosen = [rule(*candidate_record(run["candidates"])) for run in runs]
    test = np.array([run["candidates"]["test"][c] for run, c in zip(runs, chosen, strict=True)])
    return chosen, test


def best_anchor(runs):
    """The goal's bar, seed by seed: the scores of the anchor best on average over the seeds."""
    anchors = np.array([[run["anchors"][arm] for arm in ANCHORS] for run in runs])
    return anchors[:, anchors.mean(axis=0).argmax()]


def versus(test, bar):
    """Mean paired difference of ``test`` to ``bar`` in points, ± its standard error."""
    difference = 100 * (test - bar)
    error = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else np.nan
    return f"{difference.mean():+.1f} ± {error:.1f}"


def summary(record):
    """Markdown matrix: each rule's mean test score minus the best anchor's, in points."""
    groups = [group for group in record["groups"] if group["seeds"]]
    lines = [
        "| rule | " + " | ".join(group_label(group) for group in groups) + " |",
        "|---" * (len(groups) + 1) + "|",
    ]
    for rule_name, rule in RULES.items():
        cells = []
        for group in groups:
            _, test = rule_scores(group["seeds"], rule)
            cells.append(f"{100 * (test - best_anchor(group['seeds'])).mean():+.1f}")
        lines.append(f"| {rule_name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables(record):
    """Markdown table of every rule on every data set of ``record``."""
    lines = [
        "| data set | rule | test (chosen) | vs best anchor | choices l/f/g/p |",
        "|---|---|---|---|---|",
    ]
    for group in record["groups"]:
        runs = group["seeds"]
        if not runs:
            continue
        anchors = np.array([[run["anchors"][arm] for arm in ANCHORS] for run in runs])
        bar = best_anchor(runs)
        means = ", ".join(f"{arm} {anchors[:, i].mean():.3f}" for i, arm in enumerate(ANCHORS))
        dataset = group_label(group)
        name = f"{dataset} ({len(runs)} seeds)"
        lines.append(f"| {name} | anchors: {means} | {bar.mean():.3f} | | |")
        for rule_name, rule in RULES.items():
            chosen, test = rule_scores(runs, rule)
            counts = "/".join(str(chosen.count(c)) for c in SHIPPED)
            lines.append(
                f"| {dataset} | {rule_name} | {test.mean():.3f} | {versus(test, bar)} | {counts} |"
            )
        oracle = np.array([max(run["candidates"]["test"].values()) for run in runs])
        for c in SHIPPED:
            scores = np.mean([run["candidates"]["test"][c] for run in runs])
            lines.append(f"| {dataset} | candidate {c} | {scores:.3f} | | |")
        lines.append(
            f"| {dataset} | oracle (best on test) | {oracle.mean():.3f} | "
            f"{versus(oracle, bar)} | |"
        )
        every = agreement(runs, list(combinations(SHIPPED, 2)))
        graphs = agreement(runs, [("gkedm", "plain")])
        lines.append(
            f"| {dataset} | held-out order = test order | {every} pairs, "
            f"gkedm vs plain {graphs} | | |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--musae", nargs="*", default=[], help="MUSAE data sets")
    parser.add_argument("--homophily", nargs="*", type=float, default=[])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one on")
    parser.add_argument(
        "--check-folds",
        type=int,
        default=gkedm_check.CHECK_FOLDS,
        help="folds of the check's cross-validation (an experiment: the shipped value is "
        "CHECK_FOLDS)",
    )
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--tables", type=Path, nargs="+", help="print the tables of these records, fit nothing"
    )
    args = parser.parse_args()
    if args.tables is not None:
        record = merged([json.loads(path.read_text()) for path in args.tables])
        print(tables(record) + "\n\n" + summary(record))
        return
    record = {
        "command": "python " + shlex.join(sys.argv),
        "versions": versions(),
        "machine": machine(),
        "seeds": args.seeds,
        "check_folds": args.check_folds,
        "groups": [],
    }
    work = [("musae", name) for name in args.musae] + [("homophily", h) for h in args.homophily]
    for suite, dataset in work:
        group = {"suite": suite, "dataset": dataset, "check_folds": args.check_folds, "seeds": []}
        record["groups"].append(group)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            with patch.object(gkedm_check, "CHECK_FOLDS", args.check_folds):
                detail, seconds, _ = fit_one(suite, dataset, "candidates", seed)
            anchors = {arm: fit_one(suite, dataset, arm, seed)[0] for arm in ANCHORS}
            group["seeds"].append(
                {"seed": seed, "candidates": detail, "anchors": anchors, "seconds": seconds}
            )
            print(f"{dataset} seed {seed}: {seconds:.0f} s, chose {detail['choice']}", flush=True)
            write_record(args.output, record)
    print(tables(record) + "\n\n" + summary(record))


if __name__ == "__main__":
    main()
