import numpy as np
import pytest
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skgkedm import GKEDMClassifier
from skgkedm.datasets import make_node_classification


def feature_rows(n_samples=240, random_state=0):
    X, y = make_node_classification(
        n_samples, n_classes=3, n_features=8, class_sep=4.0, random_state=random_state
    )
    # Shifted and scaled columns, so that StandardScaler has work to do.
    scale = np.array([1, 10, 100, 0.1, 1, 5, 50, 0.5])
    return np.asarray(X.features, dtype=np.float64) * scale + 7.0, y


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
            GKEDMClassifier(max_epochs=60, random_state=0), grid, cv=3, n_jobs=n_jobs
        )
        searches[n_jobs] = search.fit(X[:180], y[:180])
    return X, y, grid, searches


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search(grid_search_results, n_jobs):
    X, y, _, searches = grid_search_results
    search = searches[n_jobs]
    assert search.best_score_ > 0.6
    # The refitted best model predicts on the held-out nodes of the same graph.
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
