"""Node classifiers trained on neighbour-sampled mini-batches (``batch_size``, ``fanouts``)."""

from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from skgkedm import DistilledGCNClassifier, GKEDMClassifier, GKEDMRegressor, GraphNodes
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.datasets import make_node_classification
from skgkedm.loader._neighbour_sampling import check_fanouts
from skgkedm.loader._node_batches import NodeBatches

FAST = {"hidden_dims": (16,), "max_epochs": 20, "random_state": 0, "batch_size": 64}


@pytest.fixture(scope="module")
def graph():
    X, y = make_node_classification(600, n_classes=3, random_state=0)
    return X, y


def test_mini_batches_match_full_batch_accuracy_on_cora(cora):
    train, test = cora.train_index, cora.test_index
    scores = {}
    for batch_size in (None, 35):
        model = GKEDMClassifier(batch_size=batch_size, random_state=0)
        model.fit(cora.X[train], cora.y[train])
        scores[batch_size] = model.score(cora.X[test], cora.y[test])
    assert scores[None] > 0.78
    # One seed; benchmarks/mini_batches.py measures the gap over ten.
    assert scores[35] > scores[None] - 0.03


def test_same_random_state_same_model_other_state_other_model(graph):
    X, y = graph
    first = GKEDMClassifier(**FAST).fit(X[:300], y[:300])
    again = GKEDMClassifier(**FAST).fit(X[:300], y[:300])
    other = GKEDMClassifier(**{**FAST, "random_state": 1}).fit(X[:300], y[:300])
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert first.loss_curve_ == again.loss_curve_
    assert other.loss_curve_ != first.loss_curve_


def test_fits_running_at_once_in_threads_give_the_serial_model(graph):
    X, y = graph
    serial = GKEDMClassifier(**FAST).fit(X[:300], y[:300])
    with ThreadPoolExecutor(2) as pool:
        fitted = list(pool.map(lambda _: GKEDMClassifier(**FAST).fit(X[:300], y[:300]), range(2)))
    for model in fitted:
        for key, value in serial._weights.items():
            np.testing.assert_array_equal(model._weights[key], value)


def test_an_epoch_takes_one_step_per_batch_and_sees_every_training_node(graph, monkeypatch):
    X, y = graph
    seen = []
    original = NodeBatches.graph

    def record(self, targets):
        seen.append(np.asarray(targets).copy())
        return original(self, targets)

    monkeypatch.setattr(NodeBatches, "graph", record)
    GKEDMClassifier(**{**FAST, "max_epochs": 2, "batch_size": 128}).fit(X[:300], y[:300])
    # 300 nodes in batches of 128: 3 steps an epoch, 2 epochs (no validation split).
    assert [len(batch) for batch in seen] == [128, 128, 44] * 2
    for epoch in (seen[:3], seen[3:]):
        assert sorted(np.concatenate(epoch).tolist()) == list(range(300))
    assert not np.array_equal(np.concatenate(seen[:3]), np.concatenate(seen[3:]))


def test_sampled_batch_holds_the_targets_and_at_most_fanout_neighbours():
    graph = nx.barabasi_albert_graph(2000, 8, seed=0)  # hubs of high degree
    X = GraphNodes.from_networkx(graph)
    spec = GKEDMClassifier(**HIDDEN_GKEDM, hidden_dims=(16,))._network_spec(X.n_features, 2)
    assert spec.message_hops == 3  # a GCN hidden layer, GKEDM, the GCN output layer
    batches = NodeBatches(X, True, spec, torch.device("cpu"), (4, 3, 2), seed=0)
    targets = np.array([5, 0, 17, 5])  # a bootstrap may repeat a node
    tensors, rows = batches.graph(targets)
    n_sampled = tensors.x.shape[0]
    assert n_sampled <= 3 * (1 + 4 + 4 * 3 + 4 * 3 * 2)
    # Every target's output row holds that target (features are per node).
    features = np.asarray(X.features)
    np.testing.assert_array_equal(tensors.x.numpy()[rows.numpy()], features[targets])
    # GKEDM attends along the sampled edges plus one self-loop per node (GCN keeps its
    # loops apart, as the propagation's diagonal).
    layout = tensors.attention_layout
    assert layout.target.numel() == tensors.propagation.matrix._nnz() + n_sampled
    assert tensors.propagation.diagonal.numel() == n_sampled


