"""One training step's data, as the batch builders yield it and the training loop reads it."""

from typing import NamedTuple

from torch import Tensor


class Batch(NamedTuple):
    """One step's worth of data: a graph, the output rows with targets, the targets.

    Attributes
    ----------
    graph : GraphTensors
        What the network runs on: one graph, or several as one block-diagonal graph.
    rows : Tensor of shape (n_targets,) or None
        Output rows (nodes) the targets belong to; None: every output row (graph).
    targets : Tensor of shape (n_targets,) or (n_targets, n_outputs)
        Encoded classes (int64) or standardised regression targets (float32).
    """

    graph: object
    rows: Tensor | None
    targets: Tensor

    def outputs(self, logits):
        """The network's outputs on the rows that have targets."""
        return logits if self.rows is None else logits[self.rows]
