"""Graph-free models: the "mlp" backbone without GKEDM, alone and as a distilled student."""

import pickle
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgkedm import DistilledGCNClassifier, GKEDMClassifier, GraphNodes
from skgkedm.data import _knn_graph
from skgkedm.datasets import make_node_classification

MLP = {"backbone": "mlp", "gkedm": False, "hidden_dims": (16,), "max_epochs": 30}


@pytest.fixture(scope="module")
def graph():
    return make_node_classification(240, n_classes=3, n_features=8, random_state=0)


@pytest.fixture(scope="module")
def distilled(graph):
    X, y = graph
    teacher = GKEDMClassifier(hidden_dims=(16,), max_epochs=30, random_state=0)
    return DistilledGCNClassifier(teacher, GKEDMClassifier(**MLP), random_state=0).fit(
        X[:160], y[:160]
    )


def rewired(X):
    """The same nodes and features over a different, random graph."""
    rng = np.random.default_rng(1)
    edges = rng.integers(0, X.n_nodes, size=(2, 4 * X.n_nodes))
    adjacency = sp.csr_array((np.ones(edges.shape[1]), tuple(edges)), shape=(X.n_nodes,) * 2)
    return GraphNodes(adjacency, X.features)[X.indices]


def test_distilled_student_predicts_from_features_alone(graph, distilled):
    X, _ = graph
    test = X[160:]
    proba = distilled.predict_proba(test)
    # Plain feature rows (no graph), one row at a time, or the nodes over another graph.
    features = X.features[test.indices]
    np.testing.assert_allclose(distilled.predict_proba(features), proba, atol=1e-6)
    np.testing.assert_allclose(distilled.predict_proba(features[:1]), proba[:1], atol=1e-6)
    np.testing.assert_allclose(distilled.predict_proba(rewired(test)), proba, atol=1e-6)
    np.testing.assert_array_equal(distilled.predict(features), distilled.student_.predict(test))
    # The teacher does use the graph: the student's independence is not vacuous.
    teacher = distilled.teacher_
    assert not np.allclose(teacher.predict_proba(rewired(test)), teacher.predict_proba(test))


def test_graph_free_model_builds_no_neighbour_graph(graph, monkeypatch):
    X, y = graph
    features = X.features

    def refuse(*args, **kwargs):
        raise AssertionError("a k-nearest-neighbour graph was built")

    monkeypatch.setattr(_knn_graph.KNNGraph, "fit", refuse)
    monkeypatch.setattr(_knn_graph.KNNGraph, "attach", refuse)
    clf = GKEDMClassifier(**MLP, random_state=0).fit(features[:160], y[:160])
    predicted = clf.predict(features[160:])
    assert clf.score(features[160:], y[160:]) > 0.5
    # Each row's prediction is its own, whatever other rows are predicted with it.
    np.testing.assert_array_equal(clf.predict(features[200:]), predicted[40:])
    # Fitted on graph input, the edges are ignored: another graph, the same model.
    on_graph = GKEDMClassifier(**MLP, random_state=0).fit(X[:160], y[:160])
    on_other = GKEDMClassifier(**MLP, random_state=0).fit(rewired(X)[:160], y[:160])
    np.testing.assert_allclose(
        on_graph.predict_proba(features[160:]), on_other.predict_proba(X[160:]), atol=1e-6
    )


def test_graph_free_models_in_a_pipeline(graph):
    X, y = graph
    features = X.features * 100 + 5  # badly scaled: the scaler matters
    model = make_pipeline(StandardScaler(), GKEDMClassifier(**MLP, random_state=0))
    scores = cross_val_score(model, features, y, cv=3)
    assert scores.mean() > 0.5
    teacher = GKEDMClassifier(hidden_dims=(16,), max_epochs=30, random_state=0)
    distiller = DistilledGCNClassifier(teacher, GKEDMClassifier(**MLP), random_state=0)
    pipeline = make_pipeline(StandardScaler(), distiller).fit(features[:160], y[:160])
    assert pipeline.score(features[160:], y[160:]) > 0.5
    np.testing.assert_array_equal(
        pipeline.predict(features[200:]), pipeline.predict(features[160:])[40:]
    )


