"""The data model: graphs whose nodes are samples, lists of graphs, and input checks.

``GraphNodes`` (one graph, a selection of its nodes) and ``GraphList`` (many graphs, indexed
like a list) are the inputs every estimator takes; the private modules beside them turn
networkx graphs, feature matrices (k-nearest-neighbour graphs) and SMILES into them and
check what users pass.
"""

from ._graph_list import GraphList
from ._graph_nodes import GraphNodes

__all__ = ["GraphList", "GraphNodes"]
