"""Exact predictions in node batches: the network one step at a time, batch by batch.

A model trained on mini-batches (``batch_size``) predicts with every edge, as a
full-batch model does, but without running the whole graph at once: each step of
message passing (a layer or a GKEDM module) is computed for a batch of nodes at a time,
from the previous step's outputs of those nodes and of all their in-neighbours (PyG's
"layer-wise inference"). Memory holds the graph's matrices, two node-by-width
buffers (a step's input and output) and one batch's neighbourhood, never the whole
graph's edge tensors (GKEDM's attention, its head blocks). The last step runs for the
requested nodes only.
"""

import numpy as np
import torch

from ..nn import EdgeLayout
from ..nn._backbones import BACKBONES
from ..nn._edge_ops import csr_tensor
from ..nn._graph_kernels import row_pointers
from ..nn._sparse_product import SparseMatrix
from ._graph_tensors import build_graph_tensors, features_tensor
from ._message_graph import MessageGraph
from ._neighbour_sampling import NeighbourSampler


def supports_layerwise(spec):
    """Whether :func:`layerwise_outputs` gives a network's exact outputs.

    A GKEDM module of several hops (``gkedm_hops > 1``) propagates from every node
    to every node within those hops in one step, one with symmetric normalisation
    reads its sources' in-degrees, and layers with edge attributes read them per edge:
    all run on the whole graph instead.

    Parameters
    ----------
    spec : NetworkSpec

    Returns
    -------
    bool
    """
    whole_module = spec.gkedm and (spec.gkedm_hops > 1 or spec.gkedm_normalization != "mean")
    return spec.readout is None and not spec.edge_dim and not whole_module


class _Neighbourhoods:
    """All the in-neighbours of batches of nodes, relabelled batch first, with weights
    (and the matrix's ``diagonal``, GCN's self-loops, or None)."""

    def __init__(self, ptr, columns, values, diagonal=None):
        self.sampler = NeighbourSampler(ptr, columns, fanouts=(-1,))
        self.values, self.diagonal = values, diagonal

    def diagonal_of(self, batch, device):
        """The diagonal's entries of the rows of ``batch``, on ``device`` (or None)."""
        if self.diagonal is None:
            return None
        return self.diagonal.index_select(0, batch.to(self.diagonal.device)).to(device)

    def of(self, batch):
        """``(nodes, ptr, sources, values)`` of the rows of ``batch``.

        ``nodes`` lists the batch first, then its other in-neighbours; ``sources`` are
        local ids (positions in ``nodes``), in the batch's CSR rows ``ptr``.
        """
        sub = self.sampler.sample(batch, None)
        source, target = sub.edge_index
        ptr = row_pointers(target, batch.numel())
        values = None if self.values is None else self.values.index_select(0, sub.edge_ids)
        return sub.nodes, ptr, source, values


def layerwise_outputs(network, nodes, symmetrize, rows, batch_size, device):
    """The network's outputs on some nodes of a graph, computed step by step in batches.

    Equal to the whole-graph forward pass (``network(graph_tensors(...))``) up to
    float rounding: every row of a step sums over the same entries, in the same
    order, with the same weights (those of the whole graph).

    Parameters
    ----------
    network : GKEDMNetwork
        In evaluation mode, on ``device``; :func:`supports_layerwise` of its spec.
    nodes : GraphNodes
        The graph (all of it is read).
    symmetrize : bool
        Let messages flow both ways along every edge.
    rows : ndarray of shape (n_rows,)
        Distinct node positions whose outputs are wanted.
    batch_size : int
        Nodes per batch at each step.
    device : torch.device

    Returns
    -------
    Tensor of shape (n_rows, n_outputs)
        On ``device``, in the order of ``rows``.
    """
    backbone = BACKBONES[network.spec.backbone]
    steps = network.message_steps()
    attends = any(kind == "attend" for kind, _ in steps)
    # GAT's propagation pattern has GKEDM's self-loops already: one pattern.
    separate_layout = attends and not (backbone.uses_graph and backbone.looped_pattern)
    messages = MessageGraph.from_adjacency(nodes.adjacency, symmetrize)
    # The whole graph's matrices without its features (no row is read here).
    whole = build_graph_tensors(nodes.features[:0], messages, backbone, device, separate_layout)
    del messages
    neighbourhoods = {}
    if whole.propagation is not None:
        matrix = whole.propagation.matrix
        neighbourhoods["conv"] = _Neighbourhoods(
            matrix.crow_indices(), matrix.col_indices(), matrix.values(),
            whole.propagation.diagonal,
        )  # fmt: skip
    if separate_layout:
        layout = whole.attention_layout
        neighbourhoods["attend"] = _Neighbourhoods(layout.ptr, layout.source, None)
    elif attends:
        neighbourhoods["attend"] = neighbourhoods["conv"]
    del whole
    all_nodes = torch.arange(nodes.adjacency.shape[0])
    wanted = torch.from_numpy(np.asarray(rows, dtype=np.int64))
    h = None
    for position, (kind, module) in enumerate(steps):
        targets = wanted if position == len(steps) - 1 else all_nodes
        out = None
        for start in range(0, targets.numel(), batch_size):
            batch = targets[start : start + batch_size]
            result = _step(network, kind, module, neighbourhoods, batch, h, nodes, device)
            if out is None:
                out = result.new_empty(targets.numel(), result.size(1))
            out[start : start + batch.numel()] = result
        h = out
    return h


def _step(network, kind, module, neighbourhoods, batch, h, nodes, device):
    """One step of message passing for the nodes of ``batch`` (global ids).

    ``h`` holds the previous step's outputs of every node (None: the first step reads
    the features).
    """
    source = None
    if kind == "attend" or "conv" in neighbourhoods:
        reach = neighbourhoods["attend" if kind == "attend" else "conv"]
        needed, ptr, source, values = reach.of(batch)
    else:  # layers of each node's own features ("mlp"): no neighbour
        needed = batch
    if h is None:
        x = features_tensor(nodes.features[needed.cpu().numpy()]).to(device)
    else:
        x = h.index_select(0, needed.to(device))
    n_rows = batch.numel()
    if kind == "attend":
        target = torch.repeat_interleave(
            torch.arange(n_rows, device=ptr.device), ptr.diff(), output_size=source.numel()
        )
        return module(x, EdgeLayout(source, target, ptr, None, None, None).to(device)).h
    sparse = None
    if source is not None:
        matrix = csr_tensor(ptr, source, values, (n_rows, needed.numel()))
        diagonal = neighbourhoods["conv"].diagonal_of(batch, device)
        sparse = SparseMatrix(matrix.to(device), None, diagonal)
    out = module(x, sparse)
    if out.size(0) != n_rows:
        out = out[:n_rows]
    return network.activation(out) if kind == "conv" else out
