"""PyTorch Geometric interop and edge attributes: GraphNodes/GraphList from and to PyG's Data."""

import copy
import pickle
import subprocess
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.model_selection import KFold, cross_val_score
from torch_geometric.data import Batch, Data, InMemoryDataset
from torch_geometric.loader import DataLoader
from torch_geometric.utils import from_networkx, from_smiles, to_scipy_sparse_matrix

from skgkedm import (
    GKEDMClassifier,
    GKEDMGraphClassifier,
    GKEDMGraphRegressor,
    GraphList,
    GraphNodes,
)

SMILES = ["CCO", "c1ccccc1", "CC(=O)O", "C#N", "CN(C)C=O", "OC1CCCCC1", "C=CC=C", "CCl"]


def karate_data():
    """Karate club as a PyG Data, with 2 node features and an edge attribute."""
    G = nx.karate_club_graph()
    for node in G:
        G.nodes[node]["x"] = [1.0, float(G.degree(node))]
    for u, v in G.edges:
        G.edges[u, v]["kind"] = [float((u + v) % 3), float(abs(u - v))]
    return G, from_networkx(G, group_edge_attrs=["kind"])


def labelled_rings_and_chains():
    """Rings (1) and chains (0) of 3 to 12 nodes, with a degree feature."""
    graphs = [nx.cycle_graph(n) for n in range(3, 13)] + [nx.path_graph(n) for n in range(3, 13)]
    for graph in graphs:
        for node in graph:
            graph.nodes[node]["x"] = [1.0, float(graph.degree(node))]
    return graphs, np.array([1] * 10 + [0] * 10)


def pyg_adjacency(data):
    """The adjacency PyG's own utility builds from a Data."""
    weight = getattr(data, "edge_weight", None)
    return sp.csr_array(to_scipy_sparse_matrix(data.edge_index, weight, data.num_nodes))


def snapshot(data):
    return copy.deepcopy(data.to_dict())


def assert_unchanged(data, before):
    after = data.to_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(after[key], value) and after[key].dtype == value.dtype, key
        else:
            assert after[key] == value, key


# --- GraphNodes.from_pyg / to_pyg ---


def test_graph_nodes_from_pyg_matches_networkx():
    G, data = karate_data()
    before = snapshot(data)
    X = GraphNodes.from_pyg(data)
    assert_unchanged(data, before)
    expected = GraphNodes.from_networkx(G, weight=None, edge_attrs=["kind"])  # PyG: no weights
    assert X.shape == (34, 2) and X.n_edge_features == 2
    assert (X.adjacency != expected.adjacency).nnz == 0
    np.testing.assert_array_equal(X.features, expected.features)
    np.testing.assert_array_equal(X.edge_attr, expected.edge_attr)
    # Each attribute sits on its own edge, whatever order PyG listed the edges in.
    rows, columns = X.adjacency.nonzero()
    for k in range(0, len(rows), 7):
        u, v = int(rows[k]), int(columns[k])
        assert X.edge_attr[k].tolist() == [float((u + v) % 3), float(abs(u - v))]


def test_graph_nodes_to_pyg_round_trip_through_pyg_utilities():
    _, data = karate_data()
    X = GraphNodes.from_pyg(data)
    out = X.to_pyg()
    assert sorted(out.keys()) == ["edge_attr", "edge_index", "x"]
    assert out.x.dtype == torch.float32 and out.edge_index.dtype == torch.int64
    assert (pyg_adjacency(out) != X.adjacency).nnz == 0
    back = GraphNodes.from_pyg(out)
    assert (back.adjacency != X.adjacency).nnz == 0
    np.testing.assert_array_equal(back.edge_attr, X.edge_attr)
    np.testing.assert_array_equal(back.features, X.features)


