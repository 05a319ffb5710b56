"""PyG's backbone layers, called as ``layer(x, propagation)`` on a precomputed matrix.

Every layer projects its input before it aggregates: GCN and GAT as PyG writes them,
GraphSAGE and GIN reordered. ``x`` is a dense tensor, or a ``SparseMatrix`` of sparse
features paired with their transpose; ``propagation`` is the ``SparseMatrix`` that
``Backbone.propagation`` builds, whose row ``i`` lists the nodes sending to node ``i``.
Sums over neighbours are :func:`sparse_product`, whose backward pass multiplies by the
precomputed transpose. Each layer keeps its PyG class's parameters and state dict.

Imported only when a network is built: it loads PyTorch Geometric.
"""

from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

from ._sparse_product import linear, sparse_product


class PrecomputedGCNConv(GCNConv):
    """GCN layer whose propagation matrix already holds the normalisation and self-loops.

    Same parameters as :class:`torch_geometric.nn.GCNConv` (build it with
    ``normalize=False, add_self_loops=False``): ``propagation`` is
    :math:`D^{-1/2} (A + I) D^{-1/2}`.
    """

    def forward(self, x, propagation):
        return sparse_product(propagation, linear(x, self.lin.weight)) + self.bias


class LinearFirstSAGEConv(SAGEConv):
    """GraphSAGE (mean) layer that projects before it aggregates.

    ``W mean_j x_j == mean_j W x_j``: projecting first is exact, cheaper when the input
    is wider than the output, and lets sparse input features through. Same parameters
    as :class:`torch_geometric.nn.SAGEConv`; the rows of ``propagation`` sum to 1 (each
    edge weighs 1 / the in-degree of its target), so its product takes the mean.
    """

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

    def forward(self, x, propagation):
        first, rest = self.nn[0], self.nn[1:]
        projected = linear(x, first.weight)
        out = sparse_product(propagation, projected)
        out = out + (1 + self.eps) * projected + first.bias
        return rest(out)


class PrecomputedGATConv(GATConv):
    """GAT layer whose propagation matrix already holds the self-loops.

    Same parameters as :class:`torch_geometric.nn.GATConv`, built with
    ``add_self_loops=False`` and without edge features or residual connection. The
    attention and its aggregation are PyG's, along the entries of ``propagation``;
    only the linear map is ours, so that sparse features keep their transpose.
    """

    def forward(self, x, propagation):
        heads, width = self.heads, self.out_channels
        projected = linear(x, self.lin.weight).view(-1, heads, width)
        scores = ((projected * self.att_src).sum(dim=-1), (projected * self.att_dst).sum(dim=-1))
        edges = propagation.matrix
        alpha = self.edge_updater(edges, alpha=scores, edge_attr=None, size=None)
        out = self.propagate(edges, x=(projected, projected), alpha=alpha, size=None)
        out = out.view(-1, heads * width) if self.concat else out.mean(dim=1)
        return out + self.bias
