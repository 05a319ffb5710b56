import os
import shutil

import numpy as np
import pytest
import scipy.sparse as sp

from skgkedm import GraphNodes
from skgkedm.datasets import _planetoid, fetch_planetoid, make_node_classification

PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def planetoid_folder(name):
    """The folder holding the real files for ``name``, or skip the test."""
    data_home = os.environ.get("SKGKEDM_DATA")
    if not data_home:
        pytest.skip("SKGKEDM_DATA is not set; it should point at the shared data folder.")
    folder = os.path.join(data_home, "planetoid")
    missing = [p for p in PARTS if not os.path.isfile(os.path.join(folder, f"ind.{name}.{p}"))]
    if missing:
        pytest.skip(f"Planetoid {name} files missing from {folder}: {missing}")
    return folder


def edge_set(adjacency):
    coo = sp.coo_array(adjacency)
    return set(zip(coo.row.tolist(), coo.col.tolist(), strict=True))


@pytest.fixture(scope="module")
def cora():
    planetoid_folder("cora")
    return fetch_planetoid("cora", download_if_missing=False, normalize_features=False)


@pytest.fixture(scope="module")
def citeseer():
    planetoid_folder("citeseer")
    return fetch_planetoid("citeseer", download_if_missing=False, normalize_features=False)


def test_cora_statistics(cora):
    assert isinstance(cora.X, GraphNodes)
    assert cora.name == "cora"
    assert "cora" in cora.DESCR
    assert cora.X.shape == (2708, 1433)
    assert cora.y.shape == (2708,)
    assert cora.y.dtype == np.int64
    assert set(np.unique(cora.y).tolist()) == set(range(7))
    assert (len(cora.train_index), len(cora.val_index), len(cora.test_index)) == (140, 500, 1000)
    # The public split has 20 training nodes per class.
    assert np.bincount(cora.y[cora.train_index]).tolist() == [20] * 7

    adjacency = cora.X.adjacency
    assert adjacency.nnz == 2 * 5278
    assert adjacency.dtype == np.float32
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert set(np.unique(adjacency.data).tolist()) == {1.0}

    features = cora.X.features
    assert sp.issparse(features) and features.format == "csr"
    assert features.dtype == np.float32
    assert set(np.unique(features.data).tolist()) == {1.0}


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_default_features_match_pyg_normalize_features(name):
    from torch_geometric.io import read_planetoid_data
    from torch_geometric.transforms import NormalizeFeatures

    folder = planetoid_folder(name)
    expected = NormalizeFeatures()(read_planetoid_data(folder, name)).x.numpy()
    data = fetch_planetoid(name, data_home=os.path.dirname(folder), download_if_missing=False)
    assert sp.issparse(data.X.features)
    np.testing.assert_allclose(data.X.features.toarray(), expected, rtol=1e-6, atol=1e-7)


def test_split_indices_are_disjoint_int64(cora):
    splits = [cora.train_index, cora.val_index, cora.test_index]
    for index in splits:
        assert index.dtype == np.int64
        assert np.all(np.diff(index) > 0)
    assert len(np.unique(np.concatenate(splits))) == sum(len(index) for index in splits)
    assert cora.val_index[0] == cora.train_index[-1] + 1


def test_case_insensitive_name(cora):
    data = fetch_planetoid("CoRa", download_if_missing=False)
    assert data.name == "cora"
    np.testing.assert_array_equal(data.y, cora.y)


def test_citeseer_unlabelled_nodes(citeseer):
    assert citeseer.X.shape == (3327, 3703)
    unlabelled = np.flatnonzero(citeseer.y == -1)
    assert len(unlabelled) == 15
    assert set(np.unique(citeseer.y).tolist()) == {-1, *range(6)}
    # They are the gaps in the test id range: edges, but no features and no split membership.
    assert unlabelled.min() > citeseer.test_index.min()
    assert unlabelled.max() < citeseer.test_index.max()
    assert citeseer.X.features[unlabelled].nnz == 0
    splits = np.concatenate([citeseer.train_index, citeseer.val_index, citeseer.test_index])
    assert not np.isin(unlabelled, splits).any()
    assert (len(citeseer.train_index), len(citeseer.test_index)) == (120, 1000)


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_matches_pytorch_geometric_reader(name):
    from torch_geometric.io import read_planetoid_data

    folder = planetoid_folder(name)
    expected = read_planetoid_data(folder, name)
    data = fetch_planetoid(
        name,
        data_home=os.path.dirname(folder),
        download_if_missing=False,
        normalize_features=False,
    )

    np.testing.assert_array_equal(data.X.features.toarray(), expected.x.numpy())
    labelled = data.y != -1
    np.testing.assert_array_equal(data.y[labelled], expected.y.numpy()[labelled])
    pyg_edges = set(zip(*expected.edge_index.numpy().tolist(), strict=True))
    assert edge_set(data.X.adjacency) == pyg_edges
    for index, mask in [
        (data.train_index, expected.train_mask),
        (data.val_index, expected.val_mask),
        (data.test_index, expected.test_mask),
    ]:
        np.testing.assert_array_equal(index, np.flatnonzero(mask.numpy()))


def test_download_from_url_base(tmp_path, monkeypatch):
    source = tmp_path / "mirror"
    source.mkdir()
    for part in PARTS:
        shutil.copy(os.path.join(planetoid_folder("cora"), f"ind.cora.{part}"), source)
    monkeypatch.setattr(_planetoid, "URL_BASE", source.as_uri() + "/")
    home = tmp_path / "home"
    # One file already in place: only the others are fetched.
    (home / "planetoid").mkdir(parents=True)
    shutil.copy(source / "ind.cora.graph", home / "planetoid")

    data = fetch_planetoid("cora", data_home=home)

    assert sorted(os.listdir(home / "planetoid")) == sorted(f"ind.cora.{p}" for p in PARTS)
    for part in PARTS:
        name = f"ind.cora.{part}"
        assert (home / "planetoid" / name).read_bytes() == (source / name).read_bytes()
    assert data.X.shape == (2708, 1433)


