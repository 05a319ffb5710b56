"""Saved models: pickle, joblib and skops round trips, saved formats, versions, devices."""

import contextlib
import io
import pathlib
import pickle

import joblib
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

import skgkedm
from skgkedm import DistilledGCNClassifier, GKEDMClassifier, GKEDMGraphClassifier, GraphNodes
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm._persistence import FORMAT_VERSION
from skgkedm._spec import NetworkSpec
from skgkedm.datasets import make_node_classification

DATA = pathlib.Path(__file__).parent / "data"
# Written by tests/data/make_fixtures.py; the folder names the version and commit.
SAVED_BEFORE = {
    # Before GKEDM's scoring and update were choices: the architecture dict lacks them.
    "skgkedm-0.1.0.dev0-5d6d760": "0.1.0.dev0",
    # The last commit of saved format 0 (the architecture as a dict).
    "skgkedm-0.1.0.dev0-83ea708": "0.1.0.dev0",
    # The last commit of saved format 2, before mini-batches (batch_size, fanouts).
    "skgkedm-0.2.0.dev0-08fd314": "0.2.0.dev0",
    # The last commit of saved format 3, before edge features (edge_dim).
    "skgkedm-0.2.0.dev0-6d5e4fa": "0.2.0.dev0",
    # The last commit of saved format 4, before graph-free ("mlp") models.
    "skgkedm-0.2.0.dev0-91e63ea": "0.2.0.dev0",
    # The last commit of saved format 5, before multi-hop GKEDM and gkedm_check.
    "skgkedm-0.2.0.dev0-f7731c6": "0.2.0.dev0",
    # The last commit of saved format 6, before gkedm_check_choice_ (features-only),
    # gkedm_position and consistency.
    "skgkedm-0.2.0.dev0-49f817b": "0.2.0.dev0",
    # The last commit of saved format 7, before gkedm_position and consistency.
    "skgkedm-0.2.0.dev0-ac0ac61": "0.2.0.dev0",
    # The last commit of saved format 8, before predictions in batches.
    "skgkedm-0.2.0.dev0-4750987": "0.2.0.dev0",
    # The last commit of saved format 9, before the distiller's teacher_agreement_.
    "skgkedm-0.2.0.dev0-0225336": "0.2.0.dev0",
}
# Fixtures saved before multi-hop GKEDM and gkedm_check (formats up to 5).
SAVED_BEFORE_HOPS = sorted(
    set(SAVED_BEFORE)
    - {
        "skgkedm-0.2.0.dev0-49f817b",
        "skgkedm-0.2.0.dev0-ac0ac61",
        "skgkedm-0.2.0.dev0-4750987",
        "skgkedm-0.2.0.dev0-0225336",
    }
)
SAVED_MODELS = ("gkedm_graph", "gkedm_knn", "distilled_graph")


def loading(folder):
    """Expect the version warning when the fixture's skgkedm differs from the installed one.

    (A fixture of the installed, unreleased version in an older saved format loads
    silently, unless it was saved with another torch.)
    """
    saved_by = SAVED_BEFORE[folder]
    if saved_by == skgkedm.__version__:
        return contextlib.nullcontext()
    return pytest.warns(UserWarning, match=f"saved with skgkedm {saved_by} ")


def pickled_modules(model):
    """Full module names of the classes and functions a pickle of ``model`` loads."""
    modules = set()

    class RecordingUnpickler(pickle.Unpickler):
        def find_class(self, module, name):
            modules.add(module)
            return super().find_class(module, name)

    RecordingUnpickler(io.BytesIO(pickle.dumps(model))).load()
    return modules


def feature_rows(n_samples):
    X, y = make_node_classification(n_samples, n_classes=3, n_features=8, random_state=0)
    return np.asarray(X.features, dtype=np.float64), y


