"""Vectorised neighbour sampling for mini-batches of nodes, as PyG's NeighborLoader does it.

Pure torch: no pyg-lib or torch-sparse, and no Python loop over nodes (only over hops).
"""

from collections.abc import Sequence
from numbers import Integral
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

# How a hop draws ``fanout`` of the in-neighbours of its nodes with more (both exact):
# Floyd's algorithm, O(fanout ** 2) per node whatever its degree but ``fanout``
# vectorised steps of fixed overhead, when the fan-out is at most _FLOYD_MAX_FANOUT
# and those nodes have more than _FLOYD_MIN_CANDIDATES * fanout in-edges together;
# else random keys sorted over their whole neighbourhoods, O(in-edges) and a few steps.
# Measured on CPU, one thread: the two cost about the same at the threshold.
_FLOYD_MAX_FANOUT = 32
_FLOYD_MIN_CANDIDATES = 1024


class SampledSubgraph(NamedTuple):
    """The subgraph a :class:`NeighbourSampler` drew around some seed nodes.

    Attributes
    ----------
    nodes : Tensor of shape (n_sampled,), dtype int64
        Global ids of the sampled nodes: the seeds first, in the order given, then
        the nodes each hop reached for the first time, hop by hop, in order of first
        appearance among that hop's edges.
    edge_index : Tensor of shape (2, n_sampled_edges), dtype int64
        Sampled edges in local ids (positions in ``nodes``): row 0 is the source (the
        sampled neighbour), row 1 the target (the node whose neighbourhood was
        sampled). Edges come hop by hop; within a hop by target, in the order of
        ``nodes``; within a target in CSR order.
    edge_ids : Tensor of shape (n_sampled_edges,), dtype int64
        Position of each sampled edge in the sampler's CSR ``indices``, to pick edge
        weights or other edge attributes.
    n_seeds : int
        Number of seeds: ``nodes[:n_seeds]`` are the seeds.
    nodes_per_hop : tuple of int
        Nodes first reached at each hop, the seeds first (PyG's
        ``num_sampled_nodes``); shorter than ``len(fanouts) + 1`` when a hop reached no
        new node. The edges into the nodes of hops ``0 .. j`` all come from those of
        hops ``0 .. j + 1``: a network trims its layers by these counts.
    """

    nodes: Tensor
    edge_index: Tensor
    edge_ids: Tensor
    n_seeds: int
    nodes_per_hop: tuple = ()


