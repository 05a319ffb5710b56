import pickle
import sys
import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_array, check_consistent_length

from skgkedm import GKEDMClassifier, GraphList, GraphNodes
from skgkedm.data._structural_features import positional_features

# A 5-node path 0-1-2-3-4 plus the edge 0-4 (a cycle), with 2 features per node.
CYCLE = np.array(
    [
        [0, 1, 0, 0, 1],
        [1, 0, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 1],
        [1, 0, 0, 1, 0],
    ],
    dtype=np.float64,
)
CYCLE_FEATURES = np.arange(10, dtype=np.float64).reshape(5, 2)


def make_nodes(n_nodes=12, n_features=3, sparse_features=False, seed=0):
    """A random undirected graph with random features, and the arrays it was built from."""
    rng = np.random.RandomState(seed)
    dense = np.triu((rng.random_sample((n_nodes, n_nodes)) < 0.3).astype(np.float64), 1)
    adjacency = sp.csr_array(dense + dense.T)
    features = rng.standard_normal((n_nodes, n_features))
    if sparse_features:
        features = sp.csr_array(np.where(features > 0.5, features, 0.0))
    return GraphNodes(adjacency, features), adjacency, features


def dense(matrix):
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


# --- construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "to_adjacency",
    [sp.csr_array, sp.csr_matrix, sp.coo_array, sp.csc_matrix, sp.lil_array, np.asarray, list],
    ids=["csr_array", "csr_matrix", "coo_array", "csc_matrix", "lil_array", "ndarray", "list"],
)
def test_construction_from_any_adjacency_format(to_adjacency):
    adjacency = CYCLE.tolist() if to_adjacency is list else to_adjacency(CYCLE)
    X = GraphNodes(adjacency, CYCLE_FEATURES)
    assert sp.issparse(X.adjacency)
    assert X.adjacency.format == "csr"
    np.testing.assert_array_equal(X.adjacency.toarray(), CYCLE)
    np.testing.assert_array_equal(X.features, CYCLE_FEATURES)
    assert X.n_nodes == 5
    assert X.n_features == 2
    assert X.adjacency.nnz == 10


@pytest.mark.parametrize(
    "to_features", [sp.csr_array, sp.csr_matrix, sp.coo_array, sp.csc_array], ids=str
)
def test_sparse_features_stay_sparse(to_features):
    features = np.zeros((5, 40))
    features[[0, 2, 4], [3, 17, 39]] = [1.0, 2.5, -0.5]
    X = GraphNodes(sp.csr_array(CYCLE), to_features(features))
    assert sp.issparse(X.features)
    assert X.features.format == "csr"
    assert X.features.nnz == 3
    assert X.features.dtype == np.float32
    np.testing.assert_array_equal(X.features.toarray(), features)
    # Subsets keep the very same sparse matrix.
    assert sp.issparse(X[[1, 2]].features)


@pytest.mark.parametrize("to_features", [np.asarray, list], ids=["ndarray", "list"])
def test_dense_features_stay_dense(to_features):
    features = CYCLE_FEATURES.tolist() if to_features is list else CYCLE_FEATURES
    X = GraphNodes(sp.csr_array(CYCLE), features)
    assert isinstance(X.features, np.ndarray)
    assert not sp.issparse(X.features)
    assert X.features.dtype == np.float32
    np.testing.assert_array_equal(X.features, CYCLE_FEATURES)