def test_predictions_use_the_whole_graph_whatever_the_batch_size(graph):
    X, y = graph
    model = GKEDMClassifier(**FAST).fit(X[:300], y[:300])
    before = model.predict_proba(X)
    # Fitted state alone decides predictions: batch parameters play no part in them.
    model.set_params(batch_size=1, fanouts=1)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_a_mini_batch_fit_never_runs_the_whole_graph_at_once(graph, monkeypatch):
    # transduction_ took a whole-graph forward pass at the end of every mini-batch fit:
    # its memory peak. It now comes layer by layer in batches, as predict does.
    from skgkedm import _node_estimator

    X, y = graph
    whole_graphs = []
    original = _node_estimator.graph_tensors
    monkeypatch.setattr(
        _node_estimator, "graph_tensors", lambda *args: whole_graphs.append(1) or original(*args)
    )
    model = GKEDMClassifier(**HIDDEN_GKEDM, **FAST).fit(X[:300], y[:300])
    assert whole_graphs == []
    everything = GraphNodes(X.adjacency, X.features)
    np.testing.assert_array_equal(model.transduction_, model.predict(everything))
    dist = DistilledGCNClassifier(
        GKEDMClassifier(**HIDDEN_GKEDM, hidden_dims=(32,), max_epochs=5),
        GKEDMClassifier(**HIDDEN_GKEDM, **FAST),
    ).fit(X[:300], y[:300])
    np.testing.assert_array_equal(dist.transduction_, dist.predict(everything))
    assert whole_graphs == [1]  # the full-batch teacher's own fit
    # A multi-hop module would need the whole graph at once: no transduction_ then.
    hops = GKEDMClassifier(**{**HIDDEN_GKEDM, **FAST, "gkedm_hops": 2}).fit(X[:300], y[:300])
    assert not hasattr(hops, "transduction_")


def test_early_stopping_scores_the_same_sampled_validation_batches(graph):
    X, y = graph
    model = GKEDMClassifier(**{**FAST, "max_epochs": 60}, early_stopping=True, n_iter_no_change=5)
    model.fit(X[:300], y[:300])
    assert len(model.validation_scores_) == model.n_iter_ <= 60
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_search_over_batch_parameters_and_repeated_training_nodes(graph):
    X, y = graph
    # A bootstrap sample repeats nodes: each counts as often in the loss.
    rows = np.random.default_rng(0).integers(0, 300, 300)
    model = GKEDMClassifier(**FAST).fit(X[rows], y[rows])
    assert model.score(X[300:], y[300:]) > 0.5
    grid = {"batch_size": [None, 100], "fanouts": [5, [-1, 5, 5]]}
    search = GridSearchCV(GKEDMClassifier(**FAST), grid, cv=2).fit(X[:300], y[:300])
    assert len(search.cv_results_["params"]) == 4


def test_distiller_runs_the_teacher_on_the_student_batches(graph):
    X, y = graph
    teacher = GKEDMClassifier(hidden_dims=(64,), max_epochs=20)
    student = GKEDMClassifier(**FAST)
    dist = DistilledGCNClassifier(teacher, student, random_state=0).fit(X[:300], y[:300])
    assert dist.score(X[300:], y[300:]) > 0.5
    plain = DistilledGCNClassifier(
        teacher, student, attention_weight=0.0, soft_label_weight=0.0, random_state=0
    ).fit(X[:300], y[:300])
    assert plain.student_.loss_curve_ != dist.student_.loss_curve_
    with pytest.raises(ValueError, match="must share the backbone"):
        DistilledGCNClassifier(GKEDMClassifier("sage"), student).fit(X[:300], y[:300])


def record_distillation_batches(monkeypatch):
    """Record, for each distillation step, the batch's node positions and what the loss saw."""
    from skgkedm.nn._distillation_loss import DistillationLoss

    positions, steps = [], []
    original_graph, original_loss = NodeBatches.graph, DistillationLoss.__call__

    def graph(self, targets):
        positions.append(np.asarray(targets))
        return original_graph(self, targets)

    def loss(self, output, batch):
        value = original_loss(self, output, batch)
        teacher = self.teacher_output(batch.graph)
        steps.append((positions[-1], batch, output, teacher, value.item()))
        return value

    monkeypatch.setattr(NodeBatches, "graph", graph)
    monkeypatch.setattr(DistillationLoss, "__call__", loss)
    return steps


