"""Per-edge multi-head products as sparse matrix products, with hand-written gradients.

Attention along edges needs two operations: a dot product per edge (scores) and a
weighted sum per target node (aggregation). Written with gathers and scatters, both
allocate several (|E|, d) tensors per call and keep some alive for the backward pass.
Here every head is handled at once by one block sparse matrix of shape
(|V| K, |V| K) with |E| K entries (:class:`HeadBlocks`): aggregation is one sparse
times dense product, scores are one sampled dense times dense product (SDDMM), and the
backward passes are the same two products, on the matrix or its transpose. No (|E|, d)
tensor is ever allocated: faster on the CPU and lighter in memory.
"""

import warnings
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.weak import WeakTensorKeyDictionary

from ._graph_kernels import entry_rows, row_pointers

# Head blocks of every live layout, keyed by the layout's ``source`` tensor: an entry
# goes away with its layout.
_HEAD_BLOCKS = WeakTensorKeyDictionary()


class HeadBlocks(NamedTuple):
    """The edges of every head as one block sparse matrix, for a given number of heads.

    Row ``i * heads + h`` of the (n_nodes * heads, n_nodes * heads) matrix holds head
    ``h`` of node ``i``'s incoming edges, in columns ``source * heads + h``: multiplied
    by a (n_nodes, heads, width) tensor viewed as (n_nodes * heads, width), it sums
    each head over the edges separately. The stored entries follow the matrix's rows,
    so an (n_edges, heads) edge tensor is permuted into them (``order``) and out of
    them (``inverse``) by a gather. Indices are int32 when they fit.

    Attributes
    ----------
    ptr : Tensor of shape (n_nodes * heads + 1,)
        Row pointers of the block matrix.
    columns : Tensor of shape (n_edges * heads,)
        Column of each stored entry.
    order : Tensor of shape (n_edges * heads,)
        Position ``edge * heads + head`` in a flattened edge tensor of each stored
        entry.
    inverse : Tensor of shape (n_edges * heads,)
        Stored entry of each position of a flattened edge tensor.
    transpose_ptr, transpose_columns, transpose_order : Tensor or None
        The same for the transposed matrix (rows ``source * heads + h``); None when
        only forward passes without gradients used the blocks.
    """

    ptr: Tensor
    columns: Tensor
    order: Tensor
    inverse: Tensor
    transpose_ptr: Tensor
    transpose_columns: Tensor
    transpose_order: Tensor


