"""Every backbone in one place: its layer, its propagation matrix and its width rule.

PyTorch Geometric is imported where a layer or a propagation matrix is built, not
with this module, so ``import skgkedm`` does not load it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class Backbone:
    """A message-passing backbone: everything the package needs to know about it.

    Attributes
    ----------
    name : str
        The value of the estimators' ``backbone`` parameter that selects it.
    build_conv : callable
        ``build_conv(in_dim, out_dim, *, is_output, activation, gat_heads)`` returns
        one layer, called as ``layer(x, propagation)`` with node features ``x`` (a
        dense tensor, or a ``SparseMatrix`` of sparse features) and the
        ``SparseMatrix`` that :meth:`propagation` builds. ``out_dim`` is the layer's
        whole output width (all heads concatenated); ``is_output`` says whether the
        layer produces the class scores; ``activation`` (a ``torch.nn.Module``) is
        used inside a layer that has its own MLP; ``gat_heads`` is the number of
        attention heads of hidden layers that have heads (the output layer has one).
    self_loops : bool, default=False
        The propagation matrix adds one self-loop per node.
    gcn_normalize : bool, default=False
        The propagation matrix holds GCN's symmetric normalisation
        :math:`D^{-1/2} A D^{-1/2}` of the edge weights; otherwise edge weights are
        not used and every edge weighs 1 (or less, with ``mean_aggregation``).
    mean_aggregation : bool, default=False
        Every edge weighs 1 / the in-degree of its target, so that a plain product
        with the propagation matrix takes the mean of the incoming messages.
    heads_split_width : bool, default=False
        Hidden layers split their width over ``gat_heads`` heads, which must then
        divide every hidden width.

    See Also
    --------
    BACKBONES : The registered backbones, by name.

    Examples
    --------
    >>> from skgkedm._backbones import BACKBONES
    >>> list(BACKBONES)
    ['gcn', 'sage', 'gat', 'gin']
    >>> BACKBONES["gat"].check_widths((64, 32), gat_heads=8)
    >>> BACKBONES["gat"].check_widths((64, 36), gat_heads=8)
    Traceback (most recent call last):
    ...
    ValueError: gat_heads=8 must divide every hidden width, got hidden_dims=(64, 36).
    """

    name: str
    build_conv: Callable[..., nn.Module]
    self_loops: bool = False
    gcn_normalize: bool = False
    mean_aggregation: bool = False
    heads_split_width: bool = False

    def check_widths(self, hidden_dims, gat_heads):
        """Raise ValueError if the hidden widths do not suit this backbone.

        Parameters
        ----------
        hidden_dims : tuple of int
            Width of each hidden layer.
        gat_heads : int
            Attention heads of hidden layers that have heads.
        """
        if self.heads_split_width and any(d % gat_heads for d in hidden_dims):
            raise ValueError(
                f"gat_heads={gat_heads} must divide every hidden width, got "
                f"hidden_dims={hidden_dims}."
            )

    def propagation(self, edge_index, edge_weight, n_nodes, transpose=True):
        """Build the sparse matrix the layers aggregate with.

        Parameters
        ----------
        edge_index : Tensor of shape (2, n_edges)
            (source, target) message edges without self-loops.
        edge_weight : Tensor of shape (n_edges,)
            Weight of each edge.
        n_nodes : int
            Number of nodes.
        transpose : bool, default=True
            Also build the transpose, which the layers' backward passes multiply by;
            without it the layers' outputs cannot be differentiated.

        Returns
        -------
        propagation : SparseMatrix of shape (n_nodes, n_nodes)
            Sparse CSR matrix, with its transpose or None; row ``i`` lists the nodes
            that send messages to node ``i``, with their weights.
        """
        from torch_geometric.nn.conv.gcn_conv import gcn_norm
        from torch_geometric.utils import add_self_loops, degree, to_torch_csr_tensor

        from .nn._sparse_product import SparseMatrix

        weight = None
        if self.gcn_normalize:
            edge_index, weight = gcn_norm(
                edge_index, edge_weight, n_nodes, add_self_loops=self.self_loops
            )
        elif self.self_loops:
            edge_index, _ = add_self_loops(edge_index, num_nodes=n_nodes)
        if self.mean_aggregation:
            target = edge_index[1]
            weight = degree(target, n_nodes).reciprocal().index_select(0, target)
        matrix = to_torch_csr_tensor(edge_index.flip(0), weight, size=(n_nodes, n_nodes))
        return SparseMatrix.from_csr(matrix) if transpose else SparseMatrix(matrix, None)


def _gcn_conv(in_dim, out_dim, *, is_output, activation, gat_heads):
    from .nn._linear_first import PrecomputedGCNConv

    # Normalisation and self-loops are in the propagation matrix, built once per call.
    return PrecomputedGCNConv(in_dim, out_dim, normalize=False, add_self_loops=False)


def _sage_conv(in_dim, out_dim, *, is_output, activation, gat_heads):
    from .nn._linear_first import LinearFirstSAGEConv

    return LinearFirstSAGEConv(in_dim, out_dim)


def _gat_conv(in_dim, out_dim, *, is_output, activation, gat_heads):
    from .nn._linear_first import PrecomputedGATConv

    heads = 1 if is_output else gat_heads
    return PrecomputedGATConv(
        in_dim, out_dim // heads, heads=heads, concat=not is_output, add_self_loops=False
    )


def _gin_conv(in_dim, out_dim, *, is_output, activation, gat_heads):
    from .nn._linear_first import LinearFirstGINConv

    if is_output:
        return LinearFirstGINConv(nn.Sequential(nn.Linear(in_dim, out_dim)))
    return LinearFirstGINConv(
        nn.Sequential(nn.Linear(in_dim, out_dim), activation, nn.Linear(out_dim, out_dim))
    )


BACKBONES = {
    backbone.name: backbone
    for backbone in (
        Backbone("gcn", _gcn_conv, self_loops=True, gcn_normalize=True),
        Backbone("sage", _sage_conv, mean_aggregation=True),
        Backbone("gat", _gat_conv, self_loops=True, heads_split_width=True),
        Backbone("gin", _gin_conv),
    )
}
"""dict of str to Backbone: every backbone, by the name that selects it."""
