"""Import path of ``KNNGraph`` in models pickled before skgkedm 0.2.0 moved it.

Saved models in feature-matrix mode name ``skgkedm._knn_graph.KNNGraph``; the class now
lives in :mod:`skgkedm.data._knn_graph`.
"""

from .data._knn_graph import KNNGraph

__all__ = ["KNNGraph"]
