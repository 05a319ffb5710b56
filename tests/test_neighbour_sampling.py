"""NeighbourSampler: sampled edges exist, fan-outs hold, full fan-out is the k-hop ball."""

import math
from itertools import combinations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy import stats

from skgkedm.datasets import make_node_classification
from skgkedm.loader import _neighbour_sampling as neighbour_sampling
from skgkedm.loader._neighbour_sampling import NeighbourSampler, SampledSubgraph


def in_neighbour_csr(adjacency):
    """indptr, indices (int64 tensors) of the in-neighbours of each node.

    ``adjacency[i, j]`` is an edge from ``i`` to ``j``, so row ``j`` of the transpose
    lists the in-neighbours of ``j``.
    """
    transpose = sp.csr_array(adjacency.T)
    transpose.sort_indices()
    return (
        torch.from_numpy(transpose.indptr.astype(np.int64)),
        torch.from_numpy(transpose.indices.astype(np.int64)),
    )


@pytest.fixture(params=["floyd", "keys"])
def method(request, monkeypatch):
    """Force how nodes with more in-neighbours than the fan-out are drawn.

    By default the sampler picks Floyd's algorithm or sorted random keys from the
    fan-out and the number of candidate edges; small test graphs would only see keys.
    """
    if request.param == "floyd":
        monkeypatch.setattr(neighbour_sampling, "_FLOYD_MAX_FANOUT", 10**9)
        monkeypatch.setattr(neighbour_sampling, "_FLOYD_MIN_CANDIDATES", 0)
    else:
        monkeypatch.setattr(neighbour_sampling, "_FLOYD_MAX_FANOUT", 0)
    return request.param


def generated_graph():
    X, _ = make_node_classification(400, n_features=2, average_degree=12, random_state=0)
    return sp.csr_array(X.adjacency)


def hub_graph():
    """Barabasi-Albert: a few hubs of high degree, symmetric."""
    return sp.csr_array(nx.to_scipy_sparse_array(nx.barabasi_albert_graph(500, 4, seed=0)))


