"""Graph preparation in torch gives the matrices SciPy builds from the adjacency.

The message graph, propagation matrices, their transposes and the GKEDM attention
layout are built with torch on the network's device; the expected matrices here are
built independently with SciPy (canonical CSR arithmetic). The CPU's counting
transposition and the device's sort give the same tensors.
"""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skgkedm.data import GraphNodes
from skgkedm.loader._graph_tensors import build_graph_tensors
from skgkedm.loader._message_graph import MessageGraph, upload_csr
from skgkedm.nn import _graph_kernels
from skgkedm.nn._backbones import BACKBONES
from skgkedm.nn._graph_kernels import entry_rows, transposed_pattern


def directed_graph():
    rng = np.random.default_rng(0)
    source, target = rng.integers(0, 80, (2, 400))
    adjacency = sp.csr_array((rng.random(400) + 0.5, (source, target)), shape=(80, 80))
    return GraphNodes(adjacency, rng.random((80, 3)))


def isolated_and_duplicates():
    # Nodes 6-9 have no edge; (0, 1) and (2, 3) are given twice, (5, 5) is a self-loop.
    rows, columns = [0, 0, 1, 2, 2, 5, 5, 3], [1, 1, 0, 3, 3, 5, 4, 2]
    adjacency = sp.coo_array((np.ones(8), (rows, columns)), shape=(10, 10))
    return GraphNodes(adjacency, np.eye(10))


def karate():
    return GraphNodes.from_networkx(nx.karate_club_graph(), weight="weight")


@pytest.fixture(params=["cora", "karate", "directed", "isolated"])
def graph(request):
    if request.param == "cora":
        return request.getfixturevalue("cora").X
    return {"karate": karate, "directed": directed_graph, "isolated": isolated_and_duplicates}[
        request.param
    ]()


def expected_messages(adjacency, symmetrize):
    """Row i: the senders to node i, without self-loops (SciPy)."""
    adjacency = sp.csr_array(adjacency, dtype=np.float64, copy=True)
    adjacency.sum_duplicates()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    transposed = sp.csr_array(adjacency.T)
    if (abs(adjacency - transposed)).nnz == 0:
        return adjacency
    return sp.csr_array(adjacency.maximum(transposed)) if symmetrize else transposed


def expected_propagation(messages, backbone):
    matrix = sp.csr_array(messages, dtype=np.float64)
    if backbone.self_loops:
        matrix = sp.csr_array(matrix + sp.identity(matrix.shape[0], format="csr"))
    matrix.sort_indices()
    if backbone.gcn_normalize:
        scale = np.asarray(matrix.sum(axis=1)).ravel() ** -0.5
        matrix = sp.csr_array(sp.diags(scale) @ matrix @ sp.diags(scale))
    elif backbone.mean_aggregation:
        degree = np.maximum(np.diff(matrix.indptr), 1)
        matrix = sp.csr_array(sp.diags(1.0 / degree) @ (matrix != 0).astype(float))
    else:
        matrix = sp.csr_array((matrix != 0).astype(float))
    matrix.sort_indices()
    return matrix


def with_diagonal(tensor, diagonal):
    """The CSR tensor plus ``diag(diagonal)`` (None: as it is), as a canonical SciPy matrix."""
    matrix = sp.csr_array(
        (tensor.values().numpy(), tensor.col_indices().numpy(), tensor.crow_indices().numpy()),
        shape=tuple(tensor.shape),
    )
    if diagonal is not None:
        matrix = sp.csr_array(matrix + sp.diags(diagonal.numpy().astype(matrix.dtype)))
    matrix.sort_indices()
    return matrix


def assert_csr_equal(tensor, expected, diagonal=None):
    """Same pattern exactly, same values to float32 precision (``diagonal`` added)."""
    if diagonal is not None:
        actual = with_diagonal(tensor, diagonal)
        np.testing.assert_array_equal(actual.indptr, expected.indptr)
        np.testing.assert_array_equal(actual.indices, expected.indices)
        np.testing.assert_allclose(actual.data, expected.data, rtol=1e-6)
        return
    np.testing.assert_array_equal(tensor.crow_indices().numpy(), expected.indptr)
    np.testing.assert_array_equal(tensor.col_indices().numpy(), expected.indices)
    np.testing.assert_allclose(tensor.values().numpy(), expected.data, rtol=1e-6)