def test_from_pyg_edge_weight_and_zero_weights():
    data = Data(
        x=torch.ones(3, 1),
        edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
        edge_weight=torch.tensor([2.0, 2.0, 0.0, 0.0]),
        edge_attr=torch.tensor([[1.0], [2.0], [3.0], [4.0]]),
    )
    X = GraphNodes.from_pyg(data)
    assert X.adjacency.toarray().tolist() == [[0, 2, 0], [2, 0, 0], [0, 0, 0]]
    assert X.edge_attr.ravel().tolist() == [1.0, 2.0]  # zero-weight edges dropped with theirs
    out = X.to_pyg()
    assert out.edge_weight.tolist() == [2.0, 2.0]
    assert (pyg_adjacency(out) != X.adjacency).nnz == 0


def test_from_pyg_sparse_features_and_y_not_read():
    x = torch.eye(4).to_sparse_csr()
    data = Data(x=x, edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.arange(4))
    X = GraphNodes.from_pyg(data)
    assert sp.issparse(X.features)
    np.testing.assert_array_equal(X.features.toarray(), np.eye(4))
    assert "y" not in X.to_pyg().keys()


def test_node_classifier_takes_a_data(cora):
    data = Data(
        x=torch.from_numpy(cora.X.features.toarray()),
        edge_index=torch.from_numpy(np.stack(cora.X.adjacency.nonzero()).astype(np.int64)),
    )
    params = {"max_epochs": 5, "hidden_dims": (8,), "schedule": "joint", "random_state": 0}
    y = np.full(len(cora.y), -1)
    y[cora.train_index] = cora.y[cora.train_index]
    direct = GKEDMClassifier(**params).fit(data, y).predict_proba(data)
    wrapped = GKEDMClassifier(**params).fit(GraphNodes.from_pyg(data), y)
    np.testing.assert_allclose(direct, wrapped.predict_proba(GraphNodes.from_pyg(data)))


# --- GraphList.from_pyg / to_pyg ---


def test_graph_list_from_pyg_smiles_matches_from_smiles():
    molecules = [from_smiles(text) for text in SMILES]
    before = [snapshot(data) for data in molecules]
    X = GraphList.from_pyg(molecules)
    for data, saved in zip(molecules, before, strict=True):
        assert_unchanged(data, saved)
    # PyG's codes (9 per atom) rather than the one-hot features; the same bonds.
    reference = GraphList.from_smiles(SMILES)
    assert X.n_features == 9 and X.n_edge_features == 3
    np.testing.assert_array_equal(X.n_nodes, reference.n_nodes)
    assert (X.stacked()[0] != reference.stacked()[0]).nnz == 0
    # Subsets and the way back keep each bond's attributes.
    subset = X[[5, 1]]
    for data, out in zip([molecules[5], molecules[1]], subset.to_pyg(), strict=True):
        assert (pyg_adjacency(out) != pyg_adjacency(data)).nnz == 0
        order = np.lexsort(data.edge_index.numpy()[::-1])
        np.testing.assert_array_equal(out.edge_attr.numpy(), data.edge_attr.numpy()[order])
        np.testing.assert_array_equal(out.x.numpy(), data.x.numpy())


class InMemoryMolecules(InMemoryDataset):
    """A PyG dataset held in memory, built offline from a list of Data."""

    def __init__(self, data_list):
        super().__init__(None)
        self.data, self.slices = self.collate(data_list)


def test_graph_list_from_dataset_batch_and_loader():
    molecules = [from_smiles(text) for text in SMILES]
    from_list = GraphList.from_pyg(molecules)
    from_batch = GraphList.from_pyg(Batch.from_data_list(molecules))
    dataset = InMemoryMolecules(molecules)
    from_dataset = GraphList.from_pyg(dataset)
    for X in (from_batch, from_dataset):
        assert (X.stacked()[0] != from_list.stacked()[0]).nnz == 0
        np.testing.assert_array_equal(X.edge_attr, from_list.edge_attr)
    # What to_pyg gives, PyG's DataLoader batches.
    loaded = next(iter(DataLoader(from_list.to_pyg(), batch_size=len(SMILES))))
    assert loaded.num_graphs == len(SMILES)
    assert loaded.edge_attr.shape == (int(from_list.n_edges.sum()), 3)
    # A Dataset is X for the graph estimators, like a list of its graphs.
    y = np.arange(len(SMILES)) % 2
    params = {"backbone": "gin", "max_epochs": 5, "random_state": 0}
    on_dataset = GKEDMGraphClassifier(**params).fit(dataset, y).predict_proba(dataset)
    on_list = GKEDMGraphClassifier(**params).fit(molecules, y).predict_proba(molecules)
    np.testing.assert_array_equal(on_dataset, on_list)


