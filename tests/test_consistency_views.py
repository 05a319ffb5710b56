"""The two dropout views of the consistency loss in one pass (issue #24), and the cheaper
pieces of a training step: dropout masks from random bits, the softmax of few classes."""

import numpy as np
import pytest
import torch

from skgkedm import GKEDMClassifier
from skgkedm.loader._graph_tensors import graph_tensors
from skgkedm.nn import GKEDM
from skgkedm.nn._dropout import bit_mask, dropout, dyadic, scaled
from skgkedm.nn._network import stacked_features
from skgkedm.utils._training import CLASSIFICATION, class_probabilities, consistency_loss

SMALL = {"hidden_dims": (16,), "max_epochs": 2, "random_state": 0}


def fitted_network(cora, **params):
    """A network fitted on Cora's public training nodes, and Cora's training tensors."""
    X, y = cora.X, cora.y
    model = GKEDMClassifier(**{**SMALL, **params}).fit(X[cora.train_index], y[cora.train_index])
    network = model._fitted_network("cpu")
    graph = graph_tensors(X, True, model._architecture, torch.device("cpu"))
    return network, graph


def training_loss(logits, targets, rows):
    """The default's objective: cross-entropy of the first view and the consistency loss."""
    first, second = logits
    loss = CLASSIFICATION.loss(first[rows], targets, None)
    shares = torch.bincount(targets, minlength=first.size(1)).float() / len(targets)
    return loss + consistency_loss(first, second, CLASSIFICATION, shares)


@pytest.mark.parametrize("backbone", ["mlp", "gcn"])
def test_views_in_one_call_are_the_separate_passes_without_dropout(cora, backbone):
    # Cora's sparse features: the stacked views' first layer runs on a stacked sparse
    # matrix, whose transpose (for the backward pass) is laid out for the stack.
    network, graph = fitted_network(cora, backbone=backbone, dropout=0.0)
    assert network.fuses_views(graph) == (backbone == "mlp")
    rows = torch.as_tensor(cora.train_index)
    targets = torch.as_tensor(cora.y[cora.train_index])
    network.train()
    fused = network(graph, views=2).logits
    assert fused.shape == (2, cora.X.n_nodes, 7)
    training_loss(fused, targets, rows).backward()
    fused_gradients = [p.grad.clone() for p in network.parameters()]
    network.zero_grad()
    single = network(graph).logits
    separate = torch.stack([single, network(graph).logits])
    torch.testing.assert_close(fused, separate, rtol=1e-5, atol=1e-6)
    training_loss(separate, targets, rows).backward()
    for fused_gradient, parameter in zip(fused_gradients, network.parameters(), strict=True):
        torch.testing.assert_close(fused_gradient, parameter.grad, rtol=1e-4, atol=1e-6)
    # Evaluation mode: every view is the prediction.
    network.eval()
    with torch.no_grad():
        torch.testing.assert_close(network(graph, views=3).logits[2], network(graph).logits)


def test_views_in_one_pass_draw_a_mask_each(cora):
    network, graph = fitted_network(cora)  # dropout="auto": 0.5 on a graph
    network.train()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        first, second = network(graph, generator=generator, views=2).logits
        again = network(graph, generator=torch.Generator().manual_seed(0), views=2).logits
        network.eval()
        prediction = network(graph).logits
    assert not torch.allclose(first, second)
    assert not torch.allclose(first, prediction)
    torch.testing.assert_close(again, torch.stack([first, second]), rtol=0, atol=0)


def test_stacked_sparse_features_are_dropped_views_with_their_transpose(cora):
    _, graph = fitted_network(cora)
    features = graph.x.to_dense()
    n_nodes = features.size(0)
    stacked = stacked_features(graph, 2, 0.5, True, torch.Generator().manual_seed(0))
    views = stacked.matrix.to_dense()
    torch.testing.assert_close(stacked.transpose.to_dense(), views.t(), rtol=0, atol=0)
    for view in views.split(n_nodes):
        kept = view != 0
        # Every entry is dropped or doubled; about half of the stored ones are kept.
        torch.testing.assert_close(view[kept], 2 * features[kept], rtol=0, atol=0)
        assert 0.45 < kept.sum() / (features != 0).sum() < 0.55
    assert not torch.equal(views[:n_nodes] != 0, views[n_nodes:] != 0)
    # Without training, the views are the features themselves.
    unchanged = stacked_features(graph, 3, 0.5, False, None).matrix.to_dense()
    torch.testing.assert_close(unchanged, features.repeat(3, 1), rtol=0, atol=0)


