"""Batches of one graph's labelled nodes: the whole graph, or neighbour-sampled mini-batches."""

import numpy as np
import torch

from ..nn._backbones import BACKBONES
from ..nn._network import hop_graphs
from ._batch import Batch
from ._graph_tensors import build_graph_tensors
from ._message_graph import MessageGraph
from ._neighbour_sampling import NeighbourSampler


class NodeBatches:
    """Mini-batches of target nodes, each with a neighbourhood sampled around it.

    A batch is the subgraph :class:`NeighbourSampler` draws around its target nodes
    (``fanouts[h]`` in-neighbours per node at hop ``h``), with the features of the
    nodes it reaches; the network runs on that subgraph, and only the targets' outputs
    enter the loss, as with PyTorch Geometric's ``NeighborLoader``. Sampling runs on
    the CPU from its own generator, so the same seed gives the same batches on any
    device. Each batch carries its matrices trimmed hop by hop (``GraphTensors.hops``,
    as PyG's ``trim_to_layer``): a layer computes only the nodes the layers after it
    still read, with the same outputs as on the whole subgraph.

    Parameters
    ----------
    nodes : GraphNodes
        Any selection of the graph: batches are cut from the whole graph.
    symmetrize : bool
        Let messages flow both ways along every edge.
    spec : NetworkSpec
        The network's architecture (its backbone, and whether it has GKEDM).
    device : torch.device
    fanouts : sequence of int
        Neighbours sampled per node at each hop; -1 takes them all.
    seed : int
        Seed of the sampling generator.
    """

    trim = True
    """Trim each batch's layers (:func:`~skgkedm.nn._network.hop_graphs`); False runs
    every layer on the whole sampled subgraph (same outputs, to compare)."""

    def __init__(self, nodes, symmetrize, spec, device, fanouts, seed):
        matrix = MessageGraph.from_adjacency(nodes.adjacency, symmetrize).matrix
        self.sampler = NeighbourSampler(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            fanouts,
        )
        # Only the weights are read again: the message graph's other arrays (its CSR
        # pattern, the sampler holds it; the reverse of each edge) go with it.
        self.weights = matrix.data
        self.features = nodes.features
        self.backbone = BACKBONES[spec.backbone]
        self.attention = spec.gkedm
        self.device = device
        self.generator = torch.Generator().manual_seed(seed)
        self.n_hops = len(fanouts)

    def graph(self, targets):
        """The tensors of the neighbourhood sampled around ``targets``.

        Parameters
        ----------
        targets : ndarray of shape (n_targets,)
            Node positions in the graph; a node may repeat (a bootstrap sample).

        Returns
        -------
        graph : GraphTensors
            Of the sampled subgraph.
        rows : Tensor of shape (n_targets,)
            The output row of each target in ``graph``.
        """
        seeds, rows = np.unique(targets, return_inverse=True)
        sampled = self.sampler.sample(torch.from_numpy(seeds.astype(np.int64)), self.generator)
        source, target = sampled.edge_index.numpy()
        weight = self.weights[sampled.edge_ids.numpy()]
        nodes = sampled.nodes.numpy()
        messages = MessageGraph.from_edges(source, target, weight, len(nodes))
        graph = build_graph_tensors(
            self.features[nodes], messages, self.backbone, self.device, self.attention
        )
        if self.trim:
            graph = graph._replace(hops=hop_graphs(graph, sampled.nodes_per_hop, self.n_hops))
        return graph, torch.from_numpy(rows.astype(np.int64)).to(self.device)

    def shuffled(self, rows, targets, batch_size, weights=None):
        """One epoch's batches: ``rows`` in an order drawn from the sampling generator.

        Parameters
        ----------
        rows : ndarray of shape (n_train,)
            Node positions to train on.
        targets : ndarray of shape (n_train,) or (n_train, n_outputs)
            Their targets (encoded classes, label indicators or standardised values).
        batch_size : int
            Target nodes per batch (the last batch may hold fewer).
        weights : ndarray of shape (n_train,) or None, default=None
            Their weights in the loss; None: equal weights.

        Yields
        ------
        Batch
        """
        order = torch.randperm(len(rows), generator=self.generator).numpy()
        weights = None if weights is None else weights[order]
        yield from self.in_order(rows[order], targets[order], batch_size, weights)

    def in_order(self, rows, targets, batch_size, weights=None):
        """Batches of ``rows`` in the given order.

        Parameters
        ----------
        rows : ndarray of shape (n,)
        targets : ndarray of shape (n,) or (n, n_outputs)
        batch_size : int
        weights : ndarray of shape (n,) or None, default=None

        Yields
        ------
        Batch
        """
        for start in range(0, len(rows), batch_size):
            part = slice(start, start + batch_size)
            graph, output_rows = self.graph(rows[part])
            yield Batch(
                graph,
                output_rows,
                torch.as_tensor(targets[part], device=self.device),
                None if weights is None else torch.as_tensor(weights[part], device=self.device),
            )


def take(values, positions):
    """``values[positions]``, or None when ``values`` is None (no weights)."""
    return None if values is None else values[positions]


def labelled_batch(graph, data, device, part):
    """The whole graph's tensors with the labelled samples at positions ``part``."""
    weights = take(data.weights, part)
    return Batch(
        graph,
        graph.rows_of(torch.as_tensor(data.rows[part], dtype=torch.long, device=device)),
        torch.as_tensor(data.targets[part], device=device),
        None if weights is None else torch.as_tensor(weights, device=device),
    )


def whole_graph_batches(graph, data, device, train, validation):
    """Full-batch training: every epoch is one step on the whole graph's tensors."""
    whole_graph = labelled_batch(graph, data, device, train)
    validation_batches = (
        [labelled_batch(graph, data, device, validation)] if len(validation) else []
    )
    return (lambda generator: [whole_graph]), validation_batches
