"""Graph neural networks with GKEDM attention and distillation, as scikit-learn estimators."""

from ._classifier import GKEDMClassifier
from ._distillation import PAPER_GKEDM, DistilledGCNClassifier
from ._graph_estimators import GKEDMGraphClassifier, GKEDMGraphRegressor
from ._graph_list import GraphList
from ._graph_nodes import GraphNodes

__version__ = "0.2.0.dev0"

__all__ = [
    "PAPER_GKEDM",
    "DistilledGCNClassifier",
    "GKEDMClassifier",
    "GKEDMGraphClassifier",
    "GKEDMGraphRegressor",
    "GraphList",
    "GraphNodes",
    "__version__",
]
