"""Bond features on the molecule sets: skgkedm's gin and gat with and without them, and PyG.

Two tasks on the molecule sets shipped with skgkedm (needs RDKit):

- ``solubility-classes``: the three solubility classes, the given train/test split
  (1,025/257 molecules); test accuracy;
- ``freesolv``: hydration free energy (kcal/mol), a random 80/20 split per seed (split
  seed = model seed); test RMSE.

Methods, each fitted once per seed (0, 1, ...) and task, alternately in this one process:

- ``skgkedm <backbone>, bonds``: ``GKEDMGraphClassifier`` / ``GKEDMGraphRegressor``
  (``backbone=<backbone>``, ``random_state=seed``, all else default) on
  ``GraphList.from_smiles(smiles, bond_features=True)``: 177 one-hot atom features
  and 30 one-hot bond features, which ``"gin"`` uses as GINE layers and ``"gat"`` as
  GAT's edge term;
- ``skgkedm <backbone>, no bonds``: the same on ``from_smiles(smiles)`` (the
  default, without bond features);
- ``PyG GINE loop`` / ``PyG GIN loop``: PyTorch Geometric's standard mini-batch loop
  with skgkedm's default architecture and budget (as in ``benchmarks/molecules.py``):
  the same one-hot atom (and bond) features, ``DataLoader(batch_size=64,
  shuffle=True)``, 3 ``GINEConv(edge_dim=30)`` / ``GINConv`` layers (2-layer MLP, width
  64) with ReLU, ``global_add_pool``, a Linear-ReLU-Linear head, Adam (lr 0.005),
  ``--epochs`` epochs, cross-entropy or MSE on standardised targets,
  ``torch.manual_seed(seed)``, one torch thread.

Prints, per task, the test metric (mean ± std over seeds) and seconds per fit, and
writes them to ``benchmarks/results/edge_features_<backbones>.json``.

    python benchmarks/edge_features.py [--seeds 5] [--epochs 100] \
        [--tasks solubility-classes freesolv] [--backbones gin gat] [--no-pyg]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _pyg_gin import fit_reference_gin, score
from _record import versions
from sklearn.model_selection import train_test_split
from torch_geometric.data import Data

from skgkedm import GKEDMGraphClassifier, GKEDMGraphRegressor, GraphList
from skgkedm.datasets import load_freesolv, load_solubility

RESULTS = Path(__file__).parent / "results"
TASKS = {"solubility-classes": "accuracy", "freesolv": "RMSE"}


def pyg_graphs(graphs):
    """The GraphList's molecules as PyG ``Data``: the same features, bonds and bond features."""
    out = []
    for data in graphs.to_pyg():
        out.append(Data(x=data.x, edge_index=data.edge_index, edge_attr=data.edge_attr))
    return out


def fit_pyg(graphs, train, test, y, classification, seed, epochs, bonds):
    caller = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        predicted, fit_seconds, _ = fit_reference_gin(
            graphs, train, test, y, classification, seed, epochs, edge_dim=30 if bonds else None
        )
        return predicted, fit_seconds
    finally:
        torch.set_num_threads(caller)


def fit_skgkedm(graphs, train, test, y, classification, seed, backbone, epochs):
    estimator = GKEDMGraphClassifier if classification else GKEDMGraphRegressor
    params = {} if epochs == 100 else {"max_epochs": epochs}
    model = estimator(backbone=backbone, random_state=seed, **params)
    started = time.perf_counter()
    model.fit(graphs[train], y)
    seconds = time.perf_counter() - started
    return model.predict(graphs[test]), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--backbones", nargs="+", default=["gin", "gat"])
    parser.add_argument("--no-pyg", action="store_true", help="skip the PyG loops")
    args = parser.parse_args()

    record = {
        "command": "python benchmarks/edge_features.py "
        f"--seeds {args.seeds} --epochs {args.epochs} --tasks {' '.join(args.tasks)} "
        f"--backbones {' '.join(args.backbones)}" + (" --no-pyg" if args.no_pyg else ""),
        "versions": versions(),
        "tasks": {},
    }
    for task in args.tasks:
        data = load_solubility() if task == "solubility-classes" else load_freesolv()
        classification = task == "solubility-classes"
        bonds = GraphList.from_smiles(data.smiles, bond_features=True)
        plain = GraphList.from_smiles(data.smiles)
        pyg_bonds = pyg_graphs(bonds)
        # name -> (graphs, backbone or None for the PyG loop, with bond features)
        methods = {}
        for backbone in args.backbones:
            methods[f"skgkedm {backbone}, bonds"] = (bonds, backbone, True)
            methods[f"skgkedm {backbone}, no bonds"] = (plain, backbone, False)
        if not args.no_pyg:
            methods["PyG GINE loop"] = (pyg_bonds, None, True)
            methods["PyG GIN loop"] = (pyg_bonds, None, False)
        results = {name: {"scores": [], "seconds": []} for name in methods}
        for seed in range(args.seeds):
            if classification:
                train, test = data.train_index, data.test_index
            else:
                positions = np.arange(len(data.y))
                train, test = train_test_split(positions, test_size=0.2, random_state=seed)
            for name, (graphs, backbone, with_bonds) in methods.items():
                y_train = data.y[train]
                if backbone is None:
                    predicted, seconds = fit_pyg(
                        graphs, train, test, y_train, classification, seed, args.epochs, with_bonds
                    )
                else:
                    predicted, seconds = fit_skgkedm(
                        graphs, train, test, y_train, classification, seed, backbone, args.epochs
                    )
                found = results[name]
                found["scores"].append(score(TASKS[task], data.y[test], predicted))
                found["seconds"].append(seconds)
                print(f"{task} seed {seed} {name}: {found['scores'][-1]:.4f} ({seconds:.1f} s)")
        print(f"\n{task} ({TASKS[task]}, {args.seeds} seeds)")
        for name, found in results.items():
            scores, seconds = np.array(found["scores"]), np.mean(found["seconds"])
            print(f"  {name:28s} {scores.mean():.4f} ± {scores.std():.4f}   {seconds:6.1f} s/fit")
        record["tasks"][task] = results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"edge_features_{'_'.join(args.backbones)}.json").write_text(
        json.dumps(record, indent=1)
    )


if __name__ == "__main__":
    main()