class EdgeLayout(NamedTuple):
    """Edges sorted by target node (CSR rows), with the transposed order precomputed.

    Attributes
    ----------
    source, target : Tensor of shape (n_edges,)
        Edge endpoints, sorted by target then source.
    ptr : Tensor of shape (n_nodes + 1,)
        Row pointers: node ``i``'s incoming edges are ``ptr[i]:ptr[i + 1]``.
    transpose_ptr : Tensor of shape (n_nodes + 1,) or None
        Row pointers of the edges sorted by source.
    transpose_target : Tensor of shape (n_edges,) or None
        Targets in source order.
    transpose_order : Tensor of shape (n_edges,) or None
        Positions (in target order) of the edges in source order. The three
        ``transpose_*`` fields serve backward passes only; a layout built for a forward
        pass without gradients may leave them None.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn import EdgeLayout
    >>> edge_index = torch.tensor([[0, 2, 1], [1, 1, 0]])
    >>> layout = EdgeLayout.from_edge_index(edge_index, n_nodes=3)
    >>> layout.source.tolist(), layout.target.tolist()
    ([1, 0, 2], [0, 1, 1])
    >>> layout.ptr.tolist()
    [0, 1, 3, 3]
    """

    source: Tensor
    target: Tensor
    ptr: Tensor
    transpose_ptr: Tensor
    transpose_target: Tensor
    transpose_order: Tensor

    @property
    def n_nodes(self):
        return self.ptr.numel() - 1

    @classmethod
    def from_edge_index(cls, edge_index, n_nodes):
        """Sort (source, target) edges and precompute both sparse layouts.

        Parameters
        ----------
        edge_index : Tensor of shape (2, n_edges)
            Edges without duplicates.
        n_nodes : int

        Returns
        -------
        EdgeLayout
        """
        source, target = edge_index
        order = torch.argsort(target * n_nodes + source)
        source, target = source[order], target[order]
        transpose_order = torch.argsort(source * n_nodes + target)
        return cls(
            source,
            target,
            row_pointers(target, n_nodes),
            row_pointers(source[transpose_order], n_nodes),
            target[transpose_order],
            transpose_order,
        )

    @classmethod
    def from_csr(cls, ptr, source, transpose=None):
        """A layout of edges already sorted by target then source (CSR rows by target).

        Parameters
        ----------
        ptr : Tensor of shape (n_nodes + 1,)
            Row pointers: node ``i``'s incoming edges are ``ptr[i]:ptr[i + 1]``.
        source : Tensor of shape (n_edges,)
            Source of each edge, sorted within each row.
        transpose : TransposeLayout or None, default=None
            The layout of the transposed pattern (what backward passes need), or None
            for a layout that only forward passes without gradients use.

        Returns
        -------
        EdgeLayout
        """
        target = entry_rows(ptr, source.numel())
        if transpose is None:
            return cls(source, target, ptr, None, None, None)
        return cls(source, target, ptr, transpose.ptr, transpose.columns, transpose.order)

    def to(self, device):
        """Move every tensor to ``device``."""
        return EdgeLayout(*(None if tensor is None else tensor.to(device) for tensor in self))

    def trimmed(self, n_targets, n_sources):
        """The edges into the first ``n_targets`` nodes, from the first ``n_sources``.

        For a neighbour-sampled subgraph whose nodes come hop by hop, the edges a layer
        still needs (as PyG's ``trim_to_layer``): the edges into the nodes of the
        first hops all come from the nodes of one more hop, so they are a prefix of
        the target-sorted edges, with their attention weights in the same order.

        Parameters
        ----------
        n_targets : int
            Rows kept: nodes ``0 .. n_targets - 1``.
        n_sources : int
            Source nodes of the trimmed layout; every edge into a kept row must come
            from one of them (not checked).

        Returns
        -------
        EdgeLayout
            With ``n_targets`` rows; its transposed fields (when this layout has them)
            have ``n_sources`` rows and point at positions of the trimmed edges.

        Examples
        --------
        >>> import torch
        >>> from skgkedm.nn import EdgeLayout
        >>> edge_index = torch.tensor([[0, 1, 1, 2, 2], [0, 0, 1, 1, 2]])
        >>> layout = EdgeLayout.from_edge_index(edge_index, n_nodes=3).trimmed(1, 2)
        >>> layout.source.tolist(), layout.ptr.tolist(), layout.transpose_ptr.tolist()
        ([0, 1], [0, 2], [0, 1, 2])
        """
        end = int(self.ptr[n_targets])
        source, target, ptr = self.source[:end], self.target[:end], self.ptr[: n_targets + 1]
        if self.transpose_ptr is None:
            return EdgeLayout(source, target, ptr, None, None, None)
        transpose_ptr, kept = csr_prefix(
            self.transpose_ptr, self.transpose_target, n_sources, n_targets
        )
        transpose_target = self.transpose_target[: kept.numel()][kept]
        transpose_order = self.transpose_order[: kept.numel()][kept]
        return EdgeLayout(source, target, ptr, transpose_ptr, transpose_target, transpose_order)

    def head_blocks(self, heads, transpose=True):
        """The block sparse matrices of ``heads`` heads, built once per layout.

        Parameters
        ----------
        heads : int
        transpose : bool, default=True
            Also build the transposed blocks, which only backward passes use; a
            forward pass that needs no gradient skips them (a third of the cost).

        Returns
        -------
        HeadBlocks
            Cached for as long as this layout's tensors live; without ``transpose``
            (and none built before) its ``transpose_*`` fields are None.

        Examples
        --------
        >>> import torch
        >>> from skgkedm.nn import EdgeLayout
        >>> layout = EdgeLayout.from_edge_index(torch.tensor([[0, 2, 1], [1, 1, 0]]), 3)
        >>> blocks = layout.head_blocks(2)
        >>> blocks.ptr.tolist()
        [0, 1, 2, 4, 6, 6, 6]
        >>> blocks.columns.tolist()
        [2, 3, 0, 4, 1, 5]
        """
        cached = _HEAD_BLOCKS.setdefault(self.source, {})
        blocks = cached.get(heads)
        if blocks is None or (transpose and blocks.transpose_ptr is None):
            n_entries = self.source.numel() * heads
            dtype = torch.int32 if n_entries < 2**31 else torch.int64
            forward = (
                blocks[:4]
                if blocks is not None
                else _interleave(self.ptr, self.source, None, heads, dtype)
            )
            transposed = (None, None, None)
            if transpose:
                if self.transpose_ptr is None:
                    raise ValueError(
                        "This EdgeLayout was built without its transpose, which backward "
                        "passes need; build it with EdgeLayout.from_edge_index, or "
                        "from_csr given the TransposeLayout."
                    )
                transposed = _interleave(
                    self.transpose_ptr, self.transpose_target, self.transpose_order, heads, dtype
                )[:3]
            blocks = cached[heads] = HeadBlocks(*forward, *transposed)
        return blocks


