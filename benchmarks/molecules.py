"""Molecules as samples: skgkedm's graph estimators against kernel, fingerprint and PyG anchors.

Three tasks on the molecule sets shipped with skgkedm (needs RDKit):

- ``solubility-classes``: the three solubility classes, the given train/test split
  (1,025/257 molecules); test accuracy;
- ``solubility-logS``: log solubility on the same split; test RMSE;
- ``freesolv``: hydration free energy (kcal/mol), a random 80/20 split per seed (split
  seed = model seed); test RMSE.

Methods, each fitted once per seed (0, 1, ...) and task, alternately in this one process:

- ``WL kernel + SVM``: GraKeL's Weisfeiler-Lehman subtree kernel (4 iterations,
  normalised, vertex histogram) on atom symbols and bonds, with ``SVC(C=1)`` or
  ``SVR(C=1, epsilon=0.1)`` (on standardised targets) on the precomputed kernel; skipped
  with a note if GraKeL is not installed (``pip install grakel``). Deterministic: the
  seeds change only FreeSolv's split;
- ``Morgan FP + forest``: RDKit Morgan fingerprints (radius 2, 2048 bits) and a
  500-tree random forest (``random_state=seed``, one job);
- ``PyG GIN loop``: PyTorch Geometric's standard mini-batch loop with skgkedm's default
  architecture and budget: ``from_smiles`` graphs with the same one-hot atom features
  as ``GraphList.from_smiles``, ``DataLoader(batch_size=64, shuffle=True)``, 3
  ``GINConv`` (2-layer MLP, width 64) with ReLU, ``global_add_pool``, a
  Linear-ReLU-Linear head, Adam (lr 0.005), 100 epochs, cross-entropy or MSE on
  standardised targets, ``torch.manual_seed(seed)``. It runs on one torch thread
  (``--pyg-threads``): on a busy machine torch's default thread count made its epochs
  tens of times slower (skgkedm picks its own thread count);
- ``skgkedm default``: ``GKEDMGraphClassifier`` / ``GKEDMGraphRegressor`` with
  ``random_state=seed`` only (the default backbone, GKEDM on), on
  ``GraphList.from_smiles(smiles, bond_features=False)``: the atom features and bonds
  the PyG loop sees, without bond features (``benchmarks/edge_features.py`` measures
  those);
- ``skgkedm <backbone>, GKEDM on/off`` for gcn, sage, gat and gin (all else default;
  the default backbone with GKEDM on is the default row). ``--quick``: gin only.

Every graph representation is built once per dataset and timed once. Prints, per task,
the test metric (mean ± std over seeds), seconds per fit and per predict; then the
GKEDM on/off changes; then a speed table: seconds per epoch (median fit time / epochs)
of skgkedm and the PyG loop on the solubility training set, with each one's graph
preparation time (SMILES to GraphList, SMILES to PyG ``Data`` list); the PyG loop both
as in the task tables and, over ``--speed-epochs`` epochs of one fit, at torch's
default thread count (OMP_NUM_THREADS is left alone). Writes everything to
``benchmarks/results/molecules.json``.

    python benchmarks/molecules.py [--seeds 5] [--quick] \
        [--tasks solubility-classes solubility-logS freesolv] [--pyg-threads 1] \
        [--speed-epochs 5] [--epochs 100]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import rdkit
import sklearn
import torch
import torch_geometric
from _pyg_gin import fit_reference_gin, score, standardiser
from _record import versions
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC, SVR
from torch.nn import functional as F
from torch_geometric.data import Data
from torch_geometric.utils import from_smiles
from torch_geometric.utils.smiles import x_map

from skgkedm import GKEDMGraphClassifier, GKEDMGraphRegressor, GraphList
from skgkedm.datasets import load_freesolv, load_solubility

try:
    import grakel
    from grakel import Graph as GrakelGraph
    from grakel.kernels import VertexHistogram, WeisfeilerLehman
except ImportError as error:  # reported in the output, the method is skipped
    GRAKEL_MISSING = f"{type(error).__name__}: {error}"
else:
    GRAKEL_MISSING = None

RESULTS = Path(__file__).parent / "results" / "molecules.json"
TASKS = {
    "solubility-classes": {"dataset": "solubility", "target": "y", "metric": "accuracy"},
    "solubility-logS": {"dataset": "solubility", "target": "y_continuous", "metric": "RMSE"},
    "freesolv": {"dataset": "freesolv", "target": "y", "metric": "RMSE"},
}
BACKBONES = ("gcn", "sage", "gat", "gin")
DEFAULT_BACKBONE = GKEDMGraphClassifier().backbone


# --- graph representations, each built once per dataset --------------------------------


def rdkit_molecules(smiles):
    from rdkit import Chem

    return [Chem.MolFromSmiles(text) for text in smiles]


def build_wl_graphs(smiles):
    """GraKeL graphs: atoms labelled by their symbol, bonds as edges."""
    graphs = []
    for molecule in rdkit_molecules(smiles):
        adjacency = {atom.GetIdx(): [] for atom in molecule.GetAtoms()}
        for bond in molecule.GetBonds():
            begin, end = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            adjacency[begin].append(end)
            adjacency[end].append(begin)
        labels = {atom.GetIdx(): atom.GetSymbol() for atom in molecule.GetAtoms()}
        graphs.append(GrakelGraph(adjacency, node_labels=labels))
    return graphs


def build_morgan(smiles):
    """Morgan fingerprints, radius 2, 2048 bits, as a (n_molecules, 2048) uint8 matrix."""
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return np.stack([generator.GetFingerprintAsNumPy(m) for m in rdkit_molecules(smiles)])


def one_hot_atoms(codes):
    """PyG's (n_atoms, 9) atom category codes, one-hot per column: GraphList's features."""
    widths = [len(categories) for categories in x_map.values()]
    blocks = [F.one_hot(codes[:, i], width) for i, width in enumerate(widths)]
    return torch.cat(blocks, dim=1).float()


def build_pyg(smiles):
    """One PyG ``Data`` per molecule: ``from_smiles``, its x one-hot encoded."""
    graphs = []
    for text in smiles:
        data = from_smiles(str(text))
        graphs.append(Data(x=one_hot_atoms(data.x), edge_index=data.edge_index))
    return graphs


def build_representations(smiles):
    """Every method's input for these molecules, and the seconds each took to build."""
    builders = {
        # Without bond features, as the PyG loop: benchmarks/edge_features.py compares them.
        "GraphList": lambda: GraphList.from_smiles(smiles, bond_features=False),
        "PyG Data list": lambda: build_pyg(smiles),
        "Morgan fingerprints": lambda: build_morgan(smiles),
    }
    if GRAKEL_MISSING is None:
        builders["GraKeL graphs"] = lambda: build_wl_graphs(smiles)
    representations, seconds = {}, {}
    for name, build in builders.items():
        started = time.perf_counter()
        representations[name] = build()
        seconds[name] = time.perf_counter() - started
    check_same_features(representations["GraphList"], representations["PyG Data list"])
    return representations, seconds


