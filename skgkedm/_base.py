"""What every skgkedm estimator shares: validated training data, targets, node input."""

import functools
import inspect
from numbers import Integral
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._persistence import PortableStateMixin
from .data._graph_nodes import edgeless_nodes
from .data._knn_graph import KNNGraph
from .data._validation import (
    UNLABELLED,
    as_graph_nodes,
    check_graph_width,
    check_not_split_graph,
    check_same_graph,
    check_validation_arguments,
    check_validation_nodes,
    is_graph_input,
    refuse_graphs_as_samples,
    refuse_rows_after_graphs,
    split_labels,
    split_regression_targets,
    training_weights,
)
from .utils._sklearn_compat import Interval, StrOptions
from .utils._training import CLASSIFICATION, MULTILABEL, REGRESSION, Objective


class TrainingData(NamedTuple):
    """Validated training input, as every estimator's ``fit`` hands it to training.

    Composite estimators (the distiller) validate X and y once and train their
    members on the same TrainingData: a member adopts ``input_state`` as if it had
    validated the input itself.

    Attributes
    ----------
    inputs : GraphNodes or GraphList
        The whole training graph (samples selected), or the training graphs.
    rows : ndarray of shape (n_labelled,)
        What each target belongs to: a node's position in the graph (repeats allowed),
        or a graph's position in the list.
    targets : ndarray of shape (n_labelled,) or (n_labelled, n_outputs)
        Encoded classes (int64), label indicators (float32) or standardised
        regression targets (float32).
    weights : ndarray of shape (n_labelled,) or None
        Weight of each target in the loss (``sample_weight`` times class weights);
        None: equal weights.
    stratify : ndarray of shape (n_labelled,) or None
        Encoded classes to stratify the validation split by.
    n_outputs : int
        Width of the network's output.
    objective : Objective
        The loss and validation score.
    input_state : dict
        Fitted attributes learnt from X and y alone (classes, feature width and names,
        target scale, the graph's direction, the k-nearest-neighbour graph). A
        ``feature_names_in_`` of None means the attribute is absent.
    n_validation : int, default=0
        The last ``n_validation`` entries of ``rows``, ``targets``, ``weights`` and
        ``stratify`` are validation samples (``fit``'s ``X_val`` and ``y_val``):
        scored for early stopping, never trained on.
    """

    inputs: object
    rows: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None
    stratify: np.ndarray | None
    n_outputs: int
    objective: Objective
    input_state: dict
    n_validation: int = 0

    def with_validation(self, rows, encoded):
        """These data with validation samples appended: ``rows`` of the same inputs and
        their :class:`EncodedTargets` (of the labelled ones among ``rows``)."""
        n_train, n_validation = len(self.rows), len(encoded.labelled)
        weights = None
        if self.weights is not None or encoded.weights is not None:
            weights = np.concatenate([
                np.ones(n_train) if self.weights is None else self.weights,
                np.ones(n_validation) if encoded.weights is None else encoded.weights,
            ])  # fmt: skip
        stratify = None
        if self.stratify is not None:
            stratify = np.concatenate([self.stratify, encoded.stratify])
        return self._replace(
            rows=np.concatenate([self.rows, rows[encoded.labelled]]),
            targets=np.concatenate([self.targets, encoded.targets]),
            weights=weights,
            stratify=stratify,
            n_validation=n_validation,
        )


class EncodedTargets(NamedTuple):
    """Validated targets of the labelled samples (see :class:`TrainingData`)."""

    labelled: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None
    stratify: np.ndarray | None
    n_outputs: int
    objective: Objective
    state: dict

    def training_data(self, inputs, rows, input_state):
        """The :class:`TrainingData` of these targets, with what they belong to."""
        return TrainingData(
            inputs,
            rows,
            self.targets,
            self.weights,
            self.stratify,
            self.n_outputs,
            self.objective,
            {**input_state, **self.state},
        )


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

    def _adopt_input(self, input_state):
        """Take the fitted attributes a :class:`TrainingData` learnt from X and y."""
        self.__dict__.pop("feature_names_in_", None)
        for name, value in input_state.items():
            if not (name == "feature_names_in_" and value is None):
                setattr(self, name, value)


