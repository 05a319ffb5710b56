"""Torch tensors a network needs from a graph, built once per fit or predict call."""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ._backbones import BACKBONES
from .nn import EdgeLayout
from .nn._sparse_product import SparseMatrix, TransposeLayout


class GraphTensors(NamedTuple):
    """A graph ready for a network.

    Attributes
    ----------
    x : Tensor of shape (n_nodes, n_features)
        Node features, dense or sparse CSR.
    propagation : SparseMatrix of shape (n_nodes, n_nodes)
        Sparse CSR matrix the backbone aggregates with, and its transpose; row ``i``
        lists the nodes that send messages to node ``i``, as
        ``Backbone.propagation`` builds it. Built under ``torch.no_grad()`` (to
        predict), it has no transpose.
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
    """

    x: Tensor
    propagation: SparseMatrix
    attention_layout: EdgeLayout | None
    x_transpose: TransposeLayout | None = None
    graph_index: Tensor | None = None
    n_graphs: int = 1

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
        """(source, target) rows of the attention edges, aligned with attention maps."""
        return torch.stack([self.attention_layout.source, self.attention_layout.target])


def message_edges(adjacency, symmetrize):
    """Return the (source, target) edges and weights messages travel along.

    Self-loops of the input are dropped: every model adds its own.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        ``adjacency[i, j]`` is the weight of the edge from ``i`` to ``j``.
    symmetrize : bool
        Let messages flow both ways along every edge (the larger weight wins).

    Returns
    -------
    edge_index : Tensor of shape (2, n_edges)
    edge_weight : Tensor of shape (n_edges,)
    """
    if symmetrize:
        adjacency = adjacency.maximum(adjacency.T)
    adjacency = sp.coo_array(adjacency)
    keep = adjacency.row != adjacency.col
    edge_index = np.vstack([adjacency.row[keep], adjacency.col[keep]]).astype(np.int64)
    edge_weight = adjacency.data[keep].astype(np.float32)
    return torch.from_numpy(edge_index), torch.from_numpy(edge_weight)


def features_tensor(features):
    """Convert node features to a float32 tensor, keeping sparse features sparse (CSR)."""
    if sp.issparse(features):
        features = sp.csr_array(features)
        return torch.sparse_csr_tensor(
            torch.from_numpy(features.indptr.astype(np.int64)),
            torch.from_numpy(features.indices.astype(np.int64)),
            torch.from_numpy(features.data.astype(np.float32, copy=False)),
            size=features.shape,
        )
    return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))


def build_graph_tensors(features, edge_index, edge_weight, backbone, device, attention):
    """Assemble the tensors a network with the given backbone needs.

    Parameters
    ----------
    features : ndarray or scipy sparse matrix of shape (n_nodes, n_features)
    edge_index : Tensor of shape (2, n_edges)
        (source, target) message edges without self-loops.
    edge_weight : Tensor of shape (n_edges,)
    backbone : Backbone
        The record of the network's backbone (``BACKBONES[name]``): it builds the
        propagation matrix.
    device : torch.device
    attention : bool
        Also build the edge layout GKEDM attends along.

    Returns
    -------
    GraphTensors
    """
    with warnings.catch_warnings():
        # torch warns once per process that sparse CSR support is "in beta" and that
        # invariant checks are off; the indices built here are valid by construction.
        warnings.filterwarnings(
            "ignore", message="Sparse (CSR tensor support|invariant checks)", category=UserWarning
        )
        return _build_graph_tensors(features, edge_index, edge_weight, backbone, device, attention)


def _build_graph_tensors(features, edge_index, edge_weight, backbone, device, attention):
    n_nodes = features.shape[0]
    # Transposes serve only backward passes: a predict call, under no_grad, skips them.
    differentiable = torch.is_grad_enabled()
    propagation = backbone.propagation(edge_index, edge_weight, n_nodes, differentiable)
    attention_layout = None
    if attention:
        from torch_geometric.utils import add_self_loops

        looped_index, _ = add_self_loops(edge_index, num_nodes=n_nodes)
        attention_layout = EdgeLayout.from_edge_index(looped_index, n_nodes).to(device)
    x = features_tensor(features).to(device)
    x_transpose = None
    if differentiable and x.layout == torch.sparse_csr:
        x_transpose = TransposeLayout.of(x)
    return GraphTensors(x, propagation.to(device), attention_layout, x_transpose)


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
    """
    edge_index, edge_weight = message_edges(nodes.adjacency, symmetrize)
    return build_graph_tensors(
        nodes.features,
        edge_index,
        edge_weight,
        BACKBONES[spec.backbone],
        device,
        attention=spec.gkedm,
    )
