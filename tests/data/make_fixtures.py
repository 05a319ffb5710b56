"""Write the saved models that ``tests/test_persistence.py`` loads across versions.

Run it with the checkout whose saved format the fixtures should capture first on the
path, for instance the last commit of a release::

    git worktree add /tmp/skgkedm_old <commit>
    PYTHONPATH=/tmp/skgkedm_old python tests/data/make_fixtures.py
    git worktree remove /tmp/skgkedm_old

It writes ``tests/data/skgkedm-<version>-<commit>/`` (the version and short commit of
the skgkedm it imports; ``-<commit>`` is left out outside a git checkout): for each
model ``<name>.pkl`` (pickle, protocol 4), ``<name>.joblib`` and ``<name>.npz``, which
holds the input the model predicts on and the ``predict_proba`` the saving version
computed for it. A graph input is stored as its adjacency in CSR arrays
(``adjacency_data``, ``adjacency_indices``, ``adjacency_indptr``), its ``features`` and
the selected node ``indices``; a feature matrix as ``features`` alone. The script uses
only the public API, so it runs against old and new checkouts alike. Models are tiny
(60 nodes, 5 epochs): the files take a few KB.
"""

import pathlib
import pickle
import subprocess

import joblib
import numpy as np
import scipy.sparse as sp

import skgkedm
from skgkedm import DistilledGCNClassifier, GKEDMClassifier
from skgkedm.datasets import make_node_classification

SMALL = {"hidden_dims": (8,), "max_epochs": 5, "device": "cpu", "random_state": 0}


def graph_arrays(X):
    """The arrays that rebuild GraphNodes ``X`` (its whole graph and its selection)."""
    adjacency = sp.csr_matrix(X.adjacency)
    return {
        "adjacency_data": adjacency.data,
        "adjacency_indices": adjacency.indices,
        "adjacency_indptr": adjacency.indptr,
        "features": np.asarray(X.features),
        "indices": np.asarray(X.indices),
    }


def fitted_models():
    """Yield (name, fitted model, input arrays, input to predict on)."""
    X, y = make_node_classification(60, n_classes=3, n_features=6, random_state=0)
    graph_model = GKEDMClassifier(**SMALL).fit(X[:40], y[:40])
    yield "gkedm_graph", graph_model, graph_arrays(X[40:]), X[40:]

    features = np.asarray(X.features, dtype=np.float32)
    knn_model = GKEDMClassifier(n_neighbors=5, **SMALL).fit(features[:40], y[:40])
    yield "gkedm_knn", knn_model, {"features": features[40:]}, features[40:]

    distiller = DistilledGCNClassifier(
        teacher=GKEDMClassifier(**{**SMALL, "hidden_dims": (16,)}),
        student=GKEDMClassifier(**{**SMALL, "hidden_dims": (4,)}),
        random_state=0,
    ).fit(X[:40], y[:40])
    yield "distilled_graph", distiller, graph_arrays(X[40:]), X[40:]


def fixture_name():
    """``skgkedm-<version>-<commit>`` of the imported skgkedm."""
    checkout = pathlib.Path(skgkedm.__file__).parent
    commit = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=checkout, capture_output=True, text=True
    ).stdout.strip()
    return "-".join(filter(None, ["skgkedm", skgkedm.__version__, commit]))


def main():
    folder = pathlib.Path(__file__).parent / fixture_name()
    folder.mkdir(exist_ok=True)
    for name, model, arrays, X_predict in fitted_models():
        with open(folder / f"{name}.pkl", "wb") as file:
            pickle.dump(model, file, protocol=4)
        joblib.dump(model, folder / f"{name}.joblib")
        np.savez_compressed(folder / f"{name}.npz", proba=model.predict_proba(X_predict), **arrays)
    print(f"Wrote {sorted(path.name for path in folder.iterdir())} to {folder}")


if __name__ == "__main__":
    main()