class ClassifierTargetsMixin:
    """Class labels or label indicators as targets, class weights, outputs back to labels.

    For estimators with a ``class_weight`` parameter (not for direct use). A 1-D ``y``
    trains a softmax over the classes with cross-entropy; a 0/1 indicator matrix
    (multi-label, as :class:`~sklearn.neural_network.MLPClassifier` takes it) trains
    an independent sigmoid per label with binary cross-entropy.
    """

    _class_weight_constraint = [dict, list, StrOptions({"balanced"}), None]

    def _encode_targets(self, y, n_samples, semi_supervised, sample_weight):
        split = split_labels(y, n_samples, semi_supervised)
        labels = split.encoded if split.multilabel else split.classes[split.encoded]
        weights = training_weights(
            sample_weight, n_samples, split.labelled, self.class_weight, labels
        )
        return EncodedTargets(
            split.labelled,
            split.encoded,
            weights,
            None if split.multilabel else split.encoded,
            len(split.classes),
            MULTILABEL if split.multilabel else CLASSIFICATION,
            {"classes_": split.classes, "_multilabel": split.multilabel},
        )

    def _encode_validation_targets(self, y, n_samples, semi_supervised, sample_weight):
        """Validation labels (``y_val``), encoded against the fitted ``classes_``."""
        split = split_labels(
            y, n_samples, semi_supervised, self.classes_, self._multilabel, name="y_val"
        )
        labels = split.encoded if split.multilabel else split.classes[split.encoded]
        weights = training_weights(
            sample_weight, n_samples, split.labelled, self.class_weight, labels,
            name="sample_weight_val",
        )  # fmt: skip
        stratify = None if split.multilabel else split.encoded
        return EncodedTargets(split.labelled, split.encoded, weights, stratify, 0, None, {})

    def _probabilities(self, outputs, log=False):
        """Class probabilities (or their logarithms) from the network's outputs.

        ``outputs``: a float64 Tensor of shape (n_samples, n_classes or n_labels).
        """
        if self._multilabel:
            normalise = torch.nn.functional.logsigmoid if log else torch.sigmoid
            return normalise(outputs).cpu().numpy()
        normalise = torch.log_softmax if log else torch.softmax
        return normalise(outputs, dim=1).cpu().numpy()

    def _labels_from_probabilities(self, proba):
        """Predicted classes, or the predicted label indicator matrix (multi-label)."""
        if self._multilabel:
            return (proba > 0.5).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def with_class_weight(init, **defaults):
    """A classifier's ``__init__``: ``init``'s parameters, then ``class_weight=None``.

    Classifier and regressor share one ``__init__`` (their common parameters);
    the classifier adds ``class_weight`` through this, with a signature that lists
    every parameter, so scikit-learn's ``get_params``, ``clone`` and ``repr`` see it.
    ``defaults`` replace the defaults of some of ``init``'s parameters (the
    classifier's own recipe), in the signature and in the call.

    Examples
    --------
    >>> from skgkedm._base import with_class_weight
    >>> class Model:
    ...     def __init__(self, width=1, *, depth=2):
    ...         self.width, self.depth = width, depth
    ...     __init__ = with_class_weight(__init__, depth=3)
    >>> model = Model(5)
    >>> model.width, model.depth, model.class_weight
    (5, 3, None)
    >>> import inspect
    >>> str(inspect.signature(Model))
    '(width=1, *, depth=3, class_weight=None)'
    """
    signature = inspect.signature(init)
    names = list(signature.parameters)[1:]  # after self
    extra = inspect.Parameter("class_weight", inspect.Parameter.KEYWORD_ONLY, default=None)
    parameters = [
        parameter.replace(default=defaults[name]) if name in defaults else parameter
        for name, parameter in signature.parameters.items()
    ]

    @functools.wraps(init)
    def __init__(self, *args, class_weight=None, **kwargs):
        for name, value in defaults.items():
            if name not in kwargs and names.index(name) >= len(args):
                kwargs[name] = value
        init(self, *args, **kwargs)
        self.class_weight = class_weight

    __init__.__signature__ = signature.replace(parameters=[*parameters, extra])
    return __init__


