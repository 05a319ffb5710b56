"""PyG's backbone layers, called as ``layer(x, propagation)`` on a precomputed matrix.

Every layer projects its input before it aggregates (GAT as PyG writes it, GIN
reordered), or, GCN and GraphSAGE, in whichever order carries fewer columns through
the sparse product (:func:`propagates_first`). ``x`` is a dense tensor, or a
``SparseMatrix`` of sparse features paired with their transpose; ``propagation`` is
the ``SparseMatrix`` that ``Backbone.propagation`` builds, whose row ``i`` lists the
nodes sending to node ``i``.
On a neighbour-sampled subgraph the matrix may be trimmed (``SparseMatrix.trimmed``):
its rows are the first nodes of ``x`` only, and its columns the first nodes that send
to them; each layer then returns the rows of the matrix alone.
Sums over neighbours are :func:`sparse_product`, whose backward pass multiplies by the
precomputed transpose. Each layer keeps its PyG class's parameters and state dict
(so saved weights load into it), but not its ``forward(x, edge_index)``: each takes
only the options its own ``forward`` honours, and refuses the others by name instead
of ignoring them (``cached``, ``improved``, ``normalize``, ``root_weight``,
``edge_dim``, ``residual``, ...).

Imported only when a network is built: it loads PyTorch Geometric.
"""

import torch
from torch_geometric.nn import GATConv, GCNConv, GINConv, GINEConv, SAGEConv

from ._edge_ops import csr_tensor
from ._sparse_product import SparseMatrix, linear, sparse_product


def refuse_options(layer, options):
    """Raise TypeError naming options of the PyG base class that ``layer`` would ignore."""
    if options:
        base = type(layer).__mro__[1].__name__
        raise TypeError(
            f"{type(layer).__name__} runs forward(x, propagation) on a precomputed "
            f"propagation matrix and does not honour {sorted(options)} of {base}; build "
            f"torch_geometric.nn.{base} itself for them."
        )


class PrecomputedGCNConv(GCNConv):
    """GCN layer whose propagation matrix already holds the normalisation and self-loops.

    Same parameters as :class:`torch_geometric.nn.GCNConv` (build it with
    ``normalize=False, add_self_loops=False``): ``propagation`` is
    :math:`D^{-1/2} (A + I) D^{-1/2}`, its self-loops kept as the ``diagonal``.
    """

    def __init__(self, in_channels, out_channels, **options):
        refuse_options(self, options)
        super().__init__(in_channels, out_channels, normalize=False, add_self_loops=False)

    def forward(self, x, propagation):
        return aggregated_projection(x, self.lin.weight, self.bias, propagation)


class LinearFirstSAGEConv(SAGEConv):
    """GraphSAGE (mean) layer that projects before it aggregates where that is cheaper.

    ``W mean_j x_j == mean_j W x_j``: projecting first is exact, cheaper when the input
    is wider than the output (see :func:`propagates_first`), and lets sparse input
    features through. Same parameters
    as :class:`torch_geometric.nn.SAGEConv`; the rows of ``propagation`` sum to 1 (each
    edge weighs 1 / the in-degree of its target), so its product takes the mean.
    """

    def __init__(self, in_channels, out_channels, **options):
        refuse_options(self, options)
        super().__init__(in_channels, out_channels)

    def forward(self, x, propagation):
        out = aggregated_projection(x, self.lin_l.weight, self.lin_l.bias, propagation)
        if is_sparse_features(x):
            return out + targets(linear(x, self.lin_r.weight), propagation)
        return out + linear(targets(x, propagation), self.lin_r.weight)


class LinearFirstGINConv(GINConv):
    """GIN layer whose MLP's first linear map is applied before the sum aggregation.

    ``W ((1 + eps) x_i + sum_j x_j) == (1 + eps) W x_i + sum_j W x_j``: exact, cheaper on
    wide inputs, and lets sparse input features through. Same parameters as
    :class:`torch_geometric.nn.GINConv` (``nn`` must start with a ``torch.nn.Linear``).
    """

    def __init__(self, nn, eps=0.0, train_eps=False, **options):
        refuse_options(self, options)
        super().__init__(nn, eps=eps, train_eps=train_eps)

    def forward(self, x, propagation):
        first, rest = self.nn[0], self.nn[1:]
        projected = linear(x, first.weight)
        out = sparse_product(propagation, sources(projected, propagation))
        out = out + (1 + self.eps) * targets(projected, propagation) + first.bias
        return rest(out)


class EdgeGINEConv(GINEConv):
    """GINE layer (GIN with edge features) on the precomputed propagation matrix.

    Same parameters and output as :class:`torch_geometric.nn.GINEConv` built with
    ``edge_dim``: ``nn((1 + eps) x_i + sum_j relu(x_j + W_e e_ji))``. The ReLU of each
    message keeps the first linear map after the sum, so the input is made dense
    (sparse features included). Messages are gathered and summed with sparse
    products, which are deterministic on every device.
    """

    def forward(self, x, propagation, edge_attr):
        if isinstance(x, SparseMatrix):
            x = x.matrix
        if x.layout != torch.strided:
            x = x.to_dense()
        gather, scatter = _incidence(propagation)
        messages = sparse_product(gather, x) + self.lin(edge_attr)
        out = sparse_product(scatter, messages.relu())
        return self.nn(out + (1 + self.eps) * x)