@pytest.fixture(params=["graph", "rows", "distilled"])
def fitted(request, small_graph, fast):
    """A fitted model of each kind and the input it predicts on."""
    X, y = small_graph
    if request.param == "graph":
        return GKEDMClassifier(**fast).fit(X[:200], y[:200]), X[200:]
    if request.param == "rows":
        features, y_rows = feature_rows(150)
        model = GKEDMClassifier(**fast, backbone="sage").fit(features[:100], y_rows[:100])
        return model, features[100:]
    small = {**fast, "max_epochs": 10}
    model = DistilledGCNClassifier(
        teacher=GKEDMClassifier(**{**small, "hidden_dims": (32,)}),
        student=GKEDMClassifier(**{**small, "hidden_dims": (8,)}),
        random_state=0,
    ).fit(X[:200], y[:200])
    return model, X[200:]


def dump_load(model, how, tmp_path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    joblib.dump(model, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


# --- round trips of the current format ----------------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_round_trip_restores_the_fitted_model(fitted, how, tmp_path, recwarn):
    model, X_test = fitted
    expected = model.predict_proba(X_test)
    loaded = dump_load(model, how, tmp_path)
    assert type(loaded) is type(model)
    assert loaded.get_params().keys() == model.get_params().keys()
    np.testing.assert_array_equal(loaded.predict_proba(X_test), expected)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    # Exactly the fitted attributes: the saved versions and format stay in the file.
    assert sorted(vars(loaded)) == sorted(vars(model))
    assert not [w for w in recwarn if "saved with" in str(w.message)]


def test_pickling_leaves_the_model_unchanged(fitted):
    model, _ = fitted
    before = sorted(vars(model))
    pickle.dumps(model)
    assert sorted(vars(model)) == before


def test_pickle_holds_no_torch_object_and_no_graph(fitted):
    model, X_test = fitted
    model.predict_proba(X_test)  # whatever predict caches must not be pickled either
    modules = pickled_modules(model)
    assert {module.split(".")[0] for module in modules}.isdisjoint({"torch", "torch_geometric"})
    assert "skgkedm.data._graph_nodes" not in modules


def test_unfitted_estimator_round_trip(fast):
    loaded = pickle.loads(pickle.dumps(GKEDMClassifier(**fast)))
    assert loaded.get_params() == GKEDMClassifier(**fast).get_params()
    assert not hasattr(loaded, "classes_")


def test_graph_nodes_and_model_travel_together(small_graph, fast):
    X, y = small_graph
    model = GKEDMClassifier(**fast).fit(X[:200], y[:200])
    loaded_model, loaded_X = pickle.loads(pickle.dumps((model, X[200:])))
    assert isinstance(loaded_X, GraphNodes)
    np.testing.assert_array_equal(
        loaded_model.predict_proba(loaded_X), model.predict_proba(X[200:])
    )


def test_skops_round_trip_with_trusted_types(small_graph, fast, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = small_graph
    model = GKEDMClassifier(**fast).fit(X[:200], y[:200])
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert {"skgkedm._classifier.GKEDMClassifier", "skgkedm._spec.NetworkSpec"} <= set(untrusted)
    with pytest.raises(Exception, match=r"[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X[200:]), model.predict_proba(X[200:]))


# --- versions and saved formats -------------------------------------------------------------


def saved_input(arrays):
    """The input a fixture's model predicts on, rebuilt from its .npz arrays."""
    if "adjacency_indptr" not in arrays:
        return arrays["features"]
    adjacency = sp.csr_array(
        (arrays["adjacency_data"], arrays["adjacency_indices"], arrays["adjacency_indptr"])
    )
    return GraphNodes(adjacency, arrays["features"])[arrays["indices"]]


@pytest.mark.parametrize("extension", ["pkl", "joblib"])
@pytest.mark.parametrize("name", SAVED_MODELS)
@pytest.mark.parametrize("folder", sorted(SAVED_BEFORE))
def test_models_saved_by_earlier_versions_load_and_predict_as_saved(folder, name, extension):
    arrays = np.load(DATA / folder / f"{name}.npz")
    with loading(folder):
        model = joblib.load(DATA / folder / f"{name}.{extension}")
    np.testing.assert_allclose(
        model.predict_proba(saved_input(arrays)), arrays["proba"], rtol=0, atol=1e-6
    )
    fitted = [model] if isinstance(model, GKEDMClassifier) else [model.teacher_, model.student_]
    for classifier in fitted:
        assert isinstance(classifier._architecture, NetworkSpec)
    # Every parameter is present again (templates too), so the model can be cloned.
    templates = [] if isinstance(model, GKEDMClassifier) else [model.teacher, model.student]
    for classifier in [*fitted, *templates]:
        assert classifier.get_params().keys() == GKEDMClassifier().get_params().keys()
    assert clone(model).get_params().keys() == model.get_params().keys()


def test_models_saved_before_gkedm_variants_keep_the_papers_module():
    with pytest.warns(UserWarning, match="saved with skgkedm"):
        model = joblib.load(DATA / "skgkedm-0.1.0.dev0-5d6d760" / "gkedm_graph.pkl")
    assert (model._architecture.gkedm_scoring, model._architecture.gkedm_update) == (
        "dot",
        "residual",
    )
    # The parameters say what the network is, so a clone refits the same architecture.
    assert (model.gkedm_scoring, model.gkedm_update) == ("dot", "residual")


@pytest.fixture(scope="module")
def fitted_now():
    """Models of each saved kind, fitted by the installed skgkedm in a few epochs."""
    X, y = make_node_classification(60, n_classes=3, random_state=0)
    quick = {"hidden_dims": (8,), "max_epochs": 2, "random_state": 0}
    return {
        "gkedm_graph": GKEDMClassifier(**quick).fit(X, y),
        "gkedm_knn": GKEDMClassifier(**quick).fit(np.asarray(X.features), y),
        "distilled_graph": DistilledGCNClassifier(
            GKEDMClassifier(**quick), GKEDMClassifier(**quick), random_state=0
        ).fit(X, y),
    }


@pytest.mark.parametrize("name", SAVED_MODELS)
@pytest.mark.parametrize("folder", sorted(SAVED_BEFORE))
def test_models_saved_by_earlier_versions_have_what_a_new_fit_sets(folder, name, fitted_now):
    with loading(folder):
        old = joblib.load(DATA / folder / f"{name}.pkl")
    # transduction_ needs the training graph, which a saved model does not hold.
    assert set(vars(fitted_now[name])) - {"transduction_"} <= set(vars(old))


def test_two_phase_models_saved_by_earlier_versions_keep_their_recipe():
    # 0.1.0.dev0 ran max_epochs in each phase; now max_epochs is the total.
    with pytest.warns(UserWarning, match="saved with skgkedm"):
        model = joblib.load(DATA / "skgkedm-0.1.0.dev0-83ea708" / "gkedm_graph.pkl")
    assert model.schedule == "two_phase"
    assert (model.max_epochs, model.second_phase_fraction) == (10, 0.5)
    assert model.n_iter_ == model.max_epochs


def test_loading_with_another_version_warns(small_graph, fast):
    X, y = small_graph
    model = GKEDMClassifier(**fast).fit(X[:200], y[:200])
    state = model.__getstate__()
    state["_saved_versions"] = {**state["_saved_versions"], "skgkedm": "0.0.1"}
    loaded = GKEDMClassifier.__new__(GKEDMClassifier)
    with pytest.warns(UserWarning, match="saved with skgkedm 0.0.1"):
        loaded.__setstate__(state)
    np.testing.assert_array_equal(loaded.predict_proba(X[200:]), model.predict_proba(X[200:]))


@pytest.mark.parametrize("fitted_model", [True, False])
def test_a_newer_saved_format_asks_to_upgrade(small_graph, fast, monkeypatch, fitted_model):
    X, y = small_graph
    model = GKEDMClassifier(**fast)
    if fitted_model:
        model.fit(X[:200], y[:200])
    with monkeypatch.context() as future:
        future.setattr("skgkedm._persistence.FORMAT_VERSION", FORMAT_VERSION + 1)
        future.setattr("skgkedm._persistence.__version__", "9.0.0")
        data = pickle.dumps(model)
    saved = "saved by skgkedm 9.0.0 in" if fitted_model else "saved in"
    message = (
        rf"{saved} saved format {FORMAT_VERSION + 1}, but the installed skgkedm "
        rf".* reads formats up to {FORMAT_VERSION}\. Upgrade skgkedm"
    )
    with pytest.raises(ValueError, match=message):
        pickle.loads(data)


# --- devices --------------------------------------------------------------------------------


def test_model_fitted_for_cuda_falls_back_to_cpu(small_graph, fast, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = small_graph
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        model = GKEDMClassifier(device="cuda", **fast).fit(X[:200], y[:200])
    reference = GKEDMClassifier(device="cpu", **fast).fit(X[:200], y[:200])
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        proba = loaded.predict_proba(X[200:])
    np.testing.assert_array_equal(proba, reference.predict_proba(X[200:]))


def test_models_saved_before_mini_batches_load_as_full_batch_models():
    model = joblib.load(DATA / "skgkedm-0.2.0.dev0-08fd314" / "distilled_graph.pkl")
    for classifier in (model.teacher_, model.student_, model.teacher, model.student):
        assert (classifier.batch_size, classifier.fanouts) == (None, None)
    # A clone refits full-batch, as the saved model was trained.
    assert clone(model.student_).get_params()["batch_size"] is None


def test_models_saved_before_weights_load_single_label_and_unweighted():
    # Fixtures of every earlier format load as single-label classifiers without class_weight.
    X, y = make_node_classification(60, n_classes=3, n_features=6, random_state=0)
    for folder in SAVED_BEFORE:
        with loading(folder):
            model = joblib.load(DATA / folder / "distilled_graph.pkl")
        for classifier in (model, model.teacher_, model.student_):
            assert classifier.class_weight is None and classifier._multilabel is False
        assert model.predict(X[:5]).shape == (5,)
        clone(model.student_).fit(X[:40], y[:40], sample_weight=np.ones(40))


def test_multilabel_classifier_and_regressor_round_trip(small_graph, fast):
    from skgkedm import GKEDMRegressor

    X, y = small_graph
    indicator = np.eye(3, dtype=int)[y]
    indicator[:, 0] |= y == 2
    for model, target in (
        (GKEDMClassifier(**fast, class_weight="balanced"), indicator),
        (GKEDMRegressor(**fast), np.column_stack([y, -y]).astype(float)),
    ):
        model.fit(X[:200], target[:200], sample_weight=np.linspace(0.5, 1, 200))
        loaded = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(loaded.predict(X[200:]), model.predict(X[200:]))
        assert loaded.get_params() == model.get_params()


@pytest.mark.parametrize("folder", SAVED_BEFORE_HOPS)
def test_models_saved_before_hops_keep_one_unchecked_step(folder):
    with loading(folder):
        model = joblib.load(DATA / folder / "distilled_graph.pkl")
    for classifier in (model.teacher_, model.student_):
        assert (classifier._architecture.gkedm_hops, classifier.gkedm_hops) == (1, 1)
        assert classifier.gkedm_check is False
        assert classifier.gkedm_check_scores_ is None
        # The rebuilt module has no per-hop weights: one step, as saved.
        assert not any("hop_weights" in name for name in classifier._weights)
    # A clone refits the saved recipe: one unchecked step.
    assert clone(model.student_).get_params()["gkedm_check"] is False


def test_graph_estimators_saved_before_the_symmetrize_flag_predict_as_fitted():
    # Format 3 had no fitted ``_symmetrize`` for graph estimators: predictions read
    # ``directed``; the migration turns it into the fitted flag.
    graphs = [nx.path_graph(n) for n in range(3, 13)] + [nx.cycle_graph(n) for n in range(3, 13)]
    y = [0] * 10 + [1] * 10
    model = GKEDMGraphClassifier(hidden_dims=(8,), max_epochs=5, directed=True, random_state=0)
    model.fit(graphs, y)
    state = model.__getstate__()
    state["_format_version"] = 3
    del state["_symmetrize"], state["class_weight"], state["_multilabel"]
    loaded = GKEDMGraphClassifier.__new__(GKEDMGraphClassifier)
    loaded.__setstate__(state)
    assert loaded._symmetrize is False
    np.testing.assert_array_equal(loaded.predict_proba(graphs), model.predict_proba(graphs))


@pytest.mark.parametrize(
    "folder",
    sorted(set(SAVED_BEFORE) - {"skgkedm-0.2.0.dev0-4750987", "skgkedm-0.2.0.dev0-0225336"}),
)
def test_models_saved_before_positions_run_the_module_on_the_hidden_layer(folder):
    with loading(folder):
        model = joblib.load(DATA / folder / "gkedm_graph.pkl")
    assert model._architecture.gkedm_position == "hidden"
    assert (model.gkedm_position, model.consistency) == ("hidden", 0.0)
    # The rebuilt module sits on the hidden layer: as wide as it, with its heads.
    network = model._fitted_network("cpu")
    assert network.gkedm.channels == model._architecture.hidden_dims[-1]
    assert network.gkedm.heads == model.gkedm_heads
    # A clone refits the saved recipe (its saved predictions: the test above).
    assert clone(model).get_params()["consistency"] == 0.0


@pytest.mark.parametrize("folder", sorted(SAVED_BEFORE))
def test_models_saved_before_batched_predictions_predict_with_one_whole_graph_pass(folder):
    with loading(folder):
        model = joblib.load(DATA / folder / "distilled_graph.pkl")
    for classifier in (model.teacher_, model.student_):
        assert classifier._prediction_batch_size is None


@pytest.mark.parametrize("folder", sorted(SAVED_BEFORE))
def test_distillers_saved_before_the_agreement_load_without_it(folder):
    with loading(folder):
        model = joblib.load(DATA / folder / "distilled_graph.pkl")
    assert model.teacher_agreement_ is None  # not measured then


def test_a_mini_batch_model_round_trips_with_its_prediction_batches(small_graph, fast):
    X, y = small_graph
    model = GKEDMClassifier(**fast, batch_size=50).fit(X[:200], y[:200])
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded._prediction_batch_size == 50
    np.testing.assert_array_equal(loaded.predict_proba(X[200:]), model.predict_proba(X[200:]))


def test_checked_models_of_format_6_name_the_choice_their_architecture_holds():
    # Format 6 checked the module against the plain backbone only; a fresh fit here,
    # saved as format 6 would have saved it (no gkedm_check_choice_), loads naming it.
    X, y = make_node_classification(300, n_classes=3, homophily=0.95, class_sep=0.3,
                                    random_state=1)  # fmt: skip
    quick = {**HIDDEN_GKEDM, "hidden_dims": (16,), "max_epochs": 20, "schedule": "joint"}
    # A model whose check kept the module: on these homophilous nodes most seeds' do
    # (seed 0's picked the plain GCN since the dropout masks come from random bits).
    fits = (GKEDMClassifier(**quick, random_state=seed).fit(X[:250], y[:250]) for seed in range(5))
    model = next(fit for fit in fits if fit.gkedm_check_choice_ == "gkedm")
    for network, expected in ((model, "gkedm"), (clone(model).set_params(gkedm=False), None)):
        if expected is None:
            network.fit(X[:250], y[:250])  # no module, so no check
        state = network.__getstate__()
        state["_format_version"] = 6
        del state["gkedm_check_choice_"]
        loaded = GKEDMClassifier.__new__(GKEDMClassifier)
        loaded.__setstate__(state)
        assert loaded.gkedm_check_choice_ == expected
    # A format-6 model whose check dropped the module names the plain backbone.
    state = model.__getstate__()
    state.update(_format_version=6, _architecture=model._architecture.__class__(
        **{**vars(model._architecture), "gkedm": False}))  # fmt: skip
    del state["gkedm_check_choice_"]
    loaded = GKEDMClassifier.__new__(GKEDMClassifier)
    loaded.__setstate__(state)
    assert loaded.gkedm_check_choice_ == "plain"
