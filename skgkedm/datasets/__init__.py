"""Datasets: node classification graphs (:class:`~skgkedm.GraphNodes`) and molecule sets."""

from ._molecules import load_freesolv, load_solubility
from ._planetoid import fetch_planetoid
from ._synthetic import make_node_classification

__all__ = ["fetch_planetoid", "load_freesolv", "load_solubility", "make_node_classification"]