def test_len_shape_indices_node_ids():
    X = GraphNodes(sp.csr_array(CYCLE), CYCLE_FEATURES)
    assert len(X) == 5
    assert X.shape == (5, 2)
    np.testing.assert_array_equal(X.indices, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(X.node_ids, [0, 1, 2, 3, 4])

    subset = X[[4, 1]]
    assert len(subset) == 2
    assert subset.shape == (2, 2)
    assert subset.n_nodes == 5
    np.testing.assert_array_equal(subset.indices, [4, 1])
    np.testing.assert_array_equal(subset.node_ids, [4, 1])
    assert repr(subset) == "GraphNodes(n_selected=2, n_nodes=5, n_edges=10, n_features=2)"


def test_no_features_gives_structural_features():
    # Degrees on the 5-cycle are all 2, so every node sees log(3) around it.
    X = GraphNodes(sp.csr_array(CYCLE))
    assert X.shape == (5, 15)
    expected = np.tile([1.0, np.log(3.0), np.log(3.0)], (5, 1))
    np.testing.assert_allclose(X.features[:, :3], expected, rtol=1e-6)


def test_duplicate_entries_are_summed():
    coo = sp.coo_array(([1.0, 2.0, 4.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
    X = GraphNodes(coo, np.ones((2, 1)))
    np.testing.assert_array_equal(X.adjacency.toarray(), [[0.0, 3.0], [4.0, 0.0]])


# --- indexing -------------------------------------------------------------------------

N = 12
KEYS = {
    "int_array": np.array([3, 0, 11, 5]),
    "negative_ints": np.array([-1, -12, 4]),
    "list": [2, 7, 7, 1],
    "empty_list": [],
    "bool_mask": np.arange(N) % 3 == 0,
    "bool_list": [i % 2 == 1 for i in range(N)],
    "slice": slice(2, 9),
    "slice_step": slice(None, None, -3),
    "uint_array": np.array([11, 1], dtype=np.uint64),
    "range": range(3, 6),
    "numpy_int": np.int64(-2),
    "python_int": 5,
    "ellipsis_key": (np.array([6, 2]), Ellipsis),
    "full_slice_key": (np.array([6, 2]), slice(None)),
    "mask_ellipsis_key": (np.arange(N) < 4, Ellipsis),
}


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_indexing_selects_like_numpy_rows(key):
    X, _, features = make_nodes(N)
    row_key = key[0] if isinstance(key, tuple) else key
    expected = np.atleast_1d(np.arange(N)[row_key])
    subset = X[key]
    assert isinstance(subset, GraphNodes)
    np.testing.assert_array_equal(subset.indices, expected)
    assert len(subset) == len(expected)
    assert subset.shape == (len(expected), 3)
    np.testing.assert_allclose(X.features[subset.indices], features[expected], rtol=1e-6)


OUTER = {
    "array": np.array([10, 3, 5, 0, 8, 1]),
    "mask": np.arange(N) % 2 == 0,
    "slice": slice(0, 12, 2),
}
INNER = {
    "array": np.array([4, 0, -1]),
    "mask": np.array([True, False, True, True, False, False]),
    "slice": slice(None, None, -2),
}


@pytest.mark.parametrize("outer", OUTER.values(), ids=OUTER.keys())
@pytest.mark.parametrize("inner", INNER.values(), ids=INNER.keys())
def test_nested_subsets_compose(outer, inner):
    X, _, _ = make_nodes(N)
    a = np.arange(N)[outer]
    nested = X[outer][inner]
    np.testing.assert_array_equal(nested.indices, X[a[inner]].indices)
    np.testing.assert_array_equal(nested.indices, a[inner])
    assert nested.adjacency is X.adjacency
    assert nested.features is X.features


@pytest.mark.parametrize("sparse_features", [False, True])
def test_subsets_share_graph_objects(sparse_features):
    X, _, _ = make_nodes(N, sparse_features=sparse_features)
    for subset in (X[[1, 2]], X[X.indices > 4], X[3:], X[[0]][[0]], X[(np.array([5]), ...)]):
        assert subset.adjacency is X.adjacency
        assert subset.features is X.features


def test_indices_are_read_only():
    X, _, _ = make_nodes(N)
    for nodes in (X, X[[3, 1]], X[2:5]):
        with pytest.raises(ValueError, match="read-only"):
            nodes.indices[0] = 7
    np.testing.assert_array_equal(X.indices, np.arange(N))


def test_subset_indices_do_not_alias_the_key():
    X, _, _ = make_nodes(N)
    key = np.array([3, 4, 5])
    subset = X[key]
    key[0] = 0
    np.testing.assert_array_equal(subset.indices, [3, 4, 5])


@pytest.mark.parametrize("sparse_features", [False, True])
@pytest.mark.parametrize("sparse_adjacency", [False, True])
def test_inputs_are_never_modified(sparse_features, sparse_adjacency):
    rng = np.random.RandomState(1)
    adjacency = np.triu(rng.random_sample((8, 8)), 1)
    adjacency[adjacency < 0.5] = 0
    adjacency = adjacency + adjacency.T
    adjacency[2, 2] = 1.5  # a self-loop
    features = rng.standard_normal((8, 4))
    features[features < 0] = 0
    if sparse_adjacency:
        # Unsorted, duplicated coordinates that a careless sum_duplicates would rewrite.
        coo = sp.coo_array(adjacency)
        adjacency = sp.coo_array(
            (np.r_[coo.data, [0.25]], (np.r_[coo.row, [0]], np.r_[coo.col, [1]])), shape=(8, 8)
        )
        adjacency_before = (adjacency.data.copy(), adjacency.row.copy(), adjacency.col.copy())
    else:
        adjacency_before = adjacency.copy()
    if sparse_features:
        features = sp.csr_matrix(features)
        features_before = features.toarray()
    else:
        features_before = features.copy()

    X = GraphNodes(adjacency, features)
    X[[1, 2]][[0]]

    if sparse_adjacency:
        for got, expected in zip(
            (adjacency.data, adjacency.row, adjacency.col), adjacency_before, strict=True
        ):
            np.testing.assert_array_equal(got, expected)
        assert adjacency.data.dtype == np.float64
    else:
        np.testing.assert_array_equal(adjacency, adjacency_before)
    np.testing.assert_array_equal(dense(features), features_before)

    # GraphNodes holds its own copy: changing the inputs afterwards does not reach it.
    graph_before = X.adjacency.toarray()
    if sparse_adjacency:
        adjacency.data[:] = 9.0
    else:
        adjacency[:] = 9.0
    if sparse_features:
        features.data[:] = 9.0
    else:
        features[:] = 9.0
    np.testing.assert_array_equal(X.adjacency.toarray(), graph_before)
    np.testing.assert_allclose(dense(X.features), features_before, rtol=1e-6)


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [12, -13, [0, 12], np.array([-13, 1]), (np.array([20]), Ellipsis)],
    ids=["int", "negative_int", "list", "negative_array", "tuple"],
)
def test_out_of_range_index_raises_index_error(key):
    X, _, _ = make_nodes(N)
    with pytest.raises(IndexError, match="out of range"):
        X[key]


@pytest.mark.parametrize("length", [N - 1, N + 1, 1])
def test_wrong_length_mask_raises_index_error(length):
    X, _, _ = make_nodes(N)
    with pytest.raises(IndexError, match="mask"):
        X[np.ones(length, dtype=bool)]


def test_mask_on_a_subset_uses_the_subset_length():
    X, _, _ = make_nodes(N)
    subset = X[:4]
    with pytest.raises(IndexError, match="mask"):
        subset[np.ones(N, dtype=bool)]
    np.testing.assert_array_equal(subset[np.array([True, False, False, True])].indices, [0, 3])


@pytest.mark.parametrize(
    "key",
    [
        1.0,
        np.float64(2.0),
        [0.0, 1.0],
        np.array([1.5]),
        "a",
        np.array([[0, 1]]),
        (0, 1),
        (slice(None), 0),
    ],
    ids=["float", "np_float", "float_list", "float_array", "str", "2d", "column_int", "column"],
)
def test_bad_keys_raise_index_error(key):
    X, _, _ = make_nodes(N)
    with pytest.raises(IndexError):
        X[key]


@pytest.mark.parametrize(
    ("adjacency", "features", "match"),
    [
        (np.ones((3, 4)), None, "square"),
        (np.ones(3), None, "square"),
        (sp.csr_array((3, 2)), None, "square"),
        (np.zeros((0, 0)), None, "empty"),
        (sp.csr_array((0, 0)), None, "empty"),
        (np.array([[0.0, -1.0], [1.0, 0.0]]), None, "negative"),
        (sp.csr_array(np.array([[0.0, 1.0], [-0.5, 0.0]])), None, "negative"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), None, "NaN"),
        (sp.csr_array(np.array([[0.0, np.nan], [1.0, 0.0]])), None, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 0.0]]), None, "infinity"),
        (np.eye(2), np.array([[1.0], [np.nan]]), "NaN"),
        (np.eye(2), sp.csr_array(np.array([[1.0], [np.inf]])), "infinity"),
        (np.eye(3), np.ones((2, 4)), "rows"),
        (np.eye(3), np.ones((4, 4)), "rows"),
        (np.eye(2), np.array([["a", "b"], ["c", "d"]]), "features"),
        (np.eye(2), np.ones(2), "2D"),
    ],
    ids=[
        "non_square",
        "1d",
        "sparse_non_square",
        "empty",
        "sparse_empty",
        "negative",
        "sparse_negative",
        "nan",
        "sparse_nan",
        "inf",
        "nan_features",
        "inf_sparse_features",
        "too_few_feature_rows",
        "too_many_feature_rows",
        "string_features",
        "1d_features",
    ],
)
def test_invalid_graph_raises_value_error(adjacency, features, match):
    with pytest.raises(ValueError, match=match):
        GraphNodes(adjacency, features)


