import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm.datasets import make_node_classification

PARAMETERS = (
    "backbone",
    "hidden_dims",
    "gkedm",
    "gkedm_heads",
    "dropout",
    "learning_rate",
    "max_epochs",
    "early_stopping",
    "random_state",
    "verbose",
)


class ModuleRecorder(pickle.Unpickler):
    """An unpickler that records the module of every class or function it loads."""

    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.modules = set()

    def find_class(self, module, name):
        self.modules.add(module)
        return super().find_class(module, name)


def feature_rows(n_samples=240, random_state=0):
    X, y = make_node_classification(
        n_samples, n_classes=3, n_features=8, class_sep=4.0, random_state=random_state
    )
    # Shifted and scaled columns, so that StandardScaler has work to do.
    scale = np.array([1, 10, 100, 0.1, 1, 5, 50, 0.5])
    return np.asarray(X.features, dtype=np.float64) * scale + 7.0, y


# --- clone, get_params, set_params ----------------------------------------------------


def test_get_params_holds_the_constructor_arguments():
    clf = GKEDMClassifier(backbone="sage", hidden_dims=(32, 8), gkedm=False, max_epochs=30)
    params = clf.get_params()
    assert set(PARAMETERS) <= set(params)
    assert params["backbone"] == "sage"
    assert params["hidden_dims"] == (32, 8)
    assert params["gkedm"] is False
    assert params["max_epochs"] == 30
    assert params["random_state"] is None


def test_set_params(fast):
    clf = GKEDMClassifier(**fast)
    assert clf.set_params(backbone="gin", hidden_dims=(8, 8)) is clf
    assert clf.backbone == "gin"
    assert clf.hidden_dims == (8, 8)
    with pytest.raises(ValueError, match="not_a_parameter"):
        clf.set_params(not_a_parameter=1)


def test_clone_of_a_fitted_estimator_is_unfitted(small_graph, fast):
    X, y = small_graph
    clf = GKEDMClassifier(**fast, backbone="gcn", gkedm_heads=2).fit(X, y)
    copy = clone(clf)
    assert copy is not clf
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "classes_")
    assert not hasattr(copy, "n_parameters_")
    # The clone learns the same model.
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_constructor_only_stores_arguments():
    hidden_dims = [16, 8]
    clf = GKEDMClassifier(hidden_dims=hidden_dims, backbone="nonsense", dropout=-1.0)
    # Validation happens in fit: the constructor neither checks nor converts.
    assert clf.hidden_dims is hidden_dims
    assert clf.backbone == "nonsense"
    assert clone(clf).hidden_dims == [16, 8]


# --- model selection on GraphNodes -----------------------------------------------------


def test_train_test_split_then_fit(small_graph, fast):
    X, y = small_graph
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    clf = GKEDMClassifier(**fast).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.8
    # The split selects nodes: fitting on the positions it picked is the same thing.
    same = GKEDMClassifier(**fast).fit(X[X_train.indices], y[X_train.indices])
    np.testing.assert_array_equal(same.predict_proba(X_test), clf.predict_proba(X_test))


def test_stratified_k_fold(small_graph, fast):
    X, y = small_graph
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(X, y))
    assert len(folds) == 3
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(300))
    for train, test in folds:
        clf = GKEDMClassifier(**fast).fit(X[train], y[train])
        assert clf.score(X[test], y[test]) > 0.8


def test_cross_val_score_equals_a_manual_loop(small_graph, fast):
    X, y = small_graph
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(GKEDMClassifier(**fast), X, y, cv=cv)
    manual = [
        GKEDMClassifier(**fast).fit(X[train], y[train]).score(X[test], y[test])
        for train, test in cv.split(X, y)
    ]
    np.testing.assert_array_equal(scores, manual)
    assert scores.min() > 0.8


def test_cross_val_predict(small_graph, fast):
    X, y = small_graph
    proba = cross_val_predict(GKEDMClassifier(**fast), X, y, cv=3, method="predict_proba")
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    assert np.mean(proba.argmax(axis=1) == y) > 0.8


@pytest.fixture(scope="module")
def grid_search_results():
    """GridSearchCV with n_jobs=1 and n_jobs=2 over the same grid and data."""
    X, y = make_node_classification(240, n_classes=3, random_state=0)
    grid = {"gkedm": [True, False], "hidden_dims": [(8,), (16,)]}
    searches = {}
    for n_jobs in (1, 2):
        search = GridSearchCV(
            GKEDMClassifier(max_epochs=20, random_state=0), grid, cv=3, n_jobs=n_jobs
        )
        searches[n_jobs] = search.fit(X[:180], y[:180])
    return X, y, grid, searches


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search(grid_search_results, n_jobs):
    X, y, grid, searches = grid_search_results
    search = searches[n_jobs]
    results = search.cv_results_
    assert len(results["params"]) == 4
    assert {(p["gkedm"], p["hidden_dims"]) for p in results["params"]} == {
        (g, h) for g in grid["gkedm"] for h in grid["hidden_dims"]
    }
    assert search.best_params_["gkedm"] in (True, False)
    assert search.best_params_["hidden_dims"] in ((8,), (16,))
    assert search.best_score_ == max(results["mean_test_score"])
    assert search.best_score_ > 0.6
    # The refitted best model is an ordinary fitted estimator on GraphNodes.
    best = search.best_estimator_
    assert best.get_params()["gkedm"] == search.best_params_["gkedm"]
    assert search.score(X[180:], y[180:]) == best.score(X[180:], y[180:])
    assert search.score(X[180:], y[180:]) > 0.6