class NeighbourSampler:
    """Sample fixed-size neighbourhoods of seed nodes, hop by hop.

    The "directed" subgraph semantic of PyG's ``NeighborLoader``: at hop ``h`` every
    node of the frontier (the seeds at hop 0) keeps ``min(degree, fanouts[h])`` of its
    in-neighbours, drawn uniformly without replacement, and the edges from them.
    Neighbours not sampled before form the next frontier; nodes already in the
    subgraph are not expanded again, so no edge is drawn twice. Self-loops of the CSR
    are sampled like any other edge.

    Vectorised over nodes (Python loops run over hops and, in Floyd's algorithm,
    over fan-out steps, never over nodes). A hop gathers the CSR positions it keeps,
    O(sampled edges). Nodes with more in-neighbours than the fan-out draw theirs with
    Floyd's algorithm, O(fanout ** 2) each whatever their degree, when the fan-out is
    at most 32 and they have enough in-edges together; else every one of their
    in-edges gets a random key and the smallest keys win, O(degree) each. Both are
    exact. Relabelling to local ids sorts the sampled nodes and the hop's neighbours
    together: nothing of size ``n_nodes`` is allocated per call. The sampler holds no
    mutable state: several threads may call :meth:`sample` at once, each with its own
    generator.

    Parameters
    ----------
    indptr : Tensor of shape (n_nodes + 1,), integer dtype
        CSR row pointers over targets: ``indices[indptr[i]:indptr[i + 1]]`` are the
        in-neighbours (message sources) of node ``i``.
    indices : Tensor of shape (n_edges,), integer dtype
        CSR column indices, on the device of ``indptr``. Sampling runs on that
        device.
    fanouts : sequence of int
        ``fanouts[h]`` is the most neighbours sampled per node at hop ``h``: an int
        >= 1, or -1 for all of them. Its length is the number of hops, at least 1.

    Attributes
    ----------
    indptr : Tensor of shape (n_nodes + 1,), dtype int64
        The row pointers, as int64.
    indices : Tensor of shape (n_edges,), dtype int64
        The column indices, as int64.
    fanouts : tuple of int
        The fan-out of each hop.
    n_nodes : int
        Number of nodes of the graph.

    Examples
    --------
    >>> import torch
    >>> # A path 0 - 1 - 2 - 3, both directions: in-neighbours of each node.
    >>> indptr = torch.tensor([0, 1, 3, 5, 6])
    >>> indices = torch.tensor([1, 0, 2, 1, 3, 2])
    >>> sampler = NeighbourSampler(indptr, indices, fanouts=[-1, -1])
    >>> sub = sampler.sample(torch.tensor([0]), torch.Generator().manual_seed(0))
    >>> sub.nodes.tolist(), sub.edge_index.tolist(), sub.edge_ids.tolist()
    ([0, 1, 2], [[1, 0, 2], [0, 1, 1]], [0, 1, 2])
    """

    def __init__(self, indptr: Tensor, indices: Tensor, fanouts: Sequence[int]):
        self.fanouts = check_fanouts(fanouts)
        if indptr.ndim != 1 or indptr.numel() < 1 or indices.ndim != 1:
            raise ValueError(
                "indptr and indices must be 1-D and indptr non-empty; got shapes "
                f"{tuple(indptr.shape)} and {tuple(indices.shape)}."
            )
        if indptr.dtype.is_floating_point or indices.dtype.is_floating_point:
            raise ValueError(
                f"indptr and indices must be integer tensors; got {indptr.dtype} "
                f"and {indices.dtype}."
            )
        if indices.device != indptr.device:
            raise ValueError(
                f"indptr is on {indptr.device} but indices on {indices.device}: they "
                "must share a device."
            )
        self.indptr = indptr.to(torch.int64)
        self.indices = indices.to(torch.int64)
        self.n_nodes = self.indptr.numel() - 1
        n_edges = self.indices.numel()
        if (
            int(self.indptr[0]) != 0
            or int(self.indptr[-1]) != n_edges
            or bool((self.indptr[1:] < self.indptr[:-1]).any())
        ):
            raise ValueError(
                f"indptr must start at 0, never decrease and end at len(indices) ({n_edges})."
            )
        if n_edges and (int(self.indices.min()) < 0 or int(self.indices.max()) >= self.n_nodes):
            raise ValueError(f"indices must lie in [0, {self.n_nodes}).")

    def sample(self, seeds: Tensor, generator: torch.Generator) -> SampledSubgraph:
        """Sample the neighbourhood of some seed nodes.

        Parameters
        ----------
        seeds : Tensor of shape (n_seeds,), integer dtype
            Distinct global ids of the seed nodes. Moved to the sampler's device.
        generator : torch.Generator
            Source of randomness, on the sampler's device (``indptr.device``); None
            uses torch's default generator. The same seeds and generator state give
            the same subgraph, bit for bit.

        Returns
        -------
        SampledSubgraph
            The sampled nodes (seeds first) and edges, in local ids.

        Raises
        ------
        ValueError
            If ``seeds`` is not 1-D, is out of range or repeats a node.
        """
        device = self.indptr.device
        seeds = torch.as_tensor(seeds, device=device)
        if seeds.ndim != 1 or seeds.dtype.is_floating_point:
            raise ValueError(
                f"seeds must be a 1-D integer tensor; got {seeds.dtype} "
                f"of shape {tuple(seeds.shape)}."
            )
        seeds = seeds.to(torch.int64)
        n_seeds = seeds.numel()
        if n_seeds and (int(seeds.min()) < 0 or int(seeds.max()) >= self.n_nodes):
            raise ValueError(f"seeds must lie in [0, {self.n_nodes}).")

        if n_seeds > 1:
            ordered = torch.sort(seeds).values
            if bool((ordered[1:] == ordered[:-1]).any()):
                raise ValueError("seeds must be distinct.")

        nodes, sources, targets, edge_ids = [seeds], [], [], []
        sampled, frontier, frontier_start = seeds, seeds, 0
        for fanout in self.fanouts:
            if frontier.numel() == 0:
                break
            positions, row = self._sample_hop(frontier, fanout, generator)
            neighbours = self.indices.index_select(0, positions)
            source, new = _relabel(sampled, neighbours)
            nodes.append(new)
            sources.append(source)
            targets.append(row + frontier_start)
            edge_ids.append(positions)
            frontier, frontier_start = new, sampled.numel()
            sampled = torch.cat([sampled, new])

        empty = torch.empty(0, dtype=torch.int64, device=device)
        return SampledSubgraph(
            nodes=sampled,
            edge_index=torch.stack([torch.cat([empty, *sources]), torch.cat([empty, *targets])]),
            edge_ids=torch.cat([empty, *edge_ids]),
            n_seeds=n_seeds,
            nodes_per_hop=tuple(part.numel() for part in nodes),
        )

    def _sample_hop(self, frontier, fanout, generator):
        """CSR positions of the edges one hop keeps, and their targets' frontier rows.

        Every frontier node keeps ``min(degree, fanout)`` in-edges, uniformly without
        replacement; they come ordered by frontier row, then CSR position.
        """
        start = self.indptr.index_select(0, frontier)
        degree = self.indptr.index_select(0, frontier + 1) - start
        if fanout == -1:
            return _segments(start, degree)
        crowded = torch.nonzero(degree > fanout).squeeze(1)
        if crowded.numel() == 0:
            return _segments(start, degree)
        # Every row keeps its first min(degree, fanout) positions, then the crowded
        # rows' ``fanout`` slots are overwritten with the positions drawn for them.
        take = degree.clamp(max=fanout)
        positions, row = _segments(start, take)
        offset = _choose(degree.index_select(0, crowded), fanout, generator)
        slot_start = (torch.cumsum(take, 0) - take).index_select(0, crowded)
        slots = slot_start[:, None] + torch.arange(fanout, device=frontier.device)
        chosen = start.index_select(0, crowded)[:, None] + offset
        positions.index_copy_(0, slots.view(-1), chosen.view(-1))
        return positions, row


