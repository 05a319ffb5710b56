"""A graph's message edges as sparse rows by target node, built with torch on its device.

Every fit and predict call turns the user's adjacency into the matrices the network
multiplies by: the propagation matrix, its transpose for the backward pass, and the
edges GKEDM attends along. The adjacency's CSR arrays are uploaded once, as they are, to
the device the network runs on, and everything else is built there with torch ops, so a
CUDA fit never sends the graph back to the host (only scalars such as "is the graph
symmetric?" are read). The adjacency already arrives as canonical CSR, sorted by row:
whether it is symmetric (the usual case) is told by checksums of its entries against
their reverses' (:func:`symmetric_fingerprint`), without transposing it; one stable sort
of the column indices transposes it where needed, and a self-loop per node or a
normalisation is a pass over the stored values in CSR order.
"""

import numpy as np
import scipy.sparse as sp
import torch

from ..nn._graph_kernels import (
    entry_rows,
    put,
    row_pointers,
    symmetric_fingerprint,
    take,
    transposed_pattern,
)
from ..nn._sparse_product import TransposeLayout


class MessageGraph:
    """The edges messages travel along, as CSR rows by target, with and without self-loops.

    Row ``i`` lists the nodes that send messages to node ``i`` (column indices sorted),
    with the edge weights; input self-loops are dropped (every model adds its own). All
    tensors live on one device.

    Parameters
    ----------
    ptr : Tensor of shape (n_nodes + 1,)
        Row pointers (int64).
    columns : Tensor of shape (n_entries,)
        Source node of each stored entry (int64), sorted within each row, no duplicates
        and no diagonal entry.
    weights : Tensor of shape (n_entries,)
        Edge weights (float32 or float64).
    symmetric : bool
        The matrix equals its transpose, weights included.
    reverse : Tensor of shape (n_entries,) or None, default=None
        For a symmetric matrix, the position of the entry ``(j, i)`` for each stored
        entry ``(i, j)``, when already known; computed when first needed otherwise.
    edge_positions : Tensor of shape (n_entries,) or None, default=None
        For each stored entry (a message ``j -> i``), the position among the stored
        entries of the adjacency it came from of the edge whose attributes it
        carries: the edge ``j -> i``, or for a message that ``symmetrize`` added, the
        edge ``i -> j``. None when not tracked.

    Attributes
    ----------
    n_nodes : int

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skgkedm.loader._message_graph import MessageGraph
    >>> adjacency = sp.csr_array(([1.0, 1.0], ([0, 1], [1, 2])), shape=(3, 3))
    >>> messages = MessageGraph.from_adjacency(adjacency, symmetrize=True)
    >>> messages.symmetric, messages.ptr.tolist(), messages.columns.tolist()
    (True, [0, 1, 3, 4], [1, 0, 2, 1])
    >>> looped = messages.looped
    >>> looped.ptr.tolist(), looped.columns.tolist()
    ([0, 2, 5, 7], [0, 1, 0, 1, 2, 1, 2])
    """

    def __init__(self, ptr, columns, weights, symmetric, reverse=None, edge_positions=None):
        self.ptr, self.columns, self.weights = ptr, columns, weights
        self.symmetric = symmetric
        self.n_nodes = ptr.numel() - 1
        self.edge_positions = edge_positions
        self._reverse = reverse
        self._rows = None
        self._loops = None
        self._looped = None

    @property
    def device(self):
        """The device every tensor of this graph lives on."""
        return self.ptr.device

    @property
    def nnz(self):
        """Number of message edges (stored entries, no self-loop)."""
        return self.columns.numel()

    @property
    def matrix(self):
        """The message edges as a SciPy CSR array sharing this graph's memory (CPU only),
        for the host-side batch loaders that slice or sample it."""
        return sp.csr_array(
            (self.weights.numpy(), self.columns.numpy(), self.ptr.numpy()),
            shape=(self.n_nodes, self.n_nodes),
        )

    def to(self, device):
        """This graph with every tensor on ``device`` (itself when already there)."""
        device = torch.device(device)
        if self.device == device:
            return self
        moved = [
            None if tensor is None else tensor.to(device)
            for tensor in (
                self.ptr,
                self.columns,
                self.weights,
                self._reverse,
                self.edge_positions,
            )
        ]
        return MessageGraph(*moved[:3], self.symmetric, moved[3], moved[4])

    @classmethod
    def from_scipy(cls, matrix, symmetric):
        """The message graph of a SciPy CSR matrix already in its form (CPU tensors).

        Parameters
        ----------
        matrix : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
            Canonical, no stored diagonal; row ``i`` lists the senders to node ``i``.
        symmetric : bool
            ``matrix`` equals its transpose, weights included.

        Returns
        -------
        MessageGraph
        """
        ptr, columns, weights = upload_csr(matrix)
        return cls(ptr, columns, weights, symmetric)

    @classmethod
    def from_adjacency(cls, adjacency, symmetrize, track_edges=False, device=None, reverse=False):
        """The message edges of a graph given by its adjacency matrix.

        Parameters
        ----------
        adjacency : scipy sparse matrix of shape (n_nodes, n_nodes)
            ``adjacency[i, j]`` is the weight of the edge from ``i`` to ``j``
            (non-negative). Not modified.
        symmetrize : bool
            Let messages flow both ways along every edge (the larger weight wins).
        track_edges : bool, default=False
            Also record :attr:`edge_positions`, for edge attributes; ``adjacency`` must
            then be canonical CSR (sorted indices, no duplicates), as the containers
            store it.
        device : torch.device or None, default=None
            Where to upload the adjacency's arrays and build the graph; None: the CPU.
        reverse : bool, default=False
            Find where each entry's reverse is stored now (a fit that multiplies by a
            transpose needs it): the transposition that finds it also tells whether
            the graph is symmetric, without :func:`symmetric_fingerprint`. Otherwise
            it is found when first needed.

        Returns
        -------
        MessageGraph
        """
        ptr, columns, weights = upload_csr(adjacency, device)
        messages = cls._from_csr(ptr, columns, weights, symmetrize, reverse)
        if track_edges:
            messages.edge_positions = _edge_positions(ptr, columns, messages)
        return messages

    @classmethod
    def _from_csr(cls, ptr, columns, weights, symmetrize, reverse):
        """:meth:`from_adjacency` of canonical CSR tensors."""
        n_nodes = ptr.numel() - 1
        rows = entry_rows(ptr, columns.numel())
        off_diagonal = rows != columns
        if not bool(off_diagonal.all()):
            rows, columns, weights = (
                values.masked_select(off_diagonal) for values in (rows, columns, weights)
            )
            ptr = row_pointers(rows, n_nodes)

        def symmetric(reverse_order):
            messages = cls(ptr, columns, weights, symmetric=True, reverse=reverse_order)
            messages._rows = rows
            return messages

        if not reverse and symmetric_fingerprint(ptr, columns, weights, rows):
            # The usual case, told without transposing: each entry's reverse is found
            # when first needed (``transpose_layout``), and many fits never need it.
            return symmetric(None)
        # Exact: the transpose, and where each edge's reverse is stored.
        transposed = TransposeLayout.from_pattern(ptr, columns, n_nodes, rows)
        transposed_weights = take(weights, transposed.order)
        if (
            torch.equal(ptr, transposed.ptr)
            and torch.equal(columns, transposed.columns)
            and torch.equal(weights, transposed_weights)
        ):
            return symmetric(transposed.order)
        if not symmetrize:
            return cls(transposed.ptr, transposed.columns, transposed_weights, symmetric=False)
        # Union of both directions, the larger weight winning (weights are >= 0).
        # (j, i) of transposed entry k is (rows[order[k]], columns[order[k]]) reversed.
        keys = torch.cat(
            [rows * n_nodes + columns, take(columns, transposed.order) * n_nodes
             + transposed.columns]
        )  # fmt: skip
        unique, inverse = torch.unique(keys, sorted=True, return_inverse=True)
        union = weights.new_zeros(unique.numel()).scatter_reduce_(
            0, inverse, torch.cat([weights, transposed_weights]), "amax"
        )
        return cls(
            row_pointers(unique // n_nodes, n_nodes), unique % n_nodes, union, symmetric=True
        )

    @classmethod
    def from_edges(cls, source, target, weight, n_nodes):
        """The message graph of an edge list (no self-loops), taken as directed: a
        sampled neighbourhood need not hold the reverse of its edges.

        Parameters
        ----------
        source, target : ndarray or Tensor of shape (n_edges,)
            Messages flow from ``source[k]`` to ``target[k]``; duplicates add up.
        weight : ndarray or Tensor of shape (n_edges,)
        n_nodes : int

        Returns
        -------
        MessageGraph
            On the device of ``source`` (the CPU for arrays).
        """
        target, source = torch.as_tensor(target), torch.as_tensor(source)
        weight = _float_weights(torch.as_tensor(weight, device=source.device))
        coo = torch.sparse_coo_tensor(
            torch.stack([target.long(), source.long()]), weight, (n_nodes, n_nodes)
        ).coalesce()
        rows, columns = coo.indices()
        return cls(row_pointers(rows, n_nodes), columns, coo.values(), symmetric=False)

    def renumbered(self, order):
        """This graph with its nodes renumbered: node ``order[k]`` becomes node ``k``.

        Parameters
        ----------
        order : Tensor of shape (n_nodes,)
            A permutation of the nodes, on this graph's device.

        Returns
        -------
        MessageGraph
            The same edges and weights (and edge positions), rows and columns renumbered,
            columns sorted within each row.
        """
        n_nodes, device = self.n_nodes, self.device
        counts = take(self.ptr.diff(), order)
        ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        rows = entry_rows(ptr, self.nnz)
        # Entry e of new row k is entry e - ptr[k] of old row order[k].
        source = torch.arange(self.nnz, device=device) - take(ptr, rows)
        source += take(self.ptr, take(order, rows))
        position = put(torch.empty_like(order), order, torch.arange(n_nodes, device=device))
        columns = take(position, take(self.columns, source))
        # Columns are out of order within rows: two stable transpositions sort them.
        transposed_ptr, transposed_columns, first = transposed_pattern(ptr, columns, n_nodes, rows)
        _, columns, second = transposed_pattern(transposed_ptr, transposed_columns, n_nodes)
        entries = take(source, take(first, second))
        positions = self.edge_positions
        return MessageGraph(
            ptr,
            columns,
            take(self.weights, entries),
            self.symmetric,
            edge_positions=None if positions is None else take(positions, entries),
        )

    def rows(self, looped):
        """The target node of every stored entry of the matrix or :attr:`looped`."""
        if looped:
            return self.looped.rows(looped=False)
        if self._rows is None:
            self._rows = entry_rows(self.ptr, self.nnz)
        return self._rows

    def loop_positions(self):
        """Where the entries go when one self-loop per node is inserted (:attr:`looped`).

        Returns
        -------
        shifted : Tensor of shape (nnz,)
            The position in the looped matrix of each stored entry.
        diagonal : Tensor of shape (n_nodes,)
            The position in the looped matrix of each node's self-loop.
        """
        if self._loops is None:
            rows, n_nodes = self.rows(looped=False), self.n_nodes
            # Each earlier row gained one entry, and a row's loop sits before its larger
            # columns: entry (i, j) moves by i, plus one if j > i.
            # (In place: a million-node graph's temporaries cost page faults.)
            shifted = torch.arange(self.nnz, device=self.device)
            shifted += rows
            shifted += self.columns > rows
            # Entries sorted by (row, column): node i's loop goes where (i, i) would be
            # among them, moved by i.
            nodes = torch.arange(n_nodes, device=self.device)
            keys = rows * n_nodes
            keys += self.columns
            before = torch.searchsorted(keys, nodes * (n_nodes + 1))
            self._loops = shifted, before + nodes
        return self._loops

    @property
    def looped(self):
        """This graph plus one self-loop of weight 1 per node, as a (not symmetric-flagged)
        MessageGraph whose matrix holds the diagonal."""
        if self._looped is None:
            shifted, diagonal = self.loop_positions()
            total = self.nnz + self.n_nodes
            columns = self.columns.new_empty(total)
            put(columns, shifted, self.columns)
            put(columns, diagonal, torch.arange(self.n_nodes, device=self.device))
            weights = put(put(self.weights.new_empty(total), shifted, self.weights), diagonal, 1)
            ptr = self.ptr + torch.arange(self.n_nodes + 1, device=self.device)
            self._looped = MessageGraph(ptr, columns, weights, self.symmetric)
        return self._looped

    def transpose_layout(self, looped):
        """The layout of the transpose of the matrix or :attr:`looped`.

        Parameters
        ----------
        looped : bool
            Of the matrix with self-loops.

        Returns
        -------
        TransposeLayout
            Of int64 tensors on this graph's device.
        """
        graph = self.looped if looped else self
        if not self.symmetric:
            return TransposeLayout.from_pattern(graph.ptr, graph.columns, self.n_nodes)
        if self._reverse is None:
            self._reverse = TransposeLayout.from_pattern(
                self.ptr, self.columns, self.n_nodes, self.rows(looped=False)
            ).order
        order = self._reverse
        if looped:
            shifted, _ = self.loop_positions()
            # A loop is its own reverse; every other entry's reverse moved as it did.
            looped_order = torch.arange(graph.nnz, device=self.device)
            put(looped_order, shifted, take(shifted, order))
            order = looped_order
        # A symmetric pattern is its own transpose's pattern.
        return TransposeLayout(graph.ptr, graph.columns, order)


def upload_csr(adjacency, device=None):
    """The canonical CSR arrays of ``adjacency`` as tensors on ``device``.

    The arrays go to the device as they are (int32 indices stay 4 bytes in transit);
    widening, and merging duplicates of a matrix that is not canonical, happen there.

    Parameters
    ----------
    adjacency : scipy sparse matrix of shape (n_nodes, n_nodes)
        Not modified.
    device : torch.device or None, default=None
        None: the CPU.

    Returns
    -------
    ptr, columns : Tensor of int64
    weights : Tensor of float32 or float64
    """
    adjacency = sp.csr_array(adjacency)
    n_nodes = adjacency.shape[0]
    ptr = host_tensor(adjacency.indptr).to(device).long()
    columns = host_tensor(adjacency.indices).to(device).long()
    weights = _float_weights(host_tensor(adjacency.data).to(device))
    if adjacency.has_canonical_format:
        return ptr, columns, weights
    rows = entry_rows(ptr, columns.numel())
    coo = torch.sparse_coo_tensor(
        torch.stack([rows, columns]), weights, (n_nodes, n_nodes)
    ).coalesce()
    rows, columns = coo.indices()
    return row_pointers(rows, n_nodes), columns, coo.values()


def host_tensor(array):
    """A CPU tensor sharing ``array``'s memory, or a copy of a read-only array (torch
    cannot share read-only memory)."""
    array = np.asarray(array)
    return torch.from_numpy(array) if array.flags.writeable else torch.tensor(array)


def _float_weights(weights):
    return weights if weights.dtype in (torch.float32, torch.float64) else weights.double()


def _edge_positions(ptr, columns, messages):
    """:attr:`MessageGraph.edge_positions` of ``messages``, built from the canonical CSR
    adjacency ``(ptr, columns)``."""
    n_nodes = ptr.numel() - 1
    rows = entry_rows(ptr, columns.numel())
    kept = torch.nonzero(rows != columns).flatten()
    rows, columns = rows[kept], columns[kept]
    # The message j -> i (entry (i, j) of the matrix) carries the edge j -> i's
    # attributes, or the edge i -> j's where only that one exists (symmetrized): sorted
    # by entry then preference, the first of each entry wins.
    candidates = torch.cat([columns * n_nodes + rows, rows * n_nodes + columns])
    preference = torch.cat([torch.zeros_like(kept), torch.ones_like(kept)])
    order = torch.argsort(candidates * 2 + preference)
    ordered = candidates[order]
    first = torch.ones_like(ordered, dtype=torch.bool)
    first[1:] = ordered[1:] != ordered[:-1]
    chosen = order[first]
    keys = candidates[chosen]
    positions = torch.cat([kept, kept])[chosen]
    wanted = messages.rows(looped=False) * n_nodes + messages.columns
    # Every entry of the matrix is among the keys (sorted by row, then column).
    return positions[torch.searchsorted(keys, wanted)]
