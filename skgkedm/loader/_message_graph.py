"""A graph's message edges as sparse rows by target node, built without sorting the edges.

Every fit and predict call turns the user's adjacency into the matrices the network
multiplies by: the propagation matrix, its transpose for the backward pass, and the
edges GKEDM attends along. Going through an edge list, each of these was a sort of all
edges (about 9 s of a 1M-node, 10M-edge graph's 12 s epoch). The adjacency already
arrives as CSR, sorted by row; scipy transposes a CSR matrix by counting (one pass over
the edges), and a self-loop per node or a normalisation is a pass over the stored values.
So one transposition is the only reordering a call does, and the rest is arithmetic on
arrays in CSR order.
"""

import numpy as np
import scipy.sparse as sp
import torch

from ..nn._sparse_product import TransposeLayout


class MessageGraph:
    """The edges messages travel along, as CSR rows by target, with and without self-loops.

    Row ``i`` of :attr:`matrix` lists the nodes that send messages to node ``i`` (column
    indices sorted), with the edge weights; input self-loops are dropped (every model
    adds its own).

    Parameters
    ----------
    matrix : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Canonical (sorted indices, no duplicates), no stored diagonal.
    symmetric : bool
        ``matrix`` equals its transpose, weights included.
    reverse : ndarray of shape (matrix.nnz,) or None, default=None
        For a symmetric matrix, the position of the entry ``(j, i)`` for each stored
        entry ``(i, j)``, when already known; computed when first needed otherwise.
    edge_positions : ndarray of shape (matrix.nnz,) or None, default=None
        For each stored entry (a message ``j -> i``), the position among the stored
        entries of the adjacency it came from of the edge whose attributes it
        carries: the edge ``j -> i``, or for a message that ``symmetrize`` added, the
        edge ``i -> j``. None when not tracked.

    Attributes
    ----------
    n_nodes : int
    """

    def __init__(self, matrix, symmetric, reverse=None, edge_positions=None):
        self.matrix = matrix
        self.symmetric = symmetric
        self.n_nodes = matrix.shape[0]
        self.edge_positions = edge_positions
        self._reverse = reverse
        self._looped = None

    @classmethod
    def from_adjacency(cls, adjacency, symmetrize, track_edges=False):
        """The message edges of a graph given by its adjacency matrix.

        Parameters
        ----------
        adjacency : scipy sparse matrix of shape (n_nodes, n_nodes)
            ``adjacency[i, j]`` is the weight of the edge from ``i`` to ``j``. Not modified.
        symmetrize : bool
            Let messages flow both ways along every edge (the larger weight wins).
        track_edges : bool, default=False
            Also record :attr:`edge_positions`, for edge attributes; ``adjacency`` must
            then be canonical CSR (sorted indices, no duplicates), as the containers
            store it.

        Returns
        -------
        MessageGraph
        """
        if track_edges:
            return cls._tracked(adjacency, symmetrize)
        edges = _without_self_loops(adjacency)
        # One transposition, with positions as values: it gives the transpose and, when
        # the graph is symmetric (the usual case), where each edge's reverse is stored.
        transposed_positions = _transposed_positions(edges)
        transposed = sp.csr_array(
            (
                edges.data[transposed_positions.data],
                transposed_positions.indices,
                transposed_positions.indptr,
            ),
            shape=edges.shape,
        )
        if _equal_csr(edges, transposed):
            return cls(edges, symmetric=True, reverse=transposed_positions.data)
        if symmetrize:
            return cls(sp.csr_array(edges.maximum(transposed)), symmetric=True)
        return cls(transposed, symmetric=False)

    @classmethod
    def _tracked(cls, adjacency, symmetrize):
        """:meth:`from_adjacency` with :attr:`edge_positions`."""
        untracked = cls.from_adjacency(adjacency, symmetrize)
        adjacency = sp.csr_array(adjacency)
        rows = _entry_rows(adjacency)
        kept = np.flatnonzero(rows != adjacency.indices)
        rows, columns = rows[kept], adjacency.indices[kept]
        n_nodes = adjacency.shape[0]
        # The message j -> i (entry (i, j) of the matrix) carries the edge j -> i's
        # attributes, or the edge i -> j's where only that one exists (symmetrized).
        candidates = np.concatenate([columns * n_nodes + rows, rows * n_nodes + columns])
        preference = np.repeat([0, 1], len(kept))
        order = np.lexsort((preference, candidates))
        first = np.ones(len(order), dtype=bool)
        first[1:] = candidates[order][1:] != candidates[order][:-1]
        chosen = order[first]
        keys = candidates[chosen]
        positions = np.concatenate([kept, kept])[chosen]
        matrix = untracked.matrix
        wanted = _entry_rows(matrix).astype(np.int64) * n_nodes + matrix.indices
        # Every entry of the matrix is among the keys (sorted by row, then column).
        untracked.edge_positions = positions[np.searchsorted(keys, wanted)]
        return untracked

    @classmethod
    def from_edges(cls, source, target, weight, n_nodes):
        """The message graph of an edge list (no self-loops, no duplicates), taken as
        directed: a sampled neighbourhood need not hold the reverse of its edges.

        Parameters
        ----------
        source, target : ndarray of shape (n_edges,)
            Messages flow from ``source[k]`` to ``target[k]``.
        weight : ndarray of shape (n_edges,)
        n_nodes : int

        Returns
        -------
        MessageGraph
        """
        matrix = sp.csr_array((weight, (target, source)), shape=(n_nodes, n_nodes))
        matrix.sum_duplicates()
        return cls(matrix, symmetric=False)

    @property
    def looped(self):
        """:attr:`matrix` plus one self-loop of weight 1 per node (canonical CSR)."""
        if self._looped is None:
            # sp.identity, not sp.eye_array: SciPy >= 1.10 (eye_array came in 1.12).
            eye = sp.csr_array(sp.identity(self.n_nodes, dtype=self.matrix.dtype, format="csr"))
            self._looped = sp.csr_array(self.matrix + eye)
        return self._looped

    def rows(self, looped):
        """The target node of every stored entry of :attr:`matrix` or :attr:`looped`."""
        return _entry_rows(self.looped if looped else self.matrix)

    def transpose_layout(self, looped):
        """The layout of the transpose of :attr:`matrix` or :attr:`looped`.

        Parameters
        ----------
        looped : bool
            Of the matrix with self-loops.

        Returns
        -------
        TransposeLayout
            Of int64 CPU tensors.
        """
        matrix = self.looped if looped else self.matrix
        if not self.symmetric:
            transposed = _transposed_positions(matrix)
            return _layout(transposed.indptr, transposed.indices, transposed.data)
        if self._reverse is None:
            self._reverse = _transposed_positions(self.matrix).data
        order = self._reverse
        if looped:
            order = _looped_reverse(self.matrix, self.rows(looped=False), order)
        # A symmetric pattern is its own transpose's pattern.
        return _layout(matrix.indptr, matrix.indices, order)