def _choose(degree, fanout, generator):
    """Draw ``fanout`` distinct offsets in ``0 .. degree[r] - 1`` for every row ``r``.

    Each row's set is uniform over the ``fanout``-subsets; ``degree > fanout``.
    Returns a tensor of shape (n_rows, fanout), each row sorted. See
    ``_FLOYD_MAX_FANOUT`` for the choice between the two methods.
    """
    device = degree.device
    n_rows = degree.numel()
    if fanout <= _FLOYD_MAX_FANOUT and int(degree.sum()) > _FLOYD_MIN_CANDIDATES * fanout:
        # Floyd: at step s, with j = degree - fanout + s, draw t uniformly in 0 .. j
        # and keep t, or j when t is already kept (j itself never is).
        upper = degree[:, None] - fanout + torch.arange(fanout, device=device)
        uniform = torch.rand(
            (n_rows, fanout), generator=generator, dtype=torch.float64, device=device
        )
        chosen = torch.minimum((uniform * (upper + 1)).to(torch.int64), upper)
        for step in range(1, fanout):
            taken = (chosen[:, :step] == chosen[:, step, None]).any(1)
            chosen[:, step] = torch.where(taken, upper[:, step], chosen[:, step])
        return torch.sort(chosen, dim=1).values
    # Sort the offsets by (row, random key): each row's first ``fanout`` are a
    # uniform sample. Rows take bit_length(n_rows) bits of the key and the rest are
    # random; ties (rarer than 2**-22 per pair) go to the lower offset.
    offset, row = _segments(torch.zeros_like(degree), degree)
    shift = 63 - max(1, n_rows.bit_length())
    key = torch.randint(1 << shift, (offset.numel(),), generator=generator, device=device)
    order = torch.sort((row << shift) | key, stable=True).indices
    # Rank of each sorted offset within its row: its position minus its row's start.
    row_start = torch.cumsum(degree, 0) - degree
    rank = torch.arange(offset.numel(), device=device) - row_start.index_select(
        0, row.index_select(0, order)
    )
    kept = offset.index_select(0, order.masked_select(rank < fanout))
    return torch.sort(kept.view(n_rows, fanout), dim=1).values


def _segments(start, length):
    """Concatenate the ranges ``start[r] .. start[r] + length[r] - 1``, with their rows.

    Returns the values and the row ``r`` each comes from.
    """
    device = start.device
    total = int(length.sum())
    row = torch.repeat_interleave(
        torch.arange(length.numel(), device=device), length, output_size=total
    )
    # Value = start[r] + (position in the output - where row r starts in it).
    shift = start - (torch.cumsum(length, 0) - length)
    return torch.arange(total, device=device) + shift.index_select(0, row), row


