"""Every backbone in one place: its layer, its propagation matrix and its width rule.

PyTorch Geometric is imported where a layer or a propagation matrix is built, not
with this module, so ``import skgkedm`` does not load it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ._edge_ops import csr_tensor
from ._graph_kernels import repeat_rows, take
from ._sparse_product import SparseMatrix, linear


@dataclass(frozen=True)
class Backbone:
    """A message-passing backbone: everything the package needs to know about it.

    Attributes
    ----------
    name : str
        The value of the estimators' ``backbone`` parameter that selects it.
    build_conv : callable
        ``build_conv(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0)`` returns
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
    edge_features : bool, default=False
        The layers use edge attributes where the graphs have them, as PyG's layers
        with ``edge_dim`` do (GINE for GIN, GAT's edge term): ``build_conv`` then takes
        ``edge_dim`` and the layer is called as ``layer(x, propagation, edge_attr)``
        with ``edge_attr`` aligned with the entries of ``propagation`` (see
        :meth:`edge_attributes`).
    uses_graph : bool, default=True
        The layers aggregate along the edges. False for layers that read each node's
        own features only (``"mlp"``): they take no propagation matrix, and a network
        of them without GKEDM predicts from features alone, with no graph built.

    See Also
    --------
    BACKBONES : The registered backbones, by name.

    Examples
    --------
    >>> from skgkedm.nn._backbones import BACKBONES
    >>> list(BACKBONES)
    ['gcn', 'sage', 'gat', 'gin', 'mlp']
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
    edge_features: bool = False
    uses_graph: bool = True

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

    def propagation(self, messages, transpose=True):
        """Build the sparse matrix the layers aggregate with.

        Parameters
        ----------
        messages : MessageGraph
            The edges messages travel along (no self-loops), with their weights.
        transpose : bool, default=True
            Also build the transpose, which the layers' backward passes multiply by;
            without it the layers' outputs cannot be differentiated.

        Returns
        -------
        propagation : SparseMatrix of shape (n_nodes, n_nodes) or None
            Sparse CSR matrix, with its transpose or None; row ``i`` lists the nodes
            that send messages to node ``i``, with their weights; GCN's self-loops are
            its ``diagonal``. None for a backbone that does not use the graph.
        """
        if not self.uses_graph:
            return None
        # Built with torch on the graph's device: nothing goes through the host.
        looped = self.looped_pattern
        graph = messages.looped if looped else messages
        ptr, columns = graph.ptr, graph.columns
        diagonal = None
        if self.gcn_normalize:
            # PyG's gcn_norm: w_ij / sqrt(d_i d_j), d the weighted in-degree with the
            # self-loop's 1, which stays apart as the diagonal 1 / d_i; the product of
            # the two factors first, so the matrix stays exactly symmetric. Degrees
            # summed in float64, the entries scaled in float32 (half the bytes
            # gathered); the row's factor is repeated along its entries, not gathered.
            weight = graph.weights.float()
            weighted_degree = torch.segment_reduce(
                weight.double(), "sum", offsets=ptr, unsafe=True
            )
            scale = (weighted_degree + 1.0).rsqrt().float()
            factors = repeat_rows(scale, ptr, graph.nnz) * take(scale, columns)
            values = factors.mul_(weight)
            diagonal = scale * scale
        elif self.mean_aggregation:
            inverse = (1.0 / ptr.diff().clamp(min=1).double()).float()
            values = repeat_rows(inverse, ptr, graph.nnz)
        else:
            values = torch.ones(graph.nnz, dtype=torch.float32, device=ptr.device)
        size = (messages.n_nodes, messages.n_nodes)
        sparse = csr_tensor(ptr, columns, values, size)
        if not transpose:
            return SparseMatrix(sparse, None, diagonal)
        if messages.symmetric and not self.mean_aggregation:
            return SparseMatrix(sparse, sparse, diagonal)
        layout = messages.transpose_layout(looped)
        return SparseMatrix(sparse, layout.transpose(sparse), diagonal)

    @property
    def looped_pattern(self):
        """Whether the propagation matrix stores a self-loop per node among its entries
        (GAT attends along them); GCN keeps its loops apart, as the matrix's diagonal."""
        return self.self_loops and not self.gcn_normalize

    def edge_attributes(self, messages, edge_attr):
        """Edge attributes aligned with the entries of :meth:`propagation`'s matrix.

        Parameters
        ----------
        messages : MessageGraph
            The edges messages travel along (no self-loops).
        edge_attr : ndarray or Tensor of shape (messages.nnz, edge_dim)
            The attributes of each message edge, in the order of the messages' entries.

        Returns
        -------
        Tensor of shape (n_entries, edge_dim), float32
            For a backbone with self-loops, each node's loop carries the mean of the
            attributes of the edges into it (0 without any), as PyG's
            ``add_self_loops(fill_value="mean")`` gives GATConv.
        """
        edge_attr = torch.as_tensor(edge_attr, dtype=torch.float32, device=messages.device)
        if not self.looped_pattern:
            return edge_attr.contiguous()
        rows = messages.rows(looped=False)
        counts = torch.bincount(rows, minlength=messages.n_nodes).clamp(min=1)
        sums = edge_attr.new_zeros((messages.n_nodes, edge_attr.shape[1]), dtype=torch.float64)
        sums.index_add_(0, rows, edge_attr.double())
        looped = edge_attr.new_empty((messages.nnz + messages.n_nodes, edge_attr.shape[1]))
        # Entry k of the matrix moves past the loops of earlier rows, and past its own
        # row's loop when its column is larger (the loop sits at the diagonal).
        shifted, diagonal = messages.loop_positions()
        looped[shifted] = edge_attr
        looped[diagonal] = (sums / counts[:, None]).float()
        return looped


def _gcn_conv(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0):
    from ._linear_first import PrecomputedGCNConv

    # Normalisation and self-loops are in the propagation matrix, built once per call.
    return PrecomputedGCNConv(in_dim, out_dim)


def _sage_conv(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0):
    from ._linear_first import LinearFirstSAGEConv

    return LinearFirstSAGEConv(in_dim, out_dim)


def _gat_conv(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0):
    from ._linear_first import PrecomputedGATConv

    heads = 1 if is_output else gat_heads
    return PrecomputedGATConv(
        in_dim, out_dim // heads, heads=heads, concat=not is_output, edge_dim=edge_dim or None
    )


def _gin_conv(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0):
    from ._linear_first import EdgeGINEConv, LinearFirstGINConv

    if is_output:
        mlp = nn.Sequential(nn.Linear(in_dim, out_dim))
    else:
        mlp = nn.Sequential(nn.Linear(in_dim, out_dim), activation, nn.Linear(out_dim, out_dim))
    if edge_dim:
        return EdgeGINEConv(mlp, edge_dim=edge_dim)
    return LinearFirstGINConv(mlp)


class NodeLinear(nn.Linear):
    """A linear layer on each node's own features, called as the backbones' layers are.

    ``layer(x, propagation)`` ignores ``propagation``: the ``"mlp"`` backbone's layer,
    so that a network of them is a multi-layer perceptron on node features, trained
    and regularised (dropout, activation, GKEDM) like every other backbone. ``x`` is a
    dense tensor or a ``SparseMatrix`` of sparse features with their transpose.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._backbones import NodeLinear
    >>> layer = NodeLinear(3, 2)
    >>> layer(torch.ones(4, 3), None).shape
    torch.Size([4, 2])
    """

    def forward(self, x, propagation=None):
        if isinstance(x, SparseMatrix):
            return linear(x, self.weight) + self.bias
        return super().forward(x)  # the bias fused into the product


def _mlp_layer(in_dim, out_dim, *, is_output, activation, gat_heads, edge_dim=0):
    return NodeLinear(in_dim, out_dim)


BACKBONES = {
    backbone.name: backbone
    for backbone in (
        Backbone("gcn", _gcn_conv, self_loops=True, gcn_normalize=True),
        Backbone("sage", _sage_conv, mean_aggregation=True),
        Backbone("gat", _gat_conv, self_loops=True, heads_split_width=True, edge_features=True),
        Backbone("gin", _gin_conv, edge_features=True),
        Backbone("mlp", _mlp_layer, uses_graph=False),
    )
}
"""dict of str to Backbone: every backbone, by the name that selects it."""