def test_graph_estimators_take_pyg_lists_and_series():
    graphs, y = labelled_rings_and_chains()
    data = [from_networkx(graph) for graph in graphs]
    params = {"max_epochs": 20, "random_state": 0}
    reference = GKEDMGraphClassifier(**params).fit(GraphList.from_networkx(graphs), y)
    expected = reference.predict_proba(GraphList.from_networkx(graphs))
    for X in (data, pd.Series(data), pd.Series(graphs, index=np.arange(20) * 3)):
        fitted = GKEDMGraphClassifier(**params).fit(X, y)
        np.testing.assert_allclose(fitted.predict_proba(X), expected, rtol=1e-6)
    # scikit-learn splits a Series with iloc: the graphs stay graphs.
    scores = cross_val_score(
        GKEDMGraphClassifier(**params),
        pd.Series(data),
        y,
        cv=KFold(4, shuffle=True, random_state=0),
    )
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    regressor = GKEDMGraphRegressor(**params).fit(data, y.astype(float))
    assert regressor.predict(data).shape == (20,)


def test_pyg_import_is_lazy():
    code = (
        "import sys, networkx as nx\n"
        "from skgkedm import GraphList, GraphNodes\n"
        "from skgkedm.data._validation import graph_input_kind\n"
        "assert graph_input_kind([nx.path_graph(3)]) == 'graphs'\n"
        "GraphList.from_networkx([nx.path_graph(3)])\n"
        "GraphNodes(nx.to_scipy_sparse_array(nx.path_graph(3)))\n"
        "assert 'torch_geometric' not in sys.modules, 'PyG imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- hostile input ---


def test_data_without_x_or_edge_index():
    edges = torch.tensor([[0, 1], [1, 0]])
    no_x = Data(edge_index=edges, num_nodes=2)
    with pytest.raises(ValueError, match=r"no node features \(data.x is None\).*structural"):
        GraphNodes.from_pyg(no_x)
    graphs, y = labelled_rings_and_chains()
    data = [from_networkx(graph) for graph in graphs]
    data[3] = Data(edge_index=edges, num_nodes=2)
    with pytest.raises(ValueError, match=r"Graph 3: The Data has no node features"):
        GKEDMGraphClassifier(max_epochs=2).fit(data, y)
    with pytest.raises(ValueError, match="no edge_index"):
        GraphNodes.from_pyg(Data(x=torch.ones(2, 1)))
    with pytest.raises(ValueError, match=r"refers to node 5.*has 2 rows"):
        GraphNodes.from_pyg(Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [5]])))
    with pytest.raises(ValueError, match=r"shape \(2, n_edges\)"):
        GraphNodes.from_pyg(Data(x=torch.ones(2, 1), edge_index=torch.tensor([0, 1])))
    with pytest.raises(ValueError, match="must hold integers"):
        GraphNodes.from_pyg(Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0.0], [1.0]])))
    with pytest.raises(TypeError, match=r"not a torch_geometric\.data\.Data"):
        GraphList.from_pyg([data[0], nx.path_graph(3)])
    with pytest.raises(TypeError, match="single Data"):
        GraphList.from_pyg(data[0])
    with pytest.raises(TypeError, match=r"torch_geometric\.data\.Data, got dict"):
        GraphNodes.from_pyg({"x": 1})


