"""The full model: backbone layers, the optional GKEDM module and the output layer or head."""

from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor, nn

from ._backbones import BACKBONES
from ._dropout import dropout
from ._edge_ops import csr_tensor
from ._gkedm import GKEDM
from ._sparse_product import SparseMatrix, sparse_product


class NetworkOutput(NamedTuple):
    """Class scores of every node and, with GKEDM, its attention over the edges.

    Attributes
    ----------
    logits : Tensor of shape (n_nodes, n_classes) or (n_graphs, n_outputs)
        One row per node, or per graph for a network with a readout.
    attention : Tensor of shape (n_attention_edges, heads) or None
        Aligned with ``GraphTensors.attention_layout``; None when GKEDM is off.
    """

    logits: Tensor
    attention: Tensor | None


READOUTS = {"mean": "global_mean_pool", "sum": "global_add_pool", "max": "global_max_pool"}
"""Readouts from node to graph representations, each pooling as the PyG function named."""


def pooling_matrix(graph_index, n_graphs, mean):
    """The (n_graphs, n_nodes) sparse matrix that sums, or averages, each graph's nodes.

    A product with it pools like PyG's ``global_add_pool`` / ``global_mean_pool``, but
    as a sparse matrix product: deterministic on CUDA, where PyG's scatter adds in an
    order that varies from run to run.

    Parameters
    ----------
    graph_index : Tensor of shape (n_nodes,)
        Graph of each node, non-decreasing (each graph's nodes are contiguous).
    n_graphs : int
    mean : bool
        Average instead of sum.

    Returns
    -------
    SparseMatrix
        With its transpose, for the backward pass.
    """
    n_nodes = graph_index.numel()
    counts = torch.bincount(graph_index, minlength=n_graphs)
    ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    values = torch.ones(n_nodes, device=graph_index.device)
    if mean:
        values = (1.0 / counts.clamp(min=1)).float().index_select(0, graph_index)
    nodes = torch.arange(n_nodes, device=graph_index.device)
    matrix = csr_tensor(ptr, nodes, values, (n_graphs, n_nodes))
    transpose = csr_tensor(
        torch.arange(n_nodes + 1, device=nodes.device), graph_index, values, (n_nodes, n_graphs)
    )
    return SparseMatrix(matrix, transpose)


class GKEDMNetwork(nn.Module):
    """Backbone message-passing layers with GKEDM after the last hidden layer.

    With ``spec.gkedm_position == "output"`` the module follows the output layer
    instead and propagates the class scores (one head). Without a readout
    (``spec.readout is None``) one more message-passing layer maps every node to its
    class scores. With one, the node representations are pooled per
    graph and a two-layer head maps each graph to its outputs.

    Parameters
    ----------
    spec : NetworkSpec
        The architecture, kept in ``self.spec``.
    """

    def __init__(self, spec):
        from torch_geometric.nn.resolver import activation_resolver

        super().__init__()
        self.spec = spec
        self.activation = activation_resolver(spec.activation)
        widths = [spec.in_dim, *spec.hidden_dims]
        if spec.readout is None:
            widths.append(spec.n_classes)
        self.convs = nn.ModuleList(
            BACKBONES[spec.backbone].build_conv(
                in_dim,
                out_dim,
                is_output=spec.readout is None and position == len(widths) - 2,
                activation=self.activation,
                gat_heads=spec.gat_heads,
                edge_dim=spec.edge_dim,
            )
            for position, (in_dim, out_dim) in enumerate(pairwise(widths))
        )
        self.head = None
        if spec.readout is not None:
            width = spec.hidden_dims[-1]
            self.head = nn.ModuleList([nn.Linear(width, width), nn.Linear(width, spec.n_classes)])
        self.gkedm = None
        # With gkedm_layers="every", one module after each hidden layer but the last;
        # ``self.gkedm`` stays the module after the last (its weights keep their names).
        # With gkedm_position="output", one module on the class scores, with one head.
        self.hidden_gkedm = nn.ModuleList()
        if spec.gkedm:
            on_output = spec.gkedm_position == "output"
            widths = spec.hidden_dims if spec.gkedm_layers == "every" else spec.hidden_dims[-1:]
            *hidden_modules, self.gkedm = (
                GKEDM(
                    width,
                    heads=1 if on_output else spec.gkedm_heads,
                    scoring=spec.gkedm_scoring,
                    update=spec.gkedm_update,
                    values=spec.gkedm_values,
                    attention_dropout=spec.gkedm_dropout,
                    add_self_loops=False,
                    hops=spec.gkedm_hops,
                    alpha=spec.gkedm_alpha,
                    normalization=spec.gkedm_normalization,
                )
                for width in ([spec.n_classes] if on_output else widths)
            )
            self.hidden_gkedm.extend(hidden_modules)

    def gkedm_parameters(self):
        """Parameters of every GKEDM module."""
        modules = [*self.hidden_gkedm, self.gkedm] if self.gkedm is not None else []
        return [parameter for module in modules for parameter in module.parameters()]

    def output_parameters(self):
        """Parameters after GKEDM: the output layer, or the readout's head.

        With the module on the class scores (``gkedm_position="output"``) nothing
        follows it, but the output layer, which feeds it, is trained with it.
        """
        return list((self.head if self.head is not None else self.convs[-1]).parameters())

    def forward(self, graph, use_gkedm=True, generator=None):
        """Compute the outputs for every node, or every graph, of ``graph`` (``GraphTensors``).

        ``generator`` draws the dropout masks during training (torch's global
        generator when None).
        """
        p = self.spec.dropout
        first, *hidden = self.convs
        if self.head is None:
            *hidden, output = hidden
        x = dropout(graph.x, p, self.training, generator)
        # Layers that use edge attributes (spec.edge_dim > 0) take them as a third argument.
        edges = (graph.edge_attr,) if self.spec.edge_dim else ()
        h = self.activation(first(graph.with_transpose(x), graph.propagation, *edges))
        attend = self.gkedm is not None and use_gkedm
        for position, conv in enumerate(hidden):
            if attend and position < len(self.hidden_gkedm):
                module = self.hidden_gkedm[position]
                h, _, _ = module(h, graph.attention_layout, generator=generator)
            h = dropout(h, p, self.training, generator)
            h = self.activation(conv(h, graph.propagation, *edges))
        attention = None
        on_output = self.spec.gkedm_position == "output"
        if attend and not on_output:
            h, _, attention = self.gkedm(h, graph.attention_layout, generator=generator)
        if self.head is None:
            logits = output(dropout(h, p, self.training, generator), graph.propagation, *edges)
            if attend and on_output:
                logits, _, attention = self.gkedm(
                    logits, graph.attention_layout, generator=generator
                )
            return NetworkOutput(logits, attention)
        pooled = self._pool(h, graph)
        hidden_layer, output_layer = self.head
        h = self.activation(hidden_layer(pooled))
        return NetworkOutput(output_layer(dropout(h, p, self.training, generator)), attention)

    def _pool(self, h, graph):
        """Node representations pooled per graph, by the spec's readout."""
        if self.spec.readout == "max":
            from torch_geometric.nn import global_max_pool

            # The maximum does not depend on the order of the nodes: deterministic as is.
            return global_max_pool(h, graph.graph_index, size=graph.n_graphs)
        matrix = pooling_matrix(graph.graph_index, graph.n_graphs, self.spec.readout == "mean")
        return sparse_product(matrix, h)
