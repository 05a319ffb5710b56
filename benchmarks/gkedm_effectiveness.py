"""Does GKEDM improve its backbone? Plain, GKEDM, parameter-matched and joint arms.

For every backbone and dataset (Planetoid public split: fit on ``train_index``, score
on ``test_index``, no model selection on the validation nodes) and every seed, fits:

- ``plain``: the backbone alone (``gkedm=False``);
- ``gkedm``: backbone + GKEDM with the package defaults (plus any ``--set`` options);
- ``matched``: the backbone alone, its hidden layer widened until it has as many
  parameters as the ``gkedm`` arm (separates attention from extra parameters);
- ``joint``: the ``gkedm`` arm trained jointly instead of with the paper's two-phase
  schedule (the default);
- one arm per ``--variant NAME:key=value,...`` (the ``gkedm`` arm with those options),
  for exploring the design space.

In ``--set`` and ``--variant`` options, the item ``PAPER_GKEDM`` stands for the paper's
module, ``skgkedm.PAPER_GKEDM`` (``--variant paper:PAPER_GKEDM``).

Prints one row per (dataset, backbone, arm) with test accuracy mean ± std, its change
from ``plain``, parameters and ms per epoch, then the change averaged over datasets.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/gkedm_effectiveness.py \
        [--datasets cora citeseer] [--backbones gcn sage gat gin] [--seeds 10] \
        [--arms plain gkedm matched joint] [--set gkedm_heads=8] \
        [--variant cosine:gkedm_scoring=cosine] [--n-jobs 2]
"""

import argparse
import ast
import time

import numpy as np
import torch
from joblib import Parallel, delayed

from skgkedm import PAPER_GKEDM, GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

DEFAULT_WIDTH = GKEDMClassifier().hidden_dims
BASE_ARMS = {
    "plain": {"gkedm": False},
    "gkedm": {"gkedm_scoring": "cosine", "gkedm_check": False},
    "matched": {"gkedm": False},
    "joint": {"schedule": "joint", "gkedm_scoring": "cosine", "gkedm_check": False},
}


def add_arm_options(parser):
    """Add ``--set`` (options for every GKEDM arm) and ``--variant NAME:OPTIONS`` (an arm)."""
    parser.add_argument(
        "--set", default="", help="options for every GKEDM arm, e.g. gkedm_heads=8,dropout=0.6"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:OPTIONS",
        help="an extra GKEDM arm, e.g. cosine:gkedm_scoring=cosine (repeatable)",
    )


def parse_options(text):
    """``"a=1,b=cosine"`` -> ``{"a": 1, "b": "cosine"}`` (values as Python literals).

    The item ``PAPER_GKEDM`` adds the paper's module settings, ``skgkedm.PAPER_GKEDM``.
    """
    options = {}
    for item in filter(None, text.split(",")):
        if item == "PAPER_GKEDM":
            options.update(PAPER_GKEDM)
            continue
        key, value = item.split("=", 1)
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    return options


def fit_and_score(name, params, seed):
    """Test accuracy, ms per epoch and parameter count of one fit."""
    torch.set_num_threads(1)
    data = fetch_planetoid(name)
    model = GKEDMClassifier(device="cpu", random_state=seed, **params)
    started = time.perf_counter()
    model.fit(data.X[data.train_index], data.y[data.train_index])
    ms_per_epoch = 1000 * (time.perf_counter() - started) / model.n_iter_
    accuracy = model.score(data.X[data.test_index], data.y[data.test_index])
    return accuracy, ms_per_epoch, model.n_parameters_


def fit_key(name, params, seed):
    """What identifies one fit: equal keys give equal results."""
    return name, repr(sorted(params.items())), seed


def n_parameters(name, params):
    torch.set_num_threads(1)
    data = fetch_planetoid(name)
    model = GKEDMClassifier(device="cpu", max_epochs=1, random_state=0, **params)
    return model.fit(data.X[data.train_index], data.y[data.train_index]).n_parameters_


