"""How a fit runs: threads, random generators, warnings, progress, fitted state."""

import threading
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skgkedm import DistilledGCNClassifier, GKEDMClassifier
from skgkedm.datasets import make_node_classification
from skgkedm.utils import _progress, _threads

FAST = {"hidden_dims": (16,), "max_epochs": 20, "random_state": 0}


@pytest.fixture(scope="module")
def graph():
    return make_node_classification(300, n_classes=3, random_state=0)


# --- threads ------------------------------------------------------------------------


def test_fit_and_predict_restore_the_callers_thread_setting(graph):
    X, y = graph
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clf = GKEDMClassifier(**FAST).fit(X, y)
        assert torch.get_num_threads() == 2
        clf.predict_proba(X)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_small_graph_trains_on_one_thread(graph, monkeypatch):
    X, y = graph
    seen = []
    original = _threads.ThreadPolicy.update

    def recording_update(policy, wait=None):
        threads = original(policy, wait)
        seen.append(torch.get_num_threads())
        return threads

    monkeypatch.setattr(_threads.ThreadPolicy, "update", recording_update)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        GKEDMClassifier(**FAST).fit(X, y)
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}


def test_large_graph_uses_the_idle_cores_up_to_the_callers_limit(monkeypatch):
    monkeypatch.setattr(_threads.MachineLoad, "idle_cores", lambda self: 1.8)
    policy = _threads.ThreadPolicy(_threads.LARGE_GRAPH_ENTRIES, caller_threads=2)
    assert policy.update() == 2
    monkeypatch.setattr(_threads.MachineLoad, "idle_cores", lambda self: 0.4)
    busy = _threads.ThreadPolicy(_threads.LARGE_GRAPH_ENTRIES, caller_threads=2)
    assert busy.update() == 1
    capped = _threads.ThreadPolicy(_threads.LARGE_GRAPH_ENTRIES, caller_threads=1)
    assert capped.update() == 1


def test_a_policy_that_may_not_wait_measures_only_when_due(monkeypatch):
    monkeypatch.setattr(_threads.MachineLoad, "idle_cores", lambda self: 1.8)
    monkeypatch.setattr(_threads.MachineLoad, "ready", lambda self: False)
    policy = _threads.ThreadPolicy(_threads.LARGE_GRAPH_ENTRIES, caller_threads=2, wait=False)
    assert policy.update() == 1  # no measure yet: the one thread it starts with
    monkeypatch.setattr(_threads.MachineLoad, "ready", lambda self: True)
    assert policy.update() == 2


def test_machine_load_counts_cores_busy_with_other_work():
    load = _threads.MachineLoad()
    idle = load.idle_cores(minimum_wait=0.05)
    assert 0.0 <= idle <= load._usable


def proc_stat(busy_per_cpu, total=1000):
    """A /proc/stat text where cpu i spent busy_per_cpu[i] of ``total`` jiffies busy."""
    lines = [f"cpu {sum(busy_per_cpu)} 0 0 {total * len(busy_per_cpu) - sum(busy_per_cpu)} 0"]
    lines += [f"cpu{i} {busy} 0 0 {total - busy} 0" for i, busy in enumerate(busy_per_cpu)]
    return "\n".join([*lines, "intr 0"]) + "\n"


def test_without_an_affinity_set_a_large_graph_uses_every_core(monkeypatch):
    # macOS and Windows have no os.sched_getaffinity: big graphs trained on one thread.
    monkeypatch.delattr(_threads.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(_threads.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(_threads, "_read_proc_stat", lambda: None)
    monkeypatch.setattr(_threads, "_cpu_quota", lambda: None)
    assert _threads.MachineLoad().idle_cores(minimum_wait=0) == 8
    before = torch.get_num_threads()
    try:
        policy = _threads.ThreadPolicy(_threads.LARGE_GRAPH_ENTRIES, caller_threads=6)
        assert policy.update() == 6
    finally:
        torch.set_num_threads(before)


def test_busy_cores_outside_the_jobs_own_do_not_take_its_threads(monkeypatch):
    # A Slurm or cgroup job owning cores 0 and 1 of a node whose other 6 cores are busy.
    snapshots = iter([proc_stat([0] * 8), proc_stat([0, 0] + [1000] * 6, total=2000)])
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_threads, "_read_proc_stat", lambda: next(snapshots))
    monkeypatch.setattr(_threads, "_cpu_quota", lambda: None)
    monkeypatch.setattr(_threads.time, "process_time", lambda: 0.0)  # we compute nothing
    load = _threads.MachineLoad()
    assert load.idle_cores(minimum_wait=0) == pytest.approx(2, abs=0.2)


def test_busy_own_cores_and_a_cpu_quota_limit_the_threads(monkeypatch):
    # Core 1 of the job's {0, 1, 2, 3} is busy with other work; a quota of 2.5 cores.
    snapshots = iter([proc_stat([0] * 4), proc_stat([0, 1000, 0, 0], total=2000)])
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(_threads, "_read_proc_stat", lambda: next(snapshots))
    monkeypatch.setattr(_threads, "_cpu_quota", lambda: None)
    monkeypatch.setattr(_threads.time, "process_time", lambda: 0.0)  # we compute nothing
    assert _threads.MachineLoad().idle_cores(minimum_wait=0) == pytest.approx(3, abs=0.2)
    snapshots = iter([proc_stat([0] * 4), proc_stat([0] * 4, total=2000)])
    monkeypatch.setattr(_threads, "_cpu_quota", lambda: 2.5)
    assert _threads.MachineLoad().idle_cores(minimum_wait=0) == 2


def test_thread_count_does_not_change_the_model(graph):
    X, y = graph
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):
            # Force the count inside the fit: the policy never raises it above this.
            torch.set_num_threads(threads)
            policy = _threads.ThreadPolicy
            limit = policy.__init__

            def forced(self, entries, caller_threads, wait=True, limit=limit):
                limit(self, _threads.LARGE_GRAPH_ENTRIES, caller_threads, wait)

            policy.__init__ = forced
            try:
                weights.append(GKEDMClassifier(**FAST).fit(X, y)._weights)
            finally:
                policy.__init__ = limit
    finally:
        torch.set_num_threads(before)
    for name in weights[0]:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])


