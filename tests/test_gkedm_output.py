"""GKEDM on the class scores (``gkedm_position="output"``), symmetric normalisation and
the consistency loss (``consistency``)."""

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch_geometric.nn import APPNP

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm.datasets import make_node_classification
from skgkedm.loader._graph_tensors import graph_tensors
from skgkedm.nn import GKEDM
from skgkedm.nn._gkedm import ppr_hop_weights
from skgkedm.utils._training import CLASSIFICATION, consistency_loss


def karate():
    """Zachary's karate club: (edge_index both ways, without self-loops, n_nodes)."""
    graph = nx.karate_club_graph()
    edges = np.array(graph.edges()).T
    edge_index = torch.tensor(np.hstack([edges, edges[::-1]]), dtype=torch.long)
    return edge_index, graph.number_of_nodes()


@pytest.mark.parametrize(("hops", "alpha"), [(10, 0.1), (3, 0.5)])
def test_symmetric_uniform_ppr_is_pyg_appnp(hops, alpha):
    # PyG's APPNP with its own normalisation (self-loops, D^-1/2 (A + I) D^-1/2).
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 5, dtype=torch.float64)
    module = GKEDM(5, heads=1, scoring="uniform", update="replace", hops=hops, alpha=alpha,
                   normalization="symmetric").double()  # fmt: skip
    expected = APPNP(K=hops, alpha=alpha)(h, edge_index)
    torch.testing.assert_close(module(h, edge_index).h, expected)


def test_symmetric_attention_step_is_the_similar_matrix():
    # One cosine-attention step: D^1/2 P D^-1/2 with P the module's own (row-stochastic)
    # attention matrix and D the in-degrees, self-loops included, built densely here.
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 4, dtype=torch.float64)
    module = GKEDM(4, heads=1, scoring="cosine", update="replace", normalization="symmetric")
    out = module.double()(h, edge_index)
    source, target = out.edge_index
    step = torch.zeros(n_nodes, n_nodes, dtype=torch.float64)
    step[target, source] = out.attention[:, 0]
    torch.testing.assert_close(step.sum(dim=1), torch.ones(n_nodes, dtype=torch.float64))
    degree = torch.bincount(target, minlength=n_nodes).double()
    similar = degree.sqrt()[:, None] * step / degree.sqrt()[None, :]
    torch.testing.assert_close(out.h, similar @ h)
    # Same eigenvalues as the attention matrix: its powers stay bounded.
    eigenvalues = torch.linalg.eigvals(similar).abs().max()
    torch.testing.assert_close(eigenvalues, torch.linalg.eigvals(step).abs().max())


def test_normalization_is_checked():
    with pytest.raises(ValueError, match="normalization must be one of"):
        GKEDM(4, normalization="gcn")
    X, y = make_node_classification(40, random_state=0)
    with pytest.raises(ValueError, match="gkedm_normalization"):
        GKEDMClassifier(gkedm_normalization="gcn").fit(X, y)
    with pytest.raises(ValueError, match="gkedm_position"):
        GKEDMClassifier(gkedm_position="input").fit(X, y)
    with pytest.raises(ValueError, match="consistency"):
        GKEDMClassifier(consistency=-1.0).fit(X, y)


APPNP_LIKE = {
    "backbone": "mlp",
    "gkedm_position": "output",
    "gkedm_hops": 10,
    "gkedm_scoring": "uniform",
    "gkedm_normalization": "symmetric",
    "hidden_dims": (16,),
    "max_epochs": 5,
    "random_state": 0,
}


def test_output_position_at_its_ppr_start_is_appnp_on_the_mlp_scores():
    X, y = make_node_classification(120, n_classes=4, random_state=0)
    model = GKEDMClassifier(**APPNP_LIKE, schedule="joint").fit(X[:80], y[:80])
    network = model._fitted_network("cpu")
    assert network.gkedm.channels == 4 and network.gkedm.heads == 1
    with torch.no_grad():
        network.gkedm.hop_weights.copy_(ppr_hop_weights(10, 0.1))
        graph = graph_tensors(X, True, model._architecture, torch.device("cpu"))
        scores = network(graph, use_gkedm=False).logits  # the MLP's class scores
        adjacency = X.adjacency.tocoo()
        edge_index = torch.tensor(np.vstack([adjacency.row, adjacency.col]), dtype=torch.long)
        expected = APPNP(K=10, alpha=0.1)(scores, edge_index)
        torch.testing.assert_close(network(graph).logits, expected, rtol=1e-5, atol=1e-5)


def test_output_position_has_one_head_and_one_module():
    X, y = make_node_classification(120, n_classes=3, random_state=0)
    model = GKEDMClassifier(**{**APPNP_LIKE, "gkedm_normalization": "mean"}).fit(X[:80], y[:80])
    attention = model.attention_weights(X[:5])
    assert attention.weights.shape[1] == 1
    np.testing.assert_allclose(
        np.bincount(attention.target, weights=attention.weights[:, 0])[:5], 1.0, rtol=1e-6
    )
    with pytest.raises(ValueError, match="gkedm_layers='every'"):
        GKEDMClassifier(**APPNP_LIKE, gkedm_layers="every").fit(X[:80], y[:80])
    # Every hidden-width rule is off: the module is as wide as the classes.
    GKEDMClassifier(**APPNP_LIKE, gkedm_heads=5).fit(X[:80], y[:80])


