"""GraphSAGE and GIN layers that project before they aggregate (PyG's, reordered).

Imported only when a network is built: it loads PyTorch Geometric.
"""

from torch.nn import functional as F
from torch_geometric.nn import GINConv, SAGEConv


class LinearFirstSAGEConv(SAGEConv):
    """GraphSAGE (mean) layer that projects before it aggregates.

    ``W mean_j x_j == mean_j W x_j``: projecting first is exact, cheaper when the input
    is wider than the output, and lets sparse input features through. Same parameters
    as :class:`torch_geometric.nn.SAGEConv`, called as ``layer(x, propagation)`` with a
    sparse CSR ``propagation`` whose row ``i`` lists the nodes sending to node ``i``.
    """

    def forward(self, x, propagation):
        projected = F.linear(x, self.lin_l.weight)
        out = self.propagate(propagation, x=(projected, None)) + self.lin_l.bias
        return out + self.lin_r(x)


class LinearFirstGINConv(GINConv):
    """GIN layer whose MLP's first linear map is applied before the sum aggregation.

    ``W ((1 + eps) x_i + sum_j x_j) == (1 + eps) W x_i + sum_j W x_j``: exact, cheaper on
    wide inputs, and lets sparse input features through. Same parameters as
    :class:`torch_geometric.nn.GINConv` (``nn`` must start with a ``torch.nn.Linear``),
    called as ``layer(x, propagation)``.
    """

    def forward(self, x, propagation):
        first, rest = self.nn[0], self.nn[1:]
        projected = F.linear(x, first.weight)
        out = self.propagate(propagation, x=(projected, None))
        out = out + (1 + self.eps) * projected + first.bias
        return rest(out)
