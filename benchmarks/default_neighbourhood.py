"""The default's neighbourhood: one setting changed at a time, chosen on validation nodes.

Issue #24 asks the default ``GKEDMClassifier`` to score at least PyG's APPNP on Cora
and CiteSeer; over 30 seeds it is 0.3 points behind on Cora. This fits the default and
variants that change one of its settings (more epochs, a wider MLP, more hops, a
lighter or heavier consistency loss, less weight decay) on the public Planetoid splits,
seeds 0 to ``--seeds`` - 1, one torch thread, and prints each variant's mean accuracy
on the 500 **validation** nodes (what a choice may use; the default never sees them)
and on the test nodes, with its difference from the default. A variant worth a
default change must gain on validation on both data sets first; its test figures are
printed for the record, not for choosing.

::

    SKGKEDM_DATA=/abs/path python benchmarks/default_neighbourhood.py [--seeds 10] \\
        [--variants default "300 epochs" ...] [--output FILE.json]
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _record import machine, versions, write_record

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid

VARIANTS = {
    "default": {},
    "300 epochs": {"max_epochs": 300},
    "hidden 128": {"hidden_dims": (128,)},
    "16 hops": {"gkedm_hops": 16},
    "alpha 0.2": {"gkedm_alpha": 0.2},
    "consistency 0.5": {"consistency": 0.5},
    "consistency 2": {"consistency": 2.0},
    "weight decay 1e-3": {"weight_decay": 1e-3},
    "learning rate 0.02": {"learning_rate": 0.02},
}


def scores(data, options, seed):
    """Validation and test accuracy of one fit on the public training nodes."""
    model = GKEDMClassifier(random_state=seed, **options)
    model.fit(data.X[data.train_index], data.y[data.train_index])
    predicted = model.predict(data.X)
    return [
        float(np.mean(predicted[index] == data.y[index]))
        for index in (data.val_index, data.test_index)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--output", type=Path, help="write every seed's scores here (JSON)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = ["default", *(name for name in args.variants if name != "default")]
    record = {
        "command": "python " + shlex.join(sys.argv),
        "versions": versions(),
        "machine": machine(),
        "seeds": args.seeds,
        "rows": [],
    }
    print("| data set | variant | validation | vs default | test | vs default | CPU s/fit |")
    print("|---|---|---|---|---|---|---|")
    for dataset in ("cora", "citeseer"):
        data = fetch_planetoid(dataset)
        reference = None
        for name in names:
            started = time.process_time()
            runs = np.array([scores(data, VARIANTS[name], seed) for seed in range(args.seeds)])
            seconds = (time.process_time() - started) / args.seeds
            mean = runs.mean(axis=0)
            reference = mean if reference is None else reference
            gain = 100 * (mean - reference)
            print(
                f"| {dataset} | {name} | {mean[0]:.3f} | {gain[0]:+.1f} | {mean[1]:.3f} | "
                f"{gain[1]:+.1f} | {seconds:.1f} |",
                flush=True,
            )
            record["rows"].append(
                {"dataset": dataset, "variant": name, "validation": runs[:, 0].tolist(),
                 "test": runs[:, 1].tolist(), "cpu_seconds_per_fit": seconds}
            )  # fmt: skip
    write_record(args.output, record)


if __name__ == "__main__":
    main()