# --- random generators --------------------------------------------------------------


def single_model():
    params = {**FAST, "dropout": 0.5, "gkedm_dropout": 0.3, "early_stopping": True}
    return GKEDMClassifier(**params)


def distilled_model():
    # The distiller's default recipe, narrower: a two-phase teacher, a joint student,
    # attention and soft-label terms.
    teacher = GKEDMClassifier(**{**FAST, "hidden_dims": (32,), "random_state": None})
    student = GKEDMClassifier(hidden_dims=(8,), max_epochs=20, schedule="joint")
    return DistilledGCNClassifier(teacher, student, random_state=0)


@pytest.mark.parametrize("make_model", [single_model, distilled_model])
def test_same_seed_same_model_when_fits_run_at_once_in_threads(graph, make_model):
    X, y = graph
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = make_model().fit(X, y).predict_proba(X)
        results = [None] * 4
        barrier = threading.Barrier(4)

        def fit(slot):
            barrier.wait()
            results[slot] = make_model().fit(X, y).predict_proba(X)

        workers = [threading.Thread(target=fit, args=(slot,)) for slot in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    for proba in results:
        np.testing.assert_array_equal(proba, serial)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_parallel_grid_search_equals_serial_bit_for_bit(graph, backend):
    X, y = graph
    grid = {"backbone": ["gcn", "sage"], "dropout": [0.2, 0.5]}
    estimator = GKEDMClassifier(hidden_dims=(8,), max_epochs=10, random_state=0)
    serial = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    with joblib.parallel_backend(backend, n_jobs=2):
        parallel = GridSearchCV(estimator, grid, cv=3, n_jobs=2).fit(X, y)
    for key in ("mean_test_score", "std_test_score"):
        np.testing.assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key])
    np.testing.assert_array_equal(
        serial.best_estimator_.predict_proba(X), parallel.best_estimator_.predict_proba(X)
    )


def test_fit_leaves_torchs_global_generator_alone(graph):
    X, y = graph
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    GKEDMClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_fit_and_predict_never_reseed_torchs_global_generators(graph, monkeypatch):
    # torch.manual_seed also reseeds every CUDA generator, which fork_rng(devices=[])
    # does not restore: a user's CUDA random state was reset by each fit and predict.
    X, y = graph
    calls = []
    monkeypatch.setattr(torch, "manual_seed", lambda seed: calls.append(("torch", seed)))
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(("all", seed)))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: calls.append(("cuda", seed)))
    clf = GKEDMClassifier(**FAST, device="cpu").fit(X, y)
    clf.predict(X)
    assert calls == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_fit_and_predict_leave_the_cuda_generator_alone(graph, device):
    X, y = graph
    torch.cuda.manual_seed(123)
    expected = torch.rand(3, device="cuda")
    torch.cuda.manual_seed(123)
    clf = GKEDMClassifier(**FAST, device=device).fit(X, y)
    clf.predict(X)
    np.testing.assert_array_equal(torch.rand(3, device="cuda").cpu(), expected.cpu())


# --- predictions depend on fitted state only ----------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"backbone": "sage"},
        {"gkedm": False},
        {"directed": True},
        {"gkedm_scoring": "dot"},
        {"hidden_dims": (32,)},
        {"schedule": "joint"},
    ],
)
def test_set_params_after_fit_does_not_change_predictions(graph, change):
    X, y = graph
    # Unchecked, so the model has the attention this test reads.
    clf = GKEDMClassifier(**FAST, gkedm_check=False).fit(X[:200], y[:200])
    proba = clf.predict_proba(X[200:])
    attention = clf.attention_weights(X[200:210])
    clf.set_params(**change)
    np.testing.assert_array_equal(clf.predict_proba(X[200:]), proba)
    after = clf.attention_weights(X[200:210])
    np.testing.assert_array_equal(after.weights, attention.weights)


