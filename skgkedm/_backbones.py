"""Message-passing layers of each backbone, built from PyTorch Geometric's convolutions."""

from torch import nn
from torch.nn import functional as F
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

BACKBONES = ("gcn", "sage", "gat", "gin")


class LinearFirstSAGEConv(SAGEConv):
    """GraphSAGE (mean) layer that projects before it aggregates.

    ``W mean_j x_j == mean_j W x_j``: projecting first is exact, cheaper when the input
    is wider than the output, and lets sparse input features through.
    """

    def forward(self, x, propagation):
        projected = F.linear(x, self.lin_l.weight)
        out = self.propagate(propagation, x=(projected, None)) + self.lin_l.bias
        return out + self.lin_r(x)


class LinearFirstGINConv(GINConv):
    """GIN layer whose MLP's first linear map is applied before the sum aggregation.

    ``W ((1 + eps) x_i + sum_j x_j) == (1 + eps) W x_i + sum_j W x_j``: exact, cheaper on
    wide inputs, and lets sparse input features through.
    """

    def forward(self, x, propagation):
        first, rest = self.nn[0], self.nn[1:]
        projected = F.linear(x, first.weight)
        out = self.propagate(propagation, x=(projected, None))
        out = out + (1 + self.eps) * projected + first.bias
        return rest(out)


def make_conv(backbone, in_dim, out_dim, *, is_output, activation, gat_heads):
    """Build one message-passing layer.

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin"}
    in_dim, out_dim : int
        Input and output widths (for GAT hidden layers, ``out_dim`` is the width of
        all heads concatenated).
    is_output : bool
        Whether this layer produces the class scores.
    activation : torch.nn.Module
        Activation inside GIN's MLP.
    gat_heads : int
        Attention heads of GAT hidden layers (the output layer uses one).

    Returns
    -------
    torch.nn.Module
        A layer called as ``layer(x, propagation)``.
    """
    if backbone == "gcn":
        return GCNConv(in_dim, out_dim, normalize=False, add_self_loops=False)
    if backbone == "sage":
        return LinearFirstSAGEConv(in_dim, out_dim)
    if backbone == "gat":
        heads = 1 if is_output else gat_heads
        return GATConv(
            in_dim, out_dim // heads, heads=heads, concat=not is_output, add_self_loops=False
        )
    if is_output:
        return LinearFirstGINConv(nn.Sequential(nn.Linear(in_dim, out_dim)))
    return LinearFirstGINConv(
        nn.Sequential(nn.Linear(in_dim, out_dim), activation, nn.Linear(out_dim, out_dim))
    )
