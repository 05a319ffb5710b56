"""The full model: backbone layers, the optional GKEDM module and the output layer."""

from itertools import pairwise
from typing import NamedTuple

from torch import Tensor, nn

from ._backbones import BACKBONES
from .nn import GKEDM
from .nn._dropout import dropout


class NetworkOutput(NamedTuple):
    """Class scores of every node and, with GKEDM, its attention over the edges.

    Attributes
    ----------
    logits : Tensor of shape (n_nodes, n_classes)
    attention : Tensor of shape (n_attention_edges, heads) or None
        Aligned with ``GraphTensors.attention_layout``; None when GKEDM is off.
    """

    logits: Tensor
    attention: Tensor | None


class GKEDMNetwork(nn.Module):
    """Backbone message-passing layers with GKEDM after the last hidden layer.

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
        widths = [spec.in_dim, *spec.hidden_dims, spec.n_classes]
        self.convs = nn.ModuleList(
            BACKBONES[spec.backbone].build_conv(
                in_dim,
                out_dim,
                is_output=position == len(widths) - 2,
                activation=self.activation,
                gat_heads=spec.gat_heads,
            )
            for position, (in_dim, out_dim) in enumerate(pairwise(widths))
        )
        self.gkedm = None
        if spec.gkedm:
            self.gkedm = GKEDM(
                spec.hidden_dims[-1],
                heads=spec.gkedm_heads,
                scoring=spec.gkedm_scoring,
                update=spec.gkedm_update,
                values=spec.gkedm_values,
                attention_dropout=spec.gkedm_dropout,
                add_self_loops=False,
            )

    def forward(self, graph, use_gkedm=True, generator=None):
        """Compute class scores for every node of ``graph`` (a ``GraphTensors``).

        ``generator`` draws the dropout masks during training (torch's global
        generator when None).
        """
        p = self.spec.dropout
        first, *hidden, output = self.convs
        x = dropout(graph.x, p, self.training, generator)
        h = self.activation(first(graph.with_transpose(x), graph.propagation))
        for conv in hidden:
            h = self.activation(conv(dropout(h, p, self.training, generator), graph.propagation))
        attention = None
        if self.gkedm is not None and use_gkedm:
            h, _, attention = self.gkedm(h, graph.attention_layout, generator=generator)
        logits = output(dropout(h, p, self.training, generator), graph.propagation)
        return NetworkOutput(logits, attention)
