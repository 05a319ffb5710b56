"""The GKEDM torch module and its edge operations, against plain gather/scatter references."""

import threading
import warnings

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.utils import softmax

from skgkedm.nn import GKEDM, EdgeLayout, _edge_ops
from skgkedm.nn._edge_ops import edge_aggregate, edge_scores, edge_softmax


def random_layout(n_nodes, n_edges, seed):
    generator = torch.Generator().manual_seed(seed)
    codes = torch.unique(torch.randint(0, n_nodes * n_nodes, (n_edges,), generator=generator))
    edge_index = torch.stack([codes % n_nodes, codes // n_nodes])
    return EdgeLayout.from_edge_index(edge_index, n_nodes), edge_index


def test_layout_is_sorted_by_target_and_keeps_every_edge():
    layout, edge_index = random_layout(9, 40, seed=0)
    assert torch.all(layout.target[1:] >= layout.target[:-1])
    original = set(zip(*edge_index.tolist(), strict=True))
    assert set(zip(layout.source.tolist(), layout.target.tolist(), strict=True)) == original
    counts = torch.bincount(layout.target, minlength=9)
    assert torch.equal(layout.ptr.diff(), counts)
    transposed_sources = layout.source[layout.transpose_order]
    assert torch.all(transposed_sources[1:] >= transposed_sources[:-1])
    assert torch.equal(layout.transpose_target, layout.target[layout.transpose_order])


def test_edge_scores_match_gathered_dot_products():
    layout, _ = random_layout(8, 30, seed=1)
    query, key = (
        torch.randn(8, 3, 5, dtype=torch.float64),
        torch.randn(8, 3, 5, dtype=torch.float64),
    )
    expected = (query[layout.target] * key[layout.source]).sum(-1)
    torch.testing.assert_close(edge_scores(query, key, layout), expected)


def test_edge_aggregate_matches_scatter_sum():
    layout, _ = random_layout(8, 30, seed=2)
    weights = torch.randn(layout.source.numel(), 3, dtype=torch.float64)
    value = torch.randn(8, 3, 5, dtype=torch.float64)
    expected = torch.zeros(8, 3, 5, dtype=torch.float64).index_add_(
        0, layout.target, weights[..., None] * value[layout.source]
    )
    torch.testing.assert_close(edge_aggregate(weights, value, layout), expected)


@pytest.mark.parametrize("seed", [3, 4])
def test_edge_operation_gradients(seed):
    layout, _ = random_layout(7, 25, seed=seed)
    query = torch.randn(7, 2, 3, dtype=torch.float64, requires_grad=True)
    key = torch.randn(7, 2, 3, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(layout.source.numel(), 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda q, k: edge_scores(q, k, layout), (query, key))
    assert torch.autograd.gradcheck(lambda w, v: edge_aggregate(w, v, layout), (weights, query))


def karate_edges():
    graph = nx.karate_club_graph()
    edges = torch.tensor(list(graph.edges)).T
    return torch.cat([edges, edges.flip(0)], dim=1), graph.number_of_nodes()


def test_attention_is_a_distribution_over_each_nodes_edges():
    edge_index, n_nodes = karate_edges()
    torch.manual_seed(0)
    module = GKEDM(8, heads=2, residual_scale=1.0)
    out = module(torch.randn(n_nodes, 8), edge_index)
    assert out.attention.shape == (edge_index.shape[1] + n_nodes, 2)
    assert torch.all(out.attention >= 0)
    sums = torch.zeros(n_nodes, 2).index_add_(0, out.edge_index[1], out.attention)
    torch.testing.assert_close(sums, torch.ones(n_nodes, 2))
    self_loops = out.edge_index[0] == out.edge_index[1]
    assert int(self_loops.sum()) == n_nodes


def test_output_matches_dense_masked_attention_reference():
    edge_index, n_nodes = karate_edges()
    torch.manual_seed(1)
    module = GKEDM(8, heads=2, residual_scale=0.7).double()
    h = torch.randn(n_nodes, 8, dtype=torch.float64)
    out = module(h, edge_index)
    mask = torch.eye(n_nodes, dtype=torch.bool)
    mask[edge_index[1], edge_index[0]] = True
    q = module.query(h).view(n_nodes, 2, 4).transpose(0, 1)
    k = module.key(h).view(n_nodes, 2, 4).transpose(0, 1)
    scores = (q @ k.transpose(1, 2) / 2.0).masked_fill(~mask, float("-inf"))
    z = torch.softmax(scores, dim=-1) @ h.view(n_nodes, 2, 4).transpose(0, 1)
    expected = h + 0.7 * z.transpose(0, 1).reshape(n_nodes, 8)
    torch.testing.assert_close(out.h, expected)


@pytest.mark.parametrize("heads", [1, 4])
def test_the_default_module_is_multi_head_agnn_with_one_parameter(heads):
    # GKEDMClassifier's default module (cosine scores, "replace" update, identity
    # values) is PyG's AGNNConv run on each head's slice of the channels, with one
    # temperature shared by the heads as AGNN's only parameter (beta).
    from torch_geometric.nn import AGNNConv

    edge_index, n_nodes = karate_edges()
    h = torch.randn(n_nodes, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    module = GKEDM(8, heads=heads, scoring="cosine", update="replace").double()
    assert [name for name, _ in module.named_parameters()] == ["temperature"]
    agnn = AGNNConv(requires_grad=True).double()
    with torch.no_grad():
        module.temperature.fill_(2.5)
        agnn.beta.fill_(2.5)
    expected = torch.cat([agnn(part, edge_index) for part in h.chunk(heads, dim=1)], dim=1)
    torch.testing.assert_close(module(h, edge_index).h, expected)


def test_starts_as_identity_and_precomputed_layout_gives_same_output():
    edge_index, n_nodes = karate_edges()
    torch.manual_seed(2)
    h = torch.randn(n_nodes, 8)
    assert torch.equal(GKEDM(8, heads=2)(h, edge_index).h, h)
    module = GKEDM(8, heads=2, residual_scale=1.0, add_self_loops=False)
    looped = torch.cat([edge_index, torch.arange(n_nodes).repeat(2, 1)], dim=1)
    layout = EdgeLayout.from_edge_index(looped, n_nodes)
    torch.testing.assert_close(module(h, looped).h, module(h, layout).h)


def test_projected_values_and_bad_arguments():
    edge_index, n_nodes = karate_edges()
    module = GKEDM(8, heads=4, values="projected")
    assert module(torch.randn(n_nodes, 8), edge_index).h.shape == (n_nodes, 8)
    assert repr(module) == (
        "GKEDM(8, heads=4, scoring='dot', update='residual', values='projected')"
    )
    with pytest.raises(ValueError, match="divisible"):
        GKEDM(10, heads=4)
    with pytest.raises(ValueError, match="values"):
        GKEDM(8, values="dense")


def test_gradient_reaches_every_parameter():
    edge_index, n_nodes = karate_edges()
    module = GKEDM(8, heads=2, values="projected", residual_scale=0.5)
    module(torch.randn(n_nodes, 8), edge_index).h.pow(2).sum().backward()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and np.isfinite(parameter.grad.numpy()).all(), name
        assert parameter.grad.abs().sum() > 0, name


def dense_blocks(ptr, columns, values, size):
    rows = torch.repeat_interleave(ptr.diff().long())
    dense = torch.full((size, size), -1, dtype=torch.long)
    dense[rows, columns.long()] = values.long()
    return dense


def test_head_blocks_place_every_head_of_every_edge():
    layout, _ = random_layout(9, 40, seed=5)
    heads, n_edges = 3, layout.source.numel()
    blocks = layout.head_blocks(heads)
    assert layout.head_blocks(heads) is blocks
    assert layout.head_blocks(2) is not blocks
    entries = torch.arange(n_edges * heads)
    assert torch.equal(blocks.order.long()[blocks.inverse.long()], entries)
    edge, head = entries // heads, entries % heads
    forward = dense_blocks(blocks.ptr, blocks.columns, blocks.order, 9 * heads)
    rows, columns = layout.target[edge] * heads + head, layout.source[edge] * heads + head
    assert torch.equal(forward[rows, columns], entries)
    assert int((forward >= 0).sum()) == n_edges * heads
    transpose = dense_blocks(
        blocks.transpose_ptr, blocks.transpose_columns, blocks.transpose_order, 9 * heads
    )
    assert torch.equal(transpose, forward.T)


def test_edge_operations_with_shared_strided_inputs_and_no_edges():
    layout, _ = random_layout(6, 20, seed=6)
    # Strided (non-contiguous) inputs, three heads, and the same tensor as query and key.
    query = torch.randn(3, 6, 4, dtype=torch.float64).transpose(0, 1).requires_grad_()
    weights = torch.randn(3, layout.source.numel(), dtype=torch.float64).T.requires_grad_()
    expected = (query[layout.target] * query[layout.source]).sum(-1)
    torch.testing.assert_close(edge_scores(query, query, layout), expected)
    assert torch.autograd.gradcheck(lambda q: edge_scores(q, q, layout), (query,))
    assert torch.autograd.gradcheck(lambda w, v: edge_aggregate(w, v, layout), (weights, query))
    empty = EdgeLayout.from_edge_index(torch.zeros(2, 0, dtype=torch.long), 6)
    assert edge_scores(query, query, empty).shape == (0, 3)
    out = edge_aggregate(weights[:0], query, empty)
    torch.testing.assert_close(out, torch.zeros_like(query))
    out.sum().backward()
    torch.testing.assert_close(query.grad, torch.zeros_like(query))


def test_edge_softmax_matches_pyg_and_stays_finite():
    layout, _ = random_layout(8, 30, seed=7)
    scores = torch.randn(layout.source.numel(), 2, dtype=torch.float64, requires_grad=True)
    expected = softmax(scores, ptr=layout.ptr, num_nodes=8)
    torch.testing.assert_close(edge_softmax(scores, layout), expected)
    assert torch.autograd.gradcheck(lambda s: edge_softmax(s, layout), (scores,))
    huge = edge_softmax(scores.detach() * 1e4, layout)
    assert torch.isfinite(huge).all()
    sums = torch.zeros(8, 2, dtype=torch.float64).index_add_(0, layout.target, huge)
    has_edges = layout.ptr.diff() > 0
    torch.testing.assert_close(sums[has_edges], torch.ones_like(sums[has_edges]))


def test_layout_from_csr_equals_the_sorted_one_and_needs_its_transpose_to_train():
    from skgkedm.nn._sparse_product import TransposeLayout

    layout, _ = random_layout(9, 40, seed=1)
    values = torch.ones(layout.source.numel())
    csr = torch.sparse_csr_tensor(layout.ptr, layout.source, values, size=(9, 9))
    transpose = TransposeLayout.of(csr)
    rebuilt = EdgeLayout.from_csr(layout.ptr, layout.source, transpose)
    for name, tensor in layout._asdict().items():
        assert torch.equal(getattr(rebuilt, name), tensor), name
    forward_only = EdgeLayout.from_csr(layout.ptr, layout.source)
    module = GKEDM(8, heads=2)
    h = torch.randn(9, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(module(h, forward_only).h, module(h, layout).h)
    with pytest.raises(ValueError, match="built without its transpose"):
        module(h.requires_grad_(), forward_only)


def test_sparse_products_leave_the_warning_filters_alone_in_threads(monkeypatch):
    # A catch_warnings block per product swapped the process-wide filter list under
    # other threads' feet (and reset every module's warning registry) at each step.
    seen = []
    build = torch.sparse_csr_tensor

    def recording(*args, **kwargs):
        seen.append(list(warnings.filters))
        return build(*args, **kwargs)

    monkeypatch.setattr(torch, "sparse_csr_tensor", recording)
    before = list(warnings.filters)
    ptr, columns = torch.tensor([0, 2, 3]), torch.tensor([0, 1, 1])

    def products():
        for _ in range(20):
            matrix = _edge_ops.csr_tensor(ptr, columns, torch.ones(3), (2, 2))
            assert torch.equal(matrix.to_dense(), torch.tensor([[1.0, 1.0], [0.0, 1.0]]))

    threads = [threading.Thread(target=products) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 80
    assert all(filters == before for filters in seen)
    assert list(warnings.filters) == before
