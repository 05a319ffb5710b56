"""One training step's data, as the batch builders yield it and the training loop reads it."""

from typing import NamedTuple

from torch import Tensor


class Batch(NamedTuple):
    """One step's worth of data: a graph, the output rows with targets, targets, weights.

    Attributes
    ----------
    graph : GraphTensors
        What the network runs on: one graph, or several as one block-diagonal graph.
    rows : Tensor of shape (n_targets,) or None
        Output rows (nodes) the targets belong to; None: every output row (graph).
    targets : Tensor of shape (n_targets,) or (n_targets, n_outputs)
        Encoded classes (int64), label indicators (float32, multi-label) or
        standardised regression targets (float32).
    weights : Tensor of shape (n_targets,) or None
        Weight of each target in the loss and the validation score (``sample_weight``
        times class weights); None: equal weights.
    """

    graph: object
    rows: Tensor | None
    targets: Tensor
    weights: Tensor | None = None

    def outputs(self, logits):
        """The network's outputs on the rows that have targets."""
        return logits if self.rows is None else logits[self.rows]
