"""Multi-label, sample and class weights, unseen classes: through scikit-learn's own tools."""

import networkx as nx
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain
from sklearn.utils.class_weight import compute_sample_weight

from skgkedm import (
    DistilledGCNClassifier,
    GKEDMClassifier,
    GKEDMGraphClassifier,
    GKEDMGraphRegressor,
    GKEDMRegressor,
)
from skgkedm._classifier import HIDDEN_GKEDM

FAST = {"hidden_dims": (16,), "max_epochs": 40, "schedule": "joint", "random_state": 0}


def neighbourhood_labels(X, y):
    """Two labels per node of a real graph: its class, and its neighbours' commonest class."""
    adjacency = X.adjacency.tocsr()
    n_classes = y.max() + 1
    Y = np.zeros((len(y), n_classes), dtype=np.int64)
    Y[np.arange(len(y)), y] = 1
    for node in range(len(y)):
        neighbours = adjacency.indices[adjacency.indptr[node] : adjacency.indptr[node + 1]]
        if len(neighbours):
            Y[node, np.bincount(y[neighbours], minlength=n_classes).argmax()] = 1
    return Y


# ---------------------------------------------------------------- multi-label


def test_multilabel_on_cora_cross_validates_with_f1_micro(cora):
    X, Y = cora.X, neighbourhood_labels(cora.X, cora.y)
    assert (Y.sum(axis=1) >= 1).all() and (Y.sum(axis=1) == 2).any()
    scores = cross_val_score(
        GKEDMClassifier(**{**FAST, "max_epochs": 60, "learning_rate": 0.05}),
        X,
        Y,
        scoring="f1_micro",
        cv=KFold(3, shuffle=True, random_state=0),
    )
    features_only = cross_val_score(
        OneVsRestClassifier(LogisticRegression(max_iter=500)),
        X.features,
        Y,
        scoring="f1_micro",
        cv=KFold(3, shuffle=True, random_state=0),
    )
    assert np.isfinite(scores).all()
    # the neighbourhood's class is a label: the graph must help (0.56 against 0.05 measured)
    assert scores.mean() > 0.5 > features_only.mean() + 0.3


def test_multilabel_predictions_and_subset_accuracy(small_graph):
    X, y = small_graph
    Y = neighbourhood_labels(X, y)
    model = GKEDMClassifier(**FAST).fit(X[:200], Y[:200])
    predicted = model.predict(X[200:])
    proba = model.predict_proba(X[200:])
    assert predicted.shape == proba.shape == (100, Y.shape[1])
    assert set(np.unique(predicted)) <= {0, 1}
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    np.testing.assert_array_equal(model.classes_, np.arange(Y.shape[1]))
    assert model.score(X[200:], Y[200:]) == pytest.approx(accuracy_score(Y[200:], predicted))
    assert model.__sklearn_tags__().classifier_tags.multi_label


def test_rows_of_minus_one_are_unlabelled_nodes(small_graph):
    X, y = small_graph
    Y = neighbourhood_labels(X, y)
    partly = Y.copy()
    partly[::4] = -1
    kept = np.ones(len(Y), dtype=bool)
    kept[::4] = False
    with_marker = GKEDMClassifier(**FAST).fit(X, partly)
    selected = GKEDMClassifier(**FAST).fit(X[kept], Y[kept])
    np.testing.assert_allclose(
        with_marker.predict_proba(X), selected.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    assert with_marker.score(X, partly) == pytest.approx(with_marker.score(X[kept], Y[kept]))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda Y: Y.__setitem__((3, 1), 2), "0 and 1 only"),
        (lambda Y: Y.__setitem__((5, 0), -1), "0 and 1 only"),
    ],
    ids=["two", "partial_minus_one"],
)
def test_indicator_with_wrong_values_is_refused_unmodified(small_graph, edit, match):
    X, y = small_graph
    Y = neighbourhood_labels(X, y)
    edit(Y)
    before = Y.copy()
    with pytest.raises(ValueError, match=match):
        GKEDMClassifier(**FAST).fit(X, Y)
    np.testing.assert_array_equal(Y, before)


def test_indicator_with_an_empty_column_warns_and_never_predicts_it(small_graph):
    # As MLPClassifier: allowed, since cross-validation folds often miss rare labels.
    X, y = small_graph
    Y = np.column_stack([neighbourhood_labels(X, y), np.zeros(len(y), dtype=int)])
    with pytest.warns(UserWarning, match=r"Label columns \[3\] have no positive"):
        model = GKEDMClassifier(**FAST).fit(X, Y)
    assert not model.predict(X)[:, 3].any()


def test_multilabel_class_weight_as_compute_sample_weight_defines_it(small_graph):
    # Each label a binary output, weights multiplied: scikit-learn's multi-output practice.
    X, y = small_graph
    Y = neighbourhood_labels(X, y)
    balanced = GKEDMClassifier(**FAST, class_weight="balanced").fit(X[:200], Y[:200])
    by_sample = GKEDMClassifier(**FAST).fit(
        X[:200], Y[:200], sample_weight=compute_sample_weight("balanced", Y[:200])
    )
    np.testing.assert_allclose(
        balanced.predict_proba(X[200:]), by_sample.predict_proba(X[200:]), atol=1e-5
    )