def directed_graph():
    """A random directed graph with self-loops and nodes without in-neighbours."""
    rng = np.random.default_rng(0)
    n_nodes = 200
    source = rng.integers(0, n_nodes, 1500)
    target = rng.integers(0, n_nodes // 2, 1500)  # nodes 100.. receive nothing
    adjacency = sp.csr_array((np.ones(source.size), (source, target)), shape=(n_nodes,) * 2)
    adjacency.setdiag(1.0)  # self-loops everywhere, also on nodes without other edges
    adjacency = sp.csr_array(adjacency)
    adjacency.sum_duplicates()
    return adjacency


GRAPHS = {"generated": generated_graph, "hubs": hub_graph, "directed": directed_graph}


def sample(adjacency, fanouts, seeds, seed=0):
    indptr, indices = in_neighbour_csr(adjacency)
    sampler = NeighbourSampler(indptr, indices, fanouts)
    sub = sampler.sample(torch.as_tensor(seeds), torch.Generator().manual_seed(seed))
    return sampler, sub


def hop_of_nodes(sub, n_hops):
    """Hop at which each local node was reached (0 for seeds), from the edge order.

    Edges of hop ``h`` target exactly the nodes reached at hop ``h`` (seeds for 0).
    """
    hop = np.full(sub.nodes.numel(), -1)
    hop[: sub.n_seeds] = 0
    source, target = sub.edge_index.numpy()
    # Edges come hop by hop, targets in local order, so a target's hop is known
    # before its sources are first met.
    for s, t in zip(source, target, strict=True):
        assert hop[t] >= 0
        if hop[s] < 0:
            hop[s] = hop[t] + 1
    assert hop.min() >= 0 and hop.max() <= n_hops
    return hop


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("fanouts", [[3], [5, 3], [2, -1], [-1, 4, 2], [40, 3], [3, 40]])
def test_sampled_edges_exist_and_fanouts_hold(method, graph, fanouts):
    adjacency = GRAPHS[graph]()
    rng = np.random.default_rng(1)
    seeds = rng.choice(adjacency.shape[0], 25, replace=False)
    sampler, sub = sample(adjacency, fanouts, seeds)
    assert isinstance(sub, SampledSubgraph)
    nodes = sub.nodes.numpy()
    source, target = sub.edge_index.numpy()
    edge_ids = sub.edge_ids.numpy()
    assert sub.nodes.dtype == sub.edge_index.dtype == sub.edge_ids.dtype == torch.int64
    assert sub.n_seeds == 25
    np.testing.assert_array_equal(nodes[:25], seeds)  # seeds first, in order
    assert np.unique(nodes).size == nodes.size
    assert sub.edge_index.shape == (2, edge_ids.size)
    assert np.unique(edge_ids).size == edge_ids.size
    assert np.unique(np.stack([nodes[source], nodes[target]]), axis=1).shape[1] == edge_ids.size

    # Edges come by target (local order, so hop by hop), then CSR position.
    assert np.all(np.diff(target) >= 0)
    assert np.all(np.diff(edge_ids)[np.diff(target) == 0] > 0)

    # Every sampled edge is in the graph, at the CSR position edge_ids names.
    assert np.all(adjacency[nodes[source], nodes[target]] != 0)
    indptr, indices = sampler.indptr.numpy(), sampler.indices.numpy()
    np.testing.assert_array_equal(indices[edge_ids], nodes[source])
    assert np.all(indptr[nodes[target]] <= edge_ids)
    assert np.all(edge_ids < indptr[nodes[target] + 1])

    # Nodes of hop h (h < n_hops) keep min(in-degree, fanout) in-edges; the last
    # hop's nodes are never expanded.
    hop = hop_of_nodes(sub, len(fanouts))
    in_degree = np.diff(indptr)[nodes]
    kept = np.bincount(target, minlength=nodes.size)
    for h, fanout in enumerate(fanouts):
        expected = in_degree if fanout == -1 else np.minimum(in_degree, fanout)
        np.testing.assert_array_equal(kept[hop == h], expected[hop == h])
    assert np.all(kept[hop == len(fanouts)] == 0)
    # Every node but the seeds was reached by a sampled edge from a node one hop closer.
    first_edge = np.full(nodes.size, -1)
    reached, first = np.unique(source, return_index=True)
    first_edge[reached] = first
    non_seed = np.arange(sub.n_seeds, nodes.size)
    assert np.all(first_edge[non_seed] >= 0)
    np.testing.assert_array_equal(hop[target[first_edge[non_seed]]] + 1, hop[non_seed])


def test_new_nodes_in_order_of_first_appearance():
    adjacency = hub_graph()
    _, sub = sample(adjacency, [5, 3], [0, 7, 42])
    source = sub.edge_index[0].numpy()
    new = source[source >= sub.n_seeds]
    _, first = np.unique(new, return_index=True)
    np.testing.assert_array_equal(new[np.sort(first)], np.arange(sub.n_seeds, sub.nodes.numel()))


def k_hop_edges(adjacency, seeds, n_hops):
    """(source, target) global edges of the full n_hops directed sampling, independently.

    Breadth-first with networkx: each node within n_hops - 1 hops of the seeds
    contributes all its in-edges.
    """
    graph = nx.from_scipy_sparse_array(adjacency, create_using=nx.DiGraph)
    distance = {seed: 0 for seed in seeds}
    frontier = list(seeds)
    edges = set()
    for h in range(n_hops):
        reached = []
        for node in frontier:
            for neighbour in graph.predecessors(node):
                edges.add((neighbour, node))
                if neighbour not in distance:
                    distance[neighbour] = h + 1
                    reached.append(neighbour)
        frontier = reached
    return edges, set(distance)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("n_hops", [1, 2, 3])
def test_full_fanout_is_the_k_hop_neighbourhood(graph, n_hops):
    adjacency = GRAPHS[graph]()
    seeds = [3, 1, 4, 15, 9, 2, 6]
    _, sub = sample(adjacency, [-1] * n_hops, seeds)
    nodes = sub.nodes.numpy()
    source, target = sub.edge_index.numpy()
    edges, reached = k_hop_edges(adjacency, seeds, n_hops)
    assert set(zip(nodes[source].tolist(), nodes[target].tolist(), strict=True)) == edges
    assert set(nodes.tolist()) == reached
    # Independently with scipy: the nodes within n_hops of the seeds, against edges.
    within = np.zeros(adjacency.shape[0], dtype=bool)
    within[seeds] = True
    for _ in range(n_hops):
        within |= (adjacency @ within.astype(float)) > 0
    assert set(np.flatnonzero(within).tolist()) == reached


def test_karate_club_full_two_hops():
    adjacency = sp.csr_array(nx.to_scipy_sparse_array(nx.karate_club_graph()))
    _, sub = sample(adjacency, [-1, -1], [0])
    graph = nx.karate_club_graph()
    ball = nx.single_source_shortest_path_length(graph, 0, cutoff=2)
    assert set(sub.nodes.tolist()) == set(ball)
    # In-edges of the seed and of its neighbours, each once.
    expected = sum(graph.degree(node) for node, d in ball.items() if d < 2)
    assert sub.edge_ids.numel() == expected


@pytest.mark.parametrize("fanouts", [[4, 3], [35]])
def test_same_generator_state_same_sample_and_seeds_differ(method, fanouts):
    adjacency = hub_graph()
    indptr, indices = in_neighbour_csr(adjacency)
    sampler = NeighbourSampler(indptr, indices, fanouts)
    seeds = torch.arange(0, 20)  # the oldest Barabasi-Albert nodes are the hubs

    def run(seed):
        return sampler.sample(seeds, torch.Generator().manual_seed(seed))

    first, again, other = run(0), run(0), run(1)
    for a, b in zip(first[:3], again[:3], strict=True):
        assert torch.equal(a, b)
    assert first.n_seeds == again.n_seeds
    assert not torch.equal(first.edge_ids, other.edge_ids)
    # One generator drawn twice moves on.
    generator = torch.Generator().manual_seed(0)
    assert not torch.equal(
        sampler.sample(seeds, generator).edge_ids, sampler.sample(seeds, generator).edge_ids
    )


def disjoint_stars(n_leaves, n_stars):
    """``n_stars`` copies of a star with ``n_leaves`` leaves, and their centres."""
    star = sp.csr_array(nx.to_scipy_sparse_array(nx.star_graph(n_leaves)))
    adjacency = sp.csr_array(sp.block_diag([star] * n_stars, format="csr"))
    return adjacency, np.arange(n_stars) * (n_leaves + 1)


@pytest.mark.parametrize("fanout", [10, 50])
def test_sampling_is_uniform_on_a_star(method, fanout):
    # 2000 draws around the centre of a star with 100 leaves: 20 calls on 100 copies.
    n_leaves, n_calls, n_stars = 100, 20, 100
    adjacency, centres = disjoint_stars(n_leaves, n_stars)
    indptr, indices = in_neighbour_csr(adjacency)
    sampler = NeighbourSampler(indptr, indices, [fanout])
    generator = torch.Generator().manual_seed(0)
    counts = np.zeros(n_leaves + 1)
    for _ in range(n_calls):
        sub = sampler.sample(torch.as_tensor(centres), generator)
        assert sub.edge_ids.numel() == fanout * n_stars
        nodes = sub.nodes.numpy()
        source, target = sub.edge_index.numpy()
        np.add.at(counts, nodes[source] - nodes[target], 1)
    assert counts[0] == 0
    # Each leaf is drawn Binomial(2000, share) times: within 5 sd, and the spread over
    # leaves is about the binomial one (no leaf systematically favoured).
    n_draws, share = n_calls * n_stars, fanout / n_leaves
    sd = np.sqrt(n_draws * share * (1 - share))
    assert np.all(np.abs(counts[1:] - n_draws * share) < 5 * sd)
    assert 0.6 < counts[1:].std() / sd < 1.4


@pytest.mark.parametrize(("n_leaves", "fanout"), [(5, 2), (6, 3), (34, 33)])
def test_sampled_sets_are_uniform(method, n_leaves, fanout):
    """Whole neighbour sets, not only each neighbour, are uniform: many disjoint stars."""
    n_subsets = math.comb(n_leaves, fanout)
    n_stars = 100 * n_subsets
    adjacency, centres = disjoint_stars(n_leaves, n_stars)
    _, sub = sample(adjacency, [fanout], centres)
    nodes = sub.nodes.numpy()
    source, target = sub.edge_index.numpy()
    # Leaves as 1 .. n_leaves of their star; edges come grouped by target, in order.
    leaves = (nodes[source] - nodes[target]).reshape(n_stars, fanout)
    np.testing.assert_array_equal(nodes[target].reshape(n_stars, fanout)[:, 0], centres)
    subsets = {subset: i for i, subset in enumerate(combinations(range(1, n_leaves + 1), fanout))}
    counts = np.bincount([subsets[tuple(row)] for row in leaves.tolist()], minlength=n_subsets)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_seed_without_in_neighbours_has_no_edges():
    # Node 3 sends an edge but receives none; node 4 is isolated.
    adjacency = sp.csr_array(
        (np.ones(4), ([3, 0, 1, 2], [0, 1, 2, 0])), shape=(5, 5), dtype=np.float64
    )
    _, sub = sample(adjacency, [2, 2], [3, 4, 0])
    nodes = sub.nodes.numpy()
    target = sub.edge_index[1].numpy()
    assert not np.isin(nodes[target], [3, 4]).any()
    np.testing.assert_array_equal(nodes[:3], [3, 4, 0])
    # Node 0 receives from 3 (already a seed) and 2 (new); 2 receives from 1.
    np.testing.assert_array_equal(nodes, [3, 4, 0, 2, 1])
    assert sub.edge_ids.numel() == 3


def test_only_isolated_seeds_and_no_seeds():
    adjacency = sp.csr_array((6, 6))
    _, sub = sample(adjacency, [3, 3], [5, 2])
    np.testing.assert_array_equal(sub.nodes.numpy(), [5, 2])
    assert sub.edge_index.shape == (2, 0) and sub.edge_ids.shape == (0,)
    _, sub = sample(generated_graph(), [3], torch.empty(0, dtype=torch.int64))
    assert sub.nodes.numel() == 0 and sub.edge_index.shape == (2, 0) and sub.n_seeds == 0


def test_self_loops_are_sampled():
    adjacency = sp.csr_array(np.eye(3) + np.diag([1.0, 1.0], 1))  # 0->1, 1->2, self-loops
    _, sub = sample(adjacency, [-1], [1])
    nodes = sub.nodes.numpy()
    source, target = sub.edge_index.numpy()
    assert set(zip(nodes[source].tolist(), nodes[target].tolist(), strict=True)) == {
        (0, 1),
        (1, 1),
    }


def test_two_hop_nodes_come_only_through_sampled_one_hop_nodes():
    adjacency = hub_graph()
    seeds = np.array([0, 1, 2, 100, 250])
    sampler, sub = sample(adjacency, [5, 3], seeds)
    nodes = sub.nodes.numpy()
    source, target = sub.edge_index.numpy()
    hop = hop_of_nodes(sub, 2)
    one_hop = nodes[hop == 1]
    # The hub seeds have more than 5 neighbours: sampling dropped some 1-hop nodes.
    full_one_hop = set(np.flatnonzero(adjacency[:, seeds].sum(axis=1) > 0)) - set(seeds)
    assert set(one_hop) < full_one_hop
    # Each 2-hop node has an edge into a sampled 1-hop node and only into those.
    for node in np.flatnonzero(hop == 2):
        assert np.all(hop[target[source == node]] == 1)
    # The 2-hop targets are exactly the sampled 1-hop nodes with in-edges.
    second = hop[target] == 1
    in_degree = np.diff(sampler.indptr.numpy())
    assert set(nodes[target[second]]) == {n for n in one_hop if in_degree[n] > 0}
    # Independently of the edge list: every 2-hop node sends an edge in the graph to
    # some sampled 1-hop node.
    two_hop = nodes[hop == 2]
    assert two_hop.size > 0
    assert np.all(adjacency[two_hop][:, one_hop].sum(axis=1) > 0)


def test_large_fanout_draws_hubs(method):
    adjacency = hub_graph()
    seeds = np.arange(20)
    sampler, sub = sample(adjacency, [40], seeds)
    in_degree = np.diff(sampler.indptr.numpy())[seeds]
    assert (in_degree > 40).sum() >= 3
    kept = np.bincount(sub.edge_index[1].numpy(), minlength=20)
    np.testing.assert_array_equal(kept, np.minimum(in_degree, 40))


@pytest.mark.parametrize(
    "fanouts", [[], [0], [5, -2], [3, 2.0], [True], "ab", 5, [3, None], [np.int64(-3)]]
)
def test_invalid_fanouts_raise(fanouts):
    indptr, indices = in_neighbour_csr(generated_graph())
    with pytest.raises(ValueError, match="fanout"):
        NeighbourSampler(indptr, indices, fanouts)


def test_numpy_integer_fanouts_are_accepted():
    indptr, indices = in_neighbour_csr(generated_graph())
    sampler = NeighbourSampler(indptr, indices, np.array([4, -1]).tolist())
    assert sampler.fanouts == (4, -1)
    assert NeighbourSampler(indptr, indices, (np.int64(3),)).fanouts == (3,)


@pytest.mark.parametrize(
    ("seeds", "match"),
    [([0, 400], "lie in"), ([-1], "lie in"), ([3, 5, 3], "distinct"), ([[1, 2]], "1-D")],
)
def test_invalid_seeds_raise(seeds, match):
    indptr, indices = in_neighbour_csr(generated_graph())
    sampler = NeighbourSampler(indptr, indices, [3])
    with pytest.raises(ValueError, match=match):
        sampler.sample(torch.tensor(seeds), torch.Generator().manual_seed(0))


def test_invalid_csr_raises():
    indptr, indices = in_neighbour_csr(generated_graph())
    with pytest.raises(ValueError, match="indptr"):
        NeighbourSampler(indptr[1:], indices, [3])
    with pytest.raises(ValueError, match="indices"):
        NeighbourSampler(indptr, indices + 400, [3])
    with pytest.raises(ValueError, match="integer"):
        NeighbourSampler(indptr.double(), indices, [3])


def test_int32_csr_and_seeds():
    adjacency = generated_graph()
    indptr, indices = in_neighbour_csr(adjacency)
    sampler32 = NeighbourSampler(indptr.int(), indices.int(), [4, 2])
    sampler64 = NeighbourSampler(indptr, indices, [4, 2])
    seeds = torch.tensor([5, 9, 11])
    a = sampler32.sample(seeds.int(), torch.Generator().manual_seed(3))
    b = sampler64.sample(seeds, torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a[:3], b[:3], strict=True))
    assert a.edge_index.dtype == torch.int64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_invariants():
    adjacency = hub_graph()
    indptr, indices = in_neighbour_csr(adjacency)
    sampler = NeighbourSampler(indptr.cuda(), indices.cuda(), [5, 3])
    generator = torch.Generator(device="cuda").manual_seed(0)
    seeds = torch.arange(10, device="cuda")
    sub = sampler.sample(seeds, generator)
    again = sampler.sample(seeds, torch.Generator(device="cuda").manual_seed(0))
    assert sub.nodes.is_cuda and sub.edge_index.is_cuda
    assert all(torch.equal(x, y) for x, y in zip(sub[:3], again[:3], strict=True))
    nodes = sub.nodes.cpu().numpy()
    source, target = sub.edge_index.cpu().numpy()
    assert np.all(adjacency[nodes[source], nodes[target]] != 0)
    np.testing.assert_array_equal(nodes[:10], np.arange(10))
    kept = np.bincount(target, minlength=nodes.size)[:10]
    np.testing.assert_array_equal(kept, np.minimum(np.diff(indptr.numpy())[:10], 5))
