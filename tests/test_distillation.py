from functools import partial
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm._distillation import DistilledGCNClassifier
from skgkedm.datasets import make_node_classification
from skgkedm.nn._distillation_loss import DistillationLoss, attention_kl, soft_label_kl
from skgkedm.nn._network import NetworkOutput

# Edges sorted by target node, as GraphTensors.attention_index holds them.
TARGET = torch.tensor([0, 0, 0, 1, 1, 2])


# Distillation transfers the attention of a module on the hidden layer: the previous
# default's recipe (the classifier's own default propagates class scores instead).
Hidden = partial(GKEDMClassifier, **HIDDEN_GKEDM)


def small_models(teacher_width=32, student_width=8, epochs=30, **student_params):
    return {
        "teacher": Hidden(hidden_dims=(teacher_width,), max_epochs=epochs, schedule="joint"),
        "student": Hidden(
            hidden_dims=(student_width,),
            gkedm_heads=2,
            max_epochs=epochs,
            **{"schedule": "joint", **student_params},
        ),
    }


@pytest.fixture(scope="module")
def graph():
    return make_node_classification(240, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def fitted_teacher(graph):
    X, y = graph
    return Hidden(hidden_dims=(32,), max_epochs=30, random_state=0).fit(X[:160], y[:160])


def random_attention(heads, seed):
    """Per-head softmax over each target's incoming edges, as (n_edges, heads)."""
    scores = np.random.default_rng(seed).normal(size=(len(TARGET), heads))
    weights = np.exp(scores)
    target = TARGET.numpy()
    for node in np.unique(target):
        weights[target == node] /= weights[target == node].sum(axis=0)
    return weights


def numpy_attention_kl(teacher, student, target):
    p, q = teacher.mean(axis=1), student.mean(axis=1)
    per_node = [np.sum(p[target == i] * np.log(p[target == i] / q[target == i])) for i in range(3)]
    return np.mean(per_node)


def numpy_soft_label_kl(teacher_logits, student_logits, tau):
    def softmax(z):
        e = np.exp(z / tau - (z / tau).max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p, q = softmax(teacher_logits), softmax(student_logits)
    return tau**2 * np.mean(np.sum(p * np.log(p / q), axis=1))


def test_attention_kl_matches_numpy_across_head_counts():
    teacher, student = random_attention(4, seed=0), random_attention(2, seed=1)
    loss = attention_kl(torch.tensor(teacher), torch.tensor(student), TARGET, 3)
    expected = numpy_attention_kl(teacher, student, TARGET.numpy())
    assert expected > 0
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10)


def test_attention_kl_is_zero_for_equal_head_averages():
    teacher = torch.tensor(random_attention(4, seed=0))
    # Two heads whose average equals the teacher's four-head average.
    average = teacher.mean(dim=1, keepdim=True)
    student = torch.cat([average, average], dim=1)
    assert attention_kl(teacher, student, TARGET, 3).item() == pytest.approx(0, abs=1e-12)
    assert attention_kl(teacher, student.flip(0), TARGET, 3).item() > 0


def test_attention_kl_stays_finite_when_student_weight_underflows():
    teacher = torch.tensor([[0.5], [0.5], [1.0]])
    student = torch.tensor([[1.0], [0.0], [1.0]])
    loss = attention_kl(teacher, student, torch.tensor([0, 0, 1]), 2)
    assert torch.isfinite(loss) and loss.item() > 10


def test_attention_kl_rejects_different_edges():
    with pytest.raises(ValueError, match="different edges"):
        attention_kl(torch.ones(6, 2), torch.ones(5, 2), TARGET, 3)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0, 4.0])
def test_soft_label_kl_matches_numpy(tau):
    rng = np.random.default_rng(0)
    teacher, student = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss = soft_label_kl(torch.tensor(teacher), torch.tensor(student), tau)
    expected = numpy_soft_label_kl(teacher, student, tau)
    assert expected > 0
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10)
    same = soft_label_kl(torch.tensor(teacher), torch.tensor(teacher) - 1.5, tau)
    assert same.item() == pytest.approx(0, abs=1e-12)


def test_distillation_loss_weights_both_terms():
    rng = np.random.default_rng(0)
    logits_t, logits_s = (torch.tensor(rng.normal(size=(3, 4))) for _ in range(2))
    attention_t, attention_s = (
        torch.tensor(random_attention(4, 0)),
        torch.tensor(random_attention(1, 1)),
    )
    graph = SimpleNamespace(attention_layout=SimpleNamespace(target=TARGET), x=torch.zeros(3, 1))
    graph = SimpleNamespace(graph=graph, rows=None)
    teacher = NetworkOutput(logits_t, attention_t)
    loss = DistillationLoss(lambda graph: teacher, 0.3, 0.7, 2.0)
    same = NetworkOutput(logits_t + 1.0, attention_t.mean(dim=1, keepdim=True))
    assert loss(same, graph).item() == pytest.approx(0, abs=1e-12)
    expected = 0.3 * numpy_attention_kl(
        attention_t.numpy(), attention_s.numpy(), TARGET.numpy()
    ) + 0.7 * numpy_soft_label_kl(logits_t.numpy(), logits_s.numpy(), 2.0)
    value = loss(NetworkOutput(logits_s, attention_s), graph).item()
    np.testing.assert_allclose(value, expected, rtol=1e-10)


