"""Renumbering a large graph's nodes (cache-friendly order) changes no prediction.

On the CPU, graphs of at least ``REORDER_MIN_NODES`` nodes (off by default) are
renumbered by decreasing degree when their tensors are built, and outputs go back to the
input's order. Here the threshold is set to 0 so that Cora and small graphs are
renumbered, and the results are compared with those of the input's order.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm.data import GraphNodes
from skgkedm.loader import _graph_tensors
from skgkedm.loader._message_graph import MessageGraph


@pytest.fixture
def reordering(monkeypatch):
    """Renumber every graph; records the orders used."""
    orders = []
    cache_order = _graph_tensors.cache_order

    def recorded(messages):
        orders.append(cache_order(messages))
        return orders[-1]

    monkeypatch.setattr(_graph_tensors, "REORDER_MIN_NODES", 0)
    monkeypatch.setattr(_graph_tensors, "cache_order", recorded)
    return orders


@pytest.mark.parametrize("symmetrize", [True, False])
def test_renumbered_graph_is_the_permuted_matrix(cora, symmetrize):
    adjacency = sp.csr_array(cora.X.adjacency)
    if not symmetrize:  # a directed graph: drop one direction of a third of the edges
        coo = sp.coo_array(adjacency)
        keep = (coo.row < coo.col) | (np.arange(coo.nnz) % 3 > 0)
        adjacency = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), adjacency.shape)
    messages = MessageGraph.from_adjacency(adjacency, symmetrize, track_edges=True)
    order = torch.from_numpy(np.random.default_rng(0).permutation(messages.n_nodes))
    renumbered = messages.renumbered(order)
    expected = messages.matrix[order.numpy()][:, order.numpy()]
    expected.sort_indices()
    np.testing.assert_array_equal(renumbered.ptr.numpy(), expected.indptr)
    np.testing.assert_array_equal(renumbered.columns.numpy(), expected.indices)
    np.testing.assert_array_equal(renumbered.weights.numpy(), expected.data)
    # Each entry still points at the adjacency edge it came from.
    positions = sp.csr_array(
        (messages.edge_positions.numpy() + 1.0, messages.columns.numpy(), messages.ptr.numpy()),
        shape=expected.shape,
    )[order.numpy()][:, order.numpy()]
    positions.sort_indices()
    np.testing.assert_array_equal(renumbered.edge_positions.numpy() + 1, positions.data)


def test_cache_order_puts_hubs_first(cora):
    messages = MessageGraph.from_adjacency(cora.X.adjacency, symmetrize=True)
    order = _graph_tensors.cache_order(messages).numpy()
    degree = np.bincount(messages.columns.numpy(), minlength=messages.n_nodes)
    assert sorted(order) == list(range(messages.n_nodes))
    assert np.all(np.diff(degree[order]) <= 0)


def test_predictions_do_not_depend_on_the_order(cora, monkeypatch):
    X, y = cora.X, cora.y
    model = GKEDMClassifier(hidden_dims=(16,), max_epochs=5, gkedm_check=False, random_state=0)
    model.fit(X[cora.train_index], y[cora.train_index])
    given = model.predict_proba(X[cora.test_index])
    attention = model.attention_weights(X[cora.test_index[:50]])
    orders = []
    cache_order = _graph_tensors.cache_order
    monkeypatch.setattr(_graph_tensors, "REORDER_MIN_NODES", 0)
    monkeypatch.setattr(
        _graph_tensors, "cache_order", lambda m: orders.append(1) or cache_order(m)
    )
    renumbered = model.predict_proba(X[cora.test_index])
    assert orders, "the graph was not renumbered"
    np.testing.assert_allclose(renumbered, given, rtol=1e-5, atol=1e-6)
    renumbered_attention = model.attention_weights(X[cora.test_index[:50]])

    def by_edge(weights):
        order = np.lexsort((weights.source, weights.target))
        return weights.source[order], weights.target[order], weights.weights[order]

    for a, b in zip(by_edge(renumbered_attention), by_edge(attention), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_on_the_renumbered_graph_gives_the_same_model(cora, reordering):
    # Without dropout, training sees the same numbers in another order: only float
    # rounding (sums in another order) tells the two fits apart.
    X, y = cora.X, cora.y
    options = {"hidden_dims": (16,), "max_epochs": 5, "dropout": 0.0, "gkedm_dropout": 0.0,
               "gkedm_check": False, "random_state": 0}  # fmt: skip
    renumbered = GKEDMClassifier(**options).fit(X[cora.train_index], y[cora.train_index])
    assert reordering
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_graph_tensors, "REORDER_MIN_NODES", None)
        given = GKEDMClassifier(**options).fit(X[cora.train_index], y[cora.train_index])
        given_proba = given.predict_proba(X)
    np.testing.assert_allclose(renumbered.predict_proba(X), given_proba, atol=1e-4)
    np.testing.assert_allclose(renumbered.transduction_, given.transduction_, atol=1e-4)
    np.testing.assert_allclose(renumbered.loss_curve_, given.loss_curve_, rtol=1e-4)


def test_edge_attributes_follow_their_edges(reordering):
    rng = np.random.default_rng(0)
    n_nodes = 60
    source, target = rng.integers(0, n_nodes, (2, 240))
    keep = source != target
    adjacency = sp.csr_array((np.ones(keep.sum()), (source[keep], target[keep])), (60, 60))
    X = GraphNodes(adjacency, rng.random((n_nodes, 4)), edge_attr=rng.random((adjacency.nnz, 2)))
    y = rng.random(n_nodes)
    model = GKEDMRegressor(
        backbone="gat", hidden_dims=(8,), gat_heads=2, max_epochs=3, directed=True,
        gkedm_check=False, random_state=0,
    ).fit(X, y)  # fmt: skip
    renumbered = model.predict(X)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_graph_tensors, "REORDER_MIN_NODES", None)
        given = model.predict(X)
    assert reordering
    np.testing.assert_allclose(renumbered, given, rtol=1e-5, atol=1e-6)