def test_a_deeper_teacher_sees_its_whole_neighbourhood_on_the_student_batches(graph, monkeypatch):
    # The batches were sampled for the student's hops: a deeper teacher ran on a
    # truncated neighbourhood and taught from wrong soft labels.
    X, y = graph
    steps = record_distillation_batches(monkeypatch)
    teacher = GKEDMClassifier(hidden_dims=(16, 16, 16), max_epochs=5, random_state=0)
    student = GKEDMClassifier(**{**FAST, "max_epochs": 2, "fanouts": [-1, -1, -1]})
    dist = DistilledGCNClassifier(teacher, student, random_state=0).fit(X[:300], y[:300])
    everything = GraphNodes(X.adjacency, X.features)
    exact = dist.teacher_.predict_log_proba(everything)
    for targets, batch, _, teacher_output, _ in steps:
        sampled = torch.log_softmax(teacher_output.logits[batch.rows].double(), dim=1)
        np.testing.assert_allclose(sampled.numpy(), exact[targets], atol=1e-5)


def test_batch_distillation_terms_average_over_the_batch_targets(graph, monkeypatch):
    # Averaged over every sampled node, the attention term counted outer nodes whose
    # maps are a self-loop alone: its weight shrank as fan-out and batch size grew.
    X, y = graph
    steps = record_distillation_batches(monkeypatch)
    student = GKEDMClassifier(**{**HIDDEN_GKEDM, **FAST, "max_epochs": 1, "fanouts": 3})
    DistilledGCNClassifier(
        GKEDMClassifier(**HIDDEN_GKEDM, hidden_dims=(32,), max_epochs=5), student,
        soft_label_weight=0.0, random_state=0,
    ).fit(X[:300], y[:300])  # fmt: skip
    for _, batch, output, teacher_output, value in steps:
        teacher = teacher_output.attention.mean(dim=1).double().numpy()
        student = output.attention.detach().mean(dim=1).double().numpy()
        # Trimmed, both attend along the edges into the seeds and their first hop: a
        # prefix of the subgraph's attention edges.
        assert len(teacher) == len(student) < batch.graph.attention_layout.target.numel()
        target = batch.graph.attention_layout.target.numpy()[: len(student)]
        seeds = np.unique(batch.rows.numpy())
        per_seed = [
            np.sum(teacher[target == i] * np.log(teacher[target == i] / student[target == i]))
            for i in seeds
        ]
        assert len(seeds) < batch.graph.x.shape[0]
        np.testing.assert_allclose(value, np.mean(per_seed), rtol=1e-4)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"batch_size": 0}, InvalidParameterError, "batch_size"),
        ({"fanouts": 0}, InvalidParameterError, "fanouts"),
        ({"fanouts": [10, 10]}, ValueError, r"one int per hop .* \(3 for this network"),
        ({"fanouts": [10, 0, 10]}, ValueError, r"an int >= 1, or -1 .* got 0"),
        ({"fanouts": [10, 2.5, 10]}, ValueError, r"an int >= 1, or -1 .* got 2.5"),
    ],
)
def test_bad_batch_parameters_get_a_clear_error(graph, params, error, message):
    X, y = graph
    with pytest.raises(error, match=message):
        GKEDMClassifier(**{**FAST, **params}).fit(X[:100], y[:100])


def test_fanouts_minus_one_takes_every_neighbour_at_every_hop(graph):
    # The docstring promised -1 for all neighbours, but the int -1 was refused.
    X, y = graph
    every = GKEDMClassifier(**{**FAST, "max_epochs": 3, "fanouts": -1}).fit(X[:100], y[:100])
    listed = GKEDMClassifier(**{**FAST, "max_epochs": 3, "fanouts": [-1] * 3})
    assert every.loss_curve_ == listed.fit(X[:100], y[:100]).loss_curve_
    assert check_fanouts(-1, 2) == check_fanouts(np.array([-1, -1]), 2) == (-1, -1)
    with pytest.raises(ValueError, match="sequence of int"):
        check_fanouts(5)


