"""What ``gkedm_check`` costs: CPU seconds of a default fit, for two checkouts of skgkedm.

Runs one default ``GKEDMClassifier`` fit per data set and seed (60 % of the nodes
labelled, as ``gkedm_accuracy.py --suite musae``) in a fresh process per checkout,
with one torch thread, and reports process CPU seconds (not wall time: the machine
is shared, and CPU time is what a fit costs however loaded it is)::

    SKGKEDM_DATA=/abs/path python benchmarks/check_cost.py --before /path/to/old/checkout \\
        --datasets chameleon facebook --seeds 2 \\
        --output benchmarks/results/gkedm_accuracy/check-cost.json
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = """
import sys, time, json
import numpy as np, torch
torch.set_num_threads(1)
from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_musae
name, seed = sys.argv[1], int(sys.argv[2])
data = fetch_musae(name, target="classes" if name in ("chameleon", "squirrel") else None)
order = np.random.default_rng(seed).permutation(len(data.y))
train = order[: int(0.6 * len(order))]
started = time.process_time()
model = GKEDMClassifier(random_state=seed).fit(data.X[train], data.y[train])
print(json.dumps({"cpu_seconds": time.process_time() - started,
                  "choice": getattr(model, "gkedm_check_choice_", None),
                  "n_iter": model.n_iter_}))
"""


def cost(checkout, name, seed):
    environment = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(seed)],
        env=environment, capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout to compare")
    parser.add_argument("--datasets", nargs="+", default=["chameleon", "facebook"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    record = {"command": "python " + shlex.join(sys.argv), "groups": []}
    print("| data set | before (CPU s) | this checkout (CPU s) | ratio | choices |")
    print("|---|---|---|---|---|", flush=True)
    for name in args.datasets:
        before, after = [], []
        for seed in range(args.seeds):  # alternate, so drifts in load hit both alike
            before.append(cost(args.before, name, seed))
            after.append(cost(here, name, seed))
        old = np.mean([run["cpu_seconds"] for run in before])
        new = np.mean([run["cpu_seconds"] for run in after])
        choices = [run["choice"] for run in after]
        record["groups"].append({"dataset": name, "before": before, "after": after})
        print(f"| {name} | {old:.1f} | {new:.1f} | {new / old:.2f} | {choices} |", flush=True)
    if args.output:
        args.output.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
