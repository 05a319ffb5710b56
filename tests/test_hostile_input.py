"""Random and hostile input: only clear errors or valid predictions, and stopping early."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import skgkedm.utils._training
from skgkedm import GKEDMClassifier, GraphNodes

CLEAR_ERRORS = (ValueError, TypeError, IndexError)

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)
small_floats = st.floats(-1e3, 1e3, width=32)


@st.composite
def graphs_and_labels(draw):
    n_nodes = draw(st.integers(1, 12))
    n_features = draw(st.integers(1, 4))
    weights = draw(
        arrays(np.float32, (n_nodes, n_nodes), elements=st.sampled_from([0.0, 0.0, 1.0, 2.5]))
    )
    if draw(st.booleans()):
        weights[draw(st.integers(0, n_nodes - 1)), 0] = draw(st.sampled_from([-1.0, np.nan]))
    elements = finite_or_not if draw(st.integers(0, 4)) == 0 else small_floats
    features = draw(arrays(np.float32, (n_nodes, n_features), elements=elements))
    labels = draw(arrays(np.int64, (n_nodes,), elements=st.integers(-1, 2)))
    return weights, features, labels


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(graphs_and_labels(), st.sampled_from(["gcn", "sage", "gat", "gin"]), st.booleans())
def test_random_graphs_give_clear_errors_or_valid_predictions(data, backbone, sparse):
    weights, features, labels = data
    weights_before, features_before = weights.copy(), features.copy()
    model = GKEDMClassifier(
        backbone=backbone,
        hidden_dims=(8,),
        gkedm_heads=2,
        gat_heads=2,
        max_epochs=2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            X = GraphNodes(sp.csr_array(weights) if sparse else weights, features)
            model.fit(X, labels)
            proba = model.predict_proba(X)
        except CLEAR_ERRORS as error:
            assert str(error), "an error must say what is wrong"
            return
        finally:
            np.testing.assert_array_equal(weights, weights_before)
            np.testing.assert_array_equal(features, features_before)
    assert proba.shape == (len(labels), len(model.classes_))
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(model.predict(X)) <= set(model.classes_)
    assert -1 not in model.classes_


def test_keyboard_interrupt_stops_training_with_a_usable_model(small_graph, fast, monkeypatch):
    X, y = small_graph
    real_step = skgkedm.utils._training._training_epoch
    calls = []

    def interrupted_step(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(skgkedm.utils._training, "_training_epoch", interrupted_step)
    model = GKEDMClassifier(**{**fast, "max_epochs": 50})
    with pytest.warns(UserWarning, match="interrupted"):
        model.fit(X, y)
    assert model.n_iter_ == 4
    assert model.predict(X).shape == (len(y),)


def test_diverging_training_raises_and_suggests_a_lower_learning_rate(small_graph, fast):
    X, y = small_graph
    exploding = GraphNodes(X.adjacency, np.full(X.features.shape, 1e38, dtype=np.float32))
    with pytest.raises(ValueError, match="lower learning_rate"):
        GKEDMClassifier(**fast).fit(exploding, y)


def string_labels_with_marker(y, container):
    """Class names for y, with the integer marker -1 on every third node."""
    labels = np.array(["cat", "dog", "eel"], dtype=object)[y]
    labels[::3] = -1
    if container == "marker_first":
        return labels
    if container == "list":  # NumPy reads the list as strings: -1 becomes "-1"
        return labels.tolist()
    labels[0] = "cat"  # a string first: np.unique then fails comparing str with int
    return labels


@pytest.mark.parametrize("container", ["marker_first", "string_first", "list"])
def test_string_labels_have_no_unlabelled_marker(small_graph, fast, container):
    X, y = small_graph
    labels = string_labels_with_marker(y, container)
    with pytest.raises(ValueError, match="only integer labels have an unlabelled marker"):
        GKEDMClassifier(**fast).fit(X, labels)
    # What the message suggests: fit on the labelled nodes only.
    labels = np.asarray(labels, dtype=object)
    labelled = np.flatnonzero((labels != -1) & (labels != "-1"))
    model = GKEDMClassifier(**fast).fit(X[labelled], labels[labelled])
    assert model.classes_.tolist() == ["cat", "dog", "eel"]
