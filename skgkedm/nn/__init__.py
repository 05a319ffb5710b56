"""PyTorch building blocks: the GKEDM module, usable in any PyTorch Geometric model."""

from ._edge_ops import EdgeLayout
from ._gkedm import GKEDM, GKEDMOutput

__all__ = ["GKEDM", "EdgeLayout", "GKEDMOutput"]