def test_download_failure_names_url_and_cleans_up(tmp_path, monkeypatch):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setattr(_planetoid, "URL_BASE", empty.as_uri() + "/")
    home = tmp_path / "home"
    with pytest.raises(OSError, match="by hand") as info:
        fetch_planetoid("cora", data_home=home)
    assert empty.as_uri() + "/ind.cora.x" in str(info.value)
    assert os.listdir(home / "planetoid") == []


def test_missing_files_without_download(tmp_path):
    with pytest.raises(OSError, match=r"ind\.citeseer\.graph") as info:
        fetch_planetoid("citeseer", data_home=tmp_path, download_if_missing=False)
    assert str(tmp_path / "planetoid") in str(info.value)
    assert not (tmp_path / "planetoid").exists()


def test_unknown_name():
    with pytest.raises(ValueError, match="'cora', 'citeseer', 'pubmed'"):
        fetch_planetoid("reddit")


def test_data_home_resolution(tmp_path, monkeypatch):
    def missing_folder(**kwargs):
        with pytest.raises(OSError) as info:
            fetch_planetoid("cora", download_if_missing=False, **kwargs)
        return str(info.value)

    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("SKGKEDM_DATA", str(tmp_path / "env"))
    # The argument wins over the environment variable.
    assert str(tmp_path / "arg" / "planetoid") in missing_folder(data_home=tmp_path / "arg")
    assert str(tmp_path / "env" / "planetoid") in missing_folder()
    assert str(tmp_path / "user" / "x" / "planetoid") in missing_folder(data_home="~/x")
    monkeypatch.delenv("SKGKEDM_DATA")
    assert str(tmp_path / "user" / "skgkedm_data" / "planetoid") in missing_folder()


def measured_homophily(X, y):
    source, target = X.adjacency.nonzero()
    return np.mean(y[source] == y[target])


def test_generator_shapes_and_types():
    X, y = make_node_classification(500, n_classes=4, n_features=7, random_state=0)
    assert isinstance(X, GraphNodes)
    assert X.shape == (500, 7)
    assert y.shape == (500,)
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == [125] * 4
    assert isinstance(X.features, np.ndarray)
    assert X.features.dtype == np.float32

    adjacency = X.adjacency
    assert adjacency.dtype == np.float32
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert set(np.unique(adjacency.data).tolist()) == {1.0}
    assert adjacency.nnz / 500 == pytest.approx(10.0, rel=0.05)


def test_generator_unbalanced_remainder():
    _, y = make_node_classification(10, n_classes=3, average_degree=2, random_state=0)
    assert sorted(np.bincount(y).tolist()) == [3, 3, 4]


def test_generator_is_reproducible():
    X1, y1 = make_node_classification(300, random_state=42)
    X2, y2 = make_node_classification(300, random_state=np.random.RandomState(42))
    X3, _ = make_node_classification(300, random_state=43)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1.features, X2.features)
    assert (X1.adjacency != X2.adjacency).nnz == 0
    assert not np.array_equal(X1.features, X3.features)
    assert (X1.adjacency != X3.adjacency).nnz > 0


@pytest.mark.parametrize("homophily", [0.0, 0.2, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("n_classes", [2, 5])
def test_generator_homophily(homophily, n_classes):
    X, y = make_node_classification(2000, n_classes=n_classes, homophily=homophily, random_state=0)
    assert measured_homophily(X, y) == pytest.approx(homophily, abs=0.05)


def test_generator_class_sep():
    X, y = make_node_classification(3000, n_features=20, class_sep=3.0, random_state=0)
    means = np.stack([X.features[y == c].mean(axis=0) for c in range(3)])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 3.0, atol=0.3)
    nearest = np.argmin(((X.features[:, None, :] - means) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y) > 0.9

    X, y = make_node_classification(3000, n_features=20, class_sep=0.0, random_state=0)
    means = np.stack([X.features[y == c].mean(axis=0) for c in range(3)])
    assert np.linalg.norm(means, axis=1).max() < 0.3


def test_generator_sparse_features():
    X, _ = make_node_classification(400, n_features=30, sparse_features=True, random_state=0)
    dense, _ = make_node_classification(400, n_features=30, random_state=0)
    assert sp.issparse(X.features) and X.features.format == "csr"
    assert X.features.dtype == np.float32
    np.testing.assert_array_equal(X.features.toarray(), (dense.features > 1.0).astype(np.float32))
    assert 0.1 < X.features.nnz / (400 * 30) < 0.25


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_nodes": 2, "n_classes": 3, "average_degree": 1}, "n_nodes"),
        ({"n_nodes": 100.0}, "n_nodes"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": True}, "n_classes"),
        ({"n_features": 0}, "n_features"),
        ({"average_degree": 0}, "average_degree"),
        ({"average_degree": -1.0}, "average_degree"),
        ({"n_nodes": 10, "average_degree": 10}, "average_degree"),
        ({"homophily": 1.5}, "homophily"),
        ({"homophily": -0.1}, "homophily"),
        ({"homophily": float("nan")}, "homophily"),
        ({"class_sep": -1}, "class_sep"),
        ({"class_sep": float("inf")}, "class_sep"),
        ({"random_state": "seed"}, "seed"),
    ],
)
def test_generator_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        make_node_classification(**params)
