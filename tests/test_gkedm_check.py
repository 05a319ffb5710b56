"""gkedm_check: the module, the plain backbone or the features alone, on held-out nodes."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm import _gkedm_check as gkedm_check
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm._gkedm_check import (
    CHECK_GRAPH_FREE_STANDARD_ERRORS,
    CHECK_STANDARD_ERRORS,
    CheckCandidate,
    _check_choice,
)
from skgkedm.datasets import make_node_classification

# The check of a GCN with one GKEDM step (the previous default's recipe): its three
# candidates. The default (an MLP's class scores, propagated) has them too, with a
# plain GCN as its graph network.
QUICK = {**HIDDEN_GKEDM, "hidden_dims": (16,), "max_epochs": 20, "random_state": 0}


def candidate(score, per_sample):
    return CheckCandidate(None, score, np.asarray(per_sample, dtype=float))


def test_a_richer_candidate_must_win_by_more_than_one_standard_error():
    # Four held-out nodes; "plain" is right on two that "features" gets wrong, wrong on
    # one it gets right. Paired differences (-1, 1, 1, 0): mean 0.25, squared
    # deviations 1.5625 + 0.5625 + 0.5625 + 0.0625 = 2.75, standard error
    # sqrt(2.75) / 4 = 0.41: the win is within the noise.
    features = candidate(0.5, [1, 0, 0, 1])
    plain = candidate(0.75, [0, 1, 1, 1])
    assert _check_choice({"features": features, "plain": plain}, None) == "features"
    # Right wherever "features" is, and on two more: differences (0, 0, 1, 1), mean
    # 0.5, standard error sqrt(4 * 0.0625) / 4 = 0.125: a win by four of them.
    better = candidate(1.0, [1, 1, 1, 1])
    features = candidate(0.5, [1, 1, 0, 0])
    assert _check_choice({"features": features, "plain": better}, None) == "plain"
    # Weights count. Without the first node: differences (1, 1, 0), mean 2/3,
    # standard error sqrt((1/9) * (1/9 + 1/9 + 4/9)) = 0.27.
    weights = np.array([0.0, 1.0, 1.0, 1.0])
    features = candidate(1 / 3, [1, 0, 0, 1])
    plain = candidate(1.0, [0, 1, 1, 1])
    assert _check_choice({"features": features, "plain": plain}, weights) == "plain"


def test_ties_go_to_the_simplest_and_the_best_wins_without_per_node_scores():
    same = [1, 0, 1, 0]
    tied = {name: candidate(0.5, same) for name in ("features", "plain", "gkedm")}
    assert _check_choice(tied, None) == "features"
    scores = {"features": 0.5, "plain": 0.52, "gkedm": 0.51}
    bare = {name: CheckCandidate(None, value, None) for name, value in scores.items()}
    assert _check_choice(bare, None) == "plain"


def test_the_classifier_keeps_a_graph_free_candidate_only_within_half_a_standard_error():
    # The example above: "features" right on nodes 1 and 4, the module on 2, 3 and 4.
    # Paired differences (-1, 1, 1, 0): mean 0.25, standard error 0.41. Within one
    # standard error (0.41 >= 0.25), not within half of one (0.21 < 0.25).
    features = candidate(0.5, [1, 0, 0, 1])
    module = candidate(0.75, [0, 1, 1, 1])
    found = {"features": features, "gkedm": module}
    assert _check_choice(found, None) == "features"  # the regressor's margin
    assert _check_choice(found, None, CHECK_GRAPH_FREE_STANDARD_ERRORS) == "gkedm"
    # The module keeps one standard error against the plain GCN ranked after it: the
    # same held-out record, the module in the features' place and GCN the best. A
    # linear model right on node 4 alone trails GCN by differences (0, 1, 1, 0): mean
    # 0.5, standard error 0.25, beyond any margin.
    found = {"linear": candidate(0.25, [0, 0, 0, 1]), "gkedm": features, "plain": module}
    assert _check_choice(found, None, CHECK_GRAPH_FREE_STANDARD_ERRORS) == "gkedm"
    # A tie still goes to the simpler candidate: differences (-1, 1, 0, 0), mean 0.
    found = {"features": candidate(0.5, [1, 0, 1, 0]), "gkedm": candidate(0.5, [0, 1, 1, 0])}
    assert _check_choice(found, None, CHECK_GRAPH_FREE_STANDARD_ERRORS) == "features"


@pytest.mark.parametrize(
    ("estimator", "margin"),
    [(GKEDMClassifier, CHECK_GRAPH_FREE_STANDARD_ERRORS), (GKEDMRegressor, CHECK_STANDARD_ERRORS)],
)
def test_each_estimator_checks_with_its_graph_free_margin(monkeypatch, estimator, margin):
    X, y = make_node_classification(220, n_classes=3, homophily=0.5, random_state=0)
    margins = []
    monkeypatch.setattr(gkedm_check, "_check_choice", _Recorder(margins))
    target = y if estimator is GKEDMClassifier else y.astype(float)
    estimator(**{**QUICK, "max_epochs": 5, "gkedm_check": True}).fit(X, target)
    assert margins == [margin]


class _Recorder:
    """Stands for ``_check_choice``: records the graph-free margin, then chooses as it."""

    def __init__(self, margins):
        self.margins = margins

    def __call__(self, candidates, weights, graph_free_margin=None):
        self.margins.append(graph_free_margin)
        return _check_choice(candidates, weights, graph_free_margin)


@pytest.fixture(scope="module")
def heterophilous():
    """Heterophilous graph, informative features: the check keeps no graph."""
    X, y = make_node_classification(
        300, n_classes=3, homophily=0.05, class_sep=2.0, random_state=1
    )
    return X, y, GKEDMClassifier(**QUICK).fit(X[:250], y[:250])


def test_a_features_only_choice_predicts_from_features_alone(heterophilous):
    X, _, model = heterophilous
    # The generator's classes are Gaussian clusters: a linear model of the features.
    assert model.gkedm_check_choice_ == "linear"
    assert model._architecture.backbone == "mlp" and not model._architecture.gkedm
    assert model._architecture.hidden_dims == ()
    # The graph is not read: a plain feature matrix of the same nodes predicts the same.
    features = np.asarray(X.features)[X.indices[250:]]
    np.testing.assert_array_equal(model.predict_proba(features), model.predict_proba(X[250:]))
    assert model.transduction_.shape == (X.n_nodes,)
    with pytest.raises(ValueError, match="gkedm_check_choice_='linear'"):
        model.attention_weights(X[:3])


def test_the_module_is_kept_on_a_homophilous_graph_with_weak_features():
    X, y = make_node_classification(400, n_classes=4, homophily=0.95, class_sep=0.3,
                                    random_state=0)  # fmt: skip
    model = GKEDMClassifier(**{**QUICK, "max_epochs": 40}).fit(X[:300], y[:300])
    assert model.gkedm_check_choice_ == "gkedm" and model._architecture.gkedm
    assert model.n_iter_ == 40  # both phases, as the schedule gives them


def test_same_seed_same_choice_in_threads_and_clones(heterophilous):
    X, y, model = heterophilous
    with ThreadPoolExecutor(2) as pool:
        fitted = list(pool.map(lambda _: clone(model).fit(X[:250], y[:250]), range(2)))
    for other in fitted:
        assert other.gkedm_check_choice_ == model.gkedm_check_choice_
        assert other.gkedm_check_scores_ == model.gkedm_check_scores_
        np.testing.assert_array_equal(other.predict_proba(X[250:]), model.predict_proba(X[250:]))


def test_grid_search_prefers_the_check_on_a_heterophilous_graph(heterophilous):
    X, y, _ = heterophilous
    # Folds of 150 labelled nodes: below "auto"'s 200, so the check is forced.
    search = GridSearchCV(GKEDMClassifier(**QUICK), {"gkedm_check": [False, True]}, cv=2)
    search.fit(X, y)
    assert search.best_params_ == {"gkedm_check": True}
    assert search.best_estimator_.gkedm_check_choice_ == "linear"


def test_a_graph_free_backbone_is_checked_against_a_plain_gcn(monkeypatch):
    # The default's backbone (an MLP) is itself the features candidate; the plain
    # graph network beside it is a GCN, which reads tensors the MLP's fit never built.
    X, y = make_node_classification(300, n_classes=3, homophily=0.9, random_state=0)
    quick = {"hidden_dims": (16,), "max_epochs": 20, "random_state": 0}
    model = GKEDMClassifier(**quick).fit(X[:250], y[:250])
    assert list(model.gkedm_check_scores_) == ["linear", "features", "gkedm", "plain"]
    monkeypatch.setattr(gkedm_check, "_check_choice", lambda *args: "plain")
    chosen = GKEDMClassifier(**quick).fit(X[:250], y[:250])
    assert chosen._architecture.backbone == "gcn" and not chosen._architecture.gkedm
    # Trained exactly as a plain GCN fitted without the check.
    gcn = GKEDMClassifier(**quick, backbone="gcn", gkedm=False).fit(X[:250], y[:250])
    np.testing.assert_allclose(chosen.predict_proba(X[250:]), gcn.predict_proba(X[250:]))


def test_regressor_checks_by_r2_and_can_drop_the_graph():
    X, _ = make_node_classification(300, n_classes=3, homophily=0.05, random_state=0)
    features = np.asarray(X.features)
    # Each node's target is its own features' sum: its neighbours only add noise.
    target = features[:, :4].sum(axis=1)
    model = GKEDMRegressor(**{**QUICK, "max_epochs": 60}).fit(X[:250], target[:250])
    scores = model.gkedm_check_scores_
    assert set(scores) == {"linear", "features", "plain", "gkedm"}
    assert all(score <= 1.0 for score in scores.values())
    assert model.gkedm_check_choice_ == "linear"  # the target is linear in the features
    assert model.predict(features[250:]).shape == (50,)


def test_ctrl_c_during_the_check_keeps_the_network_it_was_training(monkeypatch):
    import skgkedm.utils._training as training

    X, y = make_node_classification(300, n_classes=3, random_state=0)
    real_epoch = training._training_epoch
    calls = []

    def interrupted_epoch(*args):
        calls.append(1)
        # The module's network trains 20 epochs (both phases) on the first fold;
        # then the linear network starts: stop it in its fifth.
        if len(calls) == 25:
            raise KeyboardInterrupt
        return real_epoch(*args)

    monkeypatch.setattr(training, "_training_epoch", interrupted_epoch)
    with pytest.warns(UserWarning, match="interrupted"):
        model = GKEDMClassifier(**QUICK).fit(X[:250], y[:250])
    assert set(model.gkedm_check_scores_) == {"plain", "gkedm"}
    assert model.gkedm_check_choice_ is None
    assert model._architecture.hidden_dims == () and model.n_iter_ == 4
    assert model.predict(X[250:]).shape == (50,)


def test_check_folds_hold_out_every_label_once_and_repeat_with_the_seed():
    train = np.arange(10, 110)
    stratify = np.repeat([0, 1, 2, 3], 25)
    folds = gkedm_check._check_folds(train, stratify, np.random.RandomState(0))
    assert len(folds) == gkedm_check.CHECK_FOLDS == 2
    held = np.concatenate([held_out for _, held_out in folds])
    np.testing.assert_array_equal(np.sort(held), train)  # each once
    for fit_part, held_out in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([fit_part, held_out])), train)
        # Stratified: 12 or 13 of each class's 25 held out.
        counts = np.bincount(stratify[held_out - 10], minlength=4)
        assert set(counts) <= {12, 13}
    again = gkedm_check._check_folds(train, stratify, np.random.RandomState(0))
    other = gkedm_check._check_folds(train, stratify, np.random.RandomState(1))
    for (fit_a, held_a), (fit_b, held_b) in zip(folds, again, strict=True):
        np.testing.assert_array_equal(fit_a, fit_b)
        np.testing.assert_array_equal(held_a, held_b)
    assert not np.array_equal(folds[0][1], other[0][1])
    # A class with one sample: the folds are not stratified, and still cover train.
    single = np.array([0] * 99 + [1])
    folds = gkedm_check._check_folds(train, single, np.random.RandomState(0))
    np.testing.assert_array_equal(np.sort(np.concatenate([h for _, h in folds])), train)


def test_check_scores_every_labelled_node_once(monkeypatch):
    X, y = make_node_classification(300, n_classes=3, homophily=0.9, random_state=0)
    seen = {}
    original = gkedm_check._check_choice

    def recording(candidates, weights, *margins):
        seen.update(candidates)
        return original(candidates, weights, *margins)

    monkeypatch.setattr(gkedm_check, "_check_choice", recording)
    model = GKEDMClassifier(**QUICK).fit(X[:250], y[:250])
    assert list(seen) == ["plain", "linear", "features", "gkedm"]  # order of preference
    for name, found in seen.items():
        # One right-or-wrong per labelled node; the score is their mean.
        assert found.per_sample.shape == (250,)
        assert set(np.unique(found.per_sample)) <= {0.0, 1.0}
        assert found.score == pytest.approx(found.per_sample.mean())
        assert model.gkedm_check_scores_[name] == found.score


def test_a_linear_choice_is_logistic_regression_on_the_features(monkeypatch):
    X, y = make_node_classification(300, n_classes=3, homophily=0.9, random_state=0)
    monkeypatch.setattr(gkedm_check, "_check_choice", lambda *args: "linear")
    model = GKEDMClassifier(hidden_dims=(16,), max_epochs=30, random_state=0)
    model.fit(X[:250], y[:250])
    spec = model._architecture
    assert model.gkedm_check_choice_ == "linear"
    assert spec.graph_free and spec.hidden_dims == () and spec.dropout == 0.0
    # Log-odds affine in the features: a least-squares fit of them on [features, 1]
    # leaves no residual.
    features = np.asarray(X.features)[X.indices[250:]]
    log_proba = np.log(model.predict_proba(features))
    log_odds = log_proba[:, 1:] - log_proba[:, :1]
    design = np.hstack([features, np.ones((len(features), 1))])
    _, residual, *_ = np.linalg.lstsq(design, log_odds, rcond=None)
    assert residual.max() < 1e-6 * np.sum(log_odds**2)
    # An MLP's log-odds are not.
    mlp = GKEDMClassifier(hidden_dims=(16,), max_epochs=30, gkedm=False, random_state=0)
    mlp_proba = np.log(mlp.fit(X[:250], y[:250]).predict_proba(features))
    _, residual, *_ = np.linalg.lstsq(design, mlp_proba[:, 1:] - mlp_proba[:, :1], rcond=None)
    assert residual.max() > 1e-3
