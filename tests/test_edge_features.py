"""Edge attributes in the backbones (GINE for "gin", GAT's edge term), checked against PyG."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.nn import GATConv, GINEConv

from skgkedm import (
    GKEDMClassifier,
    GKEDMGraphClassifier,
    GKEDMGraphRegressor,
    GKEDMRegressor,
    GraphList,
    GraphNodes,
)
from skgkedm.data._graph_nodes import validate_adjacency
from skgkedm.datasets import load_solubility
from skgkedm.loader._message_graph import MessageGraph
from skgkedm.nn._backbones import BACKBONES

FAST = {"hidden_dims": (16,), "max_epochs": 15, "random_state": 0}
IGNORED = r"edge attribute\(s\) per edge, which this model ignores"


def directed_graph(n_nodes=14, seed=0):
    """A random directed graph (some edges one way only) with 3 attributes per edge."""
    adjacency = sp.random(n_nodes, n_nodes, density=0.25, random_state=seed, format="csr")
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.data[:] = 1.0
    adjacency = validate_adjacency(adjacency)
    attributes = np.random.default_rng(seed).normal(size=(adjacency.nnz, 3)).astype(np.float32)
    return adjacency, attributes


def pyg_edges(adjacency, attributes, symmetrize):
    """The edge list PyG would be given: every edge i -> j with its attributes, and with
    ``symmetrize`` the reverse of one-way edges, carrying the same attributes."""
    rows, columns = adjacency.nonzero()
    edges = {
        (int(i), int(j)): attributes[k] for k, (i, j) in enumerate(zip(rows, columns, strict=True))
    }
    if symmetrize:
        for (i, j), value in list(edges.items()):
            edges.setdefault((j, i), value)
    pairs = sorted(edges)
    edge_index = torch.tensor(pairs, dtype=torch.int64).T
    return edge_index, torch.from_numpy(np.stack([edges[pair] for pair in pairs]))


@pytest.mark.parametrize("symmetrize", [False, True])
@pytest.mark.parametrize("name", ["gin", "gat"])
def test_edge_layers_match_pyg(name, symmetrize):
    adjacency, attributes = directed_graph()
    backbone = BACKBONES[name]
    messages = MessageGraph.from_adjacency(adjacency, symmetrize, track_edges=True)
    propagation = backbone.propagation(messages, True)
    edge_attr = backbone.edge_attributes(messages, attributes[messages.edge_positions])
    conv = backbone.build_conv(
        5, 4, is_output=False, activation=nn.ReLU(), gat_heads=2, edge_dim=3
    )
    if name == "gin":
        reference = GINEConv(copy.deepcopy(conv.nn), edge_dim=3)
    else:
        reference = GATConv(5, 2, heads=2, edge_dim=3, add_self_loops=True, fill_value="mean")
    reference.load_state_dict(conv.state_dict())

    x = torch.randn(adjacency.shape[0], 5, requires_grad=True)
    ours = conv(x, propagation, edge_attr)
    (gradient,) = torch.autograd.grad(ours.square().sum(), x)
    edge_index, pyg_attr = pyg_edges(adjacency, attributes, symmetrize)
    theirs = reference(x, edge_index, pyg_attr)
    (expected_gradient,) = torch.autograd.grad(theirs.square().sum(), x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def molecules():
    data = load_solubility()
    keep = np.r_[data.train_index[:160], data.test_index[:60]]
    return (
        GraphList.from_smiles(data.smiles[keep], bond_features=True),
        GraphList.from_smiles(data.smiles[keep]),
        data.y[keep],
    )


def test_gin_and_gat_use_bond_features_gcn_ignores_them(molecules):
    bonds, plain, y = molecules
    train, test = np.arange(160), np.arange(160, 220)
    for backbone in ("gin", "gat"):
        with_bonds = GKEDMGraphClassifier(backbone=backbone, **FAST).fit(bonds[train], y[train])
        without = GKEDMGraphClassifier(backbone=backbone, **FAST).fit(plain[train], y[train])
        assert with_bonds._architecture.edge_dim == 30
        assert without._architecture.edge_dim == 0
        assert with_bonds.n_parameters_ > without.n_parameters_
        assert not np.allclose(
            with_bonds.predict_proba(bonds[test]), without.predict_proba(plain[test])
        )
        # Fitted on bond features, it needs them to predict.
        with pytest.raises(ValueError, match="fitted on graphs with 30 edge attributes"):
            with_bonds.predict(plain[test])
    with pytest.warns(UserWarning, match="30 " + IGNORED + ": the 'gcn' backbone"):
        gcn = GKEDMGraphClassifier(backbone="gcn", **FAST).fit(bonds[train], y[train])
    assert gcn._architecture.edge_dim == 0
    np.testing.assert_array_equal(
        gcn.predict_proba(plain[test]),
        GKEDMGraphClassifier(backbone="gcn", **FAST)
        .fit(plain[train], y[train])
        .predict_proba(plain[test]),
    )


@pytest.mark.parametrize("backbone", ["gin", "gat"])
def test_edge_features_follow_graphs_through_batches_and_pickles(molecules, backbone):
    bonds, _, y = molecules
    y_continuous = np.arange(len(y), dtype=float) % 7
    model = GKEDMGraphRegressor(backbone=backbone, batch_size=16, **FAST).fit(
        bonds[:160], y_continuous[:160]
    )
    test = bonds[160:]
    expected = model.predict(test)
    # Another order puts other graphs side by side in a batch: the same predictions.
    order = np.random.default_rng(0).permutation(len(test))
    np.testing.assert_allclose(model.predict(test[order]), expected[order], rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(test), expected)
    again = GKEDMGraphRegressor(backbone=backbone, batch_size=16, **FAST).fit(
        bonds[:160], y_continuous[:160]
    )
    np.testing.assert_array_equal(again.predict(test), expected)


def test_node_classifier_uses_edge_attributes(small_graph):
    X, y = small_graph
    # An edge attribute that says whether the edge joins two nodes of the same class.
    rows, columns = X.adjacency.nonzero()
    same = (y[rows] == y[columns]).astype(float)
    with_edges = GraphNodes(X.adjacency, X.features, edge_attr=same)
    train = np.arange(0, len(y), 3)
    y_train = np.full(len(y), -1)
    y_train[train] = y[train]
    params = {"hidden_dims": (16,), "max_epochs": 40, "schedule": "joint", "random_state": 0}
    for backbone in ("gin", "gat"):
        clf = GKEDMClassifier(backbone=backbone, **params).fit(with_edges, y_train)
        assert clf._architecture.edge_dim == 1
        plain = GKEDMClassifier(backbone=backbone, **params).fit(X, y_train)
        assert not np.allclose(clf.predict_proba(with_edges), plain.predict_proba(X))
        with pytest.raises(ValueError, match="fitted on graphs with 1 edge attributes"):
            clf.predict(X)
        with pytest.raises(ValueError, match=r"mini-batches \(batch_size\) do not carry them"):
            GKEDMClassifier(backbone=backbone, batch_size=32, **params).fit(with_edges, y_train)
    with pytest.warns(UserWarning, match=IGNORED):
        gcn = GKEDMClassifier(backbone="gcn", **params).fit(with_edges, y_train)
    np.testing.assert_array_equal(
        gcn.predict_proba(with_edges),
        GKEDMClassifier(backbone="gcn", **params).fit(X, y_train).predict_proba(X),
    )


@pytest.mark.parametrize(
    "estimator, params",
    [
        (GKEDMClassifier, {}),  # the default: an MLP's class scores, propagated
        (GKEDMClassifier, {"gkedm": False}),  # the MLP alone
        (GKEDMClassifier, {"backbone": "sage"}),
        (GKEDMRegressor, {}),  # a GCN with one GKEDM step
    ],
)
def test_a_model_that_ignores_edge_attributes_says_so(small_graph, estimator, params):
    """Edge attributes that the network does not read are not dropped silently: the fit
    warns, and the model is the one fitted without them."""
    X, y = small_graph
    rows, columns = X.adjacency.nonzero()
    same = (y[rows] == y[columns]).astype(float)  # would help a model that read it
    data = GraphNodes(X.adjacency, X.features, edge_attr=same).to_pyg()  # PyG Data input
    target = y if estimator is GKEDMClassifier else y.astype(float)
    params = {**params, "hidden_dims": (8,), "max_epochs": 5, "gkedm_check": False}
    with pytest.warns(UserWarning, match="1 " + IGNORED) as caught:
        model = estimator(**params, random_state=0).fit(data, target)
    assert repr(model._architecture.backbone) in str(caught[0].message)
    assert model._architecture.edge_dim == 0
    without = estimator(**params, random_state=0).fit(X, target)
    np.testing.assert_array_equal(model.predict(X), without.predict(X))


def test_no_edge_attribute_warning_where_they_are_used_or_absent(small_graph):
    X, y = small_graph
    with_edges = GraphNodes(X.adjacency, X.features, edge_attr=np.ones((X.adjacency.nnz, 2)))
    params = {"hidden_dims": (8,), "max_epochs": 3, "gkedm_check": False, "random_state": 0}
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*" + IGNORED)
        assert GKEDMClassifier(backbone="gin", **params).fit(with_edges, y)._architecture.edge_dim
        GKEDMClassifier(**params).fit(X, y)