def test_student_attends_along_the_teachers_edges(graph, fitted_teacher, monkeypatch):
    X, y = graph
    seen = []
    original = DistillationLoss.__call__

    def spy(self, output, batch):
        student_graph = batch.graph
        seen.append((self.teacher_output(student_graph).attention.shape, output.attention.shape))
        seen.append(student_graph.attention_index.clone())
        return original(self, output, batch)

    monkeypatch.setattr(DistillationLoss, "__call__", spy)
    student = Hidden(
        backbone="sage", hidden_dims=(8,), gkedm_heads=1, max_epochs=3, schedule="joint"
    )
    dist = DistilledGCNClassifier(FrozenEstimator(fitted_teacher), student, random_state=0)
    dist.fit(X[:160], y[:160])
    _, teacher_graph = fitted_teacher._network_output(X, True)
    (teacher_shape, student_shape), student_index = seen[0], seen[1]
    assert torch.equal(student_index, teacher_graph.attention_index)
    assert teacher_shape == (student_index.shape[1], 4)
    assert student_shape == (student_index.shape[1], 1)
    assert len(seen) == 2 * dist.n_iter_


@pytest.mark.parametrize("kind", ["graph_nodes", "networkx", "matrix"])
def test_fit_predict_on_each_input_kind(kind, graph):
    X, y = graph
    if kind == "graph_nodes":
        X_fit, y_fit, X_new = X[:160], y[:160], X[160:]
    elif kind == "networkx":
        G = nx.from_scipy_sparse_array(X.adjacency)
        nx.set_node_attributes(G, dict(enumerate(X.features)), "x")
        y_fit = np.where(np.arange(len(y)) < 160, y, -1)
        X_fit, X_new = G, G
    else:
        X_fit, y_fit, X_new = X.features[:160], y[:160], X.features[160:]
    dist = DistilledGCNClassifier(**small_models(), random_state=0).fit(X_fit, y_fit)
    proba = dist.predict_proba(X_new)
    n_new = 240 if kind == "networkx" else 80
    assert proba.shape == (n_new, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(dist.predict(X_new), dist.student_.predict(X_new))
    # Features alone (the k-nearest-neighbour graph) separate the classes less well, but
    # better than chance (1/3); on 80 nodes, one node moves the accuracy by 0.0125.
    assert np.mean(dist.predict(X_new)[-80:] == y[160:]) > (0.4 if kind == "matrix" else 0.6)
    assert dist.n_iter_ == dist.student_.n_iter_ == 30
    assert dist.compression_ratio_ == pytest.approx(
        dist.teacher_n_parameters_ / dist.student_n_parameters_
    )
    assert dist.compression_ratio_ > 3


def test_defaults_and_template_overrides(graph):
    X, y = graph
    template = Hidden(hidden_dims=(8,), max_epochs=5, directed=True, n_neighbors=3)
    dist = DistilledGCNClassifier(student=template, n_neighbors=7).fit(X[:160], y[:160])
    assert dist.teacher_.hidden_dims == (256,)
    assert not dist.student_.directed and dist.student_.n_neighbors == 7
    assert template.directed and not hasattr(template, "classes_")
    default = DistilledGCNClassifier()
    assert default._templates()[1].hidden_dims == (16,)


def test_two_phase_student(graph):
    X, y = graph
    models = small_models(epochs=10, schedule="two_phase")
    dist = DistilledGCNClassifier(**models, random_state=0).fit(X[:160], y[:160])
    assert dist.n_iter_ == 10


def test_grid_search_over_student_with_frozen_teacher(graph, fitted_teacher, monkeypatch):
    X, y = graph
    weights = fitted_teacher._weights

    def refit(*args, **kwargs):
        raise AssertionError("the frozen teacher was refitted")

    monkeypatch.setattr(fitted_teacher, "_fit_validated", refit)
    dist = DistilledGCNClassifier(
        FrozenEstimator(fitted_teacher),
        Hidden(max_epochs=15, gkedm_heads=2),
        random_state=0,
    )
    grid = {"student__hidden_dims": [(4,), (8,)], "attention_weight": [0.0, 0.5]}
    search = GridSearchCV(dist, grid, cv=2).fit(X[:160], y[:160])
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.teacher_ is fitted_teacher and fitted_teacher._weights is weights
    assert best.student_.hidden_dims == search.best_params_["student__hidden_dims"]
    assert search.score(X[160:], y[160:]) > 0.6


def test_same_random_state_same_model(graph):
    X, y = graph

    def proba(seed):
        dist = DistilledGCNClassifier(**small_models(epochs=15), random_state=seed)
        return dist.fit(X[:160], y[:160]).predict_proba(X[160:])

    np.testing.assert_array_equal(proba(3), proba(3))
    assert not np.array_equal(proba(3), proba(4))


def test_distillation_moves_the_student_towards_the_teacher(graph, fitted_teacher):
    X, y = graph
    teacher_logits = fitted_teacher._network_output(X, True)[0].logits

    def divergence(soft_label_weight):
        # Without dropout the student can fit the teacher rather than the noise.
        student = Hidden(hidden_dims=(8,), gkedm_heads=2, dropout=0.0, max_epochs=100)
        dist = DistilledGCNClassifier(
            FrozenEstimator(fitted_teacher),
            student,
            attention_weight=0,
            soft_label_weight=soft_label_weight,
            temperature=1.0,
            random_state=0,
        ).fit(X[:160], y[:160])
        student_logits = dist.student_._network_output(X, True)[0].logits
        return soft_label_kl(teacher_logits, student_logits, 1.0).item()

    assert divergence(5.0) < 0.25 * divergence(0.0)


def test_inputs_and_templates_are_not_modified(graph):
    X, y = graph
    adjacency, features, y_copy = X.adjacency.copy(), X.features.copy(), y.copy()
    models = small_models(epochs=5)
    before = {role: model.get_params() for role, model in models.items()}
    dist = DistilledGCNClassifier(**models, random_state=0).fit(X[:160], y[:160])
    dist.predict(X[160:])
    assert (X.adjacency != adjacency).nnz == 0
    np.testing.assert_array_equal(X.features, features)
    np.testing.assert_array_equal(y, y_copy)
    for role, model in models.items():
        assert model.get_params() == before[role]
        assert not hasattr(model, "n_parameters_")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"attention_weight": -0.1}, "attention_weight"),
        ({"soft_label_weight": -1}, "soft_label_weight"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": -2.0}, "temperature"),
        ({"n_neighbors": 0}, "n_neighbors"),
    ],
)
def test_invalid_parameters(graph, params, match):
    X, y = graph
    with pytest.raises(ValueError, match=match):
        DistilledGCNClassifier(**params).fit(X[:160], y[:160])


