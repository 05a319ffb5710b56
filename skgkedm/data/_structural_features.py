"""Node features computed from the graph alone, for graphs that come without any."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

# Eigenvectors taken from each end of the spectrum: enough low ones to tell apart about
# N_LOW + 1 communities, and high ones for two-sided (bipartite, heterophilous) structure.
N_LOW = 8
N_HIGH = 4
# Steps of subspace iteration: a fixed, linear cost (steps x nnz x eigenvectors), and
# converged on graphs with community structure, where the extreme eigenvalues stand apart.
N_STEPS = 100


def graph_features(adjacency):
    """Return the features of a graph given without any: degrees and spectral positions.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Validated adjacency matrix.

    Returns
    -------
    features : ndarray of shape (n_nodes, 3 + N_LOW + N_HIGH), dtype float32
        :func:`structural_features` followed by :func:`positional_features`.
    """
    return np.hstack([structural_features(adjacency), positional_features(adjacency)])


def structural_features(adjacency):
    """Return three structural features per node.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Validated adjacency matrix.

    Returns
    -------
    features : ndarray of shape (n_nodes, 3), dtype float32
        A constant 1, ``log(1 + degree)`` and the mean of ``log(1 + degree)`` over the
        node's neighbours (0 for an isolated node). Degrees count neighbours joined by
        an edge in either direction, ignoring weights and self-loops.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> path = sp.csr_array(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.float32))
    >>> structural_features(path).round(3)
    array([[1.   , 0.693, 1.099],
           [1.   , 1.099, 0.693],
           [1.   , 0.693, 1.099]], dtype=float32)
    """
    pattern = (adjacency + adjacency.T).astype(bool).astype(np.float64)
    pattern.setdiag(0)
    pattern.eliminate_zeros()
    degree = np.asarray(pattern.sum(axis=1)).ravel()
    log_degree = np.log1p(degree)
    neighbour_sum = pattern @ log_degree
    neighbour_mean = np.divide(
        neighbour_sum, degree, out=np.zeros_like(neighbour_sum), where=degree > 0
    )
    return np.column_stack([np.ones_like(degree), log_degree, neighbour_mean]).astype(np.float32)


def positional_features(adjacency, n_low=N_LOW, n_high=N_HIGH):
    """Return where each node sits in its graph: extreme eigenvectors of the graph.

    The eigenvectors of the normalised adjacency ``D^-1/2 A D^-1/2`` (``A`` made
    symmetric with the larger weight of each pair, self-loops dropped) with the
    largest eigenvalues vary slowly along edges and separate communities, as in
    spectral clustering; those with the smallest vary fastest and separate the two
    sides of bipartite or heterophilous structure. The trivial eigenvectors
    (``sqrt(degree)`` on each connected component, eigenvalue 1) are left out. Both
    ends come from ``N_STEPS`` steps of subspace iteration from a fixed start, so the
    cost is linear in the number of edges and the result deterministic.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Validated adjacency matrix.
    n_low : int, default=N_LOW
        Eigenvectors with the largest eigenvalues (smoothest).
    n_high : int, default=N_HIGH
        Eigenvectors with the smallest eigenvalues (least smooth).

    Returns
    -------
    features : ndarray of shape (n_nodes, n_low + n_high), dtype float32
        Unit eigenvectors scaled by ``sqrt(n_nodes)`` (entries of order 1). Each is
        signed to be positive at the first node (in graph order) where its magnitude
        is at least half its largest, so the signs are deterministic.
        Columns that a graph of fewer than ``n_low + n_high`` nodes cannot fill are 0.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.barbell_graph(4, 0)  # two 4-cliques joined by one edge
    >>> first = positional_features(nx.to_scipy_sparse_array(G, format="csr"))[:, 0]
    >>> bool((first[:4] > 0).all() and (first[4:] < 0).all())
    True
    """
    deflated, n_nodes = _nontrivial_normalized_adjacency(adjacency)
    n_low_found = min(n_low, n_nodes)
    n_high_found = min(n_high, n_nodes - n_low_found)
    features = np.zeros((n_nodes, n_low + n_high))
    features[:, :n_low_found] = _extreme_eigenvectors(deflated, n_nodes, n_low_found, 1.0)
    features[:, n_low : n_low + n_high_found] = _extreme_eigenvectors(
        deflated, n_nodes, n_high_found, -1.0
    )
    # Sign: positive at the first node of at least half the peak magnitude. Unlike the
    # peak itself, that node does not flip with round-off in symmetric graphs.
    magnitude = np.abs(features)
    first = np.argmax(magnitude >= 0.5 * magnitude.max(axis=0), axis=0)
    features *= np.where(features[first, np.arange(n_low + n_high)] < 0, -1.0, 1.0)
    return (features * np.sqrt(n_nodes)).astype(np.float32)


def _nontrivial_normalized_adjacency(adjacency):
    """Return ``x -> (D^-1/2 A D^-1/2 - trivial part) @ x`` and the number of nodes."""
    weights = sp.csr_array(adjacency.maximum(adjacency.T), dtype=np.float64)
    weights.setdiag(0)
    weights.eliminate_zeros()
    n_nodes = weights.shape[0]
    degree = weights.sum(axis=1)
    # sp.diags, not sp.diags_array: SciPy >= 1.10 (diags_array came in 1.11).
    scale = sp.csr_array(
        sp.diags(np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0))
    )
    normalized = scale @ weights @ scale
    # Row c of `trivial` is the unit eigenvector sqrt(degree) on component c, 0 elsewhere.
    n_components, component = connected_components(weights, directed=False)
    size = np.sqrt(np.bincount(component, weights=degree))[component]
    trivial = sp.csr_array(
        (
            np.divide(np.sqrt(degree), size, out=np.zeros_like(size), where=size > 0),
            (component, np.arange(n_nodes)),
        ),
        shape=(n_components, n_nodes),
    )

    def deflated(vectors):
        # Eigenvalues lie in [-1, 1]; the trivial ones move from 1 to 0.
        return normalized @ vectors - trivial.T @ (trivial @ vectors)

    return deflated, n_nodes


def _extreme_eigenvectors(matvec, n_nodes, count, end):
    """Unit eigenvectors of the ``count`` largest (end=1) or smallest (end=-1) eigenvalues.

    Subspace iteration on ``I + end * M``, whose eigenvalues lie in [0, 2] with the
    wanted ones largest, then a Rayleigh-Ritz step to order them, most extreme first.
    """
    vectors, _ = np.linalg.qr(np.random.RandomState(0).standard_normal((n_nodes, count)))
    for _ in range(N_STEPS):
        vectors, _ = np.linalg.qr(vectors + end * matvec(vectors))
    projected = vectors.T @ matvec(vectors)
    values, rotation = np.linalg.eigh((projected + projected.T) / 2)
    return vectors @ rotation[:, np.argsort(-end * values, kind="stable")]