def csr_prefix(ptr, columns, n_rows, n_columns):
    """The first ``n_rows`` rows of a CSR pattern, keeping the columns below ``n_columns``.

    Parameters
    ----------
    ptr : Tensor of shape (n_all_rows + 1,)
        Row pointers.
    columns : Tensor of shape (n_stored,)
        Column of each stored entry.
    n_rows, n_columns : int

    Returns
    -------
    ptr : Tensor of shape (n_rows + 1,)
        Row pointers of the kept entries.
    kept : Tensor of shape (ptr[n_rows],), dtype bool
        Which of the first ``ptr[n_rows]`` stored entries are kept, in order.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._edge_ops import csr_prefix
    >>> ptr, kept = csr_prefix(torch.tensor([0, 2, 3, 5]), torch.tensor([0, 2, 1, 0, 1]), 2, 2)
    >>> ptr.tolist(), kept.tolist()
    ([0, 1, 2], [True, False, True])
    """
    end = int(ptr[n_rows])
    kept = columns[:end] < n_columns
    counts = torch.cat([ptr.new_zeros(1), torch.cumsum(kept, 0, dtype=ptr.dtype)])
    return counts.index_select(0, ptr[: n_rows + 1]), kept


def _interleave(ptr, columns, edge_ids, heads, dtype):
    """Block CSR ``(ptr, columns, order, inverse)`` of one CSR pattern repeated per head.

    ``edge_ids`` are the positions of the pattern's entries in the edge tensors (None:
    the same order).
    """
    n_edges = columns.numel()
    degree = ptr.diff()
    rows = torch.repeat_interleave(degree, output_size=n_edges)
    start = ptr[:-1].index_select(0, rows)
    head = torch.arange(heads, device=ptr.device)
    # Entry (e, h) of row r goes to heads * ptr[r] + h * degree[r] + (e - ptr[r]).
    entry = torch.arange(n_edges, device=ptr.device) + (heads - 1) * start
    position = (entry[:, None] + head * degree.index_select(0, rows)[:, None]).view(-1)
    edge_ids = torch.arange(n_edges, device=ptr.device) if edge_ids is None else edge_ids
    order = torch.empty_like(position, dtype=dtype)
    order[position] = (edge_ids[:, None] * heads + head).view(-1).to(dtype)
    block_columns = torch.empty_like(order)
    block_columns[position] = (columns[:, None] * heads + head).view(-1).to(dtype)
    block_ptr = torch.cat([ptr.new_zeros(1), degree.repeat_interleave(heads).cumsum(0)])
    return block_ptr.to(dtype), block_columns, order, position.to(dtype)


