"""fit(X, y, X_val=..., y_val=...): validation nodes of the training graph, or graphs."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from unittest.mock import patch

import networkx as nx
import numpy as np
import pytest
import sklearn
from joblib import Parallel, delayed, dump
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, cross_validate

from skgkedm import (
    DistilledGCNClassifier,
    GKEDMClassifier,
    GKEDMGraphClassifier,
    GKEDMGraphRegressor,
    GKEDMRegressor,
    GraphList,
    GraphNodes,
)
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.datasets import load_solubility, make_node_classification

EPOCHS = {"max_epochs": 60, "random_state": 0}


@contextmanager
def check_choosing(estimator_class, choice):
    """Make ``gkedm_check`` choose ``choice``; yield the list of trainings run meanwhile."""
    trainings = []
    train = estimator_class._train

    def counted(self, *args, **kwargs):
        trainings.append(self)
        return train(self, *args, **kwargs)

    with (
        patch("skgkedm._gkedm_check._check_choice", return_value=choice),
        patch.object(estimator_class, "_train", counted),
    ):
        yield trainings


def cora_parts(cora):
    X, y = cora.X, cora.y
    return X[cora.train_index], y[cora.train_index], X[cora.val_index], y[cora.val_index]


def test_keeps_the_weights_of_the_best_validation_epoch(cora):
    X, y, X_val, y_val = cora_parts(cora)
    model = GKEDMClassifier(**EPOCHS).fit(X, y, X_val=X_val, y_val=y_val)
    # Every epoch trained and scored; the fitted weights are those of the best one, so
    # predicting the validation nodes reproduces it.
    assert model.n_iter_ == len(model.validation_scores_) == EPOCHS["max_epochs"]
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert accuracy_score(y_val, model.predict(X_val)) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )


def test_early_stopping_on_the_validation_nodes_stops(cora):
    X, y, X_val, y_val = cora_parts(cora)
    model = GKEDMClassifier(
        max_epochs=200, early_stopping=True, n_iter_no_change=5, random_state=0
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert model.n_iter_ < 200
    assert model.validation_scores_.index(model.best_validation_score_) < model.n_iter_ - 5
    assert accuracy_score(y_val, model.predict(X_val)) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )


def test_validation_labels_are_never_trained_on(cora):
    X, y, X_val, y_val = cora_parts(cora)
    # 150 validation nodes: too few for the check, which would train its candidates.
    X_val, y_val = X_val[:150], y_val[:150]
    plain = GKEDMClassifier(**EPOCHS).fit(X, y)
    validated = GKEDMClassifier(**EPOCHS).fit(X, y, X_val=X_val, y_val=y_val)
    shuffled = np.random.default_rng(0).permutation(y_val)
    other = GKEDMClassifier(**EPOCHS).fit(X, y, X_val=X_val, y_val=shuffled)
    # Training runs the same steps whatever the validation labels: only the epoch
    # kept differs.
    assert validated.loss_curve_ == plain.loss_curve_ == other.loss_curve_
    assert plain.validation_scores_ is None
    assert validated.validation_scores_ != other.validation_scores_


def test_validation_nodes_do_not_count_as_training_labels(cora):
    X, y, X_val, y_val = cora_parts(cora)
    # 140 training labels and 150 validation nodes: under the check's 200 either way.
    model = GKEDMClassifier(max_epochs=5).fit(X, y, X_val=X_val[:150], y_val=y_val[:150])
    assert model.gkedm_check_choice_ is None


def test_few_validation_nodes_leave_the_check_to_the_training_labels(cora):
    # 300 training labels, 150 validation nodes: the two-fold check runs on the
    # training labels, as it would without X_val; the validation nodes pick the epoch.
    labelled = np.r_[cora.train_index, cora.test_index[:160]]
    X, y = cora.X[labelled], cora.y[labelled]
    X_val, y_val = cora.X[cora.val_index[:150]], cora.y[cora.val_index[:150]]
    model = GKEDMClassifier(**EPOCHS).fit(X, y, X_val=X_val, y_val=y_val)
    alone = GKEDMClassifier(**EPOCHS).fit(X, y)
    assert model.gkedm_check_choice_ is not None
    assert model.gkedm_check_scores_ == alone.gkedm_check_scores_
    assert accuracy_score(y_val, model.predict(X_val)) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )


def test_the_check_scores_candidates_on_enough_validation_nodes(cora):
    X, y, X_val, y_val = cora_parts(cora)
    validation = {"X_val": X_val, "y_val": y_val}
    model = GKEDMClassifier(max_epochs=30, random_state=0).fit(X, y, **validation)
    assert model.gkedm_check_choice_ == "gkedm"
    # Each candidate trains on every training label, as a fit of it alone would, and
    # is scored on the validation nodes at its best epoch; the chosen one is the model.
    alone = GKEDMClassifier(max_epochs=30, random_state=0, gkedm_check=False)
    alone.fit(X, y, **validation)
    assert model.gkedm_check_scores_["gkedm"] == alone.best_validation_score_
    np.testing.assert_array_equal(model.predict_proba(X_val), alone.predict_proba(X_val))


def test_same_model_in_threads_processes_and_a_fresh_process_loading_it(cora, tmp_path):
    X, y, X_val, y_val = cora_parts(cora)
    template = GKEDMClassifier(max_epochs=20, random_state=0)

    def fit(_):
        return clone(template).fit(X, y, X_val=X_val, y_val=y_val)

    model = fit(None)
    assert model.gkedm_check_choice_ is not None  # the check ran and its choice is kept
    with ThreadPoolExecutor(2) as pool:
        in_threads = list(pool.map(fit, range(2)))
    in_processes = Parallel(n_jobs=2, backend="loky")(delayed(fit)(i) for i in range(2))
    expected = model.predict_proba(X_val)
    for other in [*in_threads, *in_processes]:
        assert other.gkedm_check_scores_ == model.gkedm_check_scores_
        np.testing.assert_array_equal(other.predict_proba(X_val), expected)
    dump((model, X_val), tmp_path / "model.joblib")
    script = (
        "import sys, joblib, numpy as np; model, X_val = joblib.load(sys.argv[1]); "
        "np.save(sys.argv[2], model.predict_proba(X_val))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model.joblib"), str(tmp_path / "p.npy")],
        check=True,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


@pytest.mark.parametrize(
    ("choice", "alone"),
    [
        ("features", {"gkedm": False}),
        ("plain", {"backbone": "gcn", "gkedm": False}),
    ],
)
def test_the_chosen_candidate_is_kept_not_trained_again(cora, choice, alone):
    X, y, X_val, y_val = cora_parts(cora)
    validation = {"X_val": X_val, "y_val": y_val}
    model = GKEDMClassifier(max_epochs=20, random_state=0)
    with check_choosing(GKEDMClassifier, choice) as trainings:
        model.fit(X, y, **validation)
    # One training per candidate (the module, the backbone alone, the linear model, a
    # plain GCN), none after the check: the chosen candidate is the fitted network,
    # the network a fit of its spec alone keeps.
    assert len(trainings) == len(model.gkedm_check_scores_) == 4
    assert model.gkedm_check_choice_ == choice
    same = GKEDMClassifier(max_epochs=20, random_state=0, **alone).fit(X, y, **validation)
    assert model._architecture == same._architecture
    assert model.validation_scores_ == same.validation_scores_
    assert model.gkedm_check_scores_[choice] == same.best_validation_score_
    np.testing.assert_array_equal(model.predict_proba(X), same.predict_proba(X))


def test_whole_networkx_graph_with_unvalidated_nodes_marked():
    X, y = make_node_classification(200, n_classes=3, random_state=0)
    graph = nx.from_scipy_sparse_array(X.adjacency)
    for node in graph:
        graph.nodes[node]["x"] = X.features[node]
    rng = np.random.default_rng(0)
    labelled = rng.random(len(y)) < 0.3
    y_train = np.where(labelled, y, -1)
    y_val = np.where(~labelled & (rng.random(len(y)) < 0.5), y, -1)
    y_val_before = y_val.copy()
    read = GraphNodes.from_networkx
    with patch.object(GraphNodes, "from_networkx", side_effect=read) as conversions:
        model = GKEDMClassifier(**EPOCHS).fit(graph, y_train, X_val=graph, y_val=y_val)
    # The graph passed as X and as X_val is read once.
    assert conversions.call_count == 1
    validated = y_val != -1
    predicted = model.predict(GraphNodes.from_networkx(graph))
    assert accuracy_score(y[validated], predicted[validated]) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )
    np.testing.assert_array_equal(y_val, y_val_before)


def test_regressor_keeps_the_best_validation_r2(cora):
    X, y, X_val, y_val = cora_parts(cora)
    target, target_val = y.astype(float) * 2.0 + 1.0, y_val.astype(float) * 2.0 + 1.0
    model = GKEDMRegressor(**EPOCHS).fit(X, target, X_val=X_val, y_val=target_val)
    # Two phases (the regressor's schedule): each keeps its best epoch's weights.
    assert len(model.validation_scores_) == model.n_iter_
    assert r2_score(target_val, model.predict(X_val)) == pytest.approx(
        model.best_validation_score_, abs=1e-4
    )


def test_verbose_shows_each_candidate_the_fit_may_keep(cora, capsys):
    X, y, X_val, y_val = cora_parts(cora)
    GKEDMClassifier(max_epochs=3, random_state=0, verbose=2).fit(X, y, X_val=X_val, y_val=y_val)
    lines = capsys.readouterr().out.splitlines()
    # Three epochs and a closing line per candidate, then the check's choice.
    for candidate in ("with GKEDM", "on the features alone", "linear", "the plain backbone"):
        shown = [line for line in lines if line.startswith(f"gkedm_check, {candidate}")]
        assert len(shown) == 4
        assert all("validation accuracy" in line for line in shown)
    assert lines[-1].startswith("gkedm_check: held-out accuracy")


@pytest.mark.parametrize(("choice", "n_trainings"), [("gkedm", 3), ("plain", 4)])
def test_two_phases_keep_the_module_but_retrain_their_first_phase(cora, choice, n_trainings):
    X, y, X_val, y_val = cora_parts(cora)
    target, target_val = y.astype(float) * 2.0 + 1.0, y_val.astype(float) * 2.0 + 1.0
    with check_choosing(GKEDMRegressor, choice) as trainings:
        model = GKEDMRegressor(**EPOCHS).fit(X, target, X_val=X_val, y_val=target_val)
    # The two-phase network is the module's candidate and, after its first phase, the
    # plain one's (scored there, three quarters in): the module is kept as trained;
    # the backbone is trained again for all its epochs, as a fit of it alone.
    assert len(trainings) == n_trainings
    kept = model.gkedm_check_scores_[choice] == pytest.approx(model.best_validation_score_)
    assert kept == (choice == "gkedm")


def test_sample_weight_val_weighs_the_validation_score(cora):
    X, y, X_val, y_val = cora_parts(cora)
    weights = np.where(y_val == 3, 5.0, 1.0)
    model = GKEDMClassifier(**EPOCHS).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights
    )
    assert accuracy_score(y_val, model.predict(X_val), sample_weight=weights) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )


def test_a_search_passes_the_validation_nodes_to_every_fit(cora):
    X, y, X_val, y_val = cora_parts(cora)
    search = GridSearchCV(
        GKEDMClassifier(max_epochs=20, random_state=0), {"hidden_dims": [(16,), (32,)]}, cv=2
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert search.best_estimator_.validation_scores_ is not None
    assert len(search.best_estimator_.validation_scores_) == search.best_estimator_.n_iter_


def test_metadata_routing_requests_the_validation_nodes(cora):
    X, y, X_val, y_val = cora_parts(cora)
    with sklearn.config_context(enable_metadata_routing=True):
        model = GKEDMClassifier(max_epochs=10, random_state=0).set_fit_request(
            X_val=True, y_val=True
        )
        result = cross_validate(
            model, X, y, cv=2, params={"X_val": X_val, "y_val": y_val}, return_estimator=True
        )
    assert all(m.validation_scores_ is not None for m in result["estimator"])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("X_val", "X_val is passed to fit without y_val"),
        ("y_val", "y_val is passed to fit without X_val"),
        ("sample_weight_val", "sample_weight_val is passed to fit without"),
    ],
)
def test_incomplete_validation_arguments_are_refused(cora, given, message):
    X, y, X_val, y_val = cora_parts(cora)
    arguments = {"X_val": X_val, "y_val": y_val, "sample_weight_val": np.ones(len(y_val))}
    with pytest.raises(ValueError, match=message):
        GKEDMClassifier(max_epochs=1).fit(X, y, **{given: arguments[given]})


def test_validation_with_early_stopping_off_is_refused(cora):
    X, y, X_val, y_val = cora_parts(cora)
    with pytest.raises(ValueError, match="early_stopping is False"):
        GKEDMClassifier(max_epochs=1, early_stopping=False).fit(X, y, X_val=X_val, y_val=y_val)


def test_nodes_of_another_graph_are_refused(cora):
    X, y, _, _ = cora_parts(cora)
    other, other_y = make_node_classification(50, n_classes=3, random_state=0)
    with pytest.raises(ValueError, match="X_val must select nodes of the training graph"):
        GKEDMClassifier(max_epochs=1).fit(X, y, X_val=other, y_val=other_y)


def test_an_equal_copy_of_the_graph_is_accepted(cora):
    X, y, _, _ = cora_parts(cora)
    copy = GraphNodes(cora.X.adjacency.copy(), cora.X.features.copy())
    model = GKEDMClassifier(max_epochs=3, random_state=0).fit(
        X, y, X_val=copy[cora.val_index], y_val=cora.y[cora.val_index]
    )
    assert len(model.validation_scores_) == 3


def test_unseen_classes_and_wrong_lengths_are_refused(cora):
    X, y, X_val, y_val = cora_parts(cora)
    unseen = y_val.copy()
    unseen[0] = 9
    with pytest.raises(ValueError, match=r"y_val holds classes that y does not: \[9\]"):
        GKEDMClassifier(max_epochs=1).fit(X, y, X_val=X_val, y_val=unseen)
    with pytest.raises(ValueError, match=r"y_val has 5 entries .* but X_val has 500"):
        GKEDMClassifier(max_epochs=1).fit(X, y, X_val=X_val, y_val=y_val[:5])


def test_label_indicators_must_match_the_training_labels(cora):
    X, y, X_val, y_val = cora_parts(cora)
    indicators = np.eye(7, dtype=int)[y]
    with pytest.raises(ValueError, match="does not match the model's targets"):
        GKEDMClassifier(max_epochs=1).fit(X, indicators, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="does not match the model's targets"):
        GKEDMClassifier(max_epochs=1).fit(
            X, indicators, X_val=X_val, y_val=np.eye(7, dtype=int)[y_val][:, :5]
        )
    model = GKEDMClassifier(max_epochs=3).fit(
        X, indicators, X_val=X_val, y_val=np.eye(7, dtype=int)[y_val]
    )
    assert len(model.validation_scores_) == 3


def test_feature_rows_take_no_validation_nodes():
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 3)), np.arange(40) % 2
    with pytest.raises(TypeError, match="X_val must be nodes of the training graph"):
        GKEDMClassifier(max_epochs=1).fit(X, y, X_val=X[:5], y_val=y[:5])


@pytest.mark.parametrize("estimator_class", [GKEDMClassifier, GKEDMRegressor])
@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (-np.ones(500), "Negative values in data passed to `sample_weight_val`"),
        (np.ones(5), r"sample_weight_val.shape == \(5,\), expected \(500,\)"),
        (np.zeros(500), "sample_weight_val: Sample weights must contain at least one non-zero"),
    ],
)
def test_bad_validation_weights_are_refused_by_name_before_training(
    cora, estimator_class, weights, message
):
    X, y, X_val, y_val = cora_parts(cora)
    with (
        patch.object(estimator_class, "_train", side_effect=AssertionError("trained")),
        pytest.raises(ValueError, match=message),
    ):
        estimator_class(max_epochs=1).fit(
            X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights
        )


def test_regression_targets_of_another_width_are_refused(cora):
    X, y, X_val, y_val = cora_parts(cora)
    with pytest.raises(ValueError, match="y_val has 2 outputs but y has 1"):
        GKEDMRegressor(max_epochs=1).fit(
            X, y.astype(float), X_val=X_val, y_val=np.c_[y_val, y_val].astype(float)
        )


def test_mini_batches_validate_on_the_validation_nodes(cora):
    X, y, X_val, y_val = cora_parts(cora)
    # The previous default (a GCN's hidden layer) samples neighbourhoods in batches.
    model = GKEDMClassifier(**HIDDEN_GKEDM, batch_size=64, max_epochs=5, random_state=0)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    # Scored on sampled neighbourhoods, as the training batches are.
    assert model.n_iter_ == len(model.validation_scores_) == 5
    assert 0.3 < model.best_validation_score_ <= 1.0


# Distillation: the teacher and the student each pick their epoch.


def distiller(teacher_params=None, student_params=None):
    teacher = GKEDMClassifier(max_epochs=30, **(teacher_params or {}))
    student = GKEDMClassifier(backbone="mlp", gkedm=False, max_epochs=30, **(student_params or {}))
    return DistilledGCNClassifier(teacher, student, random_state=0)


def test_distiller_validates_teacher_and_student(cora):
    X, y, X_val, y_val = cora_parts(cora)
    model = distiller().fit(X, y, X_val=X_val, y_val=y_val)
    for member in (model.teacher_, model.student_):
        assert len(member.validation_scores_) == member.n_iter_ == 30
        assert member.best_validation_score_ == max(member.validation_scores_)
    # The distiller predicts with the student: its validation accuracy is the kept one.
    assert accuracy_score(y_val, model.predict(X_val)) == pytest.approx(
        model.student_.best_validation_score_, abs=1e-6
    )
    assert accuracy_score(y_val, model.teacher_.predict(X_val)) == pytest.approx(
        model.teacher_.best_validation_score_, abs=1e-6
    )


def test_distilled_student_never_trains_on_validation_labels(cora):
    X, y, X_val, y_val = cora_parts(cora)
    teacher = FrozenEstimator(GKEDMClassifier(max_epochs=30, random_state=0).fit(X, y))
    student = GKEDMClassifier(backbone="mlp", gkedm=False, max_epochs=30)
    fits = [
        DistilledGCNClassifier(teacher, student, random_state=0).fit(
            X, y, X_val=X_val, y_val=labels
        )
        for labels in (y_val, np.random.default_rng(0).permutation(y_val))
    ]
    # The same training steps (soft labels over every node, validation nodes included;
    # labels of the training nodes only): only the epoch kept differs.
    assert fits[0].student_.loss_curve_ == fits[1].student_.loss_curve_
    assert fits[0].student_.validation_scores_ != fits[1].student_.validation_scores_


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_distiller_refuses_validation_a_member_would_not_use(cora, role):
    X, y, X_val, y_val = cora_parts(cora)
    model = distiller(**{f"{role}_params": {"early_stopping": False}})
    with pytest.raises(ValueError, match=f"the {role}'s early_stopping is False"):
        model.fit(X, y, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="X_val is passed to fit without y_val"):
        distiller().fit(X, y, X_val=X_val)
    assert not hasattr(model, "student_")


def test_a_frozen_teacher_needs_no_validation(cora):
    X, y, X_val, y_val = cora_parts(cora)
    frozen = GKEDMClassifier(max_epochs=5, early_stopping=False, random_state=0).fit(X, y)
    student = GKEDMClassifier(backbone="mlp", gkedm=False, max_epochs=5)
    model = DistilledGCNClassifier(FrozenEstimator(frozen), student, random_state=0)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(model.student_.validation_scores_) == 5


# Graphs as samples: validation graphs.


@pytest.fixture(scope="module")
def solubility():
    X, y = load_solubility(as_graphs=True, return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    return X, y, order[:300], order[300:450]


def test_graph_classifier_keeps_the_best_validation_epoch(solubility):
    X, y, train, val = solubility
    model = GKEDMGraphClassifier(max_epochs=8, random_state=0)
    model.fit(X[train], y[train], X_val=X[val], y_val=y[val])
    assert model.n_iter_ == len(model.validation_scores_) == 8
    assert accuracy_score(y[val], model.predict(X[val])) == pytest.approx(
        model.best_validation_score_, abs=1e-6
    )


def test_graph_level_distiller_validates_on_the_validation_graphs(solubility):
    X, y, train, val = solubility
    model = DistilledGCNClassifier(
        GKEDMGraphClassifier(max_epochs=4),
        GKEDMGraphClassifier(hidden_dims=(16,), max_epochs=4),
        attention_weight=0,
        random_state=0,
    ).fit(X[train], y[train], X_val=X[val], y_val=y[val])
    for member in (model.teacher_, model.student_):
        assert len(member.validation_scores_) == 4
    assert accuracy_score(y[val], model.predict(X[val])) == pytest.approx(
        model.student_.best_validation_score_, abs=1e-6
    )


def test_validation_graphs_of_another_list_score_alike(solubility):
    X, y, train, val = solubility
    shared = GKEDMGraphClassifier(max_epochs=4, random_state=0)
    shared.fit(X[train], y[train], X_val=X[val], y_val=y[val])
    apart, y_apart = load_solubility(as_graphs=True, return_X_y=True)
    separate = GKEDMGraphClassifier(max_epochs=4, random_state=0)
    separate.fit(X[train], y[train], X_val=apart[val], y_val=y_apart[val])
    assert separate.validation_scores_ == shared.validation_scores_
    assert separate.loss_curve_ == shared.loss_curve_


def test_graph_regressor_validates_on_feature_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    target = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=120)
    model = GKEDMGraphRegressor(hidden_dims=(16,), max_epochs=20, random_state=0)
    model.fit(X[:80], target[:80], X_val=X[80:], y_val=target[80:])
    assert r2_score(target[80:], model.predict(X[80:])) == pytest.approx(
        model.best_validation_score_, abs=1e-4
    )


def test_validation_graphs_of_another_width_are_refused(solubility):
    X, y, train, _ = solubility
    other = GraphList.from_networkx([nx.path_graph(3), nx.cycle_graph(4)])
    with pytest.raises(ValueError, match="features"):
        GKEDMGraphClassifier(max_epochs=1).fit(X[train], y[train], X_val=other, y_val=y[train][:2])