@pytest.mark.parametrize(
    "graph",
    [
        nx.empty_graph(1),
        nx.empty_graph(6),
        nx.path_graph(2),
        nx.cycle_graph(5),
        nx.karate_club_graph(),
        nx.disjoint_union(nx.complete_graph(40), nx.star_graph(30)),
    ],
    ids=["one_node", "no_edges", "one_edge", "cycle", "karate", "two_components"],
)
def test_computed_features_have_a_fixed_count_and_are_deterministic(graph):
    # The count must not depend on the graph: a model fitted on one featureless graph
    # predicts on any other (n_features_in_).
    first = GraphNodes.from_networkx(graph).features
    assert first.shape == (graph.number_of_nodes(), 15)
    assert first.dtype == np.float32
    assert np.all(np.isfinite(first))
    np.testing.assert_array_equal(GraphNodes.from_networkx(graph).features, first)


def normalized_adjacency(G):
    adjacency = nx.to_numpy_array(G, weight=None)
    scale = 1 / np.sqrt(adjacency.sum(axis=1))
    return adjacency * scale[:, None] * scale[None, :]


def test_positional_features_are_the_extreme_eigenvectors():
    # Four planted communities: eigenvalue 1 (trivial, left out), then three that
    # stand apart from the rest of the spectrum and span the community structure.
    G = nx.planted_partition_graph(4, 40, 0.3, 0.02, seed=0)
    values, vectors = np.linalg.eigh(normalized_adjacency(G))
    assert values[-4] - values[-5] > 0.3
    features = positional_features(nx.to_scipy_sparse_array(G, format="csr"))
    found = features[:, :3] / np.linalg.norm(features[:, :3], axis=0)
    cosines = np.linalg.svd(vectors[:, -4:-1].T @ found, compute_uv=False)
    np.testing.assert_allclose(cosines, 1.0, atol=1e-4)
    # Orthogonal to the trivial eigenvector sqrt(degree).
    assert np.abs(vectors[:, -1] @ found).max() < 1e-6