def check_same_features(graph_list, pyg_graphs):
    """The PyG loop and skgkedm see the same atom features and the same bonds."""
    adjacency, features, offsets = graph_list.stacked()
    pyg_features = torch.cat([data.x for data in pyg_graphs]).numpy()
    assert np.array_equal(np.asarray(features.todense()), pyg_features)
    assert adjacency.nnz == sum(data.edge_index.shape[1] for data in pyg_graphs)
    assert offsets[-1] == len(pyg_features)


# --- methods: each returns (predictions, fit seconds, predict seconds, epochs or None) -----


def fit_wl(reps, train, test, y, classification, seed):
    graphs = reps["GraKeL graphs"]
    started = time.perf_counter()
    kernel = WeisfeilerLehman(n_iter=4, normalize=True, base_graph_kernel=VertexHistogram)
    train_kernel = kernel.fit_transform([graphs[i] for i in train])
    if classification:
        model, back = SVC(C=1.0, kernel="precomputed"), None
        model.fit(train_kernel, y)
    else:
        model = SVR(C=1.0, epsilon=0.1, kernel="precomputed")
        scaled, back = standardiser(y)
        model.fit(train_kernel, scaled)
    fitted = time.perf_counter()
    predicted = model.predict(kernel.transform([graphs[i] for i in test]))
    if back is not None:
        predicted = back(predicted)
    return predicted, fitted - started, time.perf_counter() - fitted, None


