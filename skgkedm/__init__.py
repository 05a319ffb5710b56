"""Graph neural networks with GKEDM attention and distillation, as scikit-learn estimators."""

from ._classifier import AttentionWeights, GKEDMClassifier
from ._distillation import PAPER_GKEDM, DistilledGCNClassifier
from ._graph_estimators import GKEDMGraphClassifier, GKEDMGraphRegressor
from ._version import __version__
from .data import GraphList, GraphNodes

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
