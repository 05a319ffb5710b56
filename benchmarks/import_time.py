"""Time to first prediction: import time, load-and-predict time, and when n_jobs pays off.

Every timing runs in a fresh Python process, as a script, a notebook kernel or a joblib
worker starts. The table gives median and minimum over ``--repeats`` processes of:

- ``import torch``, ``import torch_geometric``, ``import skgkedm`` (which loads no
  heavy dependency) and ``from skgkedm import GKEDMClassifier`` (the first use of a
  public name, which imports torch and scikit-learn), the statement only, not the
  interpreter's start; whether that first use loaded PyTorch Geometric, and, from
  separate runs under ``python -X importtime`` (which slows imports down), the
  cumulative time of each heavy package that first use pulled in (scikit-learn's
  includes the SciPy modules it loads);
- loading a fitted ``GKEDMClassifier`` (saved with joblib, fitted here first on a
  generated graph) and its first ``predict`` on that graph;
- a 12-fit ``GridSearchCV`` (4 candidates, 3 folds, ``refit=False``) on a generated
  graph with ``n_jobs=1`` and ``n_jobs=2``, for each ``--grid-epochs`` (the option
  alone skips them): the process's first search, whose loky workers start and import
  everything (and whose first fit loads PyTorch Geometric), then a second, identical
  search in the same process, which reuses the workers.

    OMP_NUM_THREADS=1 python benchmarks/import_time.py \
        [--repeats 5] [--grid-repeats 3] [--grid-nodes 1000] [--grid-epochs 20 200] \\
        [--output benchmarks/results/import_time.json]

``--output`` writes the rows, the command, versions and the load average before and
after the run as JSON.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import joblib
import numpy as np
from _record import machine, versions, write_record

from skgkedm import GKEDMClassifier
from skgkedm.datasets import make_node_classification

HEAVY_PACKAGES = ("torch", "torch_geometric", "sklearn", "networkx")
WIDTH = 48

IMPORT_CODE = """
import time
started = time.perf_counter()
{statement}
seconds = time.perf_counter() - started
import json, sys
print(json.dumps({{"seconds": seconds, "pyg_loaded": "torch_geometric" in sys.modules}}))
"""

PREDICT_CODE = """
import time
started = time.perf_counter()
import joblib
model = joblib.load({model!r})
X = joblib.load({data!r})
loaded = time.perf_counter()
import sys
pyg_at_load = "torch_geometric" in sys.modules
model.predict(X)
predicted = time.perf_counter()
import json
result = {{"load": loaded - started, "predict": predicted - loaded, "pyg_at_load": pyg_at_load}}
print(json.dumps(result))
"""

GRID_CODE = """
import json, time
from sklearn.model_selection import GridSearchCV
from skgkedm import GKEDMClassifier
from skgkedm.datasets import make_node_classification
X, y = make_node_classification({n_nodes}, random_state=0)
grid = {{"hidden_dims": [(16,), (32,)], "learning_rate": [0.01, 0.05]}}
model = GKEDMClassifier(max_epochs={epochs}, device="cpu", random_state=0)
search = GridSearchCV(model, grid, cv=3, n_jobs={n_jobs}, refit=False)
seconds = []
for _ in range(2):
    started = time.perf_counter()
    search.fit(X, y)
    seconds.append(time.perf_counter() - started)