@pytest.mark.parametrize(
    "params",
    [
        {"teacher": LogisticRegression()},
        {"teacher": FrozenEstimator(LogisticRegression())},
        {"student": LogisticRegression()},
    ],
)
def test_teacher_and_student_must_be_gkedm_classifiers(graph, params):
    X, y = graph
    with pytest.raises(TypeError, match="GKEDMClassifier"):
        DistilledGCNClassifier(**params).fit(X[:160], y[:160])


def test_invalid_template_parameters_are_reported(graph):
    X, y = graph
    with pytest.raises(ValueError, match="learning_rate"):
        DistilledGCNClassifier(student=GKEDMClassifier(learning_rate=-1)).fit(X[:160], y[:160])


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_attention_distillation_needs_gkedm(graph, role):
    X, y = graph
    models = small_models(epochs=5)
    models[role].set_params(gkedm=False)
    with pytest.raises(ValueError, match=f"{role} has gkedm=False"):
        DistilledGCNClassifier(**models, attention_weight=0.1).fit(X[:160], y[:160])
    dist = DistilledGCNClassifier(**models, attention_weight=0, random_state=0)
    assert dist.fit(X[:160], y[:160]).predict(X[160:]).shape == (80,)


def test_frozen_teacher_must_be_fitted_on_matching_data(graph, fitted_teacher):
    X, y = graph
    with pytest.raises(NotFittedError):
        DistilledGCNClassifier(FrozenEstimator(GKEDMClassifier())).fit(X[:160], y[:160])
    wrong_classes = np.where(y == 2, 1, y)
    with pytest.raises(ValueError, match="classes"):
        DistilledGCNClassifier(FrozenEstimator(fitted_teacher)).fit(X[:160], wrong_classes[:160])
    X_wide = GraphNodes(X.adjacency, np.hstack([X.features, X.features]))
    with pytest.raises(ValueError, match="features"):
        DistilledGCNClassifier(FrozenEstimator(fitted_teacher)).fit(X_wide[:160], y[:160])


def test_predict_checks_fitted_and_features(graph):
    X, y = graph
    with pytest.raises(NotFittedError):
        DistilledGCNClassifier().predict(X)
    dist = DistilledGCNClassifier(**small_models(epochs=5), random_state=0).fit(X[:160], y[:160])
    with pytest.raises(ValueError, match="features"):
        dist.predict(GraphNodes(X.adjacency, X.features[:, :3]))


def test_cora_student_keeps_most_of_the_teachers_accuracy(cora):
    X, y = cora.X, cora.y
    train, test = cora.train_index, cora.test_index
    dist = DistilledGCNClassifier(
        teacher=Hidden(hidden_dims=(64,), max_epochs=200),
        student=Hidden(hidden_dims=(8,), gkedm_heads=2, max_epochs=200),
        random_state=0,
    ).fit(X[train], y[train])
    assert dist.compression_ratio_ > 6
    teacher_accuracy = dist.teacher_.score(X[test], y[test])
    assert teacher_accuracy > 0.7
    assert dist.score(X[test], y[test]) > teacher_accuracy - 0.05
