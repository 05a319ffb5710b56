"""What every skgkedm estimator shares: turning X and y into a labelled graph."""

from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._graph_nodes import GraphNodes
from ._input import UNLABELLED, as_graph_nodes, is_graph_input, split_labels
from ._knn_graph import KNNGraph
from ._persistence import PortableStateMixin


class LabelledGraph(NamedTuple):
    """A graph to train on.

    Attributes
    ----------
    nodes : GraphNodes
        The whole graph, with the samples selected.
    symmetrize : bool
        Whether messages flow both ways along each edge.
    rows : ndarray of shape (n_labelled,)
        Graph positions of the labelled samples (repeats allowed).
    targets : ndarray of shape (n_labelled,)
        Encoded class of each labelled sample.
    """

    nodes: GraphNodes
    symmetrize: bool
    rows: np.ndarray
    targets: np.ndarray


class GraphClassifierBase(PortableStateMixin, ClassifierMixin, BaseEstimator):
    """Input handling for node classifiers (not for direct use).

    Graph input (:class:`GraphNodes`, networkx graphs) is used as given; a plain
    feature matrix becomes a k-nearest-neighbour graph (:class:`KNNGraph`).
    Subclasses define ``directed`` and ``n_neighbors`` parameters.
    """

    def _labelled_graph(self, X, y):
        """Validate X and y at fit time; set ``classes_`` and ``n_features_in_``.

        Any previous fit is forgotten first, so a fit that fails leaves the estimator
        unfitted rather than half old, half new.
        """
        self.__dict__.pop("n_iter_", None)
        if is_graph_input(X):
            nodes = as_graph_nodes(X)
            if len(nodes) == 0:
                raise ValueError("X selects no node; at least one labelled node is needed.")
            self.n_features_in_ = nodes.n_features
            # A refit on a graph must not keep the column names of an earlier DataFrame fit.
            self.__dict__.pop("feature_names_in_", None)
            self._knn_graph = None
            symmetrize = not self.directed
            labelled, self.classes_, targets = split_labels(y, len(nodes), semi_supervised=True)
        else:
            X, y = validate_data(
                self, X, y, accept_sparse="csr", dtype=np.float32, reset=True, y_numeric=False
            )
            self._knn_graph = KNNGraph(self.n_neighbors)
            nodes = self._knn_graph.fit(X)
            symmetrize = False
            labelled, self.classes_, targets = split_labels(y, len(nodes), semi_supervised=False)
        return LabelledGraph(nodes, symmetrize, nodes.indices[labelled], targets)

    def _graph_to_predict(self, X):
        """Validate X at predict time; return (GraphNodes, symmetrize)."""
        check_is_fitted(self)
        if is_graph_input(X):
            nodes = as_graph_nodes(X)
            if nodes.n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {nodes.n_features} features per node, but "
                    f"{type(self).__name__} was fitted with {self.n_features_in_}."
                )
            return nodes, not self.directed
        if self._knn_graph is None:
            raise TypeError(
                f"{type(self).__name__} was fitted on a graph, so it predicts on graphs: pass "
                "GraphNodes or a networkx graph, not a plain feature matrix."
            )
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return self._knn_graph.attach(X), False

    def predict(self, X):
        """Predict the class of each sample (node).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Nodes to classify, with their graph; or feature rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted classes.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Samples (nodes) to score.
        y : array-like of shape (n_samples,)
            True classes. With graph input, nodes labelled ``-1`` are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            Mean accuracy over the scored samples.

        Raises
        ------
        ValueError
            If ``y`` holds a label the model never saw during fit: it could never be
            predicted, and the accuracy would be silently lower.
        """
        predicted = self.predict(X)
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"))
        check_consistent_length(predicted, y)
        scored = np.ones(len(y), dtype=bool)
        if is_graph_input(X) and np.issubdtype(y.dtype, np.number):
            scored = y != UNLABELLED
        known = set(self.classes_.tolist())
        unseen = sorted({label for label in y[scored].tolist() if label not in known}, key=str)
        if unseen:
            raise ValueError(
                f"y holds labels never seen during fit: {unseen[:5]}; the model knows "
                f"only {sorted(known, key=str)}."
            )
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[scored]
        return accuracy_score(y[scored], predicted[scored], sample_weight=sample_weight)

    def __sklearn_is_fitted__(self):
        # ``n_iter_`` is the last attribute a successful fit sets.
        return hasattr(self, "n_iter_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