def test_wrong_edge_attributes_from_pyg():
    edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    short = Data(x=torch.ones(3, 1), edge_index=edges, edge_attr=torch.ones(3, 2))
    before = snapshot(short)
    with pytest.raises(ValueError, match=r"edge_attr has 3 rows but data\.edge_index has 4 edges"):
        GraphNodes.from_pyg(short)
    assert_unchanged(short, before)
    with pytest.raises(ValueError, match="edge_weight has shape"):
        GraphNodes.from_pyg(Data(x=torch.ones(3, 1), edge_index=edges, edge_weight=torch.ones(2)))
    repeated = Data(
        x=torch.ones(2, 1), edge_index=torch.tensor([[0, 0], [1, 1]]), edge_attr=torch.ones(2)
    )
    with pytest.raises(ValueError, match=r"lists the edge \(0, 1\) more than once.*coalesce"):
        GraphNodes.from_pyg(repeated)
    nan = Data(x=torch.ones(3, 1), edge_index=edges, edge_attr=torch.tensor([1.0, 2, 3, np.nan]))
    with pytest.raises(ValueError, match="edge_attr"):
        GraphNodes.from_pyg(nan)
    # Some graphs with edge attributes, some without: named, not silently dropped.
    with_attr = from_smiles("CCO")
    without = Data(x=with_attr.x, edge_index=with_attr.edge_index)
    with pytest.raises(ValueError, match="Graph 1 has no edge attributes but graph 0 has"):
        GraphList.from_pyg([with_attr, without, with_attr])


def test_mixed_graph_kinds_refused_by_estimators():
    graphs, y = labelled_rings_and_chains()
    mixed = [from_networkx(graph) for graph in graphs[:10]] + graphs[10:]
    with pytest.raises(TypeError, match="mixes torch_geometric Data objects with networkx graphs"):
        GKEDMGraphClassifier(max_epochs=2).fit(mixed, y)
    with pytest.raises(TypeError, match="mixes int objects with networkx graphs"):
        GKEDMGraphClassifier(max_epochs=2).fit(pd.Series([1, *graphs[1:]]), y)


# --- edge attributes in the containers ---


def test_edge_attr_follows_the_edges_given_in_any_order():
    rows = np.array([2, 0, 1, 0, 2])
    columns = np.array([0, 1, 2, 2, 1])
    attributes = np.array([[20.0], [1.0], [12.0], [2.0], [21.0]])
    adjacency = sp.coo_array((np.ones(5), (rows, columns)), shape=(3, 3))
    saved = attributes.copy()
    X = GraphNodes(adjacency, edge_attr=attributes)
    np.testing.assert_array_equal(attributes, saved)
    stored_rows, stored_columns = X.adjacency.nonzero()
    given = {(r, c): a for r, c, a in zip(rows, columns, attributes[:, 0], strict=True)}
    assert X.edge_attr[:, 0].tolist() == [
        given[(r, c)] for r, c in zip(stored_rows, stored_columns, strict=True)
    ]
    assert not X.edge_attr.flags.writeable
    # Dense adjacency: row by row, as numpy.nonzero lists the entries.
    dense = GraphNodes(adjacency.toarray(), edge_attr=[1.0, 2.0, 12.0, 20.0, 21.0])
    np.testing.assert_array_equal(dense.edge_attr, X.edge_attr)
    # Subsets share the attributes; pickling keeps them, read-only.
    assert X[[2, 0]].edge_attr is X.edge_attr
    restored = pickle.loads(pickle.dumps(X[[1]]))
    np.testing.assert_array_equal(restored.edge_attr, X.edge_attr)
    assert not restored.edge_attr.flags.writeable
    assert (
        repr(X)
        == "GraphNodes(n_selected=3, n_nodes=3, n_edges=5, n_features=15, n_edge_features=1)"
    )