def test_positional_features_separate_communities_and_bipartite_sides():
    # Two 5-cliques joined by one edge: the smoothest eigenvector splits them.
    barbell = positional_features(nx.to_scipy_sparse_array(nx.barbell_graph(5, 0)))
    assert np.all(barbell[:5, 0] > 0) and np.all(barbell[5:, 0] < 0)
    # Women and events of the Southern women graph: the least smooth one splits them.
    G = nx.davis_southern_women_graph()
    sides = np.array([G.nodes[node]["bipartite"] for node in G])
    davis = positional_features(nx.to_scipy_sparse_array(G, format="csr"))
    assert np.all(davis[sides == 0, 8] > 0) and np.all(davis[sides == 1, 8] < 0)


def test_a_featureless_graph_learns_its_communities():
    # Degree features alone gave chance (0.47) on the hidden half of the karate club.
    G = nx.karate_club_graph()
    y = np.array([G.nodes[node]["club"] for node in G])
    train, test = train_test_split(np.arange(34), train_size=0.5, stratify=y, random_state=0)
    X = GraphNodes.from_networkx(G)
    clf = GKEDMClassifier(max_epochs=50, hidden_dims=(16,), schedule="joint", random_state=0)
    clf.fit(X[train], y[train])
    assert clf.score(X[test], y[test]) >= 0.85
    # The feature count does not depend on the graph, so any other graph can be predicted.
    assert clf.predict(nx.les_miserables_graph()).shape == (77,)


# --- networkx -------------------------------------------------------------------------


def test_from_networkx_karate_club_structural_features():
    G = nx.karate_club_graph()
    X = GraphNodes.from_networkx(G)
    assert X.shape == (34, 15)
    np.testing.assert_array_equal(X.node_ids, list(G.nodes))
    # karate_club_graph's edges carry a "weight" attribute (interaction counts).
    expected_adjacency = np.zeros((34, 34))
    for u, v, w in G.edges(data="weight"):
        expected_adjacency[u, v] = expected_adjacency[v, u] = w
    np.testing.assert_array_equal(X.adjacency.toarray(), expected_adjacency)

    log_degree = {node: np.log1p(G.degree(node)) for node in G}
    for position, node in enumerate(G.nodes):
        neighbour_mean = np.mean([log_degree[other] for other in G.neighbors(node)])
        np.testing.assert_allclose(
            X.features[position, :3], [1.0, log_degree[node], neighbour_mean], rtol=1e-5
        )


