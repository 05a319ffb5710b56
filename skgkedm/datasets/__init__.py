"""Real and generated node-classification datasets, returned as :class:`~skgkedm.GraphNodes`."""

from ._planetoid import fetch_planetoid
from ._synthetic import make_node_classification

__all__ = ["fetch_planetoid", "make_node_classification"]