def test_consistency_loss_is_zero_only_for_sharp_agreeing_views():
    sharp = torch.tensor([[30.0, 0.0, 0.0], [0.0, 30.0, 0.0]])
    assert float(consistency_loss(sharp, sharp, CLASSIFICATION)) < 1e-12
    # Uniform views stay uniform when sharpened: nothing to pull towards.
    uniform = torch.zeros(2, 3)
    assert float(consistency_loss(uniform, uniform + 0.1, CLASSIFICATION)) < 1e-12
    soft = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.0]], requires_grad=True)
    loss = consistency_loss(soft, soft.detach(), CLASSIFICATION)
    loss.backward()
    assert loss > 0 and soft.grad.abs().sum() > 0
    # The gradient sharpens: it raises the largest score of each row.
    assert soft.grad[0, 0] < 0 and soft.grad[1, 1] < 0


def test_consistency_barrier_acts_only_on_a_collapsing_class():
    shares = torch.full((3,), 1 / 3)
    # Every node in class 0 (probability 0.987): classes 1 and 2 collapsed.
    collapsed = torch.tensor([[5.0, 0.0, 0.0]] * 4, requires_grad=True)
    without = consistency_loss(collapsed, collapsed, CLASSIFICATION)
    loss = consistency_loss(collapsed, collapsed.detach(), CLASSIFICATION, shares)
    loss.backward()
    # Two classes at 0.7 % of the predictions, far below a quarter of their label share.
    assert float(loss - without) > 2 * np.log(1 / 12 / 0.007) - 0.1
    assert (collapsed.grad[:, 1:] < 0).all()  # the barrier raises the collapsed classes
    # Classes predicted in their label shares: the barrier adds exactly nothing.
    spread = torch.tensor([[30.0, 0.0, 0.0], [0.0, 30.0, 0.0], [0.0, 0.0, 30.0]])
    soft = spread / 40
    for first, second in ((spread, spread), (soft, soft + 0.2)):
        assert torch.equal(
            consistency_loss(first, second, CLASSIFICATION, shares),
            consistency_loss(first, second, CLASSIFICATION),
        )


def test_default_does_not_collapse_with_five_labels_per_class(monkeypatch):
    # CiteSeer with 5 labelled nodes per class: the sharpened consistency loss alone
    # pulled nearly every test node into one class (0.27 accuracy, plain GCN 0.55).
    from skgkedm.datasets import fetch_planetoid
    from skgkedm.utils import _training

    data = fetch_planetoid("citeseer")
    X, y, public = data.X, data.y, data.train_index
    train = np.concatenate([public[y[public] == c][:5] for c in range(6)])

    def smallest_class_share():
        predicted = GKEDMClassifier(random_state=0).fit(X[train], y[train])
        counts = np.bincount(predicted.predict(X[data.test_index]), minlength=6)
        return counts.min() / counts.sum()

    assert smallest_class_share() > 0.05  # the test set's smallest class: 0.08
    monkeypatch.setattr(_training, "COLLAPSE_FLOOR", 0.0)  # the barrier off
    assert smallest_class_share() < 0.02


def test_consistency_uses_the_unlabelled_nodes():
    # Few labels: the consistency loss makes the predictions on unlabelled nodes more
    # confident than cross-entropy alone does.
    # Over 5 seeds: at 40 epochs one seed in five goes the other way (so it did
    # before the views shared a pass, with other seeds).
    X, y = make_node_classification(300, n_classes=3, homophily=0.9, random_state=0)

    def entropy(model):
        proba = model.predict_proba(X[30:])
        return float(-(proba * np.log(proba + 1e-12)).sum(axis=1).mean())

    entropies, first = {0.0: [], 1.0: []}, {}
    for seed in range(5):
        params = {**APPNP_LIKE, "max_epochs": 40, "schedule": "joint", "random_state": seed}
        for weight, values in entropies.items():
            model = GKEDMClassifier(**params, consistency=weight).fit(X[:30], y[:30])
            values.append(entropy(model))
            first.setdefault(weight, model)
    assert np.mean(entropies[1.0]) < np.mean(entropies[0.0])
    plain, consistent = first[0.0], first[1.0]
    # Same seed, same model; the loss curve counts the consistency term.
    again = clone(consistent).fit(X[:30], y[:30])
    for name, weights in consistent._weights.items():
        np.testing.assert_array_equal(weights, again._weights[name])
    assert consistent.loss_curve_ != plain.loss_curve_


def test_consistency_never_trains_a_network_without_the_module():
    # gkedm=False learns from the labels alone, whatever consistency says.
    X, y = make_node_classification(120, n_classes=3, random_state=0)
    quick = {"hidden_dims": (8,), "max_epochs": 5, "random_state": 0, "gkedm": False}
    with_loss = GKEDMClassifier(**quick, consistency=1.0).fit(X[:80], y[:80])
    without = GKEDMClassifier(**quick, consistency=0.0).fit(X[:80], y[:80])
    assert with_loss.loss_curve_ == without.loss_curve_


def test_consistency_for_label_indicators_and_regression():
    X, y = make_node_classification(120, n_classes=3, random_state=0)
    quick = {"hidden_dims": (8,), "max_epochs": 5, "random_state": 0, "consistency": 1.0}
    indicator = np.eye(3, dtype=int)[y]
    indicator[:, 0] |= y == 2
    multilabel = GKEDMClassifier(**quick).fit(X[:80], indicator[:80])
    assert multilabel.predict(X[80:]).shape == (40, 3)
    regressor = GKEDMRegressor(**quick).fit(X[:80], y[:80].astype(float))
    assert np.isfinite(regressor.loss_curve_).all()