def test_classifier_chain_on_feature_rows():
    X, Y = make_multilabel_classification(200, n_features=8, n_classes=3, random_state=0)
    # The previous default's recipe: on these unscaled feature rows the default (an
    # MLP's class scores propagated over the k-NN graph) scores 0.18, this one 0.32.
    chain = ClassifierChain(
        GKEDMClassifier(**{**FAST, **HIDDEN_GKEDM, "schedule": "joint"}),
        order=[0, 1, 2],
        random_state=0,
    )
    chain.fit(X[:150], Y[:150])
    assert chain.predict(X[150:]).shape == (50, 3)
    assert chain.score(X[150:], Y[150:]) > 0.2


def test_graph_classifier_multilabel():
    graphs = [nx.cycle_graph(n) for n in range(3, 15)] + [nx.path_graph(n) for n in range(3, 15)]
    Y = np.array([[isinstance(g, nx.Graph) and nx.is_tree(g), len(g) > 8] for g in graphs], int)
    model = GKEDMGraphClassifier(hidden_dims=(16, 16), max_epochs=60, random_state=0)
    model.fit(graphs, Y)
    assert model.predict(graphs).shape == (24, 2)
    assert model.predict_proba(graphs).shape == (24, 2)
    assert model.score(graphs, Y) > 0.5


def test_distiller_refuses_multilabel(small_graph):
    X, y = small_graph
    with pytest.raises(ValueError, match="single-label"):
        DistilledGCNClassifier(random_state=0).fit(X, neighbourhood_labels(X, y))


# ---------------------------------------------------------------- weights


def test_zero_weight_is_a_sample_absent_from_the_loss_on_cora(cora):
    X, y = cora.X, cora.y
    train = cora.train_index
    weights = np.ones(len(train))
    weights[::3] = 0.0
    model = GKEDMClassifier(**FAST)
    weighted = clone(model).fit(X[train], y[train], sample_weight=weights)
    absent = clone(model).fit(X[train[weights > 0]], y[train[weights > 0]])
    test = cora.test_index[:300]
    np.testing.assert_allclose(
        weighted.predict_proba(X[test]), absent.predict_proba(X[test]), atol=1e-5
    )
    unweighted = clone(model).fit(X[train], y[train])
    assert not np.allclose(unweighted.predict_proba(X[test]), absent.predict_proba(X[test]))


def test_zero_weight_regressor_and_graph_regressor(small_graph):
    X, y = small_graph
    target = y + np.random.default_rng(0).normal(0, 0.2, len(y))
    weights = np.ones(len(y))
    weights[::5] = 0.0
    kept = weights > 0
    # Unchecked: gkedm_check holds out a fifth of the labelled nodes, zero-weighted or
    # not, so the two fits would hold out different nodes.
    unchecked = {**FAST, "gkedm_check": False}
    weighted = GKEDMRegressor(**unchecked).fit(X, target, sample_weight=weights)
    absent = GKEDMRegressor(**unchecked).fit(X[kept], target[kept])
    np.testing.assert_allclose(weighted.predict(X), absent.predict(X), rtol=1e-4, atol=1e-4)


def test_class_weight_equals_the_matching_sample_weight(small_graph):
    X, y = small_graph
    balanced = GKEDMClassifier(**FAST, class_weight="balanced").fit(X[:200], y[:200])
    by_sample = GKEDMClassifier(**FAST).fit(
        X[:200], y[:200], sample_weight=compute_sample_weight("balanced", y[:200])
    )
    np.testing.assert_allclose(
        balanced.predict_proba(X[200:]), by_sample.predict_proba(X[200:]), atol=1e-5
    )
    as_dict = GKEDMClassifier(**FAST, class_weight={0: 3.0, 1: 1.0, 2: 1.0})
    as_dict.fit(X[:200], y[:200], sample_weight=np.full(200, 0.5))
    by_sample = GKEDMClassifier(**FAST).fit(
        X[:200], y[:200], sample_weight=np.where(y[:200] == 0, 1.5, 0.5)
    )
    np.testing.assert_allclose(
        as_dict.predict_proba(X[200:]), by_sample.predict_proba(X[200:]), atol=1e-5
    )