# --- warnings once per fit ----------------------------------------------------------


def test_convergence_warning_once_per_two_phase_fit_naming_the_phases(graph):
    X, y = graph
    clf = GKEDMClassifier(**FAST, schedule="two_phase", early_stopping=True, n_iter_no_change=1000)
    clf.set_params(gkedm_check=False)  # the check may choose a network without the module
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert "phase 1 (backbone)" in str(convergence[0].message)
    assert "phase 2 (GKEDM)" in str(convergence[0].message)


@pytest.mark.parametrize("estimator", ["single", "mini-batch", "distilled"])
def test_warnings_point_at_the_users_call(graph, estimator):
    X, y = graph
    clf = GKEDMClassifier(**{**FAST, "max_epochs": 3}, early_stopping=True)
    if estimator == "mini-batch":
        clf.set_params(batch_size=64)
    if estimator == "distilled":
        clf = DistilledGCNClassifier(clf, clone(clf).set_params(hidden_dims=(8,)), random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_epochs") as caught:
        clf.fit(X, y)
    assert {w.filename for w in caught if w.category is ConvergenceWarning} == {__file__}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("estimator", ["single", "distilled"])
def test_cpu_fallback_warns_once_per_fit(graph, estimator):
    X, y = graph
    clf = GKEDMClassifier(**FAST, device="cuda")
    if estimator == "distilled":
        small = GKEDMClassifier(**{**FAST, "hidden_dims": (8,)}, device="cuda")
        clf = DistilledGCNClassifier(clf, small, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    fallback = [w for w in caught if "CUDA is not available" in str(w.message)]
    assert len(fallback) == (1 if estimator == "single" else 2)


# --- progress -----------------------------------------------------------------------


def test_verbose_1_shows_a_bar_per_phase_and_a_closing_line(graph, capsys):
    X, y = graph
    GKEDMClassifier(**FAST, schedule="two_phase", gkedm_check=False, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "phase 1 (backbone): 15 epochs, stopped: max_epochs reached; best epoch 15",
        "phase 2 (GKEDM): 5 epochs, stopped: max_epochs reached; best epoch 5",
    ]
    assert "phase 1 (backbone)" in captured.err and "15/15" in captured.err
    assert "phase 2 (GKEDM)" in captured.err and "5/5" in captured.err


def test_verbose_1_without_tqdm_prints_plain_lines(graph, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_tqdm", lambda: None)
    X, y = graph
    GKEDMClassifier(
        **{**FAST, "max_epochs": 40}, schedule="joint", gkedm_check=False, verbose=1
    ).fit(X, y)
    *lines, closing = capsys.readouterr().out.splitlines()
    assert [int(line.split("epoch")[1].split()[0]) for line in lines] == list(range(4, 41, 4))
    assert closing.startswith("training: 40 epochs, stopped: max_epochs reached")


def test_early_stopping_closing_line_says_why_and_which_epoch(graph, capsys):
    X, y = graph
    clf = GKEDMClassifier(
        **{**FAST, "max_epochs": 300},
        schedule="joint",
        early_stopping=True,
        n_iter_no_change=5,
        verbose=1,
    ).fit(X, y)
    closing = capsys.readouterr().out.splitlines()[-1]
    assert f"training: {clf.n_iter_} epochs, stopped: no validation improvement" in closing
    assert clf.n_iter_ < 300


# --- fitted attributes and methods --------------------------------------------------


def test_transduction_labels_every_node_of_the_training_graph(graph):
    X, y = graph
    y_partial = y.copy()
    y_partial[100:] = -1
    clf = GKEDMClassifier(**FAST).fit(X, y_partial)
    assert clf.transduction_.shape == (300,)
    np.testing.assert_array_equal(clf.transduction_, clf.predict(X))
    assert set(clf.transduction_) <= set(clf.classes_)


def test_transduction_of_feature_rows_and_of_the_distiller():
    X, y = make_node_classification(120, n_classes=2, random_state=1)
    features = X.features
    clf = GKEDMClassifier(**FAST).fit(features, y)
    assert clf.transduction_.shape == (120,)
    assert (clf.transduction_ == y).mean() > 0.6
    dist = DistilledGCNClassifier(
        GKEDMClassifier(**FAST), GKEDMClassifier(**{**FAST, "hidden_dims": (8,)}), random_state=0
    ).fit(X[:80], y[:80])
    np.testing.assert_array_equal(dist.transduction_, dist.student_.transduction_)


@pytest.mark.parametrize("labels", ["ints", "strings"])
def test_predict_log_proba_is_the_log_of_predict_proba(graph, labels):
    X, y = graph
    if labels == "strings":
        y = np.array(["a", "b", "c"])[y]
    clf = GKEDMClassifier(**FAST).fit(X[:200], y[:200])
    log_proba = clf.predict_log_proba(X[200:])
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X[200:]), rtol=1e-10)
    assert np.isfinite(log_proba).all()