# torch warns once per process that sparse CSR support is "in beta" and (some versions,
# even when told) that invariant checks are off; the layouts built here are valid by
# construction. One narrow filter, set once: ``catch_warnings`` around every product
# would not be thread-safe (it swaps the process-wide filter list) and would reset the
# warning registries of every module on each training step.
_SPARSE_WARNINGS = "Sparse (CSR tensor support|invariant checks)"
warnings.filterwarnings("ignore", message=_SPARSE_WARNINGS, category=UserWarning,
                        module=r"skgkedm\.")  # fmt: skip


def csr_tensor(ptr, columns, values, size):
    """A sparse CSR tensor from valid row pointers, columns and values (unchecked).

    Touches no warning filter, so threads may call it at once (see ``_SPARSE_WARNINGS``).
    """
    return torch.sparse_csr_tensor(ptr, columns, values, size=size, check_invariants=False)


def _warm_up():
    """Let torch's once-per-process sparse warnings fire here, at import, and be ignored.

    The module filter above covers later calls from skgkedm's modules, but filters can
    be reset by the caller (``warnings.catch_warnings`` blocks, test runners); torch
    does not warn twice.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SPARSE_WARNINGS, category=UserWarning)
        one = torch.ones(1)
        csr_tensor(torch.tensor([0, 1]), torch.tensor([0]), one, (1, 1))


_warm_up()


def _block_product(blocks, edge_values, dense, transpose=False):
    """``out[i, h] = sum over edges e into i of edge_values[e, h] * dense[source[e], h]``.

    Parameters
    ----------
    blocks : HeadBlocks
    edge_values : Tensor of shape (n_edges, heads)
    dense : Tensor of shape (n_nodes, heads, width)
    transpose : bool, default=False
        Sum over the edges out of ``i`` instead, of ``dense[target[e], h]``.

    Returns
    -------
    Tensor of shape (n_nodes, heads, width)
    """
    matrix = _block_matrix(blocks, edge_values, dense.size(0) * dense.size(1), transpose)
    return _matrix_product(matrix, dense)


def _matrix_product(matrix, dense, out=None):
    """``matrix @ dense`` for a block matrix and a (n_nodes, heads, width) tensor.

    Written into ``out`` (a contiguous tensor of the result's size) when given.
    """
    heads, width = dense.shape[1:]
    # In place with beta=0 (the empty tensor is never read): unlike torch.sparse.mm,
    # which fills a zero tensor and then copies it, one output buffer and no extra pass.
    if out is None:
        out = dense.new_empty(matrix.size(0), width)
    out = out.view(matrix.size(0), width)
    return out.addmm_(matrix, dense.reshape(-1, width), beta=0.0).view(-1, heads, width)


def _block_matrix(blocks, edge_values, n_columns, transpose=False):
    """The block CSR matrix of :func:`_block_product` with ``edge_values`` stored."""
    ptr, columns, order = (
        (blocks.transpose_ptr, blocks.transpose_columns, blocks.transpose_order)
        if transpose
        else (blocks.ptr, blocks.columns, blocks.order)
    )
    values = edge_values.reshape(-1).index_select(0, order)
    return csr_tensor(ptr, columns, values, (ptr.numel() - 1, n_columns))


def _block_dots(blocks, left, right):
    """``out[e, h] = <left[target[e], h], right[source[e], h]>``, shape (n_edges, heads)."""
    heads, width = left.shape[1:]
    n_entries = blocks.columns.numel()
    pattern = csr_tensor(
        blocks.ptr,
        blocks.columns,
        left.new_zeros(()).expand(n_entries),
        (left.size(0) * heads, right.size(0) * heads),
    )
    dots = torch.sparse.sampled_addmm(
        pattern, left.reshape(-1, width), right.reshape(-1, width).t(), beta=0.0
    )
    return dots.values().index_select(0, blocks.inverse).view(-1, heads)


class _EdgeScores(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, key, layout):
        blocks = layout.head_blocks(query.size(1), transpose=any(ctx.needs_input_grad))
        ctx.save_for_backward(query, key)
        ctx.blocks = blocks
        return _block_dots(blocks, query, key)

    @staticmethod
    def backward(ctx, grad):
        query, key = ctx.saved_tensors
        blocks = ctx.blocks
        grad_query = grad_key = None
        if ctx.needs_input_grad[0]:
            grad_query = _block_product(blocks, grad, key)
        if ctx.needs_input_grad[1]:
            grad_key = _block_product(blocks, grad, query, transpose=True)
        return grad_query, grad_key, None


class _EdgeAggregate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weights, value, layout):
        blocks = layout.head_blocks(value.size(1), transpose=any(ctx.needs_input_grad))
        ctx.save_for_backward(weights, value)
        ctx.blocks = blocks
        return _block_product(blocks, weights, value)

    @staticmethod
    def backward(ctx, grad):
        weights, value = ctx.saved_tensors
        blocks = ctx.blocks
        grad_weights = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_weights = _block_dots(blocks, grad, value)
        if ctx.needs_input_grad[1]:
            grad_value = _block_product(blocks, weights, grad, transpose=True)
        return grad_weights, grad_value, None


class _HopPropagation(torch.autograd.Function):
    """``sum_k hop_weights[k] * A^k value`` for fixed edge weights ``A``, in one node.

    The forward pass runs exactly the operations of the hop-by-hop loop (same products,
    same order of sums); the backward pass sums ``hop_weights[k] * (A^T)^k grad`` by
    Horner's rule and each hop weight's gradient as one product of the stacked powers,
    instead of a graph of three autograd nodes per hop. The powers are written into
    one buffer as they are computed (stacking them afterwards copied them all again).
    """

    @staticmethod
    def forward(ctx, hop_weights, value, weights, layout):
        n_columns = value.size(0) * value.size(1)
        blocks = layout.head_blocks(value.size(1), transpose=ctx.needs_input_grad[1])
        matrix = _block_matrix(blocks, weights, n_columns)
        powers = None
        if ctx.needs_input_grad[0]:
            powers = value.new_empty((hop_weights.numel(), *value.shape))
            powers[0] = value
        power = value
        z = hop_weights[0] * value
        for hop in range(1, hop_weights.numel()):
            power = _matrix_product(matrix, power, None if powers is None else powers[hop])
            z = z + hop_weights[hop] * power
        if powers is not None:
            ctx.save_for_backward(hop_weights, powers)
        else:
            ctx.save_for_backward(hop_weights)
        if ctx.needs_input_grad[1]:
            ctx.transpose = _block_matrix(blocks, weights, n_columns, transpose=True)
        return z

    @staticmethod
    def backward(ctx, grad):
        hop_weights, *powers = ctx.saved_tensors
        grad_hops = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_hops = powers[0].flatten(1) @ grad.reshape(-1)
        if ctx.needs_input_grad[1]:
            grad_value = hop_weights[-1] * grad
            for hop in range(hop_weights.numel() - 2, -1, -1):
                grad_value = hop_weights[hop] * grad + _matrix_product(ctx.transpose, grad_value)
        return grad_hops, grad_value, None, None


def propagate_hops(hop_weights, value, weights, layout):
    """Weighted sum of a node tensor's propagations along fixed edge weights.

    ``sum_k hop_weights[k] * A^k value`` with ``A`` the matrix of ``weights``
    (``(A x)[i, h] = sum over edges e into i of weights[e, h] * x[source[e], h]``): the
    same values as ``hop_weights[0] * value`` plus ``hop_weights[k]`` times ``k``
    applications of :func:`edge_aggregate`, in one autograd node. Gradients flow to
    ``hop_weights`` and ``value``, not to ``weights``.

    Parameters
    ----------
    hop_weights : Tensor of shape (hops + 1,)
    value : Tensor of shape (n_nodes, heads, head_width)
    weights : Tensor of shape (n_edges, heads)
        Edge weights; must not require a gradient.
    layout : EdgeLayout

    Returns
    -------
    Tensor of shape (n_nodes, heads, head_width)

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn import EdgeLayout
    >>> from skgkedm.nn._edge_ops import propagate_hops
    >>> layout = EdgeLayout.from_edge_index(torch.tensor([[0, 1], [1, 0]]), 2)
    >>> value = torch.tensor([[[1.0]], [[0.0]]])
    >>> out = propagate_hops(torch.tensor([0.5, 0.25, 0.25]), value, torch.ones(2, 1), layout)
    >>> out.flatten().tolist()  # 0.5 * value + 0.25 * swapped + 0.25 * value
    [0.75, 0.25]
    """
    if weights.requires_grad:
        raise ValueError("propagate_hops takes fixed edge weights; these require a gradient.")
    return _HopPropagation.apply(hop_weights, value, weights, layout)


class _EdgeSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, layout):
        ptr, target = layout.ptr, layout.target
        peak = torch.segment_reduce(scores, "max", offsets=ptr, axis=0, unsafe=True)
        exp = (scores - peak.index_select(0, target)).exp_()
        total = torch.segment_reduce(exp, "sum", offsets=ptr, axis=0, unsafe=True)
        attention = exp.div_(total.index_select(0, target))
        ctx.save_for_backward(attention)
        ctx.layout = layout
        return attention

    @staticmethod
    def backward(ctx, grad):
        (attention,) = ctx.saved_tensors
        ptr, target = ctx.layout.ptr, ctx.layout.target
        weighted = grad * attention
        total = torch.segment_reduce(weighted, "sum", offsets=ptr, axis=0, unsafe=True)
        return weighted.sub_(attention * total.index_select(0, target)), None


def edge_softmax(scores, layout):
    """Softmax of edge scores over each target node's incoming edges, per head.

    The same values as ``torch_geometric.utils.softmax(scores, ptr=layout.ptr)``
    (shifted by each node's maximum score, so large scores do not overflow), with a
    hand-written backward pass: ``attention * (grad - sum of attention * grad)``.

    Parameters
    ----------
    scores : Tensor of shape (n_edges, heads)
    layout : EdgeLayout

    Returns
    -------
    Tensor of shape (n_edges, heads)
        For every node and head, the weights of its incoming edges sum to 1.
    """
    return _EdgeSoftmax.apply(scores, layout)


def edge_scores(query, key, layout):
    """Dot product of each edge's target query and source key, per head.

    Parameters
    ----------
    query, key : Tensor of shape (n_nodes, heads, head_width)
    layout : EdgeLayout

    Returns
    -------
    Tensor of shape (n_edges, heads)
        Row ``e`` is ``<query[target[e]], key[source[e]]>`` for each head.
    """
    return _EdgeScores.apply(query, key, layout)


def edge_aggregate(weights, value, layout):
    """Weighted sum of source values into each target node, per head.

    Parameters
    ----------
    weights : Tensor of shape (n_edges, heads)
    value : Tensor of shape (n_nodes, heads, head_width)
    layout : EdgeLayout

    Returns
    -------
    Tensor of shape (n_nodes, heads, head_width)
        ``out[i, h] = sum over edges e into i of weights[e, h] * value[source[e], h]``.
    """
    return _EdgeAggregate.apply(weights, value, layout)