def fit_forest(reps, train, test, y, classification, seed):
    fingerprints = reps["Morgan fingerprints"]
    forest = RandomForestClassifier if classification else RandomForestRegressor
    model = forest(n_estimators=500, random_state=seed, n_jobs=1)
    started = time.perf_counter()
    model.fit(fingerprints[train], y)
    fitted = time.perf_counter()
    predicted = model.predict(fingerprints[test])
    return predicted, fitted - started, time.perf_counter() - fitted, None


def fit_pyg(reps, train, test, y, classification, seed, epochs, threads=None):
    """The PyG loop, with ``threads`` torch threads (None: leave torch's setting)."""
    caller = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        predicted, fit_seconds, predict_seconds = fit_reference_gin(
            reps["PyG Data list"], train, test, y, classification, seed, epochs
        )
        return predicted, fit_seconds, predict_seconds, epochs
    finally:
        torch.set_num_threads(caller)


def fit_skgkedm(reps, train, test, y, classification, seed, params):
    graphs = reps["GraphList"]
    estimator = GKEDMGraphClassifier if classification else GKEDMGraphRegressor
    model = estimator(random_state=seed, **params)
    started = time.perf_counter()
    model.fit(graphs[train], y)
    fitted = time.perf_counter()
    predicted = model.predict(graphs[test])
    return predicted, fitted - started, time.perf_counter() - fitted, model.n_iter_


def methods(args):
    """Name -> fit function ``(reps, train, test, y_train, classification, seed)``."""
    epochs = {} if args.epochs == 100 else {"max_epochs": args.epochs}
    found = {}
    if GRAKEL_MISSING is None:
        found["WL kernel + SVM"] = fit_wl
    found["Morgan FP + forest"] = fit_forest
    threads = args.pyg_threads or None
    found["PyG GIN loop"] = lambda *a: fit_pyg(*a, epochs=args.epochs, threads=threads)
    found["skgkedm default"] = lambda *a: fit_skgkedm(*a, params=epochs)
    for backbone in ("gin",) if args.quick else BACKBONES:
        for gkedm in (True, False):
            if backbone == DEFAULT_BACKBONE and gkedm:
                continue  # the default
            params = {"backbone": backbone, "gkedm": gkedm, **epochs}
            name = f"skgkedm {backbone}, GKEDM {'on' if gkedm else 'off'}"
            found[name] = lambda *a, params=params: fit_skgkedm(*a, params=params)
    return found


# --- running and reporting ------------------------------------------------------------------


def split(task, data, seed):
    if "train_index" in data:
        return data.train_index, data.test_index
    return train_test_split(np.arange(len(data.smiles)), test_size=0.2, random_state=seed)


def mean_std(values, digits=3):
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def run_task(name, task, data, reps, fits, seeds):
    """Per method: metric, fit and predict seconds, epochs, per seed."""
    results = {
        method: {"metric": [], "fit_s": [], "predict_s": [], "epochs": []} for method in fits
    }
    y_all = np.asarray(data[task["target"]])
    classification = task["metric"] == "accuracy"
    for seed in seeds:
        train, test = split(task, data, seed)
        for method, fit in fits.items():
            predicted, fit_s, predict_s, epochs = fit(
                reps, train, test, y_all[train], classification, seed
            )
            entry = results[method]
            entry["metric"].append(score(task["metric"], y_all[test], predicted))
            entry["fit_s"].append(fit_s)
            entry["predict_s"].append(predict_s)
            entry["epochs"].append(epochs)
        print(f"  [{name}] seed {seed} done", flush=True)
    return results


