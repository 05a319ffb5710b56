"""Graph neural networks with GKEDM attention and distillation, as scikit-learn estimators.

``import skgkedm`` loads no heavy dependency: each public name imports its module (and
with it PyTorch and scikit-learn) the first time it is used.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# Public name -> the module that defines it.
_PUBLIC = {
    "AttentionWeights": "._classifier",
    "DistilledGCNClassifier": "._distillation",
    "GKEDMClassifier": "._classifier",
    "GKEDMGraphClassifier": "._graph_estimators",
    "GKEDMGraphRegressor": "._graph_estimators",
    "GraphList": ".data",
    "GraphNodes": ".data",
    "PAPER_GKEDM": "._distillation",
}

__all__ = [
    "PAPER_GKEDM",
    "AttentionWeights",
    "DistilledGCNClassifier",
    "GKEDMClassifier",
    "GKEDMGraphClassifier",
    "GKEDMGraphRegressor",
    "GraphList",
    "GraphNodes",
    "__version__",
]

if TYPE_CHECKING:
    from ._classifier import AttentionWeights, GKEDMClassifier
    from ._distillation import PAPER_GKEDM, DistilledGCNClassifier
    from ._graph_estimators import GKEDMGraphClassifier, GKEDMGraphRegressor
    from .data import GraphList, GraphNodes


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'skgkedm' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])