def _transposed_positions(matrix):
    """The transpose of ``matrix`` (CSR), holding each entry's position in ``matrix``."""
    positions = sp.csr_array(
        (np.arange(matrix.nnz, dtype=np.int64), matrix.indices, matrix.indptr),
        shape=matrix.shape,
    )
    return sp.csr_array(positions.T)


def _entry_rows(matrix):
    """The row of every stored entry of a CSR matrix."""
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _without_self_loops(adjacency):
    """A canonical CSR copy of ``adjacency`` without stored diagonal entries."""
    adjacency = sp.csr_array(adjacency, copy=True)
    adjacency.sum_duplicates()
    rows = _entry_rows(adjacency)
    keep = rows != adjacency.indices
    if keep.all():
        return adjacency
    counts = np.bincount(rows[keep], minlength=adjacency.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_array(
        (adjacency.data[keep], adjacency.indices[keep], indptr), shape=adjacency.shape
    )


def _equal_csr(left, right):
    return (
        np.array_equal(left.indptr, right.indptr)
        and np.array_equal(left.indices, right.indices)
        and np.array_equal(left.data, right.data)
    )


def _looped_reverse(matrix, rows, reverse):
    """Reverse positions in ``matrix`` + I, from those in ``matrix`` (no diagonal)."""
    columns = matrix.indices
    # Each earlier row gained one entry, and this row's diagonal sits before larger columns.
    shifted = np.arange(matrix.nnz) + rows + (columns > rows)
    order = np.arange(matrix.nnz + matrix.shape[0])
    order[shifted] = shifted[reverse]
    return order


def _layout(ptr, columns, order):
    return TransposeLayout(
        torch.from_numpy(ptr.astype(np.int64)),
        torch.from_numpy(columns.astype(np.int64)),
        torch.from_numpy(order.astype(np.int64)),
    )
