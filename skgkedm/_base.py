"""What every skgkedm estimator shares: turning X and y into a labelled graph."""

from numbers import Integral
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

from ._persistence import PortableStateMixin
from .data._graph_nodes import GraphNodes, edgeless_nodes
from .data._knn_graph import KNNGraph
from .data._validation import (
    UNLABELLED,
    as_graph_nodes,
    check_graph_width,
    check_not_split_graph,
    is_graph_input,
    refuse_rows_after_graphs,
    split_labels,
)
from .utils._sklearn_compat import Interval


class EpochTrainedMixin:
    """Fitted once training has run (``n_iter_`` is set); takes sparse input (not for direct use).

    Every skgkedm estimator sets ``n_iter_`` last in a successful fit, and forgets it
    first when a fit starts, so a failed fit leaves the estimator unfitted.
    """

    def __sklearn_is_fitted__(self):
        return hasattr(self, "n_iter_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LabelledGraph(NamedTuple):
    """A validated graph to train on, with what the fitted model must remember of its input.

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
    classes : ndarray of shape (n_classes,)
        Class labels, sorted.
    knn_graph : KNNGraph or None
        The k-nearest-neighbour graph built from plain feature rows; None for graph input.
    feature_names : ndarray or None
        Column names of a DataFrame X.
    """

    nodes: GraphNodes
    symmetrize: bool
    rows: np.ndarray
    targets: np.ndarray
    classes: np.ndarray
    knn_graph: KNNGraph | None
    feature_names: np.ndarray | None


class GraphClassifierBase(EpochTrainedMixin, PortableStateMixin, ClassifierMixin, BaseEstimator):
    """Input handling for node classifiers (not for direct use).

    Graph input (:class:`GraphNodes`, networkx graphs) is used as given; a plain
    feature matrix becomes a k-nearest-neighbour graph (:class:`KNNGraph`).
    Subclasses take the ``directed``, ``n_neighbors`` and ``random_state`` parameters
    constrained here, and extend ``_parameter_constraints`` with their own.
    """

    _parameter_constraints: dict = {
        "directed": ["boolean"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def _labelled_graph(self, X, y):
        """Validate X and y at fit time and adopt them (see :meth:`_adopt_input`).

        Any previous fit is forgotten first, so a fit that fails leaves the estimator
        unfitted rather than half old, half new.
        """
        self.__dict__.pop("n_iter_", None)
        if is_graph_input(X):
            nodes = as_graph_nodes(X)
            if len(nodes) == 0:
                raise ValueError("X selects no node; at least one labelled node is needed.")
            knn_graph, feature_names, symmetrize = None, None, not self.directed
            labelled, classes, targets = split_labels(y, len(nodes), semi_supervised=True)
        else:
            check_not_split_graph(X)
            X, y = validate_data(
                self, X, y, accept_sparse="csr", dtype=np.float32, reset=True, y_numeric=False
            )
            knn_graph = None if self._fits_without_graph() else KNNGraph(self.n_neighbors)
            nodes = edgeless_nodes(X) if knn_graph is None else knn_graph.fit(X)
            feature_names, symmetrize = getattr(self, "feature_names_in_", None), False
            labelled, classes, targets = split_labels(y, len(nodes), semi_supervised=False)
        graph = LabelledGraph(
            nodes, symmetrize, nodes.indices[labelled], targets, classes, knn_graph, feature_names
        )
        self._adopt_input(graph)
        return graph

    def _adopt_input(self, labelled):
        """Remember what predicting needs of the training input: classes, features, graph.

        Composite estimators validate X once and pass the LabelledGraph to their members,
        which adopt it as if they had validated it themselves.
        """
        self.classes_ = labelled.classes
        self.n_features_in_ = labelled.nodes.n_features
        self.__dict__.pop("feature_names_in_", None)
        if labelled.feature_names is not None:
            self.feature_names_in_ = labelled.feature_names
        self._knn_graph = labelled.knn_graph
        self._symmetrize = labelled.symmetrize

    def _fits_without_graph(self):
        """Whether a fit on plain feature rows needs no k-nearest-neighbour graph.

        Read at fit time, from the parameters: True for a model that uses no edge.
        """
        return False

    def _predicts_without_graph(self):
        """Whether the fitted model predicts from each sample's own features alone.

        Read from fitted state. Then plain feature rows are not attached to the
        training graph, and graph input contributes its selected nodes' features only.
        """
        return False

    def _graph_to_predict(self, X):
        """Validate X at predict time; return (GraphNodes, symmetrize)."""
        check_is_fitted(self)
        if is_graph_input(X):
            nodes = as_graph_nodes(X)
            check_graph_width(self, nodes.n_features)
            return nodes, self._symmetrize
        check_not_split_graph(X)
        if self._predicts_without_graph():
            X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
            return edgeless_nodes(X), False
        if self._knn_graph is None:
            refuse_rows_after_graphs(self, "GraphNodes or a networkx graph")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return self._knn_graph.attach(X), False

    def predict_proba(self, X):
        """Class probabilities of each sample (node).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Nodes to classify, with their graph; or feature rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        return self._class_scores(*self._graph_to_predict(X))

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each sample (node).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Nodes to classify, with their graph; or feature rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, columns ordered as ``classes_``; computed
            from the class scores directly, so very unlikely classes stay finite.
        """
        return self._class_scores(*self._graph_to_predict(X), log=True)

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
        # Unnormalised scores where the model has them: they rank classes as probabilities.
        scores = self._class_scores(*self._graph_to_predict(X), log=None)
        return self.classes_[np.argmax(scores, axis=1)]

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