def test_from_networkx_string_ids_keep_node_order():
    G = nx.Graph()
    G.add_nodes_from(["zeta", "alpha", "mu"])
    for node, value in zip(G.nodes, ([0.0, 1.0], [2.0, 3.0], [4.0, 5.0]), strict=True):
        G.nodes[node]["x"] = value
    G.add_edge("mu", "zeta", weight=2.0)
    X = GraphNodes.from_networkx(G)
    assert list(X.node_ids) == ["zeta", "alpha", "mu"]
    np.testing.assert_array_equal(X.features, [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(
        X.adjacency.toarray(), [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    )
    assert list(X[[2, 0]].node_ids) == ["mu", "zeta"]
    assert list(X[np.array([False, True, True])].node_ids) == ["alpha", "mu"]


def test_from_networkx_tuple_ids():
    G = nx.grid_2d_graph(2, 3)
    X = GraphNodes.from_networkx(G)
    assert X.shape == (6, 15)
    assert X.node_ids.shape == (6,)
    assert list(X.node_ids) == list(G.nodes)
    assert X[[4]].node_ids[0] == list(G.nodes)[4]
    assert isinstance(X.node_ids[0], tuple)
    nodes = list(G.nodes)
    for u, v in G.edges:
        assert X.adjacency[nodes.index(u), nodes.index(v)] == 1.0
    assert X.adjacency.nnz == 2 * G.number_of_edges()


@pytest.mark.parametrize("from_graph", [False, True])
def test_node_ids_cannot_be_changed_through_the_attribute(from_graph):
    G = nx.path_graph(["a", "b", "c"])
    X = GraphNodes.from_networkx(G) if from_graph else GraphNodes(nx.to_scipy_sparse_array(G))
    expected = list(X.node_ids)
    ids = X.node_ids
    try:
        ids[0] = 2
    except ValueError:
        pass
    assert list(X.node_ids) == expected
    assert list(X[[0]].node_ids) == expected[:1]


def test_from_networkx_directed_graph():
    G = nx.DiGraph()
    G.add_nodes_from([0, 1, 2])
    G.add_edge(0, 1)
    G.add_edge(2, 1, weight=0.5)
    X = GraphNodes.from_networkx(G)
    np.testing.assert_array_equal(
        X.adjacency.toarray(), [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.5, 0.0]]
    )
    # Structural degrees count edges in either direction.
    np.testing.assert_allclose(X.features[:, 1], np.log1p([1.0, 2.0, 1.0]), rtol=1e-6)


@pytest.mark.parametrize("directed", [False, True])
def test_from_networkx_multigraph_sums_parallel_edges(directed):
    G = nx.MultiDiGraph() if directed else nx.MultiGraph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("a", "b", weight=3.0)
    G.add_edge("b", "c")
    G.add_edge("b", "c")
    X = GraphNodes.from_networkx(G)
    assert X.adjacency[0, 1] == 5.0
    assert X.adjacency[1, 2] == 2.0
    assert X.adjacency[1, 0] == (0.0 if directed else 5.0)
    unweighted = GraphNodes.from_networkx(G, weight=None)
    assert unweighted.adjacency[0, 1] == 2.0


def test_from_networkx_self_loops_isolated_nodes_and_components():
    G = nx.Graph()
    G.add_nodes_from(range(7))
    G.add_edges_from([(0, 1), (1, 2)])  # component {0, 1, 2}
    G.add_edges_from([(3, 4)])  # component {3, 4}
    G.add_edge(4, 4)  # self-loop
    # nodes 5 and 6 are isolated
    X = GraphNodes.from_networkx(G)
    adjacency = X.adjacency.toarray()
    assert adjacency[4, 4] > 0
    assert adjacency[5].sum() == adjacency[:, 5].sum() == 0
    assert adjacency[6].sum() == adjacency[:, 6].sum() == 0
    assert adjacency[:3, 3:].sum() == adjacency[3:, :3].sum() == 0
    # Isolated nodes: degree 0, no neighbours; self-loops do not count as degree.
    np.testing.assert_array_equal(X.features[5, :3], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(X.features[4, :3], [1.0, np.log(2.0), np.log(2.0)], rtol=1e-6)
    np.testing.assert_allclose(X.features[1, :3], [1.0, np.log(3.0), np.log(2.0)], rtol=1e-6)
    assert np.all(np.isfinite(X.features))


@pytest.mark.parametrize(
    ("value", "expected"),
    [([1.0, 2.0], [1.0, 2.0]), (np.array([[3.0, 4.0]]), [3.0, 4.0]), (7, [7.0])],
    ids=["list", "2d_array", "scalar"],
)
def test_from_networkx_feature_values(value, expected):
    G = nx.path_graph(3)
    for node in G:
        G.nodes[node]["x"] = value
    X = GraphNodes.from_networkx(G)
    np.testing.assert_array_equal(X.features, np.tile(expected, (3, 1)))


def test_from_networkx_custom_feature_attr():
    G = nx.path_graph(3)
    for node in G:
        G.nodes[node]["embedding"] = [float(node), -float(node)]
        G.nodes[node]["x"] = [99.0]
    X = GraphNodes.from_networkx(G, feature_attr="embedding")
    np.testing.assert_array_equal(X.features, [[0.0, 0.0], [1.0, -1.0], [2.0, -2.0]])
    assert GraphNodes.from_networkx(G).shape == (3, 1)


def test_from_networkx_attribute_missing_on_some_nodes():
    G = nx.path_graph(["first", "second", "third"])
    G.nodes["first"]["x"] = [1.0]
    G.nodes["third"]["x"] = [1.0]
    with pytest.raises(ValueError, match="'second'"):
        GraphNodes.from_networkx(G)


@pytest.mark.parametrize("value", ["abc", {"a": 1}, [1.0, "b"]], ids=["str", "dict", "mixed"])
def test_from_networkx_non_numeric_attribute(value):
    G = nx.path_graph(["p", "q"])
    G.nodes["p"]["x"] = [1.0, 2.0]
    G.nodes["q"]["x"] = value
    with pytest.raises(ValueError, match="'q'"):
        GraphNodes.from_networkx(G)


def test_from_networkx_ragged_attribute():
    G = nx.path_graph(3)
    for node in G:
        G.nodes[node]["x"] = [1.0] * (node + 1)
    with pytest.raises(ValueError, match="same length"):
        GraphNodes.from_networkx(G)


def test_from_networkx_nan_feature():
    G = nx.path_graph(2)
    G.nodes[0]["x"] = [1.0]
    G.nodes[1]["x"] = [np.nan]
    with pytest.raises(ValueError, match="NaN"):
        GraphNodes.from_networkx(G)


def test_from_networkx_rejects_non_graphs_and_empty_graphs():
    with pytest.raises(TypeError, match="networkx"):
        GraphNodes.from_networkx(np.eye(3))
    with pytest.raises(ValueError, match="no nodes"):
        GraphNodes.from_networkx(nx.Graph())


def test_from_networkx_does_not_modify_the_graph():
    G = nx.les_miserables_graph()
    for position, node in enumerate(G):
        G.nodes[node]["x"] = [float(position), 1.0]
    before = (list(G.nodes(data=True)), list(G.edges(data=True)))
    before = pickle.dumps(before)
    X = GraphNodes.from_networkx(G)
    assert X.shape == (G.number_of_nodes(), 2)
    assert pickle.dumps((list(G.nodes(data=True)), list(G.edges(data=True)))) == before


# --- scikit-learn utilities and pickling ----------------------------------------------


def test_safe_indexing():
    X, _, _ = make_nodes(N)
    subset = _safe_indexing(X, np.array([5, 1, 9]))
    assert isinstance(subset, GraphNodes)
    np.testing.assert_array_equal(subset.indices, [5, 1, 9])
    masked = _safe_indexing(X, np.arange(N) >= 8)
    np.testing.assert_array_equal(masked.indices, [8, 9, 10, 11])
    listed = _safe_indexing(X[2:], [0, 1])
    np.testing.assert_array_equal(listed.indices, [2, 3])


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, check_array, lambda X: np.hstack([np.ones((len(X), 1)), X])],
    ids=["asarray", "array", "check_array", "hstack"],
)
def test_conversion_to_an_array_is_refused(convert):
    X, _, _ = make_nodes(N)
    with pytest.raises(TypeError, match=r"GraphNodes cannot become a NumPy array.*X\.features"):
        convert(X[:4])


def test_conversion_to_an_array_is_refused_at_once_on_cora(cora):
    # NumPy used to read GraphNodes as a nested sequence and recurse 64 levels deep
    # through the 2,708 nodes before failing (21 to 36 seconds on a 2-core machine).
    started = time.perf_counter()
    with pytest.raises(TypeError, match="GraphNodes"):
        np.asarray(cora.X)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("stratify", [False, True])
def test_train_test_split(stratify):
    X, _, _ = make_nodes(40)
    y = np.arange(40) % 2
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y if stratify else None
    )
    assert isinstance(X_train, GraphNodes)
    assert isinstance(X_test, GraphNodes)
    assert len(X_train) == 30 and len(X_test) == 10
    assert X_train.adjacency is X.adjacency
    assert set(X_train.indices) | set(X_test.indices) == set(range(40))
    assert not set(X_train.indices) & set(X_test.indices)
    np.testing.assert_array_equal(y_train, y[X_train.indices])
    np.testing.assert_array_equal(y_test, y[X_test.indices])
    if stratify:
        assert np.bincount(y_test).tolist() == [5, 5]