def print_task(name, task, results):
    better = "higher" if task["metric"] == "accuracy" else "lower"
    print(f"\n### {name}: test {task['metric']} ({better} is better)\n")
    print(f"| method | {task['metric']} | fit s | predict s |")
    print("|---|---|---|---|")
    for method, entry in results.items():
        print(
            f"| {method} | {mean_std(entry['metric'])} | {np.mean(entry['fit_s']):.2f} | "
            f"{np.mean(entry['predict_s']):.3f} |"
        )


def print_gkedm_effect(all_results, backbones):
    print("\n### GKEDM on vs off (mean over seeds; change = on - off)\n")
    print("| task | backbone | GKEDM on | GKEDM off | change |")
    print("|---|---|---|---|---|")
    for name, results in all_results.items():
        for backbone in backbones:
            on = results[
                "skgkedm default"
                if backbone == DEFAULT_BACKBONE
                else f"skgkedm {backbone}, GKEDM on"
            ]
            off = results[f"skgkedm {backbone}, GKEDM off"]
            change = np.mean(on["metric"]) - np.mean(off["metric"])
            print(
                f"| {name} | {backbone} | {mean_std(on['metric'])} | "
                f"{mean_std(off['metric'])} | {change:+.3f} |"
            )


def speed_table(results, extra, preparation, n_molecules, pyg_threads):
    """Seconds per epoch on the solubility training set, from the classification fits.

    ``extra`` is a PyG loop entry at torch's default thread count when the task fits ran
    it with a set number of threads, else None.
    """
    default_threads = torch.get_num_threads()
    rows = []
    if extra is not None:
        rows.append(("PyG GIN loop", f"{default_threads} (torch default)", extra, "PyG Data list"))
    label = f"{default_threads} (torch default)" if pyg_threads == 0 else str(pyg_threads)
    rows.append(("PyG GIN loop", label, results["PyG GIN loop"], "PyG Data list"))
    # The default, and skgkedm with the PyG loop's architecture (GIN), with and without GKEDM.
    same_architecture = ["skgkedm gin, GKEDM off"]
    if DEFAULT_BACKBONE != "gin":
        same_architecture.insert(0, "skgkedm gin, GKEDM on")
    for method in ("skgkedm default", *same_architecture):
        if method in results:
            rows.append((method, "skgkedm's policy", results[method], "GraphList"))
    table = []
    for method, threads, entry, representation in rows:
        per_epoch = np.array(entry["fit_s"]) / np.array(entry["epochs"])
        table.append(
            {
                "method": method,
                "torch_threads": threads,
                "preparation": representation,
                "preparation_s": preparation[representation],
                "s_per_epoch": float(np.median(per_epoch)),
                "epochs": int(np.median(entry["epochs"])),
                "fits": len(per_epoch),
            }
        )
    pyg = [row["s_per_epoch"] for row in table if row["method"] == "PyG GIN loop"]
    print("\n### Speed: solubility training set (1,025 molecules), classification fits\n")
    print(
        f"| method | torch threads | graph preparation ({n_molecules} molecules) | s "
        "| s per epoch (median) | epochs | fits | "
        + " | ".join(f"speed-up vs PyG row {k + 1}" for k in range(len(pyg)))
        + " |"
    )
    print("|---|---|---|---|---|---|---|" + "---|" * len(pyg))
    for row in table:
        row["speed_up_vs_pyg_rows"] = [reference / row["s_per_epoch"] for reference in pyg]
        ratios = " | ".join(f"{ratio:.2f}x" for ratio in row["speed_up_vs_pyg_rows"])
        print(
            f"| {row['method']} | {row['torch_threads']} | {row['preparation']} | "
            f"{row['preparation_s']:.2f} | {row['s_per_epoch']:.4f} | "
            f"{row['epochs']} | {row['fits']} | {ratios} |"
        )
    return table