def _relabel(sampled, neighbours):
    """Local ids of ``neighbours``, and those of them not sampled yet.

    Parameters
    ----------
    sampled : Tensor of shape (n_sampled,)
        Global ids of the nodes sampled so far, distinct; local id = position.
    neighbours : Tensor of shape (n_neighbours,)
        Global ids, possibly repeated.

    Returns
    -------
    local : Tensor of shape (n_neighbours,)
        Local id of each neighbour, numbering the new nodes ``n_sampled, ...`` in order
        of first appearance.
    new : Tensor of shape (n_new,)
        The new nodes, once each, in order of first appearance.

    Notes
    -----
    One stable sort of ``sampled`` followed by ``neighbours`` groups equal ids; the head
    of each group (its first element in that order) is the sampled node when there is
    one, else the neighbour's first appearance. Cost O(m log m), m = n_sampled +
    n_neighbours, independent of the graph's size: no buffer over all nodes.
    """
    device = neighbours.device
    n_sampled, n_total = sampled.numel(), sampled.numel() + neighbours.numel()
    values, origin = torch.sort(torch.cat([sampled, neighbours]), stable=True)
    is_head = torch.ones(n_total, dtype=torch.bool, device=device)
    is_head[1:] = values[1:] != values[:-1]
    where = torch.arange(n_total, device=device)
    head_position = torch.cummax(torch.where(is_head, where, 0), 0).values
    # Head of the group of every element, back in the order of the concatenation.
    head = torch.empty_like(origin)
    head.index_copy_(0, origin, origin.index_select(0, head_position))
    head = head[n_sampled:]
    # A neighbour heading its group is unsampled and appears there first.
    first = head == where[n_sampled:]
    new = neighbours.masked_select(first)
    new_local = torch.cumsum(first, 0) + (n_sampled - 1)
    fresh_local = new_local.index_select(0, (head - n_sampled).clamp_(min=0))
    return torch.where(head < n_sampled, head, fresh_local), new


DEFAULT_FANOUT = 10
"""Neighbours sampled per node at every hop when ``fanouts`` is None."""


def check_fanouts(fanouts, hops=None):
    """The per-hop fan-outs, validated: the one place that reads a ``fanouts`` value.

    Parameters
    ----------
    fanouts : int, sequence of int or None
        None: :data:`DEFAULT_FANOUT` at every hop; an int: that many at every hop (-1:
        all neighbours); a sequence: one entry per hop, each an int >= 1 or -1.
    hops : int, default=None
        Steps of message passing of the network (``NetworkSpec.message_hops``), which a
        sequence must match; None: as many hops as the sequence has (then None and an
        int are refused).

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If an entry is not an int >= 1 or -1, or a sequence has another length than
        ``hops`` (or none).

    Examples
    --------
    >>> from skgkedm.loader._neighbour_sampling import check_fanouts
    >>> check_fanouts(None, 3), check_fanouts(5, 2), check_fanouts([25, -1], 2)
    ((10, 10, 10), (5, 5), (25, -1))
    """
    if hops is not None and (fanouts is None or isinstance(fanouts, Integral)):
        fanouts = [DEFAULT_FANOUT if fanouts is None else fanouts] * hops
    elif np.ndim(fanouts) == 1 and not isinstance(fanouts, (str, bytes)):
        fanouts = list(fanouts)
    if not isinstance(fanouts, Sequence) or isinstance(fanouts, (str, bytes)):
        raise ValueError(f"fanouts must be a sequence of int; got {fanouts!r}.")
    for fanout in fanouts:
        if (
            isinstance(fanout, (bool, np.bool_))
            or not isinstance(fanout, Integral)
            or (fanout < 1 and fanout != -1)
        ):
            raise ValueError(
                f"Each fanout must be an int >= 1, or -1 for all neighbours; got {fanout!r}."
            )
    if hops is not None and len(fanouts) != hops:
        raise ValueError(
            f"fanouts must be an int or one int per hop of message passing ({hops} for "
            f"this network: its message-passing layers and GKEDM modules); got {fanouts!r}."
        )
    if len(fanouts) == 0:
        raise ValueError("fanouts must hold at least one hop; got an empty sequence.")
    return tuple(int(fanout) for fanout in fanouts)
