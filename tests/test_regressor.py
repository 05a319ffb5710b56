"""GKEDMRegressor: node regression through scikit-learn's own tools, on real graphs."""

import pickle

import networkx as nx
import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.multioutput import MultiOutputRegressor

from skgkedm import GKEDMRegressor, GraphNodes

FAST = {"hidden_dims": (16,), "max_epochs": 60, "schedule": "joint", "random_state": 0}


@pytest.fixture
def node_target(small_graph):
    """A continuous target that follows the classes of a homophilous graph, plus noise."""
    X, y = small_graph
    rng = np.random.default_rng(0)
    return X, 10.0 + 3.0 * y + rng.normal(0, 0.5, len(y))


def test_cross_val_score_r2_beats_ridge_on_the_features(node_target):
    X, target = node_target
    cv = KFold(3, shuffle=True, random_state=0)
    gnn = cross_val_score(GKEDMRegressor(**FAST), X, target, scoring="r2", cv=cv)
    features = np.asarray(X.features.todense() if hasattr(X.features, "todense") else X.features)
    ridge = cross_val_score(Ridge(), features, target, scoring="r2", cv=cv)
    assert np.isfinite(gnn).all()
    assert gnn.mean() > ridge.mean()


def test_nan_targets_are_unlabelled_nodes(node_target):
    X, target = node_target
    partly = target.copy()
    partly[::3] = np.nan
    kept = ~np.isnan(partly)
    with_nan = GKEDMRegressor(**FAST).fit(X, partly)
    selected = GKEDMRegressor(**FAST).fit(X[kept], target[kept])
    np.testing.assert_allclose(with_nan.predict(X), selected.predict(X), rtol=1e-5)
    assert with_nan.transduction_.shape == (len(X),)
    # score leaves out NaN targets of graph input
    assert with_nan.score(X, partly) == pytest.approx(with_nan.score(X[kept], target[kept]))


def test_multi_output_predictions_in_the_units_of_y(node_target):
    X, target = node_target
    Y = np.column_stack([target, 1000.0 - 50.0 * target])
    model = GKEDMRegressor(**FAST).fit(X[:200], Y[:200])
    predicted = model.predict(X[200:])
    assert predicted.shape == (100, 2) and model.n_outputs_ == 2
    # the second column is an affine image of the first: so must its predictions roughly be
    assert np.corrcoef(predicted[:, 0], predicted[:, 1])[0, 1] < -0.9
    assert model.score(X[200:], Y[200:]) > 0.5


def test_multioutput_and_transformed_target_wrappers(node_target):
    X, target = node_target
    Y = np.column_stack([target, -target])
    wrapped = MultiOutputRegressor(GKEDMRegressor(**FAST)).fit(X[:200], Y[:200])
    assert wrapped.predict(X[200:]).shape == (100, 2)
    logged = TransformedTargetRegressor(GKEDMRegressor(**FAST), func=np.log, inverse_func=np.exp)
    logged.fit(X[:200], target[:200])
    assert logged.score(X[200:], target[200:]) > 0.5


def test_mini_batches_and_pickle(node_target):
    X, target = node_target
    model = GKEDMRegressor(**FAST, batch_size=64, fanouts=5).fit(X[:200], target[:200])
    assert model.score(X[200:], target[200:]) > 0.5
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X[200:]), model.predict(X[200:]))


def test_feature_rows_knn_mode():
    X, y = load_diabetes(return_X_y=True)
    model = GKEDMRegressor(**{**FAST, "max_epochs": 100}).fit(X[:300], y[:300])
    assert model.predict(X[300:]).shape == (len(X) - 300,)
    assert model.score(X[300:], y[300:]) > 0.2


def test_networkx_graph_with_nan_for_unlabelled_nodes():
    G = nx.karate_club_graph()
    target = np.array([float(G.degree(n)) for n in G])
    partly = target.copy()
    partly[::2] = np.nan
    model = GKEDMRegressor(**FAST).fit(G, partly)
    assert model.predict(G).shape == (G.number_of_nodes(),)


def test_early_stopping_scores_r2(node_target):
    X, target = node_target
    model = GKEDMRegressor(**FAST, early_stopping=True, n_iter_no_change=5).fit(X, target)
    assert max(model.validation_scores_) <= 1.0
    assert model.best_validation_score_ > 0


@pytest.mark.parametrize(
    ("make_y", "match"),
    [
        (lambda t: np.full_like(t, np.nan), "no labelled sample"),
        (lambda t: np.where(np.arange(len(t)) == 5, np.inf, t), "infinity"),
        (
            lambda t: np.column_stack([t, np.where(np.arange(len(t)) == 3, np.nan, t)]),
            "some but not all outputs",
        ),
        (lambda t: t[:-1], "entries"),
        (lambda t: t.reshape(-1, 1, 1), "dim 3"),
    ],
    ids=["all_nan", "inf", "partial_nan", "short", "3d"],
)
def test_hostile_targets_get_a_clear_error_and_stay_unmodified(node_target, make_y, match):
    X, target = node_target
    y = make_y(target)
    before = y.copy()
    with pytest.raises(ValueError, match=match):
        GKEDMRegressor(**FAST).fit(X, y)
    np.testing.assert_array_equal(y, before)


def test_nan_targets_of_feature_rows_are_refused():
    X, y = load_diabetes(return_X_y=True)
    y = y.copy()
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GKEDMRegressor(**FAST).fit(X, y)


def test_a_graph_without_features_is_regressed_on_structural_features():
    G = nx.les_miserables_graph()
    nodes = GraphNodes.from_networkx(G)
    target = np.log1p([G.degree(n) for n in G])
    model = GKEDMRegressor(**FAST).fit(nodes, target)
    assert np.isfinite(model.predict(nodes)).all()
