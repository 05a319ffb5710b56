"""Torch tensors a network needs from a graph, built once per fit or predict call."""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..nn import EdgeLayout
from ..nn._backbones import BACKBONES
from ..nn._edge_ops import csr_tensor
from ..nn._graph_kernels import host_kernels, put, take
from ..nn._sparse_product import SparseMatrix, TransposeLayout
from ._message_graph import MessageGraph, host_tensor


class GraphTensors(NamedTuple):
    """A graph ready for a network.

    Attributes
    ----------
    x : Tensor of shape (n_nodes, n_features)
        Node features, dense or sparse CSR.
    propagation : SparseMatrix of shape (n_nodes, n_nodes) or None
        Sparse CSR matrix the backbone aggregates with, and its transpose; row ``i``
        lists the nodes that send messages to node ``i``, as
        ``Backbone.propagation`` builds it. Built under ``torch.no_grad()`` (to
        predict), it has no transpose. None for a backbone that does not use the
        graph (``"mlp"``).
    attention_layout : EdgeLayout or None
        The edges GKEDM attends along: one self-loop per node, sorted by target. None
        for a network without GKEDM.
    x_transpose : TransposeLayout or None, default=None
        The layout of the transpose of sparse features, which the first layer's
        backward pass needs; None for dense features, and under ``torch.no_grad()``.
    graph_index : Tensor of shape (n_nodes,) or None, default=None
        For several graphs held as one block-diagonal graph: the graph of each node
        (``0 .. n_graphs - 1``); None for a single graph whose nodes are the samples.
    n_graphs : int, default=1
        Number of graphs ``graph_index`` numbers.
    edge_attr : Tensor of shape (propagation.matrix nnz, edge_dim) or None, default=None
        Edge attributes aligned with the entries of ``propagation`` (self-loops
        included), for a network whose layers use them; None otherwise.
    node_order : Tensor of shape (n_nodes,) or None, default=None
        For a graph whose nodes were renumbered (:func:`graph_tensors`), the input node
        of each row; None when rows are the input's nodes.
    node_rows : Tensor of shape (n_nodes,) or None, default=None
        The inverse of ``node_order``: the row of each input node.
    hops : tuple of HopGraph or None, default=None
        For a neighbour-sampled subgraph, the matrices of each hop trimmed to the
        nodes later layers still need (``skgkedm.nn._network.hop_graphs``); None:
        every layer runs on the whole graph.
    """

    x: Tensor
    propagation: SparseMatrix | None
    attention_layout: EdgeLayout | None
    x_transpose: TransposeLayout | None = None
    graph_index: Tensor | None = None
    n_graphs: int = 1
    edge_attr: Tensor | None = None
    node_order: Tensor | None = None
    node_rows: Tensor | None = None
    hops: tuple | None = None

    def rows_of(self, nodes):
        """The rows of input nodes ``nodes`` (a tensor on this graph's device)."""
        return nodes if self.node_rows is None else take(self.node_rows, nodes)

    def in_input_order(self, outputs):
        """Per-row outputs (n_nodes, ...) reordered to the input's node order."""
        return outputs if self.node_rows is None else outputs.index_select(0, self.node_rows)

    def with_transpose(self, x):
        """Pair features with the transpose the first layer's backward pass needs.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_features)
            ``self.x``, or it after dropout (same sparsity pattern).

        Returns
        -------
        Tensor or SparseMatrix
            Dense features as they are; sparse features with their transpose.
        """
        if self.x_transpose is None:
            return x
        return SparseMatrix(x, self.x_transpose.transpose(x))

    @property
    def attention_index(self):
        """(source, target) input nodes of the attention edges, aligned with attention maps."""
        index = torch.stack([self.attention_layout.source, self.attention_layout.target])
        if self.node_order is None:
            return index
        return take(self.node_order, index.flatten()).view(2, -1)


def features_tensor(features):
    """Convert node features to a float32 tensor, keeping sparse features sparse (CSR)."""
    if sp.issparse(features):
        features = sp.csr_array(features)
        return csr_tensor(
            torch.from_numpy(features.indptr.astype(np.int64)),
            torch.from_numpy(features.indices.astype(np.int64)),
            torch.from_numpy(features.data.astype(np.float32, copy=False)),
            features.shape,
        )
    return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))


def build_graph_tensors(features, messages, backbone, device, attention, edge_attr=None):
    """Assemble the tensors a network with the given backbone needs.

    Parameters
    ----------
    features : ndarray or scipy sparse matrix of shape (n_nodes, n_features)
    messages : MessageGraph
        The edges messages travel along, without self-loops; moved to ``device`` (once)
        if built elsewhere.
    backbone : Backbone
        The record of the network's backbone (``BACKBONES[name]``): it builds the
        propagation matrix.
    device : torch.device
    attention : bool
        Also build the edge layout GKEDM attends along.
    edge_attr : ndarray or Tensor of shape (messages.nnz, edge_dim) or None, default=None
        Attributes of the message edges, in the order of the messages' entries, for a
        network whose layers use them (``backbone.edge_features``).

    Returns
    -------
    GraphTensors
        Under ``torch.no_grad()`` (to predict), without the transposes that only
        backward passes need.
    """
    # Everything is built on the device from the messages' tensors, uploaded once.
    messages = messages.to(device)
    # Transposes serve only backward passes: a predict call, under no_grad, skips them.
    differentiable = torch.is_grad_enabled()
    propagation = backbone.propagation(messages, differentiable)
    attention_layout = None
    if attention:
        looped = messages.looped
        transpose = messages.transpose_layout(looped=True) if differentiable else None
        attention_layout = EdgeLayout.from_csr(looped.ptr, looped.columns, transpose)
    graph = feature_tensors(features, device)
    if propagation is not None:
        graph = graph._replace(propagation=propagation)
    if edge_attr is not None:
        graph = graph._replace(edge_attr=backbone.edge_attributes(messages, edge_attr))
    return graph._replace(attention_layout=attention_layout)


