import csv
import json
import os
import re
import shutil

import numpy as np
import pytest
import scipy.sparse as sp

from skgkedm import GraphNodes
from skgkedm.datasets import (
    _planetoid,
    fetch_blogcatalog,
    fetch_musae,
    fetch_planetoid,
    make_node_classification,
)

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


# --- MUSAE and BlogCatalog: GPL-3.0 files read from SKGKEDM_DATA, never shipped ---

MUSAE_PREFIX = {"chameleon": "chameleon", "squirrel": "squirrel", "facebook": "facebook"}
MUSAE_PREFIX["twitch_de"] = "DE"


def shared_folder(subfolder, files):
    """The shared data folder's ``subfolder`` holding ``files``, or skip the test."""
    data_home = os.environ.get("SKGKEDM_DATA")
    if not data_home:
        pytest.skip("SKGKEDM_DATA is not set; it should point at the shared data folder.")
    folder = os.path.join(data_home, subfolder)
    missing = [file for file in files if not os.path.isfile(os.path.join(folder, file))]
    if missing:
        pytest.skip(f"Files missing from {folder}: {missing}")
    return folder


def musae_folder(name):
    prefix = MUSAE_PREFIX[name]
    return shared_folder(
        "musae", [f"{prefix}_{p}" for p in ("edges.csv", "features.json", "target.csv")]
    )


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


@pytest.fixture(scope="module")
def chameleon():
    musae_folder("chameleon")
    return fetch_musae("chameleon")


@pytest.mark.parametrize(
    "name, n_nodes, n_file_rows, n_features",
    [
        ("chameleon", 2277, 36101, 3132),
        ("squirrel", 5201, 217073, 3148),
        ("facebook", 22470, 171002, 4714),
        ("twitch_de", 9498, 153138, 3170),
    ],
)
def test_musae_graph_matches_files(name, n_nodes, n_file_rows, n_features):
    folder = musae_folder(name)
    prefix = MUSAE_PREFIX[name]
    _, *rows = read_rows(os.path.join(folder, f"{prefix}_edges.csv"))
    assert len(rows) == n_file_rows  # the README's edge counts are the files' rows
    pairs = {(int(a), int(b)) for a, b in rows if a != b}
    undirected = pairs | {(b, a) for a, b in pairs}

    data = fetch_musae(name)
    assert isinstance(data.X, GraphNodes)
    assert data.X.shape == (n_nodes, n_features) and data.y.shape == (n_nodes,)
    adjacency = data.X.adjacency
    assert edge_set(adjacency) == undirected
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert set(np.unique(adjacency.data).tolist()) == {1.0}
    assert "GPL-3.0" in data.licence and "GPL-3.0" in data.DESCR
    np.testing.assert_array_equal(data.node_ids, np.arange(n_nodes))

    features = data.X.features
    assert sp.issparse(features) and features.format == "csr"
    assert set(np.unique(features.data).tolist()) == {1.0}
    with open(os.path.join(folder, f"{prefix}_features.json"), encoding="utf-8") as file:
        lists = json.load(file)
    for node in (0, 1, n_nodes // 2, n_nodes - 1):
        assert features[[node]].indices.tolist() == sorted(set(lists[str(node)]))


def test_musae_undirected_edge_counts_match_platonov(chameleon):
    # Platonov et al. (2023, Table 1): 31,371 edges for chameleon, without self-loops.
    assert chameleon.X.adjacency.nnz == 2 * 31371


@pytest.mark.parametrize(
    "name, sizes",
    [
        # Class sizes of Geom-GCN's files (PyG's WikipediaNetwork with geom_gcn_preprocess).
        ("chameleon", [456, 460, 453, 521, 387]),
        ("squirrel", [1042, 1040, 1039, 1040, 1040]),
    ],
)
def test_musae_traffic_classes_are_geom_gcn_quintiles(name, sizes):
    folder = musae_folder(name)
    _, *rows = read_rows(os.path.join(folder, f"{name}_target.csv"))
    traffic = np.array([float(t) for _, t in sorted((int(i), t) for i, t in rows)])

    data = fetch_musae(name)
    assert data.target == "classes" and data.y.dtype == np.int64
    assert np.bincount(data.y).tolist() == sizes
    # Higher class, higher traffic: the bins do not overlap.
    for low, high in zip(range(4), range(1, 5), strict=True):
        assert traffic[data.y == low].max() <= traffic[data.y == high].min()
    assert len(data.target_names) == 5 and data.bin_edges.shape == (6,)

    regression = fetch_musae(name, target="traffic")
    assert regression.y.dtype == np.float64
    np.testing.assert_allclose(regression.y, np.log(1.0 + traffic))
    assert "target_names" not in regression


@pytest.mark.parametrize("name, n_removed", [("chameleon", 1028), ("squirrel", 1882)])
def test_musae_drop_duplicates(name, n_removed):
    folder = musae_folder(name)
    _, *rows = read_rows(os.path.join(folder, f"{name}_target.csv"))
    traffic = dict((int(i), int(t)) for i, t in rows)
    full = fetch_musae(name)
    neighbours = {
        node: frozenset(full.X.adjacency[[node]].indices.tolist())
        for node in range(full.X.n_nodes)
    }

    data = fetch_musae(name, drop_duplicates=True)
    kept = data.node_ids.tolist()
    assert full.X.n_nodes - len(kept) == n_removed
    assert f"{n_removed} duplicate pages removed" in data.DESCR
    signature = {(neighbours[node], traffic[node]) for node in kept if neighbours[node]}
    assert len(signature) == sum(1 for node in kept if neighbours[node])  # no duplicates left
    removed = sorted(set(neighbours) - set(kept))
    # Every removed page has a kept twin: same neighbours, same traffic, smaller id.
    for node in removed:
        assert neighbours[node] and (neighbours[node], traffic[node]) in signature
    # The kept nodes' graph is the one induced from the full graph.
    expected = full.X.adjacency[kept][:, kept]
    assert (data.X.adjacency != expected).nnz == 0
    assert (data.X.features != full.X.features[kept]).nnz == 0
    # Classes are the quintiles of the kept nodes: balanced up to ties.
    sizes = np.bincount(data.y)
    assert len(sizes) == 5 and sizes.max() - sizes.min() <= 5


def test_musae_facebook_and_twitch_targets():
    folder = musae_folder("facebook")
    facebook = fetch_musae("facebook")
    assert facebook.target_names.tolist() == ["company", "government", "politician", "tvshow"]
    _, *rows = read_rows(os.path.join(folder, "facebook_target.csv"))
    for node in (0, 1, 22469):
        row = rows[node]
        assert facebook.target_names[facebook.y[int(row[0])]] == row[3]
        assert facebook.page_names[int(row[0])] == row[2]

    folder = musae_folder("twitch_de")
    _, *rows = read_rows(
        os.path.join(folder, "DE_target.csv")
    )  # id,days,mature,views,partner,new_id
    by_new_id = {int(row[5]): row for row in rows}
    mature = fetch_musae("twitch_de")
    assert mature.target == "mature" and mature.y.dtype == np.int64
    assert mature.y.sum() == sum(row[2] == "True" for row in rows)
    views = fetch_musae("twitch_de", target="views").y
    partner = fetch_musae("twitch_de", target="partner").y
    days = fetch_musae("twitch_de", target="days").y
    for node in (0, 5079, 9497):
        row = by_new_id[node]
        assert mature.y[node] == (row[2] == "True")
        assert views[node] == pytest.approx(np.log1p(int(row[3])))
        assert partner[node] == (row[4] == "True")
        assert days[node] == float(row[1])


def test_musae_bad_arguments_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="'chameleon', 'squirrel', 'facebook', 'twitch_de'"):
        fetch_musae("crocodile", data_home=tmp_path)
    with pytest.raises(ValueError, match=r"target 'views'.*\['classes', 'traffic'\]"):
        fetch_musae("chameleon", target="views", data_home=tmp_path)
    with pytest.raises(ValueError, match="drop_duplicates applies to chameleon and squirrel"):
        fetch_musae("facebook", drop_duplicates=True, data_home=tmp_path)
    with pytest.raises(OSError, match="not downloaded") as info:
        fetch_musae("twitch_de", data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "musae") in message
    assert all(f"DE_{p}" in message for p in ("edges.csv", "features.json", "target.csv"))
    assert not (tmp_path / "musae").exists()


