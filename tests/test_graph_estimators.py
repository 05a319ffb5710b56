"""GKEDMGraphClassifier and GKEDMGraphRegressor: graphs as samples."""

import pickle

import joblib
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split

from skgkedm import GKEDMGraphClassifier, GKEDMGraphRegressor, GraphList

FAST = {"hidden_dims": (16, 16), "max_epochs": 20, "random_state": 0}


def labelled_shapes(n_per_class=20, seed=0):
    """Rings (class 1) and trees (class 0) of 6 to 20 nodes, node features: degree one-hot.

    Rings and trees differ in structure only (every ring node has degree 2; trees have
    leaves), which message passing sees and a bag of nodes of the same degrees would
    need to count.
    """
    rng = np.random.default_rng(seed)
    graphs, labels = [], []
    for label in (0, 1):
        for _ in range(n_per_class):
            n = int(rng.integers(6, 21))
            if label:
                graph = nx.cycle_graph(n)
            else:
                graph = nx.from_prufer_sequence(rng.integers(0, n, n - 2).tolist())
            for node in graph:
                graph.nodes[node]["x"] = np.eye(6)[min(graph.degree[node], 5)]
            graphs.append(graph)
            labels.append(label)
    order = rng.permutation(len(graphs))
    return [graphs[i] for i in order], np.array(labels)[order]


@pytest.fixture(scope="module")
def shapes():
    graphs, y = labelled_shapes()
    return GraphList.from_networkx(graphs), y, graphs


def test_classifier_learns_structure_and_predicts_new_graphs(shapes):
    X, y, _ = shapes
    clf = GKEDMGraphClassifier(**{**FAST, "max_epochs": 40}).fit(X, y)
    new_graphs, new_y = labelled_shapes(n_per_class=10, seed=1)
    assert clf.score(new_graphs, new_y) >= 0.9
    proba = clf.predict_proba(new_graphs)
    assert proba.shape == (20, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(new_graphs)), proba, atol=1e-6)


def test_prediction_of_a_graph_does_not_depend_on_its_batch(shapes):
    X, y, graphs = shapes
    clf = GKEDMGraphClassifier(**FAST).fit(X, y)
    together = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X[[i]]) for i in range(0, len(X), 7)])
    np.testing.assert_allclose(alone, together[::7], atol=1e-6)
    reversed_order = clf.predict_proba(X[::-1])
    np.testing.assert_allclose(reversed_order[::-1], together, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(graphs), together, atol=1e-6)


@pytest.mark.parametrize("backbone", ["gcn", "sage", "gat", "gin"])
@pytest.mark.parametrize("readout", ["mean", "sum", "max"])
def test_every_backbone_and_readout_trains(shapes, backbone, readout):
    X, y, _ = shapes
    clf = GKEDMGraphClassifier(
        backbone, hidden_dims=(16, 16), readout=readout, max_epochs=4, random_state=0
    ).fit(X, y)
    assert clf.predict(X).shape == (len(X),)
    assert np.isfinite(clf.loss_curve_).all()


def test_same_random_state_same_model_and_batches_drawn_per_fit(shapes):
    X, y, _ = shapes
    a = GKEDMGraphClassifier(**FAST, batch_size=8).fit(X, y)
    b = GKEDMGraphClassifier(**FAST, batch_size=8).fit(X, y)
    c = GKEDMGraphClassifier(**{**FAST, "random_state": 1}, batch_size=8).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    for key, value in a._weights.items():
        np.testing.assert_array_equal(value, b._weights[key])
    assert a.loss_curve_ != c.loss_curve_


def test_regressor_fits_a_structural_target_and_keeps_the_target_scale():
    graphs = [nx.path_graph(n) for n in range(2, 40)] + [nx.star_graph(n) for n in range(2, 40)]
    sizes = np.array([1000.0 + 10 * len(g) for g in graphs])
    reg = GKEDMGraphRegressor(**{**FAST, "max_epochs": 60}, batch_size=16).fit(graphs, sizes)
    assert reg.score(graphs, sizes) > 0.9
    predicted = reg.predict([nx.path_graph(20)])
    assert predicted.shape == (1,)
    assert abs(predicted[0] - 1200.0) < 40


