"""Graph neural networks with GKEDM attention and distillation, as scikit-learn estimators."""

from ._classifier import GKEDMClassifier
from ._distillation import PAPER_GKEDM, DistilledGCNClassifier
from ._graph_nodes import GraphNodes

__version__ = "0.2.0.dev0"

__all__ = ["PAPER_GKEDM", "DistilledGCNClassifier", "GKEDMClassifier", "GraphNodes", "__version__"]