def test_class_weight_balanced_lifts_the_minority_class():
    from skgkedm.datasets import make_node_classification

    X, y = make_node_classification(400, n_classes=2, random_state=1)
    minority = np.flatnonzero(y == 1)[:20]
    train = np.concatenate([np.flatnonzero(y == 0)[:180], minority])
    test = np.setdiff1d(np.arange(400), train)
    plain = GKEDMClassifier(**FAST).fit(X[train], y[train])
    balanced = GKEDMClassifier(**FAST, class_weight="balanced").fit(X[train], y[train])
    assert (balanced.predict(X[test]) == 1).sum() >= (plain.predict(X[test]) == 1).sum()


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (lambda n: np.r_[-1.0, np.ones(n - 1)], "Negative"),
        (lambda n: np.zeros(n), "non-zero|0 on every labelled sample"),
        (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
        (lambda n: np.ones(n - 1), "inconsistent|sample_weight.shape"),
    ],
    ids=["negative", "all_zero", "nan", "short"],
)
@pytest.mark.parametrize("cls", [GKEDMClassifier, GKEDMRegressor, DistilledGCNClassifier])
def test_hostile_sample_weight_is_refused_unmodified(small_graph, cls, weights, match):
    X, y = small_graph
    w = weights(len(y))
    before = w.copy()
    model = cls(random_state=0)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y.astype(float) if cls is GKEDMRegressor else y, sample_weight=w)
    np.testing.assert_array_equal(w, before)


def test_graph_estimators_take_sample_weight():
    graphs = [nx.cycle_graph(n) for n in range(3, 13)] + [nx.path_graph(n) for n in range(3, 13)]
    y = np.array([1] * 10 + [0] * 10)
    weights = np.linspace(0.5, 2.0, 20)
    fast = {"hidden_dims": (16, 16), "max_epochs": 20, "random_state": 0}
    clf = GKEDMGraphClassifier(**fast, class_weight="balanced")
    assert clf.fit(graphs, y, sample_weight=weights).predict(graphs).shape == (20,)
    reg = GKEDMGraphRegressor(**fast).fit(graphs, [len(g) for g in graphs], sample_weight=weights)
    assert reg.predict(graphs).shape == (20,)
    with pytest.raises(ValueError, match="Negative"):
        GKEDMGraphRegressor(**fast).fit(graphs, y, sample_weight=-weights)


def test_distiller_takes_sample_weight_and_class_weight(small_graph):
    X, y = small_graph
    dist = DistilledGCNClassifier(
        teacher=GKEDMClassifier(**{**FAST, "hidden_dims": (32,)}),
        student=GKEDMClassifier(**{**FAST, "hidden_dims": (8,)}),
        class_weight="balanced",
        random_state=0,
    ).fit(X[:200], y[:200], sample_weight=np.ones(200))
    assert dist.student_.class_weight == "balanced"
    assert dist.score(X[200:], y[200:]) > 0.5


def test_grid_search_routes_sample_weight(small_graph):
    X, y = small_graph
    weights = np.where(y == 0, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        model = GKEDMClassifier(**FAST).set_fit_request(sample_weight=True)
        model.set_score_request(sample_weight=True)
        search = GridSearchCV(model, {"hidden_dims": [(8,), (16,)]}, cv=2)
        search.fit(X, y, sample_weight=weights)
        refit = clone(search.best_estimator_).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(search.best_estimator_.predict_proba(X), refit.predict_proba(X))
    unweighted = clone(search.best_estimator_).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), refit.predict_proba(X))


def test_calibrated_classifier_with_sample_weight(small_graph):
    X, y = small_graph
    calibrated = CalibratedClassifierCV(GKEDMClassifier(**FAST), cv=3)
    calibrated.fit(X[:240], y[:240], sample_weight=np.linspace(0.5, 1.5, 240))
    proba = calibrated.predict_proba(X[240:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert accuracy_score(y[240:], calibrated.predict(X[240:])) > 0.5


def test_weighted_validation_scores_match_sklearn_metrics():
    import torch

    from skgkedm.utils._training import CLASSIFICATION, REGRESSION

    rng = np.random.default_rng(0)
    weights = rng.uniform(0, 2, 50)
    logits, labels = rng.normal(size=(50, 3)), rng.integers(0, 3, 50)
    got = CLASSIFICATION.score(torch.tensor(logits), torch.tensor(labels), torch.tensor(weights))
    expected = accuracy_score(labels, logits.argmax(axis=1), sample_weight=weights)
    assert got == pytest.approx(expected)
    outputs, targets = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
    got = REGRESSION.score(torch.tensor(outputs), torch.tensor(targets), torch.tensor(weights))
    assert got == pytest.approx(r2_score(targets, outputs, sample_weight=weights))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_with_weights(small_graph):
    X, y = small_graph
    model = GKEDMClassifier(**FAST, early_stopping=True, n_iter_no_change=5)
    model.fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    assert model.best_validation_score_ is not None


# ---------------------------------------------------------------- unseen classes


def test_kfold_on_class_sorted_labels_gives_finite_scores(small_graph):
    X, y = small_graph
    order = np.argsort(y, kind="stable")
    scores = cross_val_score(GKEDMClassifier(**FAST), X[order], y[order], cv=KFold(3))
    assert np.isfinite(scores).all()
    # each test fold holds mostly a class its training folds never saw: counted wrong
    assert scores.max() < 0.5
