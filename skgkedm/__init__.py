"""Graph neural networks with GKEDM attention and distillation, as scikit-learn estimators."""

from ._classifier import GKEDMClassifier
from ._distillation import PAPER_GKEDM, DistilledGCNClassifier
from ._graph_estimators import GKEDMGraphClassifier, GKEDMGraphRegressor
from ._node_estimator import AttentionWeights
from ._regressor import GKEDMRegressor
from ._version import __version__
from .data import GraphList, GraphNodes

__all__ = [
    "PAPER_GKEDM",
    "AttentionWeights",
    "DistilledGCNClassifier",
    "GKEDMClassifier",
    "GKEDMGraphClassifier",
    "GKEDMGraphRegressor",
    "GKEDMRegressor",
    "GraphList",
    "GraphNodes",
    "__version__",
]