@pytest.mark.parametrize("symmetrize", [True, False])
@pytest.mark.parametrize("name", ["gcn", "sage", "gat", "gin"])
def test_prepared_graph_matches_scipy(graph, name, symmetrize):
    backbone = BACKBONES[name]
    messages = MessageGraph.from_adjacency(graph.adjacency, symmetrize)
    tensors = build_graph_tensors(
        graph.features, messages, backbone, torch.device("cpu"), attention=True
    )
    expected = expected_messages(graph.adjacency, symmetrize)
    propagation = expected_propagation(expected, backbone)
    diagonal = tensors.propagation.diagonal
    assert (diagonal is not None) == (name == "gcn")  # GCN's self-loops, kept apart
    assert_csr_equal(tensors.propagation.matrix, propagation, diagonal)
    assert_csr_equal(tensors.propagation.transpose, sp.csr_array(propagation.T), diagonal)
    # GKEDM attends along every message edge and one self-loop per node.
    looped = sp.csr_array(expected + sp.identity(expected.shape[0], format="csr"))
    looped.sort_indices()
    layout = tensors.attention_layout
    np.testing.assert_array_equal(layout.ptr.numpy(), looped.indptr)
    np.testing.assert_array_equal(layout.source.numpy(), looped.indices)
    rows = np.repeat(np.arange(looped.shape[0]), np.diff(looped.indptr))
    np.testing.assert_array_equal(layout.target.numpy(), rows)
    transposed = sp.csr_array(looped.T)
    transposed.sort_indices()
    np.testing.assert_array_equal(layout.transpose_ptr.numpy(), transposed.indptr)
    np.testing.assert_array_equal(layout.transpose_target.numpy(), transposed.indices)
    order = layout.transpose_order.numpy()
    np.testing.assert_array_equal(layout.target.numpy()[order], transposed.indices)
    np.testing.assert_array_equal(
        layout.source.numpy()[order],
        np.repeat(np.arange(looped.shape[0]), np.diff(transposed.indptr)),
    )


def test_duplicates_given_to_the_message_graph_add_up():
    # An adjacency that is not canonical (duplicates, unsorted) is merged on the device.
    rows, columns = [3, 0, 0, 1, 2, 2], [0, 2, 1, 0, 3, 3]
    adjacency = sp.coo_array((np.ones(6), (rows, columns)), shape=(5, 5)).tocsr()
    adjacency.has_canonical_format = False
    messages = MessageGraph.from_adjacency(adjacency, symmetrize=False)
    expected = expected_messages(adjacency, symmetrize=False)
    np.testing.assert_array_equal(messages.ptr.numpy(), expected.indptr)
    np.testing.assert_array_equal(messages.columns.numpy(), expected.indices)
    np.testing.assert_array_equal(messages.weights.numpy(), expected.data)
    assert messages.weights.max() == 2.0


@pytest.mark.parametrize("symmetrize", [True, False])
def test_device_code_path_gives_the_host_kernels_tensors(graph, symmetrize, monkeypatch):
    # On the CPU the transposition is SciPy's counting sort; on a device, torch's
    # stable sort. Both must give the same tensors, bit for bit.
    def prepared():
        messages = MessageGraph.from_adjacency(graph.adjacency, symmetrize)
        return build_graph_tensors(
            graph.features, messages, BACKBONES["sage"], torch.device("cpu"), attention=True
        )

    host = prepared()
    monkeypatch.setattr(_graph_kernels, "host_kernels", lambda tensor: False)
    device = prepared()
    assert host.propagation.diagonal is device.propagation.diagonal is None  # GraphSAGE
    for a, b in zip(host.propagation[:2], device.propagation[:2], strict=True):
        assert torch.equal(a.crow_indices(), b.crow_indices())
        assert torch.equal(a.col_indices(), b.col_indices())
        assert torch.equal(a.values(), b.values())
    for a, b in zip(host.attention_layout, device.attention_layout, strict=True):
        assert torch.equal(a, b)


