"""Multi-hop GKEDM (``hops``) and the estimator's check against its plain backbone."""

from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch_geometric.nn import APPNP

from skgkedm import GKEDMClassifier
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.datasets import make_node_classification
from skgkedm.nn import GKEDM, EdgeLayout


def karate():
    """Zachary's karate club: (edge_index both ways, without self-loops, n_nodes)."""
    graph = nx.karate_club_graph()
    edges = np.array(graph.edges()).T
    edge_index = torch.tensor(np.hstack([edges, edges[::-1]]), dtype=torch.long)
    return edge_index, graph.number_of_nodes()


def mean_propagation(edge_index, n_nodes):
    """D^-1 (A + I) as a dense matrix, built with networkx: row i averages i's neighbours."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n_nodes))
    graph.add_edges_from(edge_index.t().tolist())
    adjacency = nx.to_numpy_array(graph, nodelist=range(n_nodes)) + np.eye(n_nodes)
    return torch.tensor(adjacency / adjacency.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("scoring", ["cosine", "dot", "uniform"])
def test_multi_hop_module_shapes_and_gradients(scoring):
    edge_index, n_nodes = karate()
    module = GKEDM(8, heads=2, scoring=scoring, update="replace", hops=4)
    h = torch.randn(n_nodes, 8, requires_grad=True)
    out = module(h, edge_index)
    assert out.h.shape == (n_nodes, 8)
    assert out.attention.shape == (edge_index.size(1) + n_nodes, 2)
    assert module.hop_weights.shape == (5,)
    out.h.square().sum().backward()
    assert h.grad is not None and torch.isfinite(h.grad).all() and h.grad.abs().sum() > 0
    # Every hop's weight is learned: each gets a gradient.
    assert (module.hop_weights.grad.abs() > 0).all()


def test_one_uniform_hop_is_one_mean_propagation_step():
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 6, dtype=torch.float64)
    module = GKEDM(6, heads=3, scoring="uniform", update="replace", hops=1).double()
    expected = mean_propagation(edge_index, n_nodes) @ h
    torch.testing.assert_close(module(h, edge_index).h, expected)
    assert not hasattr(module, "hop_weights")  # one step: no per-hop weights


def test_hop_weights_on_one_hop_give_its_power_of_the_propagation():
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 4, dtype=torch.float64)
    module = GKEDM(4, heads=1, scoring="uniform", update="replace", hops=3).double()
    with torch.no_grad():
        module.hop_weights.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]))
    step = mean_propagation(edge_index, n_nodes)
    torch.testing.assert_close(module(h, edge_index).h, step @ step @ step @ h)


@pytest.mark.parametrize("normalization", ["mean", "symmetric"])
def test_uniform_hops_run_as_the_powers_of_their_matrix(normalization):
    # Fixed (uniform) weights take the fused path; its outputs and gradients must be
    # sum_k gamma_k P^k h and its adjoint, with P built densely by networkx.
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 6, dtype=torch.float64, requires_grad=True)
    module = GKEDM(6, heads=2, scoring="uniform", update="replace", hops=4,
                   normalization=normalization).double()  # fmt: skip
    with torch.no_grad():
        module.hop_weights.copy_(torch.tensor([0.3, -0.2, 0.5, 0.1, 0.4]))
    step = mean_propagation(edge_index, n_nodes)
    if normalization == "symmetric":
        degree = torch.tensor(np.count_nonzero(step.numpy(), axis=1), dtype=torch.float64)
        step = step * degree[:, None].sqrt() / degree[None, :].sqrt()
    weights = torch.tensor([0.3, -0.2, 0.5, 0.1, 0.4], dtype=torch.float64, requires_grad=True)
    reference_h = h.detach().clone().requires_grad_()
    expected = sum(w * torch.linalg.matrix_power(step, k) @ reference_h for k, w in
                   enumerate(weights))  # fmt: skip
    module.train()
    out = module(h, edge_index).h
    torch.testing.assert_close(out, expected)
    upstream = torch.randn(n_nodes, 6, dtype=torch.float64)
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    torch.testing.assert_close(h.grad, reference_h.grad)
    torch.testing.assert_close(module.hop_weights.grad, weights.grad)


def test_fused_hops_equal_the_hop_by_hop_loop_on_cora():
    # The fused node against the loop of single steps it replaces (float32, Cora).
    from skgkedm.datasets import fetch_planetoid
    from skgkedm.nn._edge_ops import edge_aggregate, propagate_hops
    from skgkedm.nn._gkedm import uniform_weights

    data = fetch_planetoid("cora")
    adjacency = data.X.adjacency.tocoo()
    edge_index = torch.tensor(np.vstack([adjacency.row, adjacency.col]), dtype=torch.long)
    n_nodes = adjacency.shape[0]
    loops = torch.arange(n_nodes).repeat(2, 1)
    layout = EdgeLayout.from_edge_index(torch.cat([edge_index, loops], dim=1), n_nodes)
    _, weights = uniform_weights(layout, 1, "symmetric", torch.float32)
    gammas = torch.linspace(0.5, -0.1, 11, requires_grad=True)
    value = torch.randn(n_nodes, 1, 7, requires_grad=True)
    fused = propagate_hops(gammas, value, weights, layout)
    z, power = gammas[0] * value, value
    for hop in range(1, 11):
        power = edge_aggregate(weights, power, layout)
        z = z + gammas[hop] * power
    assert torch.equal(fused, z)  # the same operations in the same order
    upstream = torch.randn_like(z)
    fused_grads = torch.autograd.grad((fused * upstream).sum(), (gammas, value))
    loop_grads = torch.autograd.grad((z * upstream).sum(), (gammas, value))
    # A hop weight's gradient sums 19k products: float32 rounding differs by order.
    torch.testing.assert_close(fused_grads[0], loop_grads[0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fused_grads[1], loop_grads[1])
    with pytest.raises(ValueError, match="fixed edge weights"):
        propagate_hops(gammas, value, weights.clone().requires_grad_(), layout)


@pytest.mark.parametrize(("hops", "alpha"), [(10, 0.1), (3, 0.5)])
def test_ppr_initial_weights_follow_appnp_recurrence(hops, alpha):
    # APPNP's recurrence z <- (1 - alpha) A z + alpha h, from torch_geometric itself, on
    # the module's own propagation matrix (the uniform weights, self-loops included).
    edge_index, n_nodes = karate()
    h = torch.randn(n_nodes, 4, dtype=torch.float64)
    module = GKEDM(4, heads=2, scoring="uniform", update="replace", hops=hops, alpha=alpha)
    out = module.double()(h, edge_index)
    target = out.edge_index[1]
    degree = torch.bincount(target, minlength=n_nodes).double()
    appnp = APPNP(K=hops, alpha=alpha, normalize=False)
    expected = appnp(h, out.edge_index, edge_weight=1.0 / degree[target])
    torch.testing.assert_close(out.h, expected)


def test_hops_and_alpha_are_checked():
    with pytest.raises(ValueError, match="hops must be an int of at least 1"):
        GKEDM(4, hops=0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        GKEDM(4, hops=2, alpha=1.5)
    X, y = make_node_classification(40, random_state=0)
    with pytest.raises(ValueError, match="gkedm_hops"):
        GKEDMClassifier(gkedm_hops=0).fit(X, y)
    with pytest.raises(ValueError, match="gkedm_check"):
        GKEDMClassifier(gkedm_check="always").fit(X, y)


# A GCN with GKEDM on its hidden layer (the previous default's recipe): the check's
# three candidates.
QUICK = {**HIDDEN_GKEDM, "hidden_dims": (16,), "max_epochs": 20, "random_state": 0}


def test_same_seed_same_multi_hop_model_in_threads():
    X, y = make_node_classification(300, n_classes=3, random_state=0)
    model = GKEDMClassifier(**{**QUICK, "gkedm_hops": 4})
    with ThreadPoolExecutor(2) as pool:
        fitted = list(pool.map(lambda _: clone(model).fit(X[:250], y[:250]), range(2)))
    first, second = (m._weights for m in fitted)
    assert first.keys() == second.keys() and "gkedm.hop_weights" in first
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    # 250 labelled nodes: the check ran in both, and agreed.
    assert fitted[0].gkedm_check_scores_ == fitted[1].gkedm_check_scores_ is not None


@pytest.mark.parametrize(
    ("homophily", "class_sep", "expected"),
    [
        (0.05, 3.0, "features"),  # heterophilous, separable features: no graph
        (0.7, 1.0, "plain"),  # the module ties the backbone: the simpler network
        (0.95, 0.3, "gkedm"),  # homophilous, weak features: the module
    ],
)
def test_check_refits_its_choice_as_the_reference_does(
    homophily, class_sep, expected, monkeypatch
):
    X, y = make_node_classification(
        300, n_classes=3, homophily=homophily, class_sep=class_sep, random_state=1
    )
    joint = {**QUICK, "schedule": "joint"}
    model = GKEDMClassifier(**joint).fit(X[:250], y[:250])
    scores = model.gkedm_check_scores_
    assert set(scores) == {"linear", "features", "plain", "gkedm"}
    assert all(0.0 <= score <= 1.0 for score in scores.values())
    choice = model.gkedm_check_choice_
    # The choice of most of three seeds: 20 epochs on 250 nodes, one seed in five
    # picks a neighbour of the expected candidate (a linear model of the features, the
    # plain GCN where the module helps little).
    others = [
        GKEDMClassifier(**{**joint, "random_state": seed}).fit(X[:250], y[:250]) for seed in (1, 2)
    ]
    choices = [choice, *(other.gkedm_check_choice_ for other in others)]
    assert max(set(choices), key=choices.count) == expected, choices
    # Never a candidate that scored lower than one the check prefers.
    preferred = list(scores)[: list(scores).index(choice)]
    assert all(scores[choice] > scores[name] for name in preferred)
    # The final model is the one a fit of the chosen network without the check gives,
    # trained on every labelled node.
    reference = GKEDMClassifier(**joint, gkedm_check=False)
    if choice != "gkedm":
        reference.set_params(gkedm=False)
    if choice in ("features", "linear"):
        reference.set_params(backbone="mlp")
    if choice == "linear":
        # No hidden layer (which hidden_dims does not offer) and no dropout.
        import skgkedm._network_estimator as network_estimator

        monkeypatch.setattr(network_estimator, "check_hidden_dims", lambda dims: ())
        reference.set_params(dropout=0.0)
    reference.fit(X[:250], y[:250])
    assert model._architecture == reference._architecture
    np.testing.assert_array_equal(model.predict_proba(X[250:]), reference.predict_proba(X[250:]))


@pytest.mark.parametrize("params", [{"schedule": "joint"}, {"max_epochs": 1}])
def test_check_of_a_single_phase_trains_a_plain_network_beside(params):
    X, y = make_node_classification(300, n_classes=3, random_state=0)
    model = GKEDMClassifier(**{**QUICK, **params}).fit(X[:250], y[:250])
    assert set(model.gkedm_check_scores_) == {"linear", "features", "plain", "gkedm"}


def test_check_runs_only_where_asked_and_possible():
    X, y = make_node_classification(300, n_classes=3, random_state=0)
    few = GKEDMClassifier(**QUICK).fit(X[:100], y[:100])  # "auto": too few labels
    assert few.gkedm_check_scores_ is None and few._architecture.gkedm
    forced = GKEDMClassifier(**QUICK, gkedm_check=True).fit(X[:100], y[:100])
    assert forced.gkedm_check_scores_ is not None
    sampled = GKEDMClassifier(**QUICK, batch_size=64).fit(X[:250], y[:250])
    assert sampled.gkedm_check_scores_ is None  # "auto" skips mini-batch fits
    with pytest.raises(ValueError, match="gkedm_check=True needs full-batch training"):
        GKEDMClassifier(**QUICK, gkedm_check=True, batch_size=64).fit(X[:250], y[:250])
    plain = GKEDMClassifier(**QUICK, gkedm=False).fit(X[:250], y[:250])
    assert plain.gkedm_check_scores_ is None


def test_verbose_check_says_what_it_chose(capsys):
    X, y = make_node_classification(300, n_classes=3, random_state=0)
    model = GKEDMClassifier(**QUICK, verbose=1).fit(X[:250], y[:250])
    lines = [line for line in capsys.readouterr().out.splitlines() if "gkedm_check" in line]
    scores = model.gkedm_check_scores_
    chosen = {
        "linear": "linear on the features",
        "features": "on the features alone",
        "plain": "the plain backbone",
        "gkedm": "with GKEDM",
    }[model.gkedm_check_choice_]
    assert lines == [
        f"gkedm_check: held-out accuracy {scores['plain']:.3f} the plain backbone, "
        f"{scores['linear']:.3f} linear on the features, "
        f"{scores['features']:.3f} on the features alone, {scores['gkedm']:.3f} with GKEDM: "
        f"the model is {chosen}"
    ]


def test_distiller_keeps_the_teachers_module_for_attention_distillation():
    from skgkedm import DistilledGCNClassifier

    X, y = make_node_classification(300, n_classes=3, homophily=0.1, random_state=1)
    cosine = {**QUICK, "gkedm_scoring": "cosine"}
    model = DistilledGCNClassifier(GKEDMClassifier(**cosine), GKEDMClassifier(**cosine))
    model.fit(X[:250], y[:250])
    assert model.teacher_.gkedm_check is False and model.teacher_._architecture.gkedm
    assert model.student_.gkedm_check_scores_ is None  # trained with a distillation loss
