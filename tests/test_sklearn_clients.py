"""scikit-learn tools on graph input: each works, or refuses at once with a TypeError.

One test (or parametrized case) per row of docs/user_guide/sklearn_tools.rst.
"""

import pickle
import time

import joblib
import networkx as nx
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
    learning_curve,
    train_test_split,
    validation_curve,
)
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm.datasets import make_node_classification

# 60 epochs: the default (an MLP's class scores, propagated) scores 0.68 after 20 on
# these graphs, 0.99 after 60.
FAST = {"max_epochs": 60, "hidden_dims": (16,), "schedule": "joint", "random_state": 0}
REFUSAL = "GraphNodes cannot become a NumPy array"


@pytest.fixture(scope="module")
def graph():
    """300 nodes, 3 classes: (GraphNodes, y)."""
    return make_node_classification(300, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def fitted(graph):
    """A model fitted on the first 200 nodes."""
    X, y = graph
    return GKEDMClassifier(**FAST).fit(X[:200], y[:200])


def standardized(X):
    """The same nodes of the same graph, features scaled to zero mean and unit variance."""
    return GraphNodes(X.adjacency, StandardScaler().fit_transform(X.features))[X.indices]


# --- tools that only select nodes: they work ----------------------------------------


def test_train_test_split(graph):
    X, y = graph
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=100, random_state=0)
    assert isinstance(X_train, GraphNodes) and X_train.adjacency is X.adjacency
    clf = GKEDMClassifier(**FAST).fit(X_train, y_train)
    assert clf.predict(X_test).shape == (100,)
    assert clf.score(X_test, y_test) > 0.8


@pytest.mark.parametrize(
    "cv",
    [KFold(2, shuffle=True, random_state=0), StratifiedKFold(2, shuffle=True, random_state=0)],
    ids=["KFold", "StratifiedKFold"],
)
def test_cross_val_score_with_a_splitter(graph, cv):
    X, y = graph
    scores = cross_val_score(GKEDMClassifier(**FAST), X, y, cv=cv)
    assert scores.shape == (2,)
    assert scores.min() > 0.8


def test_cross_validate(graph):
    X, y = graph
    results = cross_validate(GKEDMClassifier(**FAST), X, y, cv=2, return_estimator=True)
    assert results["test_score"].min() > 0.8
    assert all(model.n_features_in_ == X.n_features for model in results["estimator"])


@pytest.mark.parametrize(
    "search",
    [
        GridSearchCV(GKEDMClassifier(**FAST), {"learning_rate": [0.01, 0.05]}, cv=2),
        RandomizedSearchCV(
            GKEDMClassifier(**FAST),
            {"learning_rate": loguniform(0.005, 0.05)},
            n_iter=2,
            cv=2,
            random_state=0,
        ),
        HalvingGridSearchCV(
            GKEDMClassifier(**FAST), {"learning_rate": [0.01, 0.05]}, cv=2, random_state=0
        ),
    ],
    ids=["GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV"],
)
def test_hyper_parameter_search(graph, search):
    X, y = graph
    search = clone(search).fit(X[:200], y[:200])
    assert search.best_score_ > 0.8
    assert search.score(X[200:], y[200:]) > 0.8


def test_learning_curve(graph):
    X, y = graph
    sizes, train_scores, test_scores = learning_curve(
        GKEDMClassifier(**FAST), X, y, train_sizes=[0.5, 1.0], cv=2, shuffle=True, random_state=0
    )
    assert sizes.tolist() == [75, 150]
    assert train_scores.shape == test_scores.shape == (2, 2)
    assert test_scores.min() > 0.7


def test_validation_curve(graph):
    X, y = graph
    train_scores, test_scores = validation_curve(
        GKEDMClassifier(**FAST), X, y, param_name="max_epochs", param_range=[2, 60], cv=2
    )
    assert train_scores.shape == test_scores.shape == (2, 2)
    assert test_scores[1].mean() > 0.8


def test_pipeline_with_a_graph_nodes_step(graph):
    X, y = graph
    pipe = make_pipeline(FunctionTransformer(standardized), GKEDMClassifier(**FAST))
    pipe.fit(X[:200], y[:200])
    assert pipe.predict(X[200:]).shape == (100,)
    assert pipe.score(X[200:], y[200:]) > 0.8


def test_calibrated_classifier_cv(graph):
    X, y = graph
    calibrated = CalibratedClassifierCV(GKEDMClassifier(**FAST), cv=2).fit(X[:200], y[:200])
    proba = calibrated.predict_proba(X[200:])
    assert proba.shape == (100, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert calibrated.score(X[200:], y[200:]) > 0.8


def test_frozen_estimator_calibrated_on_other_nodes(graph, fitted):
    X, y = graph
    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted)).fit(X[200:250], y[200:250])
    assert calibrated.predict_proba(X[250:]).shape == (50, 3)
    assert calibrated.score(X[250:], y[250:]) > 0.8