@pytest.mark.parametrize("scoring", ["uniform", "cosine"])
def test_gkedm_on_stacked_views_is_each_view_alone(cora, scoring):
    # Uniform scores share one propagation (the views side by side in the columns);
    # attention depends on each view's values, so each view propagates on its own.
    _, graph = fitted_network(cora, gkedm_scoring="uniform")
    layout = graph.attention_layout
    module = GKEDM(7, heads=1, scoring=scoring, update="replace", hops=10, add_self_loops=False,
                   normalization="symmetric")  # fmt: skip
    module.hop_weights.data.uniform_(0, 1, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(1)
    views = torch.randn(2 * layout.n_nodes, 7, generator=generator, requires_grad=True)
    stacked = module(views, layout, views=2).h
    upstream = torch.randn(stacked.shape, generator=generator)
    (stacked * upstream).sum().backward()
    stacked_gradients = views.grad.clone(), module.hop_weights.grad.clone()
    views.grad, module.hop_weights.grad = None, None
    alone = torch.cat([module(view, layout).h for view in views.chunk(2)])
    torch.testing.assert_close(stacked, alone, rtol=1e-5, atol=1e-6)
    (alone * upstream).sum().backward()
    torch.testing.assert_close(stacked_gradients[0], views.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stacked_gradients[1], module.hop_weights.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("p", "bits"), [(0.5, 1), (0.25, 2), (0.75, 2), (0.3, None)])
def test_dropout_drops_each_entry_with_probability_p(p, bits):
    assert (dyadic(p) or (None,))[0] == bits
    x = torch.ones(400, 500)
    dropped = dropout(x, p, True, torch.Generator().manual_seed(0))
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], torch.full_like(dropped[kept], 1 / (1 - p)))
    # 200,000 independent entries: the share dropped is p within 5 standard errors.
    assert abs(1 - kept.double().mean().item() - p) < 5 * np.sqrt(p * (1 - p) / x.numel())
    # Entries reading the same bits of their words are dropped as often as any (no bit
    # of the generator's words is fixed or biased).
    if bits:
        per_word = 31 // bits
        fields = kept.flatten()[: x.numel() // per_word * per_word].view(-1, per_word)
        shares = 1 - fields.double().mean(dim=0)
        assert (shares - p).abs().max() < 5 * np.sqrt(p * (1 - p) / fields.size(0))
    again = dropout(x, p, True, torch.Generator().manual_seed(0))
    assert torch.equal(dropped, again)


def test_bit_mask_is_exact_for_rates_of_at_most_eight_bits():
    assert dyadic(3 / 256) == (8, 3) and dyadic(1 / 512) is None
    mask = bit_mask((300, 1000), 8, 3, torch.Generator().manual_seed(0))
    assert mask.dtype == torch.int32 and sorted(mask.unique().tolist()) == [0, 1]
    dropped = 1 - mask.double().mean().item()
    assert abs(dropped - 3 / 256) < 5 * np.sqrt(3 / 256 * (1 - 3 / 256) / mask.numel())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [2.0, 4 / 3, 4.0, 256 / 253, 1e-3])
def test_scaled_mask_equals_converting_and_multiplying(scale, dtype):
    mask = torch.randint(0, 2, (1000, 3), generator=torch.Generator().manual_seed(0))
    mask = mask.to(torch.int32)
    expected = mask.to(dtype) * scale  # as torch scales a tensor of dtype by a float
    out = scaled(mask.clone(), scale, dtype)
    assert out.dtype == dtype and torch.equal(out, expected)


@pytest.mark.parametrize("shape", [(2708, 7), (2, 50, 3), (300, 40)])
def test_class_probabilities_are_the_softmax(shape):
    scores = torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 5
    scores.requires_grad_(True)
    upstream = torch.randn(shape)
    probabilities = class_probabilities(scores)
    (probabilities * upstream).sum().backward()
    gradient = scores.grad.clone()
    scores.grad = None
    expected = scores.softmax(dim=-1)
    (expected * upstream).sum().backward()
    torch.testing.assert_close(probabilities, expected)
    torch.testing.assert_close(gradient, scores.grad)


@pytest.mark.parametrize(("version", "fused"), [("2.3.1", None), ("2.4.0", True)])
def test_fused_adam_only_where_torch_has_it_on_the_cpu(monkeypatch, version, fused):
    # torch accepts Adam(fused=True) for CPU parameters from 2.4 on; the package
    # declares torch>=2.2, so an older torch must get the unfused optimiser.
    from skgkedm.datasets import make_node_classification

    built = []
    original = torch.optim.Adam

    def recording(*args, **kwargs):
        built.append(kwargs.get("fused"))
        return original(*args, **{**kwargs, "fused": None})

    monkeypatch.setattr(torch, "__version__", version)
    monkeypatch.setattr(torch.optim, "Adam", recording)
    X, y = make_node_classification(60, n_classes=2, n_features=4, random_state=0)
    GKEDMClassifier(max_epochs=2, device="cpu", random_state=0, gkedm_check=False).fit(X, y)
    assert built and all(value is fused for value in built)
