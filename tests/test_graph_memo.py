"""A fitted node estimator prepares a graph once for the calls that follow on it.

``fit`` keeps the structure of the graph it trained on (its propagation matrix and
attention layout), and each ``predict``-like call the structure of its graph, so the
next call on the same graph does not prepare it again. These tests count the
preparations and compare every answer with a copy of the model that prepares each
graph afresh (a pickled copy starts with an empty memo): the memo must change the
speed, never the outputs, and a graph changed in place must be prepared anew.
"""

import copy
import pickle

import numpy as np
import pytest
from joblib import Parallel, delayed

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm.data import GraphNodes
from skgkedm.datasets import make_node_classification
from skgkedm.loader import _graph_memo


@pytest.fixture
def preparations(monkeypatch):
    """The number of graphs prepared (``graph_tensors`` calls) through the memo."""
    calls = []
    build = _graph_memo.graph_tensors
    monkeypatch.setattr(
        _graph_memo, "graph_tensors", lambda *args: calls.append(1) or build(*args)
    )
    return calls


def fresh_copy(model):
    """The same fitted model with nothing prepared (pickles leave the memo out)."""
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize(
    "options",
    [
        {"backbone": "gcn", "gkedm": False},
        {"backbone": "sage", "gkedm": True, "gkedm_check": False},
        {"backbone": "gat", "gkedm": True, "gkedm_check": False, "gat_heads": 2},
    ],
    ids=["gcn", "sage-gkedm", "gat-gkedm"],
)
def test_calls_after_fit_reuse_the_training_graph(cora, fast, options, preparations):
    X, y = cora.X, cora.y
    model = GKEDMClassifier(**{**fast, "max_epochs": 5, **options})
    model.fit(X[cora.train_index], y[cora.train_index])
    probabilities = model.predict_proba(X[cora.test_index])
    predictions = model.predict(X[cora.val_index])
    score = model.score(X[cora.test_index], y[cora.test_index])
    if options["gkedm"]:
        attention = model.attention_weights(X[cora.test_index[:20]])
    assert preparations == []
    fresh = fresh_copy(model)
    np.testing.assert_array_equal(fresh.predict_proba(X[cora.test_index]), probabilities)
    assert len(preparations) == 1
    np.testing.assert_array_equal(fresh.predict(X[cora.val_index]), predictions)
    assert fresh.score(X[cora.test_index], y[cora.test_index]) == score
    if options["gkedm"]:
        again = fresh.attention_weights(X[cora.test_index[:20]])
        np.testing.assert_array_equal(again.weights, attention.weights)
    assert len(preparations) == 1


def test_the_regressor_reuses_its_training_graph(small_graph, fast, preparations):
    X, y = small_graph
    model = GKEDMRegressor(**fast, gkedm_check=False).fit(X[:200], y[:200].astype(float))
    predictions = model.predict(X[200:])
    assert preparations == []
    np.testing.assert_array_equal(fresh_copy(model).predict(X[200:]), predictions)


@pytest.mark.parametrize("change", ["weights", "edges"])
def test_a_graph_changed_in_place_is_prepared_again(small_graph, fast, change, preparations):
    X, y = small_graph
    model = GKEDMClassifier(**fast, backbone="gcn", gkedm=False).fit(X[:200], y[:200])
    before = model.predict_proba(X[200:])
    adjacency = X.adjacency
    if change == "weights":
        adjacency.data[: adjacency.nnz // 2] *= 5.0
    else:
        # Rewire: every edge now leaves its source for another node (the same
        # arrays, so the same object and the same shape).
        adjacency.indices[:] = (adjacency.indices + 7) % adjacency.shape[0]
        adjacency.has_sorted_indices = False
        adjacency.sort_indices()
    after = model.predict_proba(X[200:])
    assert len(preparations) == 1
    assert not np.allclose(after, before), "the change should change the predictions"
    np.testing.assert_array_equal(after, fresh_copy(model).predict_proba(X[200:]))


def test_new_features_on_the_same_graph_are_read(small_graph, fast, preparations):
    X, y = small_graph
    model = GKEDMClassifier(**fast, backbone="gcn", gkedm=False).fit(X[:200], y[:200])
    before = model.predict_proba(X[200:])
    shifted = GraphNodes(X.adjacency, X.features * 3.0 + 1.0)
    after = model.predict_proba(shifted[200:])
    # The same adjacency: its structure is reused, the new features are read.
    assert preparations == []
    assert not np.allclose(after, before)
    np.testing.assert_array_equal(after, fresh_copy(model).predict_proba(shifted[200:]))


def test_a_call_on_another_graph_keeps_that_graph(small_graph, fast, preparations):
    X, y = small_graph
    other, _ = make_node_classification(150, n_classes=3, random_state=1)
    model = GKEDMClassifier(**fast, backbone="gcn", gkedm=False).fit(X[:200], y[:200])
    first = model.predict_proba(other)
    second = model.predict_proba(other)
    model.predict_proba(X)  # the training graph is no longer kept: one graph is
    assert len(preparations) == 2
    np.testing.assert_array_equal(first, second)


def test_the_memo_is_never_saved_and_copies_start_empty(small_graph, fast, preparations):
    X, y = small_graph
    model = GKEDMClassifier(**fast, backbone="gcn", gkedm=False).fit(X[:200], y[:200])
    assert "_graph_memo" not in model.__getstate__()
    copied = copy.deepcopy(model)
    assert copied._graph_memo is not model._graph_memo
    copied.predict(X[200:])
    assert len(preparations) == 1
    # An unfitted estimator has none, and its pickles neither.
    assert "_graph_memo" not in vars(pickle.loads(pickle.dumps(GKEDMClassifier())))


def test_calls_in_threads_on_two_graphs_agree_with_calls_in_turn(small_graph, fast):
    X, y = small_graph
    other, _ = make_node_classification(150, n_classes=3, random_state=1)
    model = GKEDMClassifier(**fast, gkedm_check=False).fit(X[:200], y[:200])
    graphs = [X, other] * 4
    expected = [fresh_copy(model).predict_proba(graph) for graph in graphs]
    found = Parallel(n_jobs=4, backend="threading")(
        delayed(model.predict_proba)(graph) for graph in graphs
    )
    for a, b in zip(found, expected, strict=True):
        np.testing.assert_array_equal(a, b)
