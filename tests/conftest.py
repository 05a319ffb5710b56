import os

import pytest

from skgkedm.datasets import fetch_planetoid, make_node_classification

PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


@pytest.fixture(scope="session")
def cora():
    """The Planetoid Cora dataset from the shared data folder.

    Skipped when SKGKEDM_DATA is not set; an error when it is set and the files are missing.
    """
    data_home = os.environ.get("SKGKEDM_DATA")
    if not data_home:
        pytest.skip("SKGKEDM_DATA is not set; it should point at the shared data folder.")
    # Told where the data is, a missing file is an error: CI must not pass by skipping.
    folder = os.path.join(data_home, "planetoid")
    missing = [
        part
        for part in PLANETOID_PARTS
        if not os.path.isfile(os.path.join(folder, f"ind.cora.{part}"))
    ]
    if missing:
        pytest.fail(f"SKGKEDM_DATA={data_home} but Planetoid cora files are missing: {missing}")
    return fetch_planetoid("cora", data_home=data_home, download_if_missing=False)


@pytest.fixture
def small_graph():
    """A generated 300-node, 3-class graph: (GraphNodes, y)."""
    return make_node_classification(300, n_classes=3, random_state=0)


@pytest.fixture
def fast():
    """GKEDMClassifier parameters that train in a fraction of a second."""
    return {"max_epochs": 30, "hidden_dims": (16,), "schedule": "joint", "random_state": 0}