def write_tiny_musae(folder):
    """A 4-node chameleon-format graph: nodes 1 and 2 are duplicates (same links, traffic)."""
    folder.mkdir(parents=True)
    (folder / "chameleon_edges.csv").write_text("id1,id2\n0,1\n0,2\n3,1\n2,3\n1,1\n")
    (folder / "chameleon_features.json").write_text(
        '{"0": [0, 2], "1": [1], "2": [1, 1], "3": []}'
    )
    (folder / "chameleon_target.csv").write_text("id,target\n2,7\n0,1\n3,99\n1,7\n")


def test_musae_data_home_and_environment(tmp_path, monkeypatch):
    write_tiny_musae(tmp_path / "arg" / "musae")
    monkeypatch.setenv("SKGKEDM_DATA", str(tmp_path / "env"))
    data = fetch_musae("chameleon", target="traffic", data_home=tmp_path / "arg")
    assert edge_set(data.X.adjacency) == {
        (0, 1),
        (1, 0),
        (0, 2),
        (2, 0),
        (1, 3),
        (3, 1),
        (2, 3),
        (3, 2),
    }
    assert data.X.features.toarray().tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 0], [0, 0, 0]]
    np.testing.assert_allclose(data.y, np.log1p([1, 7, 7, 99]))  # rows sorted by id
    deduplicated = fetch_musae("chameleon", drop_duplicates=True, data_home=tmp_path / "arg")
    assert deduplicated.node_ids.tolist() == [0, 1, 3]
    assert edge_set(deduplicated.X.adjacency) == {(0, 1), (1, 0), (1, 2), (2, 1)}
    with pytest.raises(OSError, match=re.escape(str(tmp_path / "env" / "musae"))):
        fetch_musae("chameleon")
    shutil.move(tmp_path / "arg", tmp_path / "env")
    assert fetch_musae("chameleon").X.n_nodes == 4


def test_blogcatalog():
    shared_folder("blogcatalog", ["blogcatalog.mat"])
    data = fetch_blogcatalog()
    assert isinstance(data.X, GraphNodes)
    adjacency = data.X.adjacency
    assert data.X.shape == (10312, 15)  # no node features: the structural ones
    assert adjacency.nnz == 2 * 333983
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert data.y.shape == (10312, 39) and data.y.dtype == np.int64
    assert set(np.unique(data.y).tolist()) == {0, 1}
    assert data.y.any(axis=0).all()
    assert round(data.y.sum() / 10312, 1) == 1.4
    assert "GPL-3.0" in data.licence


def test_blogcatalog_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SKGKEDM_DATA", str(tmp_path))
    with pytest.raises(OSError, match=r"blogcatalog\.mat") as info:
        fetch_blogcatalog()
    assert str(tmp_path / "blogcatalog") in str(info.value)
    assert "not downloaded" in str(info.value)
