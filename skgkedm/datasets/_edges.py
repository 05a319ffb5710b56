"""Undirected graphs from lists of node pairs, as the dataset loaders build them."""

import numpy as np
import scipy.sparse as sp


def undirected_adjacency(source, target, n_nodes):
    """The 0/1 adjacency of the undirected edges ``source[k] -- target[k]``.

    Self-loops are dropped; a pair given twice, in either direction, is one edge.

    Parameters
    ----------
    source, target : ndarray of shape (n_pairs,)
    n_nodes : int

    Returns
    -------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes), dtype float32
        Symmetric, canonical, with every stored value 1.
    """
    keep = source != target
    source, target = source[keep], target[keep]
    adjacency = sp.coo_array(
        (
            np.ones(2 * len(source), dtype=np.float32),
            (np.concatenate((source, target)), np.concatenate((target, source))),
        ),
        shape=(n_nodes, n_nodes),
    ).tocsr()
    adjacency.data[:] = 1.0
    return adjacency