print(json.dumps({{"first": seconds[0], "second": seconds[1]}}))
"""


def run_fresh(code, *options):
    """Run ``code`` in a fresh interpreter; return its printed JSON and its stderr."""
    done = subprocess.run(
        [sys.executable, *options, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def cumulative_import_seconds(importtime_log):
    """Cumulative import time of each heavy package, from ``-X importtime`` output."""
    seconds = {}
    for line in importtime_log.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[1].strip().isdigit():
            name = fields[2].strip()
            if name in HEAVY_PACKAGES and name not in seconds:
                seconds[name] = int(fields[1]) / 1e6
    return seconds


def show(rows):
    """Print (what, value) rows as a table body; returns the rows."""
    for name, value in rows:
        print(f"{name:<{WIDTH}}  {value}", flush=True)
    return rows


def summary(values):
    """'median (min)' in seconds."""
    return f"{np.median(values):.2f} ({np.min(values):.2f})"


def time_imports(repeats):
    """Rows for the imports: torch, PyG and skgkedm alone, and skgkedm's heavy parts."""
    rows = []
    statements = (
        "import torch",
        "import torch_geometric",
        "import skgkedm",
        # The first use of a public name imports torch and scikit-learn.
        "from skgkedm import GKEDMClassifier",
    )
    for statement in statements:
        runs = [run_fresh(IMPORT_CODE.format(statement=statement))[0] for _ in range(repeats)]
        rows.append((statement, summary([r["seconds"] for r in runs])))
    pyg_loaded = {r["pyg_loaded"] for r in runs}
    rows.append(("  which loads torch_geometric", ", ".join(map(str, sorted(pyg_loaded)))))
    logs = [
        run_fresh(IMPORT_CODE.format(statement=statements[-1]), "-X", "importtime")[1]
        for _ in range(repeats)
    ]
    breakdown = [cumulative_import_seconds(log) for log in logs]
    for package in HEAVY_PACKAGES:
        times = [b[package] for b in breakdown if package in b]
        if times:
            rows.append((f"  of which {package} (-X importtime)", summary(times)))
    return rows


def time_load_and_predict(repeats, folder):
    """Rows for loading a fitted model with joblib and its first predict."""
    X, y = make_node_classification(1000, random_state=0)
    model = GKEDMClassifier(max_epochs=20, device="cpu", random_state=0).fit(X, y)
    model_path, data_path = str(folder / "model.joblib"), str(folder / "X.joblib")
    joblib.dump(model, model_path)
    joblib.dump(X, data_path)
    code = PREDICT_CODE.format(model=model_path, data=data_path)
    runs = [run_fresh(code)[0] for _ in range(repeats)]
    pyg_at_load = ", ".join(map(str, sorted({r["pyg_at_load"] for r in runs})))
    return [
        ("joblib.load model + X (imports skgkedm)", summary([r["load"] for r in runs])),
        ("  loads torch_geometric", pyg_at_load),
        ("first predict (1,000 nodes)", summary([r["predict"] for r in runs])),
        ("load + first predict", summary([r["load"] + r["predict"] for r in runs])),
    ]


def time_grid_search(repeats, n_nodes, epochs):
    """Rows for a first and a second 12-fit grid search with n_jobs=1 and 2."""
    rows, medians = [], {}
    for n_jobs in (1, 2):
        code = GRID_CODE.format(n_nodes=n_nodes, epochs=epochs, n_jobs=n_jobs)
        runs = [run_fresh(code)[0] for _ in range(repeats)]
        for search in ("first", "second"):
            seconds = [r[search] for r in runs]
            medians[search, n_jobs] = np.median(seconds)
            name = f"GridSearchCV, {epochs} epochs, n_jobs={n_jobs}, {search} search"
            rows.append((name, summary(seconds)))
    for search in ("first", "second"):
        ratio = medians[search, 1] / medians[search, 2]
        rows.append((f"  n_jobs=2 speed-up, {search} search", f"{ratio:.2f}x"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grid-repeats", type=int, default=3)
    parser.add_argument("--grid-nodes", type=int, default=1000)
    parser.add_argument(
        "--grid-epochs",
        type=int,
        nargs="*",
        default=[20, 200],
        help="max_epochs of each grid search timed; none skips the grid searches",
    )
    parser.add_argument("--output", type=Path, help="write the rows as JSON to this file")
    args = parser.parse_args()
    load_before = os.getloadavg()
    print(f"{'what':<{WIDTH}}  seconds: median (min)")
    rows = time_imports(args.repeats)
    show(rows)
    with tempfile.TemporaryDirectory() as folder:
        rows += show(time_load_and_predict(args.repeats, Path(folder)))
    for epochs in args.grid_epochs:
        rows += show(time_grid_search(args.grid_repeats, args.grid_nodes, epochs))
    record = {
        "command": shlex.join(["python", *sys.argv]),
        "versions": versions(),
        "machine": machine(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "rows": rows,
    }
    write_record(args.output, record)


if __name__ == "__main__":
    main()