def test_fanouts_count_every_message_passing_step():
    assert check_fanouts(None, 4) == (10,) * 4
    every = GKEDMClassifier(**HIDDEN_GKEDM, hidden_dims=(16, 16), gkedm_layers="every")
    spec = every._network_spec(8, 3)
    assert spec.message_hops == 5  # 2 hidden layers, 2 GKEDM modules, the output layer
    plain = GKEDMClassifier(**HIDDEN_GKEDM, hidden_dims=(16, 16), gkedm=False)._network_spec(8, 3)
    assert plain.message_hops == 3


def test_meta_estimators_and_process_workers_take_a_mini_batch_model(graph):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import cross_val_score

    X, y = graph
    calibrated = CalibratedClassifierCV(GKEDMClassifier(**FAST), cv=2).fit(X[:300], y[:300])
    assert calibrated.predict_proba(X[300:]).shape == (300, 3)
    serial = cross_val_score(GKEDMClassifier(**FAST), X[:300], y[:300], cv=3)
    in_processes = cross_val_score(GKEDMClassifier(**FAST), X[:300], y[:300], cv=3, n_jobs=2)
    np.testing.assert_array_equal(serial, in_processes)


TRIMMED_NETWORKS = [
    {"gkedm": False},
    {"gkedm_scoring": "dot", "gkedm_update": "gated"},
    {"gkedm_scoring": "cosine", "gkedm_values": "projected"},
    {"hidden_dims": (16, 8), "gkedm_layers": "every", "gkedm_scoring": "additive"},
    {"gkedm_hops": 2},
]


@pytest.mark.parametrize("backbone", ["gcn", "sage", "gat", "gin", "mlp"])
@pytest.mark.parametrize("options", TRIMMED_NETWORKS)
def test_trimmed_batches_give_the_untrimmed_outputs_and_gradients(graph, backbone, options):
    from skgkedm.nn._network import GKEDMNetwork

    if backbone == "mlp" and not options.get("gkedm", True):
        pytest.skip("a plain MLP reads no graph: it is never sampled")
    X, _ = graph
    # Without dropout: trimmed layers draw masks for fewer rows.
    params = {**HIDDEN_GKEDM, "hidden_dims": (16,), "gat_heads": 2, "dropout": 0.0}
    params.update(gkedm_dropout=0.0, backbone=backbone, **options)
    spec = GKEDMClassifier(**params)._network_spec(X.n_features, 3)
    # Small enough that the last hop still reaches new nodes.
    fanouts = check_fanouts(2 if spec.message_hops > 3 else 4, spec.message_hops)
    batches = NodeBatches(X, True, spec, torch.device("cpu"), fanouts, seed=0)
    targets = np.arange(0, 600, 9 if spec.message_hops <= 3 else 30)
    trimmed, rows = batches.graph(targets)
    assert trimmed.hops is not None
    torch.manual_seed(0)
    network = GKEDMNetwork(spec)
    results = {}
    for name, tensors in (("trimmed", trimmed), ("whole", trimmed._replace(hops=None))):
        rows_out = []

        def record(module, inputs, output, rows_out=rows_out):
            rows_out.append(output.shape[0])

        hooks = [conv.register_forward_hook(record) for conv in network.convs]
        network.zero_grad()
        network.train()
        output = network(tensors, generator=torch.Generator().manual_seed(0))
        output.logits[rows].square().sum().backward()
        for hook in hooks:
            hook.remove()
        grads = {
            key: p.grad.clone() for key, p in network.named_parameters() if p.grad is not None
        }
        results[name] = (output.logits[rows].detach(), grads, rows_out)
    (trimmed_logits, trimmed_grads, trimmed_rows), (logits, grads, whole_rows) = results.values()
    np.testing.assert_allclose(trimmed_logits.numpy(), logits.numpy(), rtol=1e-5, atol=1e-5)
    assert trimmed_grads.keys() == grads.keys()
    for key, value in grads.items():
        np.testing.assert_allclose(trimmed_grads[key].numpy(), value.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=key)  # fmt: skip
    n_sampled, n_seeds = trimmed.x.shape[0], len(np.unique(targets))
    assert whole_rows == [n_sampled] * len(network.convs)
    # Trimmed, each layer computes fewer rows, down to the seeds alone; a multi-hop
    # GKEDM module needs every node, so only the output layer after it is trimmed.
    assert trimmed_rows[-1] == n_seeds
    if options.get("gkedm_hops", 1) == 1:
        assert trimmed_rows == sorted(trimmed_rows, reverse=True)
        assert trimmed_rows[0] < n_sampled
    else:
        assert trimmed_rows[:-1] == [n_sampled] * (len(network.convs) - 1)