def test_regressor_predicts_every_output_of_a_two_column_target():
    graphs = [nx.path_graph(n) for n in range(2, 40)]
    y = np.column_stack([[len(g) for g in graphs], [-g.number_of_edges() for g in graphs]])
    reg = GKEDMGraphRegressor(**{**FAST, "max_epochs": 60}, batch_size=16).fit(graphs, y)
    assert reg.n_outputs_ == 2
    assert reg.predict(graphs).shape == (len(graphs), 2)
    assert reg.score(graphs, y) > 0.8


def test_feature_rows_are_graphs_of_one_node():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = GKEDMGraphClassifier(**{**FAST, "max_epochs": 60}).fit(X[:80], y[:80])
    assert clf.score(X[80:], y[80:]) >= 0.85
    sparse = GKEDMGraphClassifier(**FAST).fit(sp.csr_array(X[:80]), y[:80])
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_array(X[80:])),
        GKEDMGraphClassifier(**FAST).fit(X[:80], y[:80]).predict_proba(X[80:]),
        atol=1e-5,
    )
    with pytest.raises(TypeError, match="fitted on graph input"):
        GKEDMGraphClassifier(**FAST).fit([nx.path_graph(3)] * 4, [0, 1, 0, 1]).predict(X)


def test_scikit_learn_splits_and_searches_a_graph_list(shapes):
    X, y, graphs = shapes
    train, test = train_test_split(np.arange(len(X)), random_state=0, stratify=y)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0, stratify=y)
    assert isinstance(X_train, GraphList) and list(X_train.indices) == list(train)
    assert list(X_test.indices) == list(test)
    np.testing.assert_array_equal(y_train, y[train])
    scores = cross_val_score(GKEDMGraphClassifier(**FAST), graphs, y, cv=3)
    assert scores.shape == (3,) and np.all(scores >= 0.5)
    grid = {"readout": ["mean", "sum"]}
    serial = GridSearchCV(GKEDMGraphClassifier(**FAST), grid, cv=KFold(2)).fit(X, y)
    parallel = GridSearchCV(GKEDMGraphClassifier(**FAST), grid, cv=KFold(2), n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(serial.predict_proba(X_test), parallel.predict_proba(X_test))


def test_round_trips_predict_the_same(shapes, tmp_path):
    skops_io = pytest.importorskip("skops.io")
    X, y, _ = shapes
    reg_y = np.array([g.number_of_nodes() for g in shapes[2]], dtype=float)
    for model, target in ((GKEDMGraphClassifier(**FAST), y), (GKEDMGraphRegressor(**FAST), reg_y)):
        model.fit(X, target)
        expected = model.predict(X)
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
        joblib.dump(model, tmp_path / "model.joblib")
        np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)
        skops_io.dump(model, tmp_path / "model.skops")
        trusted = skops_io.get_untrusted_types(file=tmp_path / "model.skops")
        loaded = skops_io.load(tmp_path / "model.skops", trusted=trusted)
        np.testing.assert_array_equal(loaded.predict(X), expected)


def test_set_params_directed_after_fit_does_not_change_predictions(shapes):
    # Predictions read the fitted flag, not the ``directed`` parameter.
    _, y, graphs = shapes
    directed = [nx.DiGraph(nx.bfs_tree(graph, 0)) for graph in graphs]
    for graph, original in zip(directed, graphs, strict=True):
        graph.add_nodes_from(original.nodes(data=True))
    for model in (GKEDMGraphClassifier(**FAST), GKEDMGraphRegressor(**FAST)):
        model.set_params(directed=True).fit(directed, y)
        expected = model.predict(directed)
        model.set_params(directed=False)
        np.testing.assert_array_equal(model.predict(directed), expected)
        model.set_params(directed=True)


def test_early_stopping_holds_out_graphs_and_restores_the_best(shapes):
    X, y, _ = shapes
    clf = GKEDMGraphClassifier(
        **{**FAST, "max_epochs": 200}, early_stopping=True, n_iter_no_change=5
    ).fit(X, y)
    assert clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_convergence_warning_points_at_the_users_call(shapes):
    X, y, _ = shapes
    clf = GKEDMGraphClassifier(**{**FAST, "max_epochs": 3}, early_stopping=True)
    with pytest.warns(ConvergenceWarning, match="max_epochs") as caught:
        clf.fit(X, y)
    assert [w.filename for w in caught if w.category is ConvergenceWarning] == [__file__]


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        ([], [], ValueError, "empty"),
        ([nx.Graph(), nx.path_graph(2)], [0, 1], ValueError, "Graph 0 has no nodes"),
        ([nx.path_graph(3), "graph"], [0, 1], TypeError, "mixes networkx graphs"),
        ([nx.path_graph(3), nx.path_graph(2)], [0, 1, 1], ValueError, "y has 3 entries"),
    ],
)
def test_hostile_input_gets_a_clear_error(X, y, error, message):
    with pytest.raises(error, match=message):
        GKEDMGraphClassifier(**FAST).fit(X, y)