def test_transposition_kernels_agree(cora):
    adjacency = sp.csr_array(cora.X.adjacency)
    ptr = torch.from_numpy(adjacency.indptr.astype(np.int64))
    columns = torch.from_numpy(adjacency.indices.astype(np.int64))
    n = adjacency.shape[0]
    counting = transposed_pattern(ptr, columns, n, counting=True)
    sorting = transposed_pattern(ptr, columns, n, counting=False)
    for a, b in zip(counting, sorting, strict=True):
        assert torch.equal(a, b)
    # Column-major, rows ascending within a column: the transpose's CSR order.
    rows = np.repeat(np.arange(n), np.diff(adjacency.indptr))
    keys = adjacency.indices.astype(np.int64) * n + rows
    np.testing.assert_array_equal(counting[2].numpy(), np.argsort(keys))
    transposed = sp.csr_array(adjacency.T)
    transposed.sort_indices()
    np.testing.assert_array_equal(counting[0].numpy(), transposed.indptr)
    np.testing.assert_array_equal(counting[1].numpy(), transposed.indices)


def scipy_symmetric(adjacency):
    return (abs(adjacency - adjacency.T)).nnz == 0


def perturbations(adjacency, rng):
    """Symmetric matrices, and near misses: one weight changed, one direction dropped,
    two reverse entries' weights swapped, an edge moved to a fresh pair."""
    yield "as given", adjacency
    yield "no edge", sp.csr_array(adjacency.shape)
    upper = sp.triu(adjacency, k=1, format="coo")
    k = rng.integers(upper.nnz)
    i, j, w = int(upper.row[k]), int(upper.col[k]), float(upper.data[k])
    changed = sp.lil_array(adjacency)
    changed[i, j] = w + 1.0
    yield "one weight changed", changed
    dropped = sp.lil_array(adjacency)
    dropped[i, j] = 0.0
    yield "one direction dropped", dropped
    other = rng.integers(upper.nnz)
    a, b, v = int(upper.row[other]), int(upper.col[other]), float(upper.data[other])
    swapped = sp.lil_array(adjacency)
    swapped[i, j], swapped[a, b] = v + 2.0, w + 2.0
    swapped[j, i], swapped[b, a] = w + 2.0, v + 2.0
    yield "reverse weights swapped", swapped
    moved = sp.lil_array(adjacency)
    moved[i, j] = moved[j, i] = 0.0
    free = np.argwhere(adjacency.toarray() == 0)
    free = free[free[:, 0] != free[:, 1]][rng.integers(len(free) - adjacency.shape[0])]
    moved[free[0], free[1]] = moved[free[1], free[0]] = w
    yield "edge moved", moved
    moved[free[1], free[0]] = 0.0
    yield "moved edge one-way", moved


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("chunk", [7, 2**18])
@pytest.mark.parametrize("kernels", ["host", "device"])
def test_symmetry_fingerprint_agrees_with_scipy(seed, chunk, kernels, monkeypatch):
    # The fingerprint decides whether a graph is symmetric without transposing it: it
    # must say so for symmetric graphs (networkx's, weighted and not) and never for
    # their near misses, with NumPy (CPU) and torch (device) arithmetic; small chunks
    # run its chunked sums across entries' boundaries.
    monkeypatch.setattr(_graph_kernels, "FINGERPRINT_CHUNKS", {"host": chunk, "device": chunk})
    if kernels == "device":
        monkeypatch.setattr(_graph_kernels, "host_kernels", lambda tensor: False)
    rng = np.random.default_rng(seed)
    graphs = [
        nx.karate_club_graph(),
        nx.les_miserables_graph(),
        nx.gnm_random_graph(60, 200, seed=seed),
    ]
    for network in graphs:
        for edge in network.edges:
            network.edges[edge].setdefault("weight", 1.0)
        adjacency = sp.csr_array(nx.to_scipy_sparse_array(network, weight="weight"))
        for label, matrix in perturbations(adjacency, rng):
            for dtype in (np.float64, np.float32):
                matrix = sp.csr_array(matrix, dtype=dtype)
                matrix.eliminate_zeros()
                matrix.sort_indices()
                ptr, columns, weights = upload_csr(matrix)
                rows = entry_rows(ptr, columns.numel())
                verdict = _graph_kernels.symmetric_fingerprint(ptr, columns, weights, rows)
                assert verdict == scipy_symmetric(matrix), (label, dtype)
                for reverse in (False, True):  # told by the fingerprint, or transposed
                    messages = MessageGraph.from_adjacency(matrix, False, reverse=reverse)
                    assert messages.symmetric == scipy_symmetric(matrix), label
