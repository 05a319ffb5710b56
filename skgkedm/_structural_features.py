"""Node features computed from the graph alone, for graphs that come without any."""

import numpy as np


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