def test_same_random_state_same_student(graph, distilled):
    X, y = graph
    again = clone(distilled).fit(X[:160], y[:160])
    for name, weights in distilled.student_._weights.items():
        np.testing.assert_array_equal(again.student_._weights[name], weights)
    np.testing.assert_array_equal(
        again.predict_proba(X.features[160:]), distilled.predict_proba(X.features[160:])
    )


def test_students_of_networkx_graphs_predict_from_node_features(graph, distilled):
    X, _ = graph
    G = nx.Graph()
    for node in range(160, 200):
        G.add_node(f"n{node}", x=X.features[node])
    G.add_edges_from(("n160", f"n{node}") for node in range(161, 200))
    np.testing.assert_allclose(
        distilled.predict_proba(G), distilled.predict_proba(X.features[160:200]), atol=1e-6
    )


def test_distilled_student_round_trips_through_pickle(graph, distilled):
    X, _ = graph
    loaded = pickle.loads(pickle.dumps(distilled))
    np.testing.assert_array_equal(
        loaded.predict_proba(X.features[160:]), distilled.predict_proba(X.features[160:])
    )
    student = pickle.loads(pickle.dumps(distilled.student_))
    np.testing.assert_array_equal(
        student.predict_proba(X.features[160:]), distilled.predict_proba(X.features[160:])
    )


def test_attention_distillation_into_a_graph_free_student_is_refused(graph):
    X, y = graph
    teacher = GKEDMClassifier(hidden_dims=(16,), max_epochs=5)
    with pytest.raises(ValueError, match=r"graph-free student .* no attention map"):
        DistilledGCNClassifier(teacher, GKEDMClassifier(**MLP), attention_weight=0.5).fit(
            X[:160], y[:160]
        )
    # The default, "auto", distils soft labels only; it still distils attention between
    # two models that both attend.
    auto = DistilledGCNClassifier(teacher, GKEDMClassifier(**MLP), random_state=0)
    assert auto._attention_weight() == 0.0
    assert DistilledGCNClassifier(teacher, GKEDMClassifier())._attention_weight() == 1.0


def test_hostile_inputs_to_a_graph_free_model(graph, distilled):
    X, y = graph
    features = np.array(X.features[160:])
    before = features.copy()
    distilled.predict(features)
    np.testing.assert_array_equal(features, before)
    with pytest.raises(ValueError, match="8 features"):
        distilled.predict(features[:, :5])
    with pytest.raises(ValueError, match=r"5 features"):
        distilled.predict(GraphNodes(sp.eye(3), np.ones((3, 5))))
    with pytest.raises(ValueError, match="NaN"):
        distilled.predict(np.full((2, 8), np.nan))
    with pytest.raises(ValueError, match="gkedm=False"):
        distilled.student_.attention_weights(X[:5])
    train = np.array(X.features[:160])
    copy = train.copy()
    GKEDMClassifier(**MLP, random_state=0).fit(train, y[:160])
    np.testing.assert_array_equal(train, copy)


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize(("class_sep", "follows"), [(3.0, True), (0.1, False)])
def test_teacher_agreement_says_whether_the_student_can_follow(class_sep, follows, frozen):
    # The edges carry the class (homophily 0.9); the features do (class_sep 3) or not.
    X, y = make_node_classification(
        400, n_classes=4, homophily=0.9, class_sep=class_sep, random_state=0
    )
    labels = np.where(np.arange(400) % 5 == 0, y, -1)
    teacher = GKEDMClassifier(max_epochs=60, random_state=0)
    if frozen:
        teacher = FrozenEstimator(teacher.fit(X, labels))
    model = DistilledGCNClassifier(teacher, GKEDMClassifier(**MLP), random_state=0)
    model.fit(X, labels)
    every = X.all_nodes
    same = model.teacher_.predict(every) == model.predict(every.features)
    assert model.teacher_agreement_ == pytest.approx(same.mean())
    assert np.mean(model.teacher_.predict(every) == y) > 0.9  # the teacher reads the edges
    assert (model.teacher_agreement_ > 0.8) == follows