def test_check_consistent_length():
    X, _, _ = make_nodes(N)
    check_consistent_length(X, np.zeros(N))
    check_consistent_length(X[:5], np.zeros(5), X[[1, 2, 3, 4, 5]])
    with pytest.raises(ValueError, match="inconsistent"):
        check_consistent_length(X, np.zeros(N - 1))


@pytest.mark.parametrize("sparse_features", [False, True])
def test_pickle_round_trip(sparse_features):
    X, _, _ = make_nodes(N, sparse_features=sparse_features)
    subset = X[[7, 2, 2, 0]]
    restored = pickle.loads(pickle.dumps(subset))
    np.testing.assert_array_equal(restored.indices, [7, 2, 2, 0])
    np.testing.assert_array_equal(restored.adjacency.toarray(), X.adjacency.toarray())
    np.testing.assert_array_equal(dense(restored.features), dense(X.features))
    assert sp.issparse(restored.features) == sparse_features
    assert restored.shape == subset.shape
    with pytest.raises(ValueError, match="read-only"):
        restored.indices[0] = 1
    # Subsets pickled together still share one graph.
    first, second = pickle.loads(pickle.dumps([X[:3], X[3:]]))
    assert first.adjacency is second.adjacency
    assert first.features is second.features


def test_pickle_round_trip_keeps_networkx_ids():
    X = GraphNodes.from_networkx(nx.florentine_families_graph())
    restored = pickle.loads(pickle.dumps(X[[3, 0]]))
    ids = list(X.node_ids)
    assert list(restored.node_ids) == [ids[3], ids[0]]
    with pytest.raises(ValueError, match="read-only"):
        restored.indices[0] = 1


