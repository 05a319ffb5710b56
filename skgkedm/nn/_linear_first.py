"""PyG's backbone layers, called as ``layer(x, propagation)`` on a precomputed matrix.

Every layer projects its input before it aggregates: GCN and GAT as PyG writes them,
GraphSAGE and GIN reordered. ``x`` is a dense tensor, or a ``SparseMatrix`` of sparse
features paired with their transpose; ``propagation`` is the ``SparseMatrix`` that
``Backbone.propagation`` builds, whose row ``i`` lists the nodes sending to node ``i``.
Sums over neighbours are :func:`sparse_product`, whose backward pass multiplies by the
precomputed transpose. Each layer keeps its PyG class's parameters and state dict
(so saved weights load into it), but not its ``forward(x, edge_index)``: each takes
only the options its own ``forward`` honours, and refuses the others by name instead
of ignoring them (``cached``, ``improved``, ``normalize``, ``root_weight``,
``edge_dim``, ``residual``, ...).

Imported only when a network is built: it loads PyTorch Geometric.
"""

from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

from ._sparse_product import linear, sparse_product


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
    :math:`D^{-1/2} (A + I) D^{-1/2}`.
    """

    def __init__(self, in_channels, out_channels, **options):
        refuse_options(self, options)
        super().__init__(in_channels, out_channels, normalize=False, add_self_loops=False)

    def forward(self, x, propagation):
        return sparse_product(propagation, linear(x, self.lin.weight)) + self.bias


class LinearFirstSAGEConv(SAGEConv):
    """GraphSAGE (mean) layer that projects before it aggregates.

    ``W mean_j x_j == mean_j W x_j``: projecting first is exact, cheaper when the input
    is wider than the output, and lets sparse input features through. Same parameters
    as :class:`torch_geometric.nn.SAGEConv`; the rows of ``propagation`` sum to 1 (each
    edge weighs 1 / the in-degree of its target), so its product takes the mean.
    """

    def __init__(self, in_channels, out_channels, **options):
        refuse_options(self, options)
        super().__init__(in_channels, out_channels)

    def forward(self, x, propagation):
        projected = linear(x, self.lin_l.weight)
        out = sparse_product(propagation, projected) + self.lin_l.bias
        return out + linear(x, self.lin_r.weight)


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
        out = sparse_product(propagation, projected)
        out = out + (1 + self.eps) * projected + first.bias
        return rest(out)


class PrecomputedGATConv(GATConv):
    """GAT layer whose propagation matrix already holds the self-loops.

    Same parameters as :class:`torch_geometric.nn.GATConv`, built with
    ``add_self_loops=False``, without attention dropout, edge features or residual
    connection. The attention and its aggregation are PyG's, along the entries of
    ``propagation``; only the linear map is ours, so that sparse features keep their
    transpose.
    """

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
                 **options):  # fmt: skip
        refuse_options(self, options)
        super().__init__(
            in_channels,
            out_channels,
            heads=heads,
            concat=concat,
            negative_slope=negative_slope,
            add_self_loops=False,
        )

    def forward(self, x, propagation):
        heads, width = self.heads, self.out_channels
        projected = linear(x, self.lin.weight).view(-1, heads, width)
        scores = ((projected * self.att_src).sum(dim=-1), (projected * self.att_dst).sum(dim=-1))
        edges = propagation.matrix
        alpha = self.edge_updater(edges, alpha=scores, edge_attr=None, size=None)
        out = self.propagate(edges, x=(projected, projected), alpha=alpha, size=None)
        out = out.view(-1, heads * width) if self.concat else out.mean(dim=1)
        return out + self.bias