def test_mlp_backbone_with_gkedm_uses_the_graph(graph):
    X, y = graph
    clf = GKEDMClassifier(**{**MLP, "gkedm": True, "gkedm_heads": 2}, random_state=0)
    clf.fit(X[:160], y[:160])
    assert not np.allclose(clf.predict_proba(rewired(X[160:])), clf.predict_proba(X[160:]))


def test_distilled_student_beats_the_mlp_alone_on_cora(cora):
    X, y = cora.X, cora.y
    labels = np.full(len(y), -1)
    labels[cora.train_index] = y[cora.train_index]
    test = cora.test_index
    teacher = GKEDMClassifier(hidden_dims=(32,), max_epochs=100, random_state=0).fit(X, labels)
    student = GKEDMClassifier(**{**MLP, "hidden_dims": (32,), "max_epochs": 100})
    distilled = DistilledGCNClassifier(FrozenEstimator(teacher), student, random_state=0)
    distilled.fit(X, labels)
    alone = clone(student).set_params(random_state=distilled.student_.random_state)
    alone.fit(X, labels)
    gain = distilled.score(X.features[test], y[test]) - alone.score(X.features[test], y[test])
    # These small, short-trained models gained 22 points when written (seed 0), and
    # benchmarks/graph_free_students.py about 30 at full size; a gain of 10 points
    # still separates distillation from noise (seeds move either model by 1-3).
    assert gain > 0.10


def test_predictions_do_not_depend_on_the_chunk_size(graph, distilled, monkeypatch):
    X, _ = graph
    nodes = X[np.random.default_rng(0).permutation(X.n_nodes)[:50]]  # unordered rows
    features = X.features[nodes.indices]
    expected = distilled.predict_proba(features), distilled.predict_log_proba(nodes)
    labels = distilled.predict(features)
    monkeypatch.setattr("skgkedm._node_estimator.FEATURE_CHUNK", 7)
    # A float32 product's rounding may depend on how many rows its block holds (MKL's
    # kernels differ by block shape, in torch's forward pass as in DenseForward's
    # addmm): equal to float32 rounding, and the same classes.
    np.testing.assert_allclose(distilled.predict_proba(features), expected[0], atol=1e-6)
    np.testing.assert_allclose(distilled.predict_log_proba(nodes), expected[1], atol=1e-6)
    np.testing.assert_array_equal(distilled.predict(features), labels)
    np.testing.assert_array_equal(distilled.predict(nodes), labels)


def test_predict_is_the_most_probable_class(cora):
    """predict takes the argmax of the network's outputs, not of predict_proba: the same."""
    X, y = cora.X, cora.y
    labels = np.full(len(y), -1)
    labels[cora.train_index] = 10 * y[cora.train_index] + 5  # classes_ are not indices
    teacher = GKEDMClassifier(hidden_dims=(16,), max_epochs=20, random_state=0).fit(X, labels)
    student = GKEDMClassifier(**MLP, random_state=0)
    distilled = DistilledGCNClassifier(FrozenEstimator(teacher), student, random_state=0)
    distilled.fit(X, labels)
    test = X[cora.test_index]
    for model, inputs in (
        (teacher, test),
        (distilled, test),
        (distilled, X.features[cora.test_index]),
        (distilled.student_, sp.csr_array(X.features[cora.test_index])),
    ):
        proba = model.predict_proba(inputs)
        assert proba.dtype == np.float64
        predicted = model.predict(inputs)
        np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
        assert set(predicted) <= set(range(5, 70, 10))


def test_sparse_feature_rows_predict_as_dense_ones(graph, distilled):
    X, _ = graph
    features = X.features[160:]
    np.testing.assert_allclose(
        distilled.predict_proba(sp.csr_array(features)),
        distilled.predict_proba(features),
        atol=1e-6,
    )