def test_grid_search_in_parallel_matches_serial(grid_search_results):
    X, _, _, searches = grid_search_results
    serial, parallel = searches[1], searches[2]
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key])
    assert serial.best_params_ == parallel.best_params_
    np.testing.assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))


# --- Pipeline on a plain feature matrix --------------------------------------------------


def test_pipeline_with_a_scaler(fast):
    features, y = feature_rows()
    train, test = slice(0, 180), slice(180, None)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", GKEDMClassifier(**fast, n_neighbors=5))])
    pipe.fit(features[train], y[train])
    assert pipe.score(features[test], y[test]) > 0.8
    np.testing.assert_array_equal(pipe.classes_, [0, 1, 2])

    # The same as scaling by hand, then fitting the classifier.
    scaler = StandardScaler().fit(features[train])
    by_hand = GKEDMClassifier(**fast, n_neighbors=5)
    by_hand.fit(scaler.transform(features[train]), y[train])
    np.testing.assert_allclose(
        pipe.predict_proba(features[test]),
        by_hand.predict_proba(scaler.transform(features[test])),
        rtol=0,
        atol=1e-6,
    )


def test_pipeline_in_grid_search(fast):
    features, y = feature_rows(150)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", GKEDMClassifier(**fast))])
    search = GridSearchCV(pipe, {"clf__n_neighbors": [3, 8]}, cv=3).fit(features, y)
    assert search.best_params_["clf__n_neighbors"] in (3, 8)
    assert search.best_score_ > 0.8


# --- persistence ----------------------------------------------------------------------


def fitted_models(small_graph, fast):
    X, y = small_graph
    features, y_rows = feature_rows(150)
    on_graph = GKEDMClassifier(**fast).fit(X[:200], y[:200])
    on_rows = GKEDMClassifier(**fast, backbone="sage").fit(features[:100], y_rows[:100])
    return [(on_graph, X[200:]), (on_rows, features[100:])]


def test_pickle_round_trip(small_graph, fast):
    for clf, X_new in fitted_models(small_graph, fast):
        expected = clf.predict_proba(X_new)
        data = pickle.dumps(clf)
        restored = pickle.loads(data)
        assert type(restored) is GKEDMClassifier
        assert restored.get_params() == clf.get_params()
        np.testing.assert_array_equal(restored.predict_proba(X_new), expected)
        np.testing.assert_array_equal(restored.predict(X_new), clf.predict(X_new))
        np.testing.assert_array_equal(restored.classes_, clf.classes_)
        assert restored.n_parameters_ == clf.n_parameters_


def test_joblib_round_trip(small_graph, fast, tmp_path):
    for position, (clf, X_new) in enumerate(fitted_models(small_graph, fast)):
        path = tmp_path / f"model{position}.joblib"
        joblib.dump(clf, path)
        restored = joblib.load(path)
        np.testing.assert_array_equal(restored.predict_proba(X_new), clf.predict_proba(X_new))


def test_pickle_holds_no_torch_objects_and_no_graph(small_graph, fast):
    for clf, X_new in fitted_models(small_graph, fast):
        clf.predict_proba(X_new)  # whatever predict caches must not be pickled either
        recorder = ModuleRecorder(pickle.dumps(clf))
        recorder.load()
        top_level = {module.split(".")[0] for module in recorder.modules}
        assert "torch" not in top_level
        assert "torch_geometric" not in top_level
        assert "skgkedm._graph_nodes" not in recorder.modules


def test_pickle_of_an_unfitted_estimator(fast):
    clf = pickle.loads(pickle.dumps(GKEDMClassifier(**fast)))
    assert clf.get_params() == GKEDMClassifier(**fast).get_params()
    assert not hasattr(clf, "classes_")


def test_graph_nodes_and_model_travel_together(small_graph, fast):
    X, y = small_graph
    clf = GKEDMClassifier(**fast).fit(X[:200], y[:200])
    restored_clf, restored_X = pickle.loads(pickle.dumps((clf, X[200:])))
    assert isinstance(restored_X, GraphNodes)
    np.testing.assert_array_equal(
        restored_clf.predict_proba(restored_X), clf.predict_proba(X[200:])
    )
