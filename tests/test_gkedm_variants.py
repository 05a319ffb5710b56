"""The scoring and update variants of the GKEDM module, against direct computations."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from skgkedm.nn import GKEDM

EDGES = torch.tensor([[0, 1, 1, 2, 3, 0], [1, 0, 2, 1, 1, 3]])
N_NODES, CHANNELS, HEADS = 4, 8, 2


def neighbourhoods():
    """Incoming neighbours of each node, itself included (what GKEDM attends over)."""
    return [sorted({i, *EDGES[0][EDGES[1] == i].tolist()}) for i in range(N_NODES)]


def dense_attention(scores):
    """Softmax of a dense (target, source) score function over each neighbourhood."""
    attention = {}
    for i, sources in enumerate(neighbourhoods()):
        weights = torch.softmax(torch.stack([scores(i, j) for j in sources]), dim=0)
        attention.update({(j, i): w for j, w in zip(sources, weights, strict=True)})
    return attention


def module_attention(module, h):
    out = module(h, EDGES)
    source, target = out.edge_index.tolist()
    return out, {
        (j, i): out.attention[e] for e, (j, i) in enumerate(zip(source, target, strict=True))
    }


@pytest.fixture
def h():
    return torch.randn(N_NODES, CHANNELS, generator=torch.Generator().manual_seed(0))


def test_additive_scores_match_a_direct_computation(h):
    torch.manual_seed(0)
    module = GKEDM(CHANNELS, heads=HEADS, scoring="additive")
    width = CHANNELS // HEADS
    query = module.query(h).view(N_NODES, HEADS, width)
    key = module.key(h).view(N_NODES, HEADS, width)

    def score(i, j):
        return (F.leaky_relu(query[i] + key[j], 0.2) * module.score_vector).sum(-1)

    expected = dense_attention(score)
    _, got = module_attention(module, h)
    assert got.keys() == expected.keys()
    for edge, weights in expected.items():
        torch.testing.assert_close(got[edge], weights)


def test_cosine_scores_match_a_direct_computation(h):
    module = GKEDM(CHANNELS, heads=HEADS, scoring="cosine")
    with torch.no_grad():
        module.temperature.fill_(3.0)
    pieces = h.view(N_NODES, HEADS, -1)

    def score(i, j):
        return 3.0 * F.cosine_similarity(pieces[i], pieces[j], dim=-1)

    expected = dense_attention(score)
    _, got = module_attention(module, h)
    for edge, weights in expected.items():
        torch.testing.assert_close(got[edge], weights)


def test_cosine_at_zero_temperature_replace_is_the_neighbourhood_mean(h):
    module = GKEDM(CHANNELS, heads=HEADS, scoring="cosine", update="replace")
    with torch.no_grad():
        module.temperature.zero_()
    out = module(h, EDGES)
    expected = torch.stack([h[sources].mean(0) for sources in neighbourhoods()])
    torch.testing.assert_close(out.h, expected)


def test_uniform_scores_replace_with_the_neighbourhood_mean_and_have_no_parameters(h):
    module = GKEDM(CHANNELS, heads=HEADS, scoring="uniform", update="replace")
    assert list(module.parameters()) == []
    out = module(h.requires_grad_(), EDGES)
    expected = torch.stack([h[sources].mean(0) for sources in neighbourhoods()])
    torch.testing.assert_close(out.h, expected)
    for i, sources in enumerate(neighbourhoods()):
        into = out.edge_index[1] == i
        torch.testing.assert_close(
            out.attention[into], torch.full((len(sources), HEADS), 1 / len(sources))
        )
    out.h.sum().backward()  # gradients flow to the node representations
    assert h.grad.abs().sum() > 0


@pytest.mark.parametrize("scoring", ["dot", "cosine", "additive", "uniform"])
def test_residual_update_starts_as_the_identity(h, scoring):
    out = GKEDM(CHANNELS, heads=HEADS, scoring=scoring)(h, EDGES)
    torch.testing.assert_close(out.h, h)


@pytest.mark.parametrize("scoring", ["dot", "cosine", "additive"])
def test_gated_update_mixes_the_node_and_its_neighbourhood(h, scoring):
    torch.manual_seed(0)
    module = GKEDM(CHANNELS, heads=HEADS, scoring=scoring, update="gated")
    gated = module(h, EDGES).h
    module.update = "replace"
    z = module(h, EDGES).h
    share = ((gated - h) / (z - h)).detach().numpy()
    # One mixing share per node, strictly between 0 (keep h) and 1 (take z).
    np.testing.assert_allclose(share, share[:, :1].repeat(CHANNELS, axis=1), rtol=1e-4)
    assert ((share > 0) & (share < 1)).all()


@pytest.mark.parametrize("scoring", ["dot", "cosine", "additive"])
@pytest.mark.parametrize("update", ["residual", "gated", "replace"])
def test_every_parameter_gets_a_gradient(h, scoring, update):
    module = GKEDM(CHANNELS, heads=HEADS, scoring=scoring, update=update, residual_scale=0.5)
    out = module(h.requires_grad_(), EDGES)
    (out.h**2).sum().backward()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    assert h.grad.abs().sum() > 0


@pytest.mark.parametrize(("name", "value"), [("scoring", "bilinear"), ("update", "sum")])
def test_unknown_variant_is_refused(name, value):
    with pytest.raises(ValueError, match=name):
        GKEDM(CHANNELS, **{name: value})