@pytest.mark.parametrize("kind", ["GraphNodes", "GraphList"])
def test_both_containers_select_refuse_arrays_size_and_pickle_alike(kind):
    graphs = [nx.path_graph(n) for n in range(2, 8)]
    if kind == "GraphNodes":
        X = GraphNodes.from_networkx(nx.disjoint_union_all(graphs))[:6]
    else:
        X = GraphList.from_networkx(graphs)
    assert len(X) == 6
    np.testing.assert_array_equal(X[[4, 1]].indices, X.indices[[4, 1]])
    np.testing.assert_array_equal(X[X.indices % 2 == 0].indices, X.indices[::2])
    np.testing.assert_array_equal(X[-1:].indices, X.indices[5:])
    with pytest.raises(IndexError, match=f"{kind} selects rows only"):
        X[0, 1]
    with pytest.raises(IndexError, match="out of range for 6 selected samples"):
        X[[6]]
    with pytest.raises(TypeError, match=f"{kind} cannot become a NumPy array"):
        np.asarray(X)
    # The stored data counts in full, once, whatever the selection.
    assert sys.getsizeof(X[:1]) - X[:1].indices.nbytes == sys.getsizeof(X) - X.indices.nbytes
    loaded = pickle.loads(pickle.dumps(X[[3, 0]]))
    np.testing.assert_array_equal(loaded.indices, X.indices[[3, 0]])
    assert not loaded.indices.flags.writeable