def test_voting_classifier(graph):
    X, y = graph
    members = [
        ("gcn", GKEDMClassifier(**FAST)),
        ("sage", GKEDMClassifier(**{**FAST, "backbone": "sage"})),
    ]
    voting = VotingClassifier(members, voting="soft").fit(X[:200], y[:200])
    assert voting.predict_proba(X[200:]).shape == (100, 3)
    assert voting.score(X[200:], y[200:]) > 0.8


def test_stacking_classifier_without_passthrough(graph):
    X, y = graph
    stack = StackingClassifier(
        [("gcn", GKEDMClassifier(**FAST))], final_estimator=LogisticRegression(), cv=2
    )
    stack.fit(X[:200], y[:200])
    assert stack.transform(X[200:]).shape == (100, 3)
    assert stack.score(X[200:], y[200:]) > 0.8


def test_one_vs_rest_classifier(graph):
    X, y = graph
    ovr = OneVsRestClassifier(GKEDMClassifier(**FAST)).fit(X[:200], y[:200])
    assert len(ovr.estimators_) == 3
    assert ovr.score(X[200:], y[200:]) > 0.8


def test_clone(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "classes_")


@pytest.mark.parametrize("library", ["pickle", "joblib"])
def test_model_and_graph_round_trip(graph, fitted, library, tmp_path):
    X, _ = graph
    path = tmp_path / "model_and_nodes"
    if library == "pickle":
        path.write_bytes(pickle.dumps((fitted, X[200:])))
        model, nodes = pickle.loads(path.read_bytes())
    else:
        joblib.dump((fitted, X[200:]), path)
        model, nodes = joblib.load(path)
    np.testing.assert_array_equal(nodes.indices, X[200:].indices)
    np.testing.assert_array_equal(model.predict_proba(nodes), fitted.predict_proba(X[200:]))


# --- tools that turn X into an array: they refuse at once -----------------------------


@pytest.mark.parametrize(
    "tool",
    [
        make_pipeline(StandardScaler(), GKEDMClassifier(**FAST)),
        BaggingClassifier(GKEDMClassifier(**FAST), n_estimators=2),
        OneVsOneClassifier(GKEDMClassifier(**FAST)),
        SelfTrainingClassifier(GKEDMClassifier(**FAST)),
    ],
    ids=["Pipeline(StandardScaler)", "BaggingClassifier", "OneVsOne", "SelfTraining"],
)
def test_array_tools_refuse_before_any_fit(graph, tool):
    X, y = graph
    started = time.perf_counter()
    with pytest.raises(TypeError, match=REFUSAL):
        clone(tool).fit(X, y)
    # Nothing was trained: converting X is the first thing these tools do.
    assert time.perf_counter() - started < 0.5


def test_stacking_classifier_with_passthrough_refuses(graph):
    # The members are fitted first; the refusal comes when X joins their predictions.
    X, y = graph
    stack = StackingClassifier([("gcn", GKEDMClassifier(**FAST))], cv=2, passthrough=True)
    with pytest.raises(TypeError, match=REFUSAL):
        stack.fit(X, y)


# --- a networkx graph split by scikit-learn -------------------------------------------


def karate_club():
    G = nx.karate_club_graph()
    return G, np.array([G.nodes[node]["club"] for node in G])


def test_cross_val_score_on_a_networkx_graph_says_to_wrap_it():
    G, y = karate_club()
    with pytest.raises(TypeError, match=r"GraphNodes\.from_networkx\(G\) to cross-validate"):
        cross_val_score(GKEDMClassifier(**FAST), G, y, cv=2, error_score="raise")
    # Wrapped, the same call works.
    scores = cross_val_score(GKEDMClassifier(**FAST), GraphNodes.from_networkx(G), y, cv=2)
    assert scores.shape == (2,)


def test_train_test_split_of_a_networkx_graph_is_refused_by_the_estimator():
    G, y = karate_club()
    G_train, G_test, y_train, _ = train_test_split(G, y, random_state=0)
    assert isinstance(G_train, list)  # scikit-learn's doing: one adjacency dict per node
    with pytest.raises(TypeError, match="list of AtlasView objects"):
        GKEDMClassifier(**FAST).fit(G_train, y_train)
    fitted = GKEDMClassifier(**FAST).fit(G, y)
    with pytest.raises(TypeError, match=r"GraphNodes\.from_networkx"):
        fitted.predict(G_test)