def test_graphs_as_samples_are_refused_with_the_fix(distilled):
    graphs = [nx.path_graph(3), nx.path_graph(4)]
    for model in (distilled, distilled.student_, distilled.teacher_):
        with pytest.raises(TypeError, match=r"graphs as samples .* GKEDMGraphClassifier"):
            model.predict(graphs)
    with pytest.raises(TypeError, match="graphs as samples"):
        GKEDMClassifier(**MLP).fit(graphs, [0, 1])


def test_graph_free_predictions_never_sleep_to_choose_threads(graph, distilled, monkeypatch):
    """A large graph-free predict may be shorter than a load measure: it never waits."""
    from skgkedm.utils import _threads

    X, _ = graph
    features = X.features[160:]
    monkeypatch.setattr("skgkedm._node_estimator.FEATURE_CHUNK", 7)
    expected = distilled.predict_proba(features)

    def refuse(seconds):
        raise AssertionError("slept to measure the load")

    monkeypatch.setattr(_threads, "LARGE_GRAPH_ENTRIES", 1)
    monkeypatch.setattr(_threads.time, "sleep", refuse)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        proba = distilled.predict_proba(features)
        assert torch.get_num_threads() == 2  # the caller's setting, restored
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(proba, expected)


@pytest.mark.parametrize(
    "params", [{}, {"activation": "tanh", "hidden_dims": (16, 8)}], ids=["relu", "tanh-2-layers"]
)
def test_the_dense_path_predicts_as_the_network_forward_pass(cora, params, monkeypatch):
    """predict of dense rows runs DenseForward: the same classes as the network's own
    forward pass (the path before it), probabilities to float32 rounding, for any layout,
    dtype or writability of the input, which is never copied into or modified."""
    from skgkedm.loader._graph_tensors import feature_tensors
    from skgkedm.nn import _feature_forward

    X, y = cora.X.features, cora.y
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    model = GKEDMClassifier(**{**MLP, **params}, random_state=0).fit(X[:1000], y[:1000])
    network = model._fitted_network(torch.device("cpu"))
    with torch.no_grad():
        logits = network(feature_tensors(X, torch.device("cpu"))).logits.double()
    expected = model.classes_[logits.argmax(dim=1).numpy()]
    calls = []
    original = _feature_forward.DenseForward.__call__
    monkeypatch.setattr(
        _feature_forward.DenseForward,
        "__call__",
        lambda self, rows: calls.append(len(rows)) or original(self, rows),
    )
    read_only = np.array(X, dtype=np.float32)
    read_only.flags.writeable = False
    inputs = [X, np.asfortranarray(X, dtype=np.float64), read_only, X.astype(np.float64)[::-1]]
    for features in inputs:
        before = features.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. torch's warning on a read-only array
            predicted = model.predict(features)
            proba = model.predict_proba(features)
        order = slice(None, None, -1) if features is inputs[-1] else slice(None)
        np.testing.assert_array_equal(predicted, expected[order])
        np.testing.assert_allclose(proba, torch.softmax(logits, 1).numpy()[order], atol=1e-6)
        np.testing.assert_array_equal(features, before)
    assert sum(calls) == 2 * len(inputs) * len(X)


def test_a_graph_free_regressor_predicts_as_its_network_forward_pass(graph):
    """GKEDMRegressor's graph-free predictions take the same dense path: its outputs."""
    from skgkedm import GKEDMRegressor
    from skgkedm.loader._graph_tensors import feature_tensors

    X, y = graph
    features = np.asarray(X.features)
    targets = np.c_[y, features[:, 0]].astype(float)
    model = GKEDMRegressor(**MLP, random_state=0).fit(features[:160], targets[:160])
    network = model._fitted_network(torch.device("cpu"))
    with torch.no_grad():
        outputs = network(feature_tensors(features[160:], torch.device("cpu"))).logits
    expected = model._targets_from_outputs(outputs.double())
    np.testing.assert_allclose(model.predict(features[160:]), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.predict(X[160:]), expected, rtol=1e-6, atol=1e-6)
