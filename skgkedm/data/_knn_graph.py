"""A k-nearest-neighbour graph over plain feature matrices, as LabelSpreading's kernel="knn"."""

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from ._graph_nodes import GraphNodes


class KNNGraph:
    """Turn feature matrices into graphs: training samples linked to their neighbours.

    Training samples are joined to their ``n_neighbors`` nearest training samples
    (edges both ways). A new sample receives edges *from* its nearest training samples
    and sends none, so its prediction never depends on the other new samples.

    Every edge weighs ``1 / k``: a sample's neighbours together weigh about as much as
    the sample itself, so a GCN layer (which adds a self-loop of weight 1) gives the
    sample's own features about half of its aggregate instead of ``1 / (k + 1)``, and
    its neighbours do not drown it. Backbones that ignore edge weights are unaffected.

    Parameters
    ----------
    n_neighbors : int
        Neighbours per sample, capped at the number of training samples minus one.
    """

    # Graphs fitted before edges were weighted (pickles of older versions) hold unit
    # weights in ``adjacency_`` and must attach new samples with unit weights too.
    edge_weight_ = 1.0

    def __init__(self, n_neighbors):
        self.n_neighbors = n_neighbors

    def fit(self, features):
        """Index the training samples; return the training graph as GraphNodes."""
        self.features_ = features
        n_samples = features.shape[0]
        self.k_ = min(self.n_neighbors, n_samples - 1)
        self.edge_weight_ = 1.0 / max(self.k_, 1)
        self.index_ = NearestNeighbors(n_neighbors=max(self.k_, 1)).fit(features)
        if self.k_ == 0:
            adjacency = sp.csr_array((n_samples, n_samples), dtype=np.float32)
        else:
            adjacency = self.index_.kneighbors_graph(n_neighbors=self.k_).astype(np.float32)
            adjacency = sp.csr_array(adjacency.maximum(adjacency.T)) * self.edge_weight_
        self.adjacency_ = adjacency
        return GraphNodes(adjacency, features)

    def attach(self, features):
        """Return GraphNodes selecting new samples attached to the training graph."""
        n_train, n_new = self.features_.shape[0], features.shape[0]
        k = max(self.k_, 1)
        neighbours = self.index_.kneighbors(features, n_neighbors=k, return_distance=False)
        sources = neighbours.ravel()
        targets = np.repeat(np.arange(n_train, n_train + n_new), k)
        incoming = sp.csr_array(
            (np.full(sources.size, self.edge_weight_, dtype=np.float32), (sources, targets)),
            shape=(n_train + n_new, n_train + n_new),
        )
        adjacency = sp.block_diag([self.adjacency_, sp.csr_array((n_new, n_new))], format="csr")
        if sp.issparse(features) or sp.issparse(self.features_):
            all_features = sp.vstack([self.features_, features], format="csr")
        else:
            all_features = np.vstack([self.features_, features])
        nodes = GraphNodes(adjacency + incoming, all_features)
        return nodes[n_train:]