def matched_width(name, params, target):
    """Hidden width whose plain model has the parameter count closest to ``target``."""
    step = params.get("gat_heads", 8) if params["backbone"] == "gat" else 1
    base = params.get("hidden_dims", DEFAULT_WIDTH)[-1]

    def count(width):
        return n_parameters(name, {**params, "hidden_dims": (width,)})

    low, high = base, base + step
    while count(high) < target:
        low, high = high, 2 * high - base
    while high - low > step:
        middle = low + (high - low) // (2 * step) * step
        low, high = (middle, high) if count(middle) < target else (low, middle)
    return min((low, high), key=lambda width: abs(count(width) - target))


def arm_params(arms, backbone, name, shared):
    """The estimator parameters of every arm for one backbone and dataset."""
    gkedm = {"backbone": backbone, **shared}
    plain = {k: v for k, v in gkedm.items() if not k.startswith("gkedm") and k != "schedule"}
    plain["gkedm"] = False
    params = {
        arm: dict(plain) if arm in ("plain", "matched") else {**gkedm, **options}
        for arm, options in arms.items()
    }
    if "matched" in params:
        width = matched_width(name, plain, target=n_parameters(name, gkedm))
        if width != plain.get("hidden_dims", DEFAULT_WIDTH)[-1]:
            params["matched"]["hidden_dims"] = (width,)
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--backbones", nargs="+", default=["gcn", "sage", "gat", "gin"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--arms", nargs="+", default=list(BASE_ARMS), choices=list(BASE_ARMS))
    add_arm_options(parser)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()

    shared = parse_options(args.set)
    arms = {arm: BASE_ARMS[arm] for arm in args.arms}
    for variant in args.variant:
        label, _, options = variant.partition(":")
        arms[label] = parse_options(options)
    settings = {
        (name, backbone): arm_params(arms, backbone, name, shared)
        for name in args.datasets
        for backbone in args.backbones
    }
    tasks = [
        (name, backbone, arm, seed)
        for (name, backbone), params in settings.items()
        for arm in params
        for seed in range(args.seeds)
    ]
    # Identical settings (the matched width can equal the plain one) are fitted once.
    fits = {
        fit_key(name, settings[name, backbone][arm], seed): (
            name,
            settings[name, backbone][arm],
            seed,
        )
        for name, backbone, arm, seed in tasks
    }
    outcomes = Parallel(n_jobs=args.n_jobs)(delayed(fit_and_score)(*fit) for fit in fits.values())
    outcome = dict(zip(fits, outcomes, strict=True))
    table = {}
    for name, backbone, arm, seed in tasks:
        key = fit_key(name, settings[name, backbone][arm], seed)
        table.setdefault((name, backbone, arm), []).append(outcome[key])

    print(f"torch threads per fit: 1, parallel fits: {args.n_jobs}, seeds: {args.seeds}")
    print(f"options for every GKEDM arm: {shared or 'package defaults'}\n")
    print("| dataset | backbone | arm | test accuracy | vs plain | parameters | ms/epoch |")
    print("|---|---|---|---|---|---|---|")
    gains = {}
    for (name, backbone, arm), rows in table.items():
        accuracy = np.array([row[0] for row in rows])
        plain = np.mean([row[0] for row in table.get((name, backbone, "plain"), rows)])
        gains.setdefault((backbone, arm), []).append(accuracy.mean() - plain)
        width = settings[name, backbone][arm].get("hidden_dims", DEFAULT_WIDTH)[-1]
        label = f"{arm} (width {width})" if arm == "matched" else arm
        print(
            f"| {name} | {backbone} | {label} | {accuracy.mean():.3f} ± {accuracy.std():.3f} | "
            f"{100 * (accuracy.mean() - plain):+.1f} | {rows[0][2]:,} | "
            f"{np.median([row[1] for row in rows]):.1f} |"
        )
    print(f"\nChange from plain in points, averaged over {', '.join(args.datasets)}:\n")
    print("| backbone | " + " | ".join(arms) + " |")
    print("|---|" + "---|" * len(arms))
    for backbone in args.backbones:
        cells = [f"{100 * np.mean(gains[backbone, arm]):+.2f}" for arm in arms]
        print(f"| {backbone} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