class RegressorTargetsMixin:
    """Continuous targets, standardised for training and mapped back (not for direct use).

    ``y`` of shape (n_samples,) or (n_samples, n_outputs); each column is standardised
    to mean 0 and unit variance (weighted by ``sample_weight``) for training.
    """

    def _encode_targets(self, y, n_samples, semi_supervised, sample_weight):
        labelled, values, single_output = split_regression_targets(y, n_samples, semi_supervised)
        weights = training_weights(sample_weight, n_samples, labelled)
        mean = np.average(values, axis=0, weights=weights)
        scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
        scale = np.where(scale > 0, scale, 1.0)
        state = {
            "n_outputs_": values.shape[1],
            "_single_output": single_output,
            "_target_mean": mean,
            "_target_scale": scale,
        }
        standardised = ((values - mean) / scale).astype(np.float32)
        return EncodedTargets(
            labelled, standardised, weights, None, values.shape[1], REGRESSION, state
        )

    def _encode_validation_targets(self, y, n_samples, semi_supervised, sample_weight):
        """Validation targets (``y_val``), standardised as the training targets are."""
        labelled, values, _ = split_regression_targets(y, n_samples, semi_supervised, "y_val")
        if values.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {values.shape[1]} outputs but y has {self.n_outputs_}; "
                "expected targets of the same width."
            )
        weights = training_weights(sample_weight, n_samples, labelled, name="sample_weight_val")
        standardised = ((values - self._target_mean) / self._target_scale).astype(np.float32)
        return EncodedTargets(labelled, standardised, weights, None, 0, None, {})

    def _targets_from_outputs(self, outputs):
        """Predictions in the units of ``y`` from the network's (standardised) outputs."""
        predicted = outputs.cpu().numpy() * self._target_scale + self._target_mean
        return predicted[:, 0] if self._single_output else predicted

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class NodeEstimatorBase(EpochTrainedMixin, PortableStateMixin, BaseEstimator):
    """Input handling for estimators whose samples are nodes (not for direct use).

    Graph input (:class:`GraphNodes`, networkx graphs) is used as given; a plain
    feature matrix becomes a k-nearest-neighbour graph (:class:`KNNGraph`).
    Subclasses take the ``directed``, ``n_neighbors`` and ``random_state`` parameters
    constrained here, extend ``_parameter_constraints`` with their own, and encode
    targets with ``_encode_targets`` (:class:`ClassifierTargetsMixin`,
    :class:`RegressorTargetsMixin`).
    """

    _parameter_constraints: dict = {
        "directed": ["boolean"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def _training_data(self, X, y, sample_weight=None, X_val=None, y_val=None,
                       sample_weight_val=None):  # fmt: skip
        """Validate X, y and sample_weight (and validation data) at fit time; adopt them.

        Any previous fit is forgotten first, so a fit that fails leaves the estimator
        unfitted rather than half old, half new. ``X_val``, ``y_val`` and
        ``sample_weight_val``: see :meth:`_with_validation`.

        Returns
        -------
        TrainingData
        """
        if not (X_val is None and y_val is None and sample_weight_val is None):
            self._check_validation_arguments(X_val, y_val, sample_weight_val)
            check_validation_nodes(X, X_val)
        self.__dict__.pop("n_iter_", None)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if is_graph_input(X):
            nodes = as_graph_nodes(X)
            if len(nodes) == 0:
                raise ValueError("X selects no node; at least one labelled node is needed.")
            knn_graph, symmetrize, semi_supervised = None, not self.directed, True
            feature_names = None
        else:
            check_not_split_graph(X)
            refuse_graphs_as_samples(self, X)
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse="csr",
                dtype=np.float32,
                reset=True,
                y_numeric=False,
                multi_output=True,
            )
            knn_graph = None if self._fits_without_graph() else KNNGraph(self.n_neighbors)
            nodes = edgeless_nodes(X) if knn_graph is None else knn_graph.fit(X)
            symmetrize, semi_supervised = False, False
            feature_names = getattr(self, "feature_names_in_", None)
        encoded = self._encode_targets(y, len(nodes), semi_supervised, sample_weight)
        state = {
            "n_features_in_": nodes.n_features,
            "feature_names_in_": feature_names,
            "_knn_graph": knn_graph,
            "_symmetrize": symmetrize,
        }
        data = encoded.training_data(nodes, nodes.indices[encoded.labelled], state)
        self._adopt_input(data.input_state)
        if X_val is None:
            return data
        return self._with_validation(data, X is X_val, X_val, y_val, sample_weight_val)

    def _check_validation_arguments(self, X_val, y_val, sample_weight_val):
        """Refuse an incomplete set of validation arguments, or one this fit would not use."""
        check_validation_arguments(self.early_stopping, X_val, y_val, sample_weight_val)

    def _with_validation(self, data, same_as_X, X_val, y_val, sample_weight_val):
        """``data`` with the validation nodes ``X_val`` (labels ``y_val``) appended.

        ``X_val`` selects nodes of the training graph (the graph ``X`` is on: the same
        GraphNodes' graph, or one equal to it); they are scored for early stopping and
        never trained on. ``same_as_X``: X_val is X itself (a whole networkx graph or
        PyG ``Data`` passed twice), read once.
        """
        nodes = data.inputs if same_as_X else as_graph_nodes(X_val)
        check_same_graph(data.inputs, nodes)
        encoded = self._encode_validation_targets(y_val, len(nodes), True, sample_weight_val)
        return data.with_validation(nodes.indices, encoded)

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
        refuse_graphs_as_samples(self, X)
        if self._predicts_without_graph():
            X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
            return edgeless_nodes(X), False
        if self._knn_graph is None:
            refuse_rows_after_graphs(self, "GraphNodes or a networkx graph")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return self._knn_graph.attach(X), False


def scored_rows(X, y, missing):
    """Which samples ``score`` counts: all, but for graph input not the unlabelled ones.

    ``missing(y) -> bool mask`` finds the unlabelled marker; feature rows have none.
    """
    if is_graph_input(X):
        return ~missing(y)
    return np.ones(len(y), dtype=bool)


def _weights_of(sample_weight, scored):
    return None if sample_weight is None else np.asarray(sample_weight)[scored]


class GraphClassifierBase(ClassifierTargetsMixin, ClassifierMixin, NodeEstimatorBase):
    """Input handling and predictions of node classifiers (not for direct use).

    Subclasses compute class probabilities in ``_class_scores(nodes, symmetrize, log)``,
    and may give ``predict`` a cheaper argmax in ``_class_indices(nodes, symmetrize)``.
    """

    def predict_proba(self, X):
        """Class probabilities of each sample (node).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Nodes to classify, with their graph; or feature rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``. For a model
            fitted on a label indicator matrix: the probability of each label, each
            column on its own (rows need not sum to 1).
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
            Log-probability of each class (or label), columns ordered as
            ``classes_``; computed from the class scores directly, so very unlikely
            classes stay finite.
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
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted classes; for a model fitted on a label indicator matrix, the
            predicted indicator matrix (a label is predicted where its probability
            exceeds 0.5).
        """
        nodes, symmetrize = self._graph_to_predict(X)
        if self._multilabel:
            return self._labels_from_probabilities(self._class_scores(nodes, symmetrize))
        return self.classes_[self._class_indices(nodes, symmetrize)]

    def _class_indices(self, nodes, symmetrize):
        """Index into ``classes_`` of the most likely class of each sample (single-label)."""
        return np.argmax(self._class_scores(nodes, symmetrize), axis=1)

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y`` (subset accuracy for multi-label).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Samples (nodes) to score.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True classes, or label indicators. With graph input, nodes labelled ``-1``
            (rows of all ``-1``) are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            Mean accuracy over the scored samples. A sample whose class the model never
            saw during fit counts as wrong, as with
            :func:`~sklearn.metrics.accuracy_score`.
        """
        predicted = self.predict(X)
        if self._multilabel:
            y = check_array(y, dtype=None, input_name="y")
            check_consistent_length(predicted, y)
            scored = scored_rows(X, y, lambda y: (y == UNLABELLED).all(axis=1))
        else:
            y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"))
            check_consistent_length(predicted, y)
            # Only numeric labels can mark unlabelled nodes; comparing strings with -1
            # gives one scalar on older NumPy, not a mask.
            if np.issubdtype(y.dtype, np.number):
                scored = scored_rows(X, y, lambda y: y == UNLABELLED)
            else:
                scored = np.ones(len(y), dtype=bool)
        return accuracy_score(
            y[scored], predicted[scored], sample_weight=_weights_of(sample_weight, scored)
        )


def regression_score(estimator, X, y, sample_weight=None):
    """R² of ``estimator.predict(X)``; with graph input, NaN targets are left out."""
    predicted = estimator.predict(X)
    y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan")
    check_consistent_length(predicted, y)
    scored = scored_rows(X, y, lambda y: np.isnan(y.reshape(len(y), -1)).all(axis=1))
    return r2_score(y[scored], predicted[scored], sample_weight=_weights_of(sample_weight, scored))
