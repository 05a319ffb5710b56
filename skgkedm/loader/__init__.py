"""From data to tensors: message graphs, neighbour sampling and the batches training reads.

Private machinery between :mod:`skgkedm.data` and the estimators: the propagation matrix
and attention layout of a graph (``MessageGraph``, ``GraphTensors``), the neighbour sampler,
and the batch builders for nodes (full graph or sampled subgraphs) and for whole graphs.
"""

__all__: list[str] = []