def feature_tensors(features, device):
    """Node features alone, for a network that uses no edge (``NetworkSpec.graph_free``).

    Parameters
    ----------
    features : ndarray or scipy sparse matrix of shape (n_nodes, n_features)
    device : torch.device

    Returns
    -------
    GraphTensors
        With no propagation matrix and no attention layout; sparse features have the
        transpose layout of their backward pass unless built under ``torch.no_grad()``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skgkedm.loader._graph_tensors import feature_tensors
    >>> graph = feature_tensors(np.ones((3, 2)), torch.device("cpu"))
    >>> graph.x.shape, graph.propagation, graph.attention_layout
    (torch.Size([3, 2]), None, None)
    """
    x = features_tensor(features).to(device)
    x_transpose = None
    if torch.is_grad_enabled() and x.layout == torch.sparse_csr:
        x_transpose = TransposeLayout.of(x)
    return GraphTensors(x, None, None, x_transpose)


# On the CPU, graphs with at least this many nodes are renumbered in a cache-friendly
# order (:func:`cache_order`); None: never. Off: on the shared 2-core machine the
# measurements disagreed (``benchmarks/node_order.py``: a 1M-node random graph 0.62x
# the given order's epoch in one run, 1.35x in the next; facebook 1.03x, squirrel 1.01x;
# reverse Cuthill-McKee 0.98x / 1.32x, 1.12x, 0.88x; ``benchmarks/scale.py
# --compare-order``: 1M nodes 2.18x per epoch, 1.76x per predict). Measure on an idle
# machine with ``benchmarks/scale.py --compare-order`` before turning it on.
REORDER_MIN_NODES = None


def graph_tensors(nodes, symmetrize, spec, device):
    """The tensors a network built from ``spec`` needs to run on the graph of ``nodes``.

    Parameters
    ----------
    nodes : GraphNodes
    symmetrize : bool
        Let messages flow both ways along every edge.
    spec : NetworkSpec
        The network's architecture (its backbone, and whether it has GKEDM).
    device : torch.device

    Returns
    -------
    GraphTensors
        For a graph-free network (``spec.graph_free``), the features of every node
        alone: no edge is read. On the CPU, a graph of at least ``REORDER_MIN_NODES``
        nodes (off by default) is renumbered in :func:`cache_order` (``node_order``):
        the rows of outputs go back to the input's order through ``in_input_order``,
        labelled nodes find their rows through ``rows_of``.
    """
    if spec.graph_free:
        return feature_tensors(nodes.features, device)
    edge_dim = getattr(spec, "edge_dim", 0)
    backbone = BACKBONES[spec.backbone]
    # A fit that attends or takes means multiplies by transposes, built from each edge's
    # reverse: found at once, its transposition also tells whether the graph is symmetric.
    reverse = torch.is_grad_enabled() and (spec.gkedm or backbone.mean_aggregation)
    messages = MessageGraph.from_adjacency(
        nodes.adjacency, symmetrize, track_edges=edge_dim > 0, device=device, reverse=reverse
    )
    features, order = nodes.features, None
    threshold = REORDER_MIN_NODES
    if threshold is not None and messages.n_nodes >= threshold and host_kernels(messages.ptr):
        order = cache_order(messages)
        messages = messages.renumbered(order)
        features = features[order.numpy()]
    edge_attr = None
    if edge_dim:
        check_edge_attr(nodes.edge_attr, edge_dim)
        edge_attr = host_tensor(nodes.edge_attr).to(device, torch.float32)
        edge_attr = edge_attr.index_select(0, messages.edge_positions)
    graph = build_graph_tensors(
        features,
        messages,
        backbone,
        device,
        attention=spec.gkedm,
        edge_attr=edge_attr,
    )
    if order is None:
        return graph
    rows = put(torch.empty_like(order), order, torch.arange(len(order)))
    return graph._replace(node_order=order, node_rows=rows)


def cache_order(messages):
    """A cache-friendly node order: nodes by decreasing out-degree (stable).

    Propagation gathers the feature row of every edge's source node; with the most
    gathered nodes numbered first, their rows share cache lines and stay cached
    (``REORDER_MIN_NODES`` says when, off by default: the measurements so far
    disagree).

    Parameters
    ----------
    messages : MessageGraph

    Returns
    -------
    Tensor of shape (n_nodes,)
        The input node of each new number.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skgkedm.loader._message_graph import MessageGraph
    >>> from skgkedm.loader._graph_tensors import cache_order
    >>> star = sp.csr_array(([1.0] * 3, ([0, 1, 3], [2, 2, 2])), shape=(4, 4))
    >>> cache_order(MessageGraph.from_adjacency(star, symmetrize=True)).tolist()
    [2, 0, 1, 3]
    """
    degree = torch.bincount(messages.columns, minlength=messages.n_nodes)
    return torch.sort(degree, descending=True, stable=True).indices


def check_edge_attr(edge_attr, edge_dim):
    """Refuse graphs whose edge attributes are not those the network was built for.

    Parameters
    ----------
    edge_attr : ndarray of shape (n_edges, n_edge_features) or None
        The graphs' edge attributes.
    edge_dim : int
        Edge attributes per edge the network uses (> 0).

    Raises
    ------
    ValueError
        If ``edge_attr`` is None or has another width.
    """
    found = 0 if edge_attr is None else edge_attr.shape[1]
    if found != edge_dim:
        raise ValueError(
            f"The model was fitted on graphs with {edge_dim} edge attributes per edge, and its "
            f"layers use them; X has {found}. Pass graphs with the same edge attributes."
        )