def test_graphs_whose_features_differ_are_refused():
    a, b = nx.path_graph(3), nx.path_graph(3)
    nx.set_node_attributes(a, {n: [1.0, 0.0] for n in a}, "x")
    nx.set_node_attributes(b, {n: [1.0, 0.0, 0.0] for n in b}, "x")
    with pytest.raises(ValueError, match="Graph 0 has 2 features per node but graph 1 has 3"):
        GKEDMGraphClassifier(**FAST).fit([a, b], [0, 1])
    del b.nodes[1]["x"]
    nx.set_node_attributes(b, {0: [1.0, 0.0], 2: [0.0, 1.0]}, "x")
    with pytest.raises(ValueError, match=r"Graph 1: Node attribute 'x' is missing on 1 of 3"):
        GKEDMGraphClassifier(**FAST).fit([a, b], [0, 1])
    c = nx.path_graph(3)
    with pytest.raises(ValueError, match="missing on every node of graph 1 but present"):
        GKEDMGraphClassifier(**FAST).fit([a, c], [0, 1])


def test_nan_targets_and_wrong_target_shapes_are_refused(shapes):
    X, _, _ = shapes
    y = np.arange(len(X), dtype=float)
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GKEDMGraphRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="one class only"):
        GKEDMGraphClassifier(**FAST).fit(X, np.zeros(len(X)))


def test_inputs_are_not_modified(shapes):
    _, y, graphs = shapes
    before = [nx.to_dict_of_dicts(g) for g in graphs[:10]]
    features = [dict(g.nodes(data="x")) for g in graphs[:10]]
    y_copy = y[:10].copy()
    GKEDMGraphClassifier(**FAST).fit(graphs[:10], y[:10])
    assert [nx.to_dict_of_dicts(g) for g in graphs[:10]] == before
    assert [dict(g.nodes(data="x")) for g in graphs[:10]] == features
    np.testing.assert_array_equal(y[:10], y_copy)


def test_graph_list_selects_graphs_and_stacks_them_block_diagonally():
    graphs = [nx.path_graph(2), nx.cycle_graph(4), nx.star_graph(3)]
    X = GraphList.from_networkx(graphs)
    subset = X[[2, 0]]
    assert len(subset) == 2 and subset.shape == (2,)
    np.testing.assert_array_equal(subset.n_nodes, [4, 2])
    np.testing.assert_array_equal(subset.n_edges, [6, 2])
    adjacency, features, offsets = subset.stacked()
    np.testing.assert_array_equal(offsets, [0, 4, 6])
    expected = sp.block_diag(
        [nx.to_scipy_sparse_array(graphs[2]), nx.to_scipy_sparse_array(graphs[0])]
    ).toarray()
    np.testing.assert_array_equal(adjacency.toarray(), expected)
    assert features.shape == (6, 3)
    with pytest.raises(TypeError, match="cannot become a NumPy array"):
        np.asarray(X)
    reloaded = pickle.loads(pickle.dumps(subset))
    np.testing.assert_array_equal(reloaded.stacked()[0].toarray(), expected)
    assert not reloaded.indices.flags.writeable


def test_clone_keeps_parameters():
    clf = GKEDMGraphClassifier(readout="max", batch_size=5)
    assert clone(clf).get_params() == clf.get_params()