def pyg_at_default_threads(data, reps, epochs):
    """One PyG loop fit (seed 0) at torch's default thread count: solubility classes."""
    y = np.asarray(data.y)
    _, fit_s, _, _ = fit_pyg(
        reps, data.train_index, data.test_index, y[data.train_index], True, 0, epochs
    )
    return {"fit_s": [fit_s], "epochs": [epochs]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="model seeds 0..N-1")
    parser.add_argument("--quick", action="store_true", help="GKEDM on/off for gin only")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument(
        "--epochs", type=int, default=100, help="epochs of the GNNs (100: their defaults)"
    )
    parser.add_argument(
        "--pyg-threads",
        type=int,
        default=1,
        help="torch threads of the PyG loop in the task tables (0: torch's default); "
        "with a number, the speed table adds a short PyG fit at torch's default",
    )
    parser.add_argument(
        "--speed-epochs", type=int, default=5, help="epochs of that short default-thread fit"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"torch {torch.__version__}, torch_geometric {torch_geometric.__version__}, "
        f"scikit-learn {sklearn.__version__}, torch threads: {torch.get_num_threads()}, "
        f"seeds: {args.seeds}, GNN epochs: {args.epochs}"
    )
    if GRAKEL_MISSING is not None:
        print(f"NOTE: GraKeL is not importable ({GRAKEL_MISSING}); WL kernel skipped.")

    datasets = {"solubility": load_solubility(), "freesolv": load_freesolv()}
    used = {TASKS[name]["dataset"] for name in args.tasks}
    representations, preparation = {}, {}
    for dataset in sorted(used):
        representations[dataset], preparation[dataset] = build_representations(
            datasets[dataset].smiles
        )
    print("\n### Graph preparation (seconds, built once per dataset)\n")
    names = list(next(iter(preparation.values())))
    print("| dataset | molecules | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for dataset, seconds in preparation.items():
        cells = " | ".join(f"{seconds[name]:.2f}" for name in names)
        print(f"| {dataset} | {len(datasets[dataset].smiles)} | {cells} |")

    fits = methods(args)
    all_results = {}
    for name in args.tasks:
        task = TASKS[name]
        data = datasets[task["dataset"]]
        all_results[name] = run_task(
            name, task, data, representations[task["dataset"]], fits, range(args.seeds)
        )
    for name, results in all_results.items():
        print_task(name, TASKS[name], results)
    backbones = ("gin",) if args.quick else BACKBONES
    print_gkedm_effect(all_results, backbones)
    speed = None
    if "solubility-classes" in all_results:
        extra = None
        if args.pyg_threads:
            extra = pyg_at_default_threads(
                datasets["solubility"], representations["solubility"], args.speed_epochs
            )
        speed = speed_table(
            all_results["solubility-classes"],
            extra,
            preparation["solubility"],
            len(datasets["solubility"].smiles),
            args.pyg_threads,
        )
    wall = time.perf_counter() - started
    print(f"\nwall time: {wall:.0f} s")

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python benchmarks/molecules.py "
                + f"--seeds {args.seeds}"
                + (" --quick" if args.quick else "")
                + (f" --pyg-threads {args.pyg_threads}" if args.pyg_threads != 1 else ""),
                "versions": versions(
                    rdkit=rdkit.__version__,
                    grakel=None if GRAKEL_MISSING else grakel.__version__,
                ),
                "torch_threads": torch.get_num_threads(),
                "seeds": args.seeds,
                "gnn_epochs": args.epochs,
                "pyg_threads_in_tasks": args.pyg_threads or "torch default",
                "grakel_missing": GRAKEL_MISSING,
                "preparation_s": preparation,
                "tasks": {
                    name: {"metric": TASKS[name]["metric"], "methods": results}
                    for name, results in all_results.items()
                },
                "speed": speed,
                "wall_s": wall,
            },
            indent=1,
        )
    )
    print(f"results written to {RESULTS}")


if __name__ == "__main__":
    main()