def test_trimming_leaves_the_fitted_model_as_it_was_without_dropout(cora, monkeypatch):
    # Dropout draws masks for the rows a layer computes: trimmed, for fewer of them.
    params = {**HIDDEN_GKEDM, "batch_size": 70, "max_epochs": 4, "dropout": 0.0,
              "gkedm_dropout": 0.0, "hidden_dims": (16,), "random_state": 0}  # fmt: skip
    train, test = cora.train_index, cora.test_index
    trimmed = GKEDMClassifier(**params).fit(cora.X[train], cora.y[train])
    monkeypatch.setattr(NodeBatches, "trim", False)
    whole = GKEDMClassifier(**params).fit(cora.X[train], cora.y[train])
    np.testing.assert_allclose(trimmed.loss_curve_, whole.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(
        trimmed.predict_proba(cora.X[test]), whole.predict_proba(cora.X[test]), atol=1e-4
    )


@pytest.mark.parametrize(
    "params",
    [
        {"backbone": "gcn"},
        {"backbone": "sage", "gkedm_scoring": "dot", "gkedm_update": "gated"},
        {"backbone": "gat", "gat_heads": 2, "hidden_dims": (8, 8), "gkedm_layers": "every"},
        {"backbone": "gin", "gkedm": False},
        {"backbone": "mlp", "gkedm_scoring": "additive", "gkedm_values": "projected"},
    ],
)
def test_a_mini_batch_model_predicts_in_batches_what_the_whole_graph_gives(graph, params):
    import copy

    X, y = graph
    params = {**HIDDEN_GKEDM, **FAST, "max_epochs": 3, **params}
    model = GKEDMClassifier(**params).fit(X[:300], y[:300])
    whole = copy.deepcopy(model)
    whole._prediction_batch_size = None  # as after a full-batch fit: one whole-graph pass
    # Rows in any order, one repeated (a bootstrap), batches that split the graph.
    rows = np.r_[599, np.arange(0, 600, 3), 5]
    np.testing.assert_allclose(
        model.predict_proba(X[rows]), whole.predict_proba(X[rows]), rtol=1e-5, atol=1e-6
    )
    regressor = GKEDMRegressor(**{**params, "max_epochs": 2}).fit(X[:300], y[:300])
    whole = copy.deepcopy(regressor)
    whole._prediction_batch_size = None
    np.testing.assert_allclose(regressor.predict(X), whole.predict(X), rtol=1e-5, atol=1e-5)


def test_batched_predictions_never_build_the_whole_graph_tensors(cora, monkeypatch):
    from skgkedm import _node_estimator
    from skgkedm.loader import _layerwise

    train, test = cora.train_index, cora.test_index
    model = GKEDMClassifier(**HIDDEN_GKEDM, batch_size=64, max_epochs=5, hidden_dims=(16,))
    model.fit(cora.X[train], cora.y[train])
    sizes = []
    original = _layerwise._step

    def step(network, kind, module, neighbourhoods, batch, *args):
        sizes.append(batch.numel())
        return original(network, kind, module, neighbourhoods, batch, *args)

    monkeypatch.setattr(_layerwise, "_step", step)
    monkeypatch.setattr(_node_estimator, "graph_tensors", None)  # the whole-graph pass
    proba = model.predict_proba(cora.X[test])  # sparse bag-of-words features
    # Three steps (layer, GKEDM, output layer): two over every node, one over the test
    # nodes, each in batches of 64.
    n_nodes = cora.X.adjacency.shape[0]
    assert sum(sizes) == 2 * n_nodes + len(test) and max(sizes) == 64
    monkeypatch.undo()
    model._prediction_batch_size = None
    np.testing.assert_allclose(proba, model.predict_proba(cora.X[test]), rtol=1e-5, atol=1e-6)