def test_distiller_takes_graph_level_teacher_and_student(shapes):
    from skgkedm import DistilledGCNClassifier

    X, y, graphs = shapes
    teacher = GKEDMGraphClassifier(hidden_dims=(32, 32), max_epochs=20, random_state=0)
    student = GKEDMGraphClassifier(hidden_dims=(4, 4), max_epochs=20)
    dist = DistilledGCNClassifier(teacher, student, random_state=0).fit(X, y)
    assert isinstance(dist.student_, GKEDMGraphClassifier)
    assert dist.compression_ratio_ > 5
    np.testing.assert_array_equal(dist.predict_proba(graphs), dist.student_.predict_proba(X))
    assert dist.score(X, y) == dist.student_.score(X, y)
    assert dist.teacher_agreement_ is None  # graphs as samples: no training graph's nodes
    # Same seed without distillation: the backbone phase (15 of 20 epochs) is the same,
    # the GKEDM phase, where the distillation terms enter the loss, is not.
    plain = DistilledGCNClassifier(
        teacher, student, attention_weight=0.0, soft_label_weight=0.0, random_state=0
    ).fit(X, y)
    assert plain.student_.loss_curve_[:15] == dist.student_.loss_curve_[:15]
    assert plain.student_.loss_curve_[15:] != dist.student_.loss_curve_[15:]


def test_graph_level_distillation_refuses_mismatched_members(shapes):
    from skgkedm import DistilledGCNClassifier, GKEDMClassifier

    X, y, _ = shapes
    with pytest.raises(ValueError, match="must share the backbone"):
        DistilledGCNClassifier(GKEDMGraphClassifier("gcn"), GKEDMGraphClassifier("gin")).fit(X, y)
    with pytest.raises(TypeError, match="teacher must be a GKEDMGraphClassifier"):
        DistilledGCNClassifier(GKEDMClassifier(), GKEDMGraphClassifier()).fit(X, y)


def test_fits_running_at_once_in_threads_give_the_serial_model(shapes):
    from concurrent.futures import ThreadPoolExecutor

    X, y, _ = shapes
    serial = GKEDMGraphClassifier(**FAST, batch_size=8).fit(X, y)
    with ThreadPoolExecutor(2) as pool:
        fitted = list(
            pool.map(lambda _: GKEDMGraphClassifier(**FAST, batch_size=8).fit(X, y), range(2))
        )
    for model in fitted:
        for key, value in serial._weights.items():
            np.testing.assert_array_equal(model._weights[key], value)


def test_scikit_learn_meta_estimators_take_a_graph_list(shapes):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import BaggingClassifier, StackingClassifier
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import HalvingGridSearchCV, learning_curve

    X, y, _ = shapes
    calibrated = CalibratedClassifierCV(GKEDMGraphClassifier(**FAST), cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (len(X), 2)
    stacked = StackingClassifier(
        [("gnn", GKEDMGraphClassifier(**FAST))], LogisticRegression(), cv=2
    ).fit(X, y)
    assert stacked.score(X, y) >= 0.8
    halving = HalvingGridSearchCV(
        GKEDMGraphClassifier(**FAST), {"readout": ["sum", "mean"]}, cv=2, min_resources=20
    ).fit(X, y)
    assert halving.best_params_["readout"] in ("sum", "mean")
    _, train_scores, _ = learning_curve(
        GKEDMGraphClassifier(**FAST), X, y, cv=2, train_sizes=[0.5, 1.0]
    )
    assert np.isfinite(train_scores).all()
    # Bagging turns X into an array, which would lose the graphs: refused at once.
    with pytest.raises(TypeError, match="GraphList cannot become a NumPy array"):
        BaggingClassifier(GKEDMGraphClassifier(**FAST), n_estimators=2).fit(X, y)


@pytest.mark.parametrize("mean", [False, True])
def test_sum_and_mean_readouts_pool_as_pyg_with_their_gradients(mean):
    import torch
    from torch_geometric.nn import global_add_pool, global_mean_pool

    from skgkedm.nn._network import pooling_matrix
    from skgkedm.nn._sparse_product import sparse_product

    # Four graphs of 3, 1, 0 and 5 nodes (an empty graph pools to zeros), nodes grouped.
    graph_index = torch.tensor([0, 0, 0, 1, 3, 3, 3, 3, 3])
    generator = torch.Generator().manual_seed(0)
    h = torch.randn(9, 6, generator=generator, dtype=torch.float32, requires_grad=True)
    upstream = torch.randn(4, 6, generator=generator)
    pooled = sparse_product(pooling_matrix(graph_index, 4, mean), h)
    (pooled * upstream).sum().backward()
    ours = h.grad.clone()
    h.grad = None
    reference = (global_mean_pool if mean else global_add_pool)(h, graph_index, size=4)
    (reference * upstream).sum().backward()
    torch.testing.assert_close(pooled, reference)
    torch.testing.assert_close(ours, h.grad)
