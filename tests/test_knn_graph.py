"""The k-nearest-neighbour graph built from plain feature matrices."""

import pathlib
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgkedm import GKEDMClassifier
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.data._knn_graph import KNNGraph
from skgkedm.datasets import make_node_classification

SAVED = pathlib.Path(__file__).parent / "data" / "skgkedm-0.1.0.dev0-83ea708"


def feature_rows(n_samples=90):
    X, y = make_node_classification(n_samples, n_classes=3, n_features=5, random_state=0)
    return np.asarray(X.features, dtype=np.float32), y


def test_training_samples_are_linked_both_ways_with_weight_one_over_k():
    features, _ = feature_rows()
    nodes = KNNGraph(n_neighbors=6).fit(features)
    adjacency = sp.csr_array(nodes.adjacency)
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().max() == 0
    np.testing.assert_allclose(adjacency.data, 1 / 6)
    # Each sample's 6 nearest neighbours are among its edges (more join from symmetry).
    assert np.diff(adjacency.indptr).min() >= 6
    np.testing.assert_array_equal(nodes.indices, np.arange(90))


def test_a_new_sample_receives_neighbours_weighing_as_much_as_itself_and_sends_nothing():
    features, _ = feature_rows()
    graph = KNNGraph(n_neighbors=6)
    training = sp.csr_array(graph.fit(features[:60]).adjacency)
    new = graph.attach(features[60:])
    adjacency = sp.csr_array(new.adjacency)
    np.testing.assert_array_equal(new.indices, np.arange(60, 90))
    # Six edges of weight 1/6 into each new sample: together they weigh 1, as its self-loop.
    incoming = adjacency[:, 60:]
    np.testing.assert_array_equal(np.diff(incoming.tocsc().indptr), 6)
    np.testing.assert_allclose(incoming.sum(axis=0), 1.0, rtol=1e-6)
    assert adjacency[60:].nnz == 0
    assert (adjacency[:60, :60] != training).nnz == 0


def test_neighbours_are_capped_and_their_weight_follows():
    features = feature_rows()[0][:5]
    graph = KNNGraph(n_neighbors=50)
    nodes = graph.fit(features)
    assert graph.k_ == 4
    np.testing.assert_allclose(sp.csr_array(nodes.adjacency).data, 1 / 4)
    lone = KNNGraph(n_neighbors=3)
    assert lone.fit(features[:1]).adjacency.nnz == 0
    # With one training sample, a new sample attaches to it with full weight.
    np.testing.assert_allclose(sp.csr_array(lone.attach(features[1:3]).adjacency).data, 1.0)


def test_a_graph_fitted_before_edge_weights_keeps_attaching_with_unit_weights():
    features, _ = feature_rows()
    graph = KNNGraph(n_neighbors=6)
    graph.fit(features[:60])
    # What an older version pickled: unit weights, and no edge_weight_ attribute.
    state = {k: v for k, v in vars(graph).items() if k != "edge_weight_"}
    state["adjacency_"] = graph.adjacency_.astype(bool).astype(np.float32)
    old = KNNGraph.__new__(KNNGraph)
    old.__dict__.update(state)
    old = pickle.loads(pickle.dumps(old))
    np.testing.assert_allclose(sp.csr_array(old.attach(features[60:]).adjacency).data, 1.0)


def test_a_model_saved_by_an_earlier_version_predicts_as_saved():
    with pytest.warns(UserWarning, match="saved with skgkedm"):
        model = joblib.load(SAVED / "gkedm_knn.pkl")
    assert "edge_weight_" not in vars(model._knn_graph)
    arrays = np.load(SAVED / "gkedm_knn.npz")
    attached = model._knn_graph.attach(arrays["features"])
    np.testing.assert_allclose(sp.csr_array(attached.adjacency).data, 1.0)
    np.testing.assert_allclose(
        model.predict_proba(arrays["features"]), arrays["proba"], rtol=0, atol=1e-6
    )


def test_a_samples_prediction_is_the_same_alone_and_in_a_batch():
    X, y = load_wine(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    train, test = order[:120], order[120:]
    model = make_pipeline(
        StandardScaler(), GKEDMClassifier(max_epochs=40, hidden_dims=(16,), random_state=0)
    ).fit(X[train], y[train])
    batch = model.predict_proba(X[test])
    assert model.score(X[test], y[test]) > 0.85
    singles = np.vstack([model.predict_proba(X[[i]]) for i in test[:10]])
    np.testing.assert_allclose(singles, batch[:10], rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X[test[::-1]])[::-1], batch, atol=1e-6)


def test_auto_update_is_residual_on_feature_rows_and_replace_on_graphs():
    # The residual update measured best in k-NN mode for a module on the hidden layer
    # (benchmarks/tabular.py); graphs, and a module on the class scores, keep "replace".
    X, y = make_node_classification(120, n_classes=3, random_state=0)
    hidden = {"hidden_dims": (8,), "max_epochs": 3, "random_state": 0, **HIDDEN_GKEDM}
    rows = GKEDMClassifier(**hidden).fit(X.features, y)
    graph = GKEDMClassifier(**hidden).fit(X, y)
    scores = GKEDMClassifier(hidden_dims=(8,), max_epochs=3, random_state=0)
    scores.fit(X.features, y)
    assert rows._architecture.gkedm_update == "residual"
    assert graph._architecture.gkedm_update == "replace"
    assert scores._architecture.gkedm_update == "replace"
    explicit = GKEDMClassifier(**{**hidden, "gkedm_update": "residual"}).fit(X.features, y)
    np.testing.assert_array_equal(
        explicit.predict_proba(X.features[:20]), rows.predict_proba(X.features[:20])
    )


def test_auto_dropout_is_none_on_feature_rows_and_half_on_graphs():
    # Dropout on iris's 4 columns cost the default 3 points (benchmarks/tabular.py).
    X, y = make_node_classification(120, n_classes=3, random_state=0)
    quick = {"hidden_dims": (8,), "max_epochs": 5, "random_state": 0}
    rows = GKEDMClassifier(**quick).fit(X.features, y)
    graph = GKEDMClassifier(**quick).fit(X, y)
    assert GKEDMClassifier().dropout == "auto"
    assert rows._architecture.dropout == 0.0
    assert graph._architecture.dropout == 0.5
    # The same models as the resolved values given outright.
    for auto, value, inputs in ((rows, 0.0, X.features), (graph, 0.5, X)):
        explicit = GKEDMClassifier(**quick, dropout=value).fit(inputs, y)
        np.testing.assert_array_equal(
            explicit.predict_proba(inputs[:20]), auto.predict_proba(inputs[:20])
        )
    # An explicit rate stands on feature rows too; a misspelt one is refused.
    kept = GKEDMClassifier(**quick, dropout=0.3).fit(X.features, y)
    assert kept._architecture.dropout == 0.3
    with pytest.raises(ValueError, match="dropout"):
        GKEDMClassifier(**quick, dropout="half").fit(X.features, y)
