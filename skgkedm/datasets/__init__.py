"""Datasets: node classification graphs (:class:`~skgkedm.GraphNodes`) and molecule sets."""

from ._blogcatalog import fetch_blogcatalog
from ._molecules import load_freesolv, load_solubility
from ._musae import fetch_musae
from ._planetoid import fetch_planetoid
from ._synthetic import make_node_classification

__all__ = [
    "fetch_blogcatalog",
    "fetch_musae",
    "fetch_planetoid",
    "load_freesolv",
    "load_solubility",
    "make_node_classification",
]