def aggregated_projection(x, weight, bias, propagation):
    """``propagation @ x @ weight.T + bias`` in the cheaper order (:func:`propagates_first`).

    Parameters
    ----------
    x : Tensor of shape (n_nodes, in_dim), or SparseMatrix
    weight : Tensor of shape (out_dim, in_dim)
    bias : Tensor of shape (out_dim,)
    propagation : SparseMatrix

    Returns
    -------
    Tensor of shape (n_rows, out_dim), one row per row of ``propagation``
    """
    if propagates_first(x, weight):
        aggregated = sparse_product(propagation, sources(x, propagation))
        return torch.nn.functional.linear(aggregated, weight, bias)
    projected = sources(linear(x, weight), propagation)
    # In place: the product's backward pass does not read its output, and a million
    # nodes' fresh output would cost as much in page faults as the addition itself.
    return sparse_product(propagation, projected).add_(bias)


def propagates_first(x, weight):
    """Whether aggregating ``x`` before projecting it by ``weight`` is the cheaper order.

    ``A (x W^T) == (A x) W^T``: the sparse product's cost grows with the width it
    carries, once forward, and once more backward when a gradient must flow through
    it. Projecting first carries the output width, backward as well whenever ``x`` or
    ``weight`` needs a gradient (the weight's gradient reads ``A^T`` times the output's);
    aggregating first carries the input width, backward only when ``x`` needs a
    gradient (the weight's gradient then reads ``A x``, the forward product). So a
    first layer on dense input features (no gradient), trained, aggregates first
    while its input is narrower than twice its output: a 2-layer GCN with 100
    features and 64 hidden units moves 100 columns through the matrix per step
    instead of 2 x 64. Sparse features always project first.

    Parameters
    ----------
    x : Tensor of shape (n_nodes, in_dim), or SparseMatrix
    weight : Tensor of shape (out_dim, in_dim)

    Returns
    -------
    bool
    """
    if is_sparse_features(x):
        return False
    out_dim, in_dim = weight.shape
    differentiates = torch.is_grad_enabled()
    through_x = differentiates and x.requires_grad
    through_weight = differentiates and weight.requires_grad
    aggregate_first = in_dim * (2 if through_x else 1)
    project_first = out_dim * (2 if through_x or through_weight else 1)
    return aggregate_first < project_first


def is_sparse_features(x):
    """Whether ``x`` is sparse: a ``SparseMatrix`` or a tensor of a sparse layout."""
    return isinstance(x, SparseMatrix) or x.layout != torch.strided


def sources(x, propagation):
    """The rows of ``x`` that ``propagation`` reads: as many as it has columns."""
    n_columns = propagation.matrix.size(1)
    return x if x.size(0) == n_columns else x[:n_columns]


def targets(x, propagation):
    """The rows of ``x`` that ``propagation`` writes: as many as it has rows."""
    n_rows = propagation.matrix.size(0)
    return x if x.size(0) == n_rows else x[:n_rows]


def _incidence(propagation):
    """Sparse matrices that gather each entry's source node and sum entries per target.

    For the entries ``k`` of ``propagation`` (a message from ``columns[k]`` to
    ``rows[k]``): ``gather`` is (n_entries, n_nodes) with a 1 at ``(k, columns[k])``,
    ``scatter`` is (n_nodes, n_entries) with a 1 at ``(rows[k], k)``; each paired with
    its transpose when ``propagation`` has one (training).
    """
    matrix = propagation.matrix
    ptr, columns = matrix.crow_indices(), matrix.col_indices()
    n_nodes, n_entries = matrix.shape[0], columns.numel()
    ones = torch.ones(n_entries, device=columns.device)
    entries = torch.arange(n_entries, device=columns.device)
    flat_ptr = torch.arange(n_entries + 1, device=columns.device)
    gather = csr_tensor(flat_ptr, columns, ones, (n_entries, n_nodes))
    scatter = csr_tensor(ptr, entries, ones, (n_nodes, n_entries))
    if propagation.transpose is None:
        return SparseMatrix(gather, None), SparseMatrix(scatter, None)
    rows = torch.repeat_interleave(torch.arange(n_nodes, device=ptr.device), ptr.diff())
    scatter_t = csr_tensor(flat_ptr, rows, ones, (n_entries, n_nodes))
    order = torch.argsort(columns, stable=True)
    counts = torch.bincount(columns, minlength=n_nodes)
    gather_ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    gather_t = csr_tensor(gather_ptr, order, ones, (n_nodes, n_entries))
    return SparseMatrix(gather, gather_t), SparseMatrix(scatter, scatter_t)


class PrecomputedGATConv(GATConv):
    """GAT layer whose propagation matrix already holds the self-loops.

    Same parameters as :class:`torch_geometric.nn.GATConv`, built with
    ``add_self_loops=False``, without attention dropout or residual connection; with
    ``edge_dim``, the layer takes edge attributes aligned with the entries of
    ``propagation`` (self-loops included). The attention and its aggregation are PyG's,
    along the entries of
    ``propagation``; only the linear map is ours, so that sparse features keep their
    transpose.
    """

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
                 edge_dim=None, **options):  # fmt: skip
        refuse_options(self, options)
        super().__init__(
            in_channels,
            out_channels,
            heads=heads,
            concat=concat,
            negative_slope=negative_slope,
            add_self_loops=False,
            edge_dim=edge_dim,
        )

    def forward(self, x, propagation, edge_attr=None):
        heads, width = self.heads, self.out_channels
        projected = linear(x, self.lin.weight).view(-1, heads, width)
        scores = ((projected * self.att_src).sum(dim=-1), (projected * self.att_dst).sum(dim=-1))
        edges = propagation.matrix
        scores = (sources(scores[0], propagation), targets(scores[1], propagation))
        alpha = self.edge_updater(edges, alpha=scores, edge_attr=edge_attr, size=None)
        pair = (sources(projected, propagation), targets(projected, propagation))
        out = self.propagate(edges, x=pair, alpha=alpha, size=None)
        out = out.view(-1, heads * width) if self.concat else out.mean(dim=1)
        return out + self.bias