def test_wrong_edge_attributes_in_containers():
    adjacency = nx.to_scipy_sparse_array(nx.path_graph(4))  # 6 entries
    with pytest.raises(ValueError, match=r"edge_attr has 5 rows but the adjacency has 6 edges"):
        GraphNodes(adjacency, edge_attr=np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"shape \(n_edges,\) or \(n_edges, n_edge_features\)"):
        GraphNodes(adjacency, edge_attr=np.ones((6, 0)))
    with pytest.raises(ValueError, match="edge_attr must hold numbers"):
        GraphNodes(adjacency, edge_attr=["single"] * 6)
    with pytest.raises(ValueError, match=r"infinity|NaN"):
        GraphNodes(adjacency, edge_attr=np.full(6, np.inf))
    with pytest.raises(ValueError, match="Graph 1: edge_attr has 1 rows"):
        GraphList([adjacency, adjacency], edge_attr=[np.ones(6), np.ones(1)])
    with pytest.raises(
        ValueError, match="Graph 0 has 1 edge attributes per edge but graph 1 has 2"
    ):
        GraphList([adjacency, adjacency], edge_attr=[np.ones(6), np.ones((6, 2))])
    with pytest.raises(ValueError, match="Graph 1 has no edge attributes but graph 0 has"):
        GraphList([adjacency, adjacency], edge_attr=[np.ones(6), None])
    with pytest.raises(ValueError, match="edge_attr holds 1 arrays but adjacencies 2"):
        GraphList([adjacency, adjacency], edge_attr=[np.ones(6)])


def test_graph_list_subsets_keep_edge_attributes():
    graphs = [nx.path_graph(n, create_using=nx.DiGraph) for n in (2, 3, 4, 5)]
    for graph in graphs:
        for u, v in graph.edges:
            graph.edges[u, v]["a"] = 10.0 * len(graph) + u
    X = GraphList.from_networkx(graphs, edge_attrs=["a"])
    assert X.n_edge_features == 1
    subset = X[[3, 1]]
    adjacency, _, _ = subset.stacked()
    expected = sp.block_diag(
        [nx.to_scipy_sparse_array(graphs[3]), nx.to_scipy_sparse_array(graphs[1])]
    )
    assert (adjacency != expected).nnz == 0
    assert subset.edge_attr[:, 0].tolist() == [50.0, 51.0, 52.0, 53.0, 30.0, 31.0]
    restored = pickle.loads(pickle.dumps(subset))
    np.testing.assert_array_equal(restored.edge_attr, subset.edge_attr)
    assert GraphList.from_networkx(graphs).edge_attr is None


def test_networkx_edge_attrs():
    G = nx.Graph()
    G.add_edge("a", "b", bond=[1, 0], order=1.0)
    G.add_edge("b", "c", bond=[0, 1], order=2.0, weight=3.0)
    X = GraphNodes.from_networkx(G, edge_attrs=["bond", "order"])
    rows, columns = X.adjacency.nonzero()
    names = [(X.node_ids[r], X.node_ids[c]) for r, c in zip(rows, columns, strict=True)]
    assert names == [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]
    assert X.edge_attr.tolist() == [[1, 0, 1], [1, 0, 1], [0, 1, 2], [0, 1, 2]]
    assert X.adjacency.data.tolist() == [1.0, 1.0, 3.0, 3.0]
    G.add_edge("c", "d", bond=[1, 1])
    with pytest.raises(ValueError, match=r"'order' is missing on the edge \('c', 'd'\)"):
        GraphNodes.from_networkx(G, edge_attrs=["bond", "order"])
    G.edges["c", "d"]["order"] = [1.0, 2.0]
    with pytest.raises(ValueError, match="every edge needs the same length"):
        GraphNodes.from_networkx(G, edge_attrs=["bond", "order"])
    M = nx.MultiGraph()
    M.add_edge(0, 1, bond=1.0)
    M.add_edge(0, 1, bond=2.0)
    with pytest.raises(ValueError, match="parallel edges between 0 and 1"):
        GraphNodes.from_networkx(M, edge_attrs=["bond"])
    with pytest.raises(TypeError, match="list of edge attribute names"):
        GraphNodes.from_networkx(G, edge_attrs="bond")
