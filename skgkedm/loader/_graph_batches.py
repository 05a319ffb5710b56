"""Mini-batches of whole graphs, cut from graphs held as one block-diagonal graph."""

import numpy as np
import scipy.sparse as sp
import torch

from ..data._graph_list import concatenated_ranges
from ..nn._backbones import BACKBONES
from ._batch import Batch
from ._graph_tensors import build_graph_tensors, check_edge_attr
from ._message_graph import MessageGraph


class GraphBatches:
    """Graphs as one block-diagonal graph, cut into batches of whole graphs.

    The message edges of every graph are extracted once; a batch gathers the rows of its
    graphs' nodes with vectorised index arithmetic (no Python loop per graph) and builds
    the tensors the network needs, so a batch costs what its own graphs cost.

    Parameters
    ----------
    graphs : GraphList
        The graphs to cut batches from; position ``k`` below is ``graphs[k]``.
    symmetrize : bool
        Let messages flow both ways along every edge.
    spec : NetworkSpec
        The network's architecture (its backbone, and whether it has GKEDM).
    device : torch.device
    """

    def __init__(self, graphs, symmetrize, spec, device):
        adjacency, self.features, offsets = graphs.stacked()
        edge_dim = getattr(spec, "edge_dim", 0)
        self.messages = MessageGraph.from_adjacency(
            adjacency, symmetrize, track_edges=edge_dim > 0
        )
        self.edge_attr = None
        if edge_dim:
            check_edge_attr(graphs.edge_attr, edge_dim)
            self.edge_attr = graphs.edge_attr[self.messages.edge_positions.numpy()]
        self.node_starts, self.node_counts = offsets[:-1], np.diff(offsets)
        self.backbone = BACKBONES[spec.backbone]
        self.attention = spec.gkedm
        self.device = device

    def __len__(self):
        return len(self.node_counts)

    def graph(self, positions):
        """The tensors of the graphs at ``positions``, as one block-diagonal graph.

        Parameters
        ----------
        positions : ndarray of shape (n_batch,)
            Graphs of the batch, in batch order.

        Returns
        -------
        GraphTensors
            With ``graph_index`` numbering the graphs in batch order.
        """
        node_counts = self.node_counts[positions]
        # Shift each graph's node ids from where it is stored to where it lands in the batch.
        node_shift = self.node_starts[positions] - (np.cumsum(node_counts) - node_counts)
        nodes = concatenated_ranges(self.node_starts[positions], node_counts)
        # A graph's edges stay within it: its rows, shifted, are the batch's rows, in order.
        rows = self.messages.matrix[nodes]
        shift = np.repeat(np.repeat(node_shift, node_counts), np.diff(rows.indptr))
        matrix = sp.csr_array(
            (rows.data, rows.indices - shift, rows.indptr), shape=(len(nodes), len(nodes))
        )
        edge_attr = None
        if self.edge_attr is not None:
            indptr = self.messages.matrix.indptr
            entries = concatenated_ranges(indptr[nodes], indptr[nodes + 1] - indptr[nodes])
            edge_attr = self.edge_attr[entries]
        tensors = build_graph_tensors(
            self.features[nodes],
            MessageGraph.from_scipy(matrix, self.messages.symmetric),
            self.backbone,
            self.device,
            attention=self.attention,
            edge_attr=edge_attr,
        )
        graph_index = np.repeat(np.arange(len(positions)), node_counts)
        return tensors._replace(
            graph_index=torch.from_numpy(graph_index).to(self.device), n_graphs=len(positions)
        )

    def shuffled(self, positions, targets, batch_size, generator, weights=None):
        """One epoch's batches: ``positions`` in an order drawn from ``generator``.

        Parameters
        ----------
        positions : ndarray of shape (n_train,)
            Graphs to train on.
        targets : Tensor of shape (len(self), ...)
            Target of every graph, on the batches' device.
        batch_size : int
            Graphs per batch (the last batch may hold fewer).
        generator : torch.Generator
            The fit's generator: the same seed gives the same batches.
        weights : Tensor of shape (len(self),) or None, default=None
            Weight of every graph in the loss, on the batches' device; None: equal.

        Yields
        ------
        Batch
        """
        order = torch.randperm(len(positions), generator=generator, device=generator.device)
        yield from self.in_order(positions[order.cpu().numpy()], targets, batch_size, weights)

    def in_order(self, positions, targets, batch_size, weights=None):
        """Batches of ``positions`` in the given order (validation, prediction).

        Parameters
        ----------
        positions : ndarray of shape (n,)
        targets : Tensor of shape (len(self), ...) or None
            None gives batches with no targets (prediction).
        batch_size : int
        weights : Tensor of shape (len(self),) or None, default=None

        Yields
        ------
        Batch
        """
        for start in range(0, len(positions), batch_size):
            part = positions[start : start + batch_size]
            index = torch.from_numpy(part)
            batch_targets = None if targets is None else targets[index]
            batch_weights = None if weights is None else weights[index]
            yield Batch(self.graph(part), None, batch_targets, batch_weights)
