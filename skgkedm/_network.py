"""The full model: backbone layers, the optional GKEDM module and the output layer."""

from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn.resolver import activation_resolver

from ._backbones import make_conv
from .nn import GKEDM


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


def dropout_features(x, p, training):
    """Dropout that acts on the stored values of a sparse CSR tensor, as on a dense one."""
    if not training or p == 0:
        return x
    if x.layout == torch.sparse_csr:
        values = F.dropout(x.values(), p=p, training=True)
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, size=x.shape)
    return F.dropout(x, p=p, training=True)


class GKEDMNetwork(nn.Module):
    """Backbone message-passing layers with GKEDM after the last hidden layer.

    Parameters
    ----------
    spec : dict
        Architecture: ``in_dim``, ``hidden_dims``, ``n_classes``, ``backbone``,
        ``activation``, ``dropout``, ``gat_heads``, ``gkedm``, ``gkedm_heads``,
        ``gkedm_scoring``, ``gkedm_update``, ``gkedm_values``, ``gkedm_dropout``.
    """

    def __init__(self, spec):
        super().__init__()
        self.spec = dict(spec)
        self.activation = activation_resolver(spec["activation"])
        widths = [spec["in_dim"], *spec["hidden_dims"], spec["n_classes"]]
        self.convs = nn.ModuleList(
            make_conv(
                spec["backbone"],
                in_dim,
                out_dim,
                is_output=position == len(widths) - 2,
                activation=self.activation,
                gat_heads=spec["gat_heads"],
            )
            for position, (in_dim, out_dim) in enumerate(pairwise(widths))
        )
        self.gkedm = None
        if spec["gkedm"]:
            self.gkedm = GKEDM(
                spec["hidden_dims"][-1],
                heads=spec["gkedm_heads"],
                scoring=spec["gkedm_scoring"],
                update=spec["gkedm_update"],
                values=spec["gkedm_values"],
                attention_dropout=spec["gkedm_dropout"],
                add_self_loops=False,
            )

    def forward(self, graph, use_gkedm=True):
        """Compute class scores for every node of ``graph`` (a ``GraphTensors``)."""
        p = self.spec["dropout"]
        first, *hidden, output = self.convs
        h = self.activation(first(dropout_features(graph.x, p, self.training), graph.propagation))
        for conv in hidden:
            h = self.activation(conv(F.dropout(h, p=p, training=self.training), graph.propagation))
        attention = None
        if self.gkedm is not None and use_gkedm:
            h, _, attention = self.gkedm(h, graph.attention_layout)
        logits = output(F.dropout(h, p=p, training=self.training), graph.propagation)
        return NetworkOutput(logits, attention)
