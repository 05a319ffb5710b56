"""The full model: backbone layers, the optional GKEDM module and the output layer or head."""

from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.utils.weak import WeakTensorKeyDictionary

from ._backbones import BACKBONES
from ._dropout import dropout
from ._edge_ops import csr_tensor
from ._gkedm import GKEDM
from ._sparse_product import SparseMatrix, TransposeLayout, sparse_product

# The stacked sparsity pattern of sparse features (see ``stacked_features``), keyed by
# the features tensor: computed once per fit, shared by all its training steps.
_STACKED_FEATURES = WeakTensorKeyDictionary()


def stacked_features(graph, views, p, training, generator):
    """``views`` dropout views of a graph's features, stacked along the rows.

    The input of a first layer that maps each node's own row, which then computes
    every view in one product: dense features as a ``(views * n_nodes, n_features)``
    tensor, sparse ones as a sparse CSR matrix of that shape paired with its
    transpose (laid out once per features tensor), for the backward pass.

    Parameters
    ----------
    graph : GraphTensors
    views : int
    p : float
        Dropout probability.
    training : bool
        Drop (each view with its own mask); when False every view is the features.
    generator : torch.Generator or None
        Source of the masks.

    Returns
    -------
    Tensor or SparseMatrix

    Examples
    --------
    >>> import torch
    >>> from skgkedm.loader._graph_tensors import feature_tensors
    >>> from skgkedm.nn._network import stacked_features
    >>> graph = feature_tensors(torch.eye(2).numpy(), torch.device("cpu"))
    >>> stacked_features(graph, 2, 0.5, False, None).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    x = graph.x
    if x.layout != torch.sparse_csr:
        n_nodes, n_features = x.shape
        stacked = dropout(x.expand(views, n_nodes, n_features), p, training, generator)
        return stacked.reshape(views * n_nodes, n_features)
    cached = _STACKED_FEATURES.setdefault(x, {})
    if views not in cached:
        ptr, columns, values = x.crow_indices(), x.col_indices(), x.values()
        offsets = torch.arange(views, device=ptr.device, dtype=ptr.dtype) * columns.numel()
        ptr = torch.cat([ptr[:1], (ptr[1:] + offsets[:, None]).reshape(-1)])
        columns = columns.repeat(views)
        transpose = None
        if graph.x_transpose is not None:
            transpose = TransposeLayout.from_pattern(ptr, columns, x.size(1))
        cached[views] = ptr, columns, values.repeat(views), transpose
    ptr, columns, values, transpose = cached[views]
    size = (views * x.size(0), x.size(1))
    stacked = csr_tensor(ptr, columns, dropout(values, p, training, generator), size)
    if transpose is None:
        return stacked
    return SparseMatrix(stacked, transpose.transpose(stacked))


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


class HopGraph(NamedTuple):
    """The matrices of one hop of a neighbour-sampled subgraph, trimmed to what it needs.

    The nodes of a sampled subgraph come hop by hop (the seeds, then the nodes each hop
    reached first), so the step of message passing that still has ``j`` steps after it
    only updates the nodes of the first ``j`` hops, from those of one hop more: the
    first ``n_rows`` nodes from the first ``n_columns`` (PyG's ``trim_to_layer``).

    Attributes
    ----------
    n_rows : int
        Nodes the step updates.
    n_columns : int
        Nodes it reads.
    propagation : SparseMatrix of shape (n_rows, n_columns) or None
        The rows of the subgraph's propagation matrix (its values unchanged).
    attention_layout : EdgeLayout or None
        The edges into those rows that GKEDM attends along.
    """

    n_rows: int
    n_columns: int
    propagation: SparseMatrix | None
    attention_layout: object | None


def hop_graphs(graph, nodes_per_hop, n_hops):
    """The trimmed matrices of each hop of a neighbour-sampled subgraph.

    Parameters
    ----------
    graph : GraphTensors
        Of the whole sampled subgraph, its nodes ordered hop by hop.
    nodes_per_hop : sequence of int
        Nodes first reached at each hop, the seeds first (``SampledSubgraph``); a
        sampling that stopped early (no new node) may list fewer than ``n_hops + 1``.
    n_hops : int
        Hops sampled.

    Returns
    -------
    tuple of HopGraph
        Entry ``j`` updates the nodes of hops ``0 .. j`` from those of hops
        ``0 .. j + 1``.
    """
    counts = torch.tensor(list(nodes_per_hop) + [0] * (n_hops + 1 - len(nodes_per_hop)))
    ends = torch.cumsum(counts, 0).tolist()
    trimmed = []
    for hop in range(n_hops):
        n_rows, n_columns = ends[hop], ends[hop + 1]
        propagation = graph.propagation
        if propagation is not None:
            propagation = propagation.trimmed(n_rows, n_columns)
        layout = graph.attention_layout
        if layout is not None:
            layout = layout.trimmed(n_rows, n_columns)
        trimmed.append(HopGraph(n_rows, n_columns, propagation, layout))
    return tuple(trimmed)


def _is_dense(x):
    return isinstance(x, Tensor) and x.layout == torch.strided


class _Steps:
    """The matrices each step of message passing of one forward pass uses, in turn.

    On a subgraph with :func:`hop_graphs` (``graph.hops``), step ``k`` of ``n_steps``
    runs on ``graph.hops[n_steps - k]``: it computes only the nodes later steps still
    need. The first ``whole`` steps run on the whole subgraph instead: a GKEDM module
    of several hops propagates between every pair of nodes it reaches, so trimming
    before it would change its outputs. Elsewhere every step runs on the whole graph.
    """

    def __init__(self, graph, n_steps, whole):
        hops = getattr(graph, "hops", None)
        usable = hops is not None and len(hops) >= n_steps and graph.edge_attr is None
        self.graph, self.hops = graph, hops if usable else None
        # Steps still to come after the current one; trimmed once fewer than this.
        self.remaining, self.trimmed_below = n_steps, n_steps - whole

    def next(self):
        """``(HopGraph or None, propagation, attention layout)`` of the next step."""
        self.remaining -= 1
        if self.hops is None or self.remaining >= self.trimmed_below:
            return None, self.graph.propagation, self.graph.attention_layout
        hop = self.hops[self.remaining]
        return hop, hop.propagation, hop.attention_layout

    def conv(self, layer, h, edges):
        """One message-passing layer, on the rows the later steps need."""
        hop, propagation, _ = self.next()
        if hop is not None and propagation is None and _is_dense(h):
            h = h[: hop.n_rows]  # a layer of each node's own features ("mlp")
        out = layer(h, propagation, *edges)
        return out if hop is None or out.size(0) == hop.n_rows else out[: hop.n_rows]

    def attend(self, module, h, generator, views=1):
        """One GKEDM module on ``views`` stacked views; returns its output and attention."""
        hop, _, layout = self.next()
        if hop is not None and h.size(0) != hop.n_columns:
            h = h[: hop.n_columns]
        h, _, attention = module(h, layout, generator=generator, views=views)
        return h, attention


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

    def message_steps(self, use_gkedm=True):
        """The steps of message passing, in order, each ``(kind, module)``.

        ``kind`` is ``"conv"`` for a hidden layer (dropout before it, the activation
        after it), ``"output"`` for the layer that gives the class scores (dropout
        before it) and ``"attend"`` for a GKEDM module; a network with a readout has no
        ``"output"`` step (its head follows the pooling).

        Parameters
        ----------
        use_gkedm : bool, default=True
            Include the GKEDM modules.

        Returns
        -------
        list of (str, torch.nn.Module)
        """
        attend = self.gkedm is not None and use_gkedm
        hidden = list(self.convs if self.head is not None else self.convs[:-1])
        # A linear network (no hidden layer: the check's "linear" candidate) has
        # its output layer alone.
        steps = [("conv", hidden[0])] if hidden else []
        for position, conv in enumerate(hidden[1:]):
            if attend and position < len(self.hidden_gkedm):
                steps.append(("attend", self.hidden_gkedm[position]))
            steps.append(("conv", conv))
        # The last module runs on the hidden layer or, gkedm_position="output", on the
        # class scores (a network with a readout has it on no layer then).
        on_output = self.spec.gkedm_position == "output"
        if attend and not on_output:
            steps.append(("attend", self.gkedm))
        if self.head is None:
            steps.append(("output", self.convs[-1]))
            if attend and on_output:
                steps.append(("attend", self.gkedm))
        return steps

    def forward(self, graph, use_gkedm=True, generator=None, views=1):
        """Compute the outputs for every node, or every graph, of ``graph`` (``GraphTensors``).

        ``generator`` draws the dropout masks during training (torch's global
        generator when None). With ``views > 1`` the outputs of that many dropout
        views (independent masks), stacked: logits of shape ``(views, n_rows,
        n_outputs)`` and the first view's attention. A network whose layers read no
        edge (the ``"mlp"`` backbone) on a whole graph runs them as one pass, the
        views stacked along the rows (:meth:`fuses_views`); any other runs a pass
        per view.
        """
        if views > 1 and not self.fuses_views(graph):
            outputs = [self(graph, use_gkedm, generator) for _ in range(views)]
            return NetworkOutput(torch.stack([out.logits for out in outputs]), outputs[0][1])
        p = self.spec.dropout
        steps = self.message_steps(use_gkedm)
        # A sampled subgraph's steps are trimmed, but not before a multi-hop GKEDM module.
        # So is a module weighting by its sources' degrees (gkedm_normalization).
        whole_module = self.spec.gkedm_hops > 1 or self.spec.gkedm_normalization != "mean"
        modules = [position for position, (kind, _) in enumerate(steps) if kind == "attend"]
        whole = modules[-1] + 1 if whole_module and modules else 0
        walk = _Steps(graph, len(steps), whole)
        # Layers that use edge attributes (spec.edge_dim > 0) take them as a third argument.
        edges = (graph.edge_attr,) if self.spec.edge_dim else ()
        h, attention = graph.x, None
        for position, (kind, module) in enumerate(steps):
            if kind == "attend":
                h, attention = walk.attend(module, h, generator, views)
                continue
            if position == 0 and views > 1:
                h = stacked_features(graph, views, p, self.training, generator)
            else:
                h = dropout(h, p, self.training, generator)
                if position == 0:
                    h = graph.with_transpose(h)
            h = walk.conv(module, h, edges)
            if kind == "conv":
                h = self._activate(h)
        if self.head is None:
            return NetworkOutput(h if views == 1 else h.view(views, -1, h.size(1)), attention)
        pooled = self._pool(h, graph)
        hidden_layer, output_layer = self.head
        h = self._activate(hidden_layer(pooled))
        return NetworkOutput(output_layer(dropout(h, p, self.training, generator)), attention)

    def _activate(self, h):
        """The activation of a layer's fresh output ``h``; ReLU in place.

        No layer's backward pass reads its own output, so ReLU may overwrite it (its
        own backward reads the result): at a million nodes a hidden layer's output
        is a quarter of a gigabyte, and a fresh one costs its page faults again in
        every step. (Autograd would refuse the overwrite of a tensor it saved.)
        """
        if isinstance(self.activation, nn.ReLU):
            return torch.relu_(h)
        return self.activation(h)

    def fuses_views(self, graph):
        """Whether ``forward(graph, views=k)`` runs the ``k`` views as one pass.

        So it does when every layer maps each node's own row (a backbone that reads
        no edge), the outputs are per node (no readout) and ``graph`` is whole (not
        a neighbour-sampled subgraph, whose layers are trimmed to fewer rows).
        """
        return (
            self.head is None
            and not BACKBONES[self.spec.backbone].uses_graph
            and getattr(graph, "hops", None) is None
        )

    def _pool(self, h, graph):
        """Node representations pooled per graph, by the spec's readout."""
        if self.spec.readout == "max":
            from torch_geometric.nn import global_max_pool

            # The maximum does not depend on the order of the nodes: deterministic as is.
            return global_max_pool(h, graph.graph_index, size=graph.n_graphs)
        matrix = pooling_matrix(graph.graph_index, graph.n_graphs, self.spec.readout == "mean")
        return sparse_product(matrix, h)
