"""Saved models: joblib, pickle and skops round trips, versions, devices."""

import io
import pickle

import joblib
import numpy as np
import pytest

from skgkedm import GKEDMClassifier


@pytest.fixture
def fitted(small_graph, fast):
    X, y = small_graph
    return GKEDMClassifier(**fast).fit(X[:200], y[:200]), X[200:]


def pickled_modules(model):
    """Top-level packages of the classes a pickle of ``model`` needs to load."""
    modules = set()

    class RecordingUnpickler(pickle.Unpickler):
        def find_class(self, module, name):
            modules.add(module.split(".")[0])
            return super().find_class(module, name)

    RecordingUnpickler(io.BytesIO(pickle.dumps(model))).load()
    return modules


def test_pickle_holds_no_torch_object(fitted):
    model, _ = fitted
    assert "torch" not in pickled_modules(model)
    assert "torch_geometric" not in pickled_modules(model)


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_round_trip_predicts_identically(fitted, dump_load, tmp_path):
    model, X_test = fitted
    if dump_load == "pickle":
        loaded = pickle.loads(pickle.dumps(model))
    else:
        joblib.dump(model, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert loaded.get_params() == model.get_params()


def test_skops_round_trip_with_trusted_types(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    model, X_test = fitted
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert "skgkedm._classifier.GKEDMClassifier" in untrusted
    with pytest.raises(Exception, match=r"[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_loading_with_another_version_warns(fitted):
    model, X_test = fitted
    state = model.__getstate__()
    state["_saved_versions"] = {**state["_saved_versions"], "skgkedm": "0.0.1"}
    loaded = GKEDMClassifier.__new__(GKEDMClassifier)
    with pytest.warns(UserWarning, match="saved with skgkedm 0.0.1"):
        loaded.__setstate__(state)
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_same_version_loads_silently(fitted, recwarn):
    model, _ = fitted
    pickle.loads(pickle.dumps(model))
    assert not [w for w in recwarn if "saved with" in str(w.message)]


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
    assert np.array_equal(proba, reference.predict_proba(X[200:]))
