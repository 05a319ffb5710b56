"""Validation of what users pass as X and y."""

import numbers
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import networkx as nx
import numpy as np
import scipy.sparse as sp
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from ..utils._sklearn_compat import check_sample_weight
from ._graph_list import GraphList, graph_items
from ._graph_nodes import GraphNodes
from ._pyg import is_pyg_data, is_pyg_dataset

UNLABELLED = -1

NODES = "nodes"
"""Kind of graph input whose samples are nodes of one graph (GraphNodes, a networkx graph)."""
GRAPHS = "graphs"
"""Kind of graph input whose samples are graphs (GraphList, a list of graphs)."""


def graph_input_kind(X):
    """The one answer to "is X a graph?": ``NODES``, ``GRAPHS`` or None (feature rows).

    ``NODES``: GraphNodes, a networkx graph or a PyTorch Geometric ``Data``. ``GRAPHS``:
    a GraphList, a PyG ``Dataset``, or a list, tuple or pandas Series of networkx graphs
    only or of ``Data`` only. PyTorch Geometric is never imported for other input.

    Raises
    ------
    TypeError
        If a list, tuple or Series mixes graphs with other objects or networkx graphs
        with ``Data``: graphs gone wrong, not feature rows.

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm.data._validation import graph_input_kind
    >>> graph_input_kind(nx.path_graph(3)), graph_input_kind([nx.path_graph(3)])
    ('nodes', 'graphs')
    >>> graph_input_kind([[0.0, 1.0]]) is None
    True
    """
    if isinstance(X, (GraphNodes, nx.Graph)) or is_pyg_data(X):
        return NODES
    if isinstance(X, GraphList) or is_pyg_dataset(X):
        return GRAPHS
    items = graph_items(X)
    if not items or not any(_graph_kind(item) for item in items):
        return None
    # In order of appearance.
    kinds = list(
        dict.fromkeys(_graph_kind(item) or f"{type(item).__name__} objects" for item in items)
    )
    if len(kinds) == 1:
        return GRAPHS
    raise TypeError(
        f"X mixes {' with '.join(kinds)}; pass graphs of one kind (networkx graphs "
        "only or torch_geometric Data only), a GraphList, or a feature matrix."
    )


def _graph_kind(item):
    if isinstance(item, nx.Graph):
        return "networkx graphs"
    if is_pyg_data(item):
        return "torch_geometric Data objects"
    return None


def is_graph_input(X):
    """Whether X carries its own graph whose nodes are samples (GraphNodes, networkx,
    a PyG ``Data``)."""
    return graph_input_kind(X) == NODES


def as_graph_nodes(X):
    """Return GraphNodes for GraphNodes, a networkx graph or a PyG ``Data`` (all nodes)."""
    if isinstance(X, GraphNodes):
        return X
    if is_pyg_data(X):
        return GraphNodes.from_pyg(X)
    return GraphNodes.from_networkx(X)


def check_not_split_graph(X):
    """Refuse a list of adjacency mappings: a networkx graph split by scikit-learn.

    ``train_test_split``, ``KFold`` and the cross-validation tools index a networkx
    graph ``G`` like a list, ``[G[i] for i in rows]``, and so hand the estimator one
    adjacency dict per node with the graph itself gone.

    Parameters
    ----------
    X : object
        What the estimator was given as a feature matrix.

    Raises
    ------
    TypeError
        If X is a list or tuple holding mappings (networkx ``AtlasView`` or dicts).
    """
    if not isinstance(X, (list, tuple)):
        return
    mapping = next((row for row in X if isinstance(row, Mapping)), None)
    if mapping is not None:
        raise TypeError(
            f"X is a {type(X).__name__} of {type(mapping).__name__} objects (adjacency dicts), "
            "not feature rows: this is what scikit-learn's indexing (train_test_split, KFold, "
            "cross_val_score, GridSearchCV) makes of a networkx graph, one dict per node, and "
            "the graph is lost. Wrap the graph with GraphNodes.from_networkx(G) to "
            "cross-validate: its subsets select nodes and keep the whole graph."
        )


def refuse_graphs_as_samples(estimator, X):
    """Refuse graphs as samples (a GraphList, a list of graphs) where nodes are the samples.

    A list of networkx graphs otherwise reaches the feature-row path and fails on
    its shape, which names neither the mistake nor the fix.

    Parameters
    ----------
    estimator : estimator
        A node estimator, named in the message.
    X : object
        What the estimator was given.

    Raises
    ------
    TypeError
        If X is graphs as samples (``graph_input_kind(X) == GRAPHS``).

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm import GKEDMClassifier
    >>> from skgkedm.data._validation import refuse_graphs_as_samples
    >>> refuse_graphs_as_samples(GKEDMClassifier(), nx.path_graph(3))
    >>> refuse_graphs_as_samples(GKEDMClassifier(), [nx.path_graph(3)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: GKEDMClassifier takes nodes as samples, ... GKEDMGraphClassifier ...
    """
    if graph_input_kind(X) == GRAPHS:
        raise TypeError(
            f"{type(estimator).__name__} takes nodes as samples, but X holds graphs as "
            f"samples ({type(X).__name__} of {len(X)} graphs): pass one graph (GraphNodes, "
            "a networkx graph or a torch_geometric Data) or a feature matrix; to classify "
            "or regress whole graphs, use GKEDMGraphClassifier or GKEDMGraphRegressor."
        )


def check_graph_width(estimator, n_features):
    """At predict time: refuse graph input whose node features differ from the fit's.

    Parameters
    ----------
    estimator : fitted estimator
        With ``n_features_in_``.
    n_features : int
        Features per node of the graph input given to predict.

    Raises
    ------
    ValueError
        If ``n_features != estimator.n_features_in_``.
    """
    if n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features per node, but {type(estimator).__name__} was "
            f"fitted with {estimator.n_features_in_}."
        )


def refuse_rows_after_graphs(estimator, graph_input):
    """At predict time: refuse plain feature rows for a model fitted on graph input.

    Parameters
    ----------
    estimator : fitted estimator
        Fitted on graph input.
    graph_input : str
        What it takes instead, for the message (e.g. "GraphNodes or a networkx graph").

    Raises
    ------
    TypeError
        Always.
    """
    raise TypeError(
        f"{type(estimator).__name__} was fitted on graph input, so it predicts on graph "
        f"input: pass {graph_input}, not a plain feature matrix."
    )


def check_hidden_dims(hidden_dims):
    """Validate ``hidden_dims`` and return it as a tuple of positive ints."""
    if isinstance(hidden_dims, numbers.Integral) and not isinstance(hidden_dims, bool):
        hidden_dims = (hidden_dims,)
    try:
        dims = tuple(hidden_dims)
    except TypeError:
        dims = None
    if (
        not dims
        or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in dims)
        or min(dims) < 1
    ):
        raise ValueError(
            "hidden_dims must be a non-empty sequence of positive integers (one width "
            f"per hidden layer), got {hidden_dims!r}."
        )
    return tuple(int(d) for d in dims)


class ClassTargets(NamedTuple):
    """Validated classification targets, as :func:`split_labels` returns them.

    Attributes
    ----------
    labelled : ndarray of shape (n_labelled,)
        Positions of the labelled samples.
    classes : ndarray of shape (n_classes,)
        Sorted distinct labels; for a label indicator matrix, ``arange(n_labels)``
        (as :class:`~sklearn.neural_network.MLPClassifier` sets ``classes_``).
    encoded : ndarray of shape (n_labelled,) or (n_labelled, n_labels)
        Index into ``classes`` of each labelled sample (int64), or its 0/1 label
        indicators (float32).
    multilabel : bool
        Whether y was a label indicator matrix.
    """

    labelled: np.ndarray
    classes: np.ndarray
    encoded: np.ndarray
    multilabel: bool


def split_labels(y, n_samples, semi_supervised, classes=None, multilabel=False, name="y"):
    """Validate classification labels; separate the labelled samples.

    With ``semi_supervised`` (graph input), ``-1`` marks an unlabelled sample
    (scikit-learn's semi-supervised convention) when the labels are numbers; string
    labels have no such marker, so a ``-1`` (or ``"-1"``) among them is refused.
    Without ``semi_supervised`` every value, ``-1`` included, is a class.

    A 2-D ``y`` with several columns is a label indicator matrix (multi-label, as
    :class:`~sklearn.neural_network.MLPClassifier` takes it): 0 and 1 only, and with
    ``semi_supervised`` a row of all ``-1`` marks an unlabelled sample.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
    n_samples : int
        Samples of the X that ``y`` labels.
    semi_supervised : bool
    classes : ndarray or None, default=None
        The classes of a fitted model, for validation labels (``y_val``): labels are
        encoded as indices into them (a label indicator matrix must have one column
        per class), a label outside them is refused, and one class is enough.
        None: the classes are learnt from ``y``.
    multilabel : bool, default=False
        With ``classes``: whether the fitted model's ``y`` was a label indicator
        matrix (``y`` must be one too, with one column per class).
    name : str, default="y"
        The argument's name in error messages (``"y_val"``).

    Returns
    -------
    ClassTargets
    """
    y = check_array(y, ensure_2d=False, dtype=None, input_name=name)
    indicators = y.ndim == 2 and y.shape[1] > 1
    if classes is not None and (
        indicators != multilabel or (indicators and y.shape[1] != len(classes))
    ):
        fitted = f"a matrix of {len(classes)} labels" if multilabel else "classes"
        raise ValueError(
            f"{name} of shape {y.shape} does not match the model's targets: it is trained "
            f"on {fitted}; expected {name} of the same kind and width as y."
        )
    if indicators:
        return _split_indicator(y, n_samples, semi_supervised, name, warn=classes is None)
    y = column_or_1d(y, warn=True)
    _check_target_length(y, n_samples, name)
    is_numeric = np.issubdtype(y.dtype, np.number)
    labelled = np.arange(n_samples)
    if semi_supervised and is_numeric:
        labelled = np.flatnonzero(y != UNLABELLED)
    elif semi_supervised:
        _check_no_marker_among_strings(y)
    if labelled.size == 0:
        raise ValueError(f"{name} has no labelled sample: every label is -1 (unlabelled).")
    check_classification_targets(y[labelled])
    if classes is not None:
        return ClassTargets(labelled, classes, _encode_known(y[labelled], classes, name), False)
    classes, encoded = np.unique(y[labelled], return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"The labelled samples hold one class only ({classes.tolist()[0]!r}); at least two "
            "classes are needed to train a classifier."
        )
    return ClassTargets(labelled, classes, encoded.astype(np.int64), False)


def _encode_known(labels, classes, name):
    """Indices into the fitted ``classes`` of validation ``labels``; unseen labels refused."""
    try:
        positions = np.searchsorted(classes, labels)
        known = (positions < len(classes)) & (
            classes[np.minimum(positions, len(classes) - 1)] == labels
        )
    except TypeError:  # strings against numbers
        known = np.zeros(len(labels), dtype=bool)
    if not known.all():
        unseen = np.unique(labels[~known])
        raise ValueError(
            f"{name} holds classes that y does not: {unseen[:10].tolist()}; the model "
            f"is trained on {classes.tolist()[:10]}."
        )
    return positions.astype(np.int64)


def _check_target_length(y, n_samples, name="y"):
    if len(y) != n_samples:
        X = "X_val" if name == "y_val" else "X"
        raise ValueError(
            f"{name} has {len(y)} entries (labels or targets) but {X} has {n_samples} samples;"
            " expected one per sample"
            " (for nodes: -1, or NaN for a regression target, marks an unlabelled one)."
        )


def _split_indicator(y, n_samples, semi_supervised, name="y", warn=True):
    """Multi-label ``y``: a 0/1 indicator matrix, rows of all -1 unlabelled (graph input).

    ``warn``: warn of label columns without a positive sample (training labels).
    """
    Y = y
    _check_target_length(Y, n_samples, name)
    if not np.issubdtype(Y.dtype, np.number) or Y.dtype == np.bool_:
        if Y.dtype != np.bool_:
            raise ValueError(
                f"{name} of shape {Y.shape} is read as a label indicator matrix (multi-label), "
                f"which holds 0 and 1 only; got dtype {Y.dtype}."
            )
        Y = Y.astype(np.int64)
    labelled = np.arange(n_samples)
    if semi_supervised:
        labelled = np.flatnonzero(~(Y == UNLABELLED).all(axis=1))
    if labelled.size == 0:
        raise ValueError(f"{name} has no labelled sample: every row is all -1 (unlabelled).")
    bad = ~np.isin(Y[labelled], (0, 1))
    if bad.any():
        row, column = np.argwhere(bad)[0]
        marker = " except rows of all -1 (unlabelled)" if semi_supervised else ""
        raise ValueError(
            f"{name} of shape {Y.shape} is read as a label indicator matrix (multi-label): 0 "
            f"and 1 only{marker}; got {Y[labelled][row, column]!r} at row {labelled[row]}, "
            f"column {column}. For several multi-class outputs, fit one classifier per column "
            "(sklearn.multioutput.MultiOutputClassifier)."
        )
    encoded = Y[labelled].astype(np.float32)
    empty = np.flatnonzero(encoded.sum(axis=0) == 0)
    if warn and empty.size:
        # As MLPClassifier: allowed (cross-validation folds often miss rare labels).
        warnings.warn(
            f"Label columns {empty[:10].tolist()} have no positive labelled sample: the "
            "model learns never to predict them.",
            UserWarning,
            stacklevel=4,
        )
    return ClassTargets(labelled, np.arange(Y.shape[1]), encoded, True)


def split_regression_targets(y, n_samples, semi_supervised, name="y"):
    """Validate regression targets; separate the labelled samples.

    With ``semi_supervised`` (graph input), a row of NaN marks an unlabelled sample;
    infinite values, and NaN otherwise, are refused.

    ``name`` is the argument's name in error messages (``"y_val"``).

    Returns
    -------
    labelled : ndarray of shape (n_labelled,)
        Positions of the labelled samples.
    values : ndarray of shape (n_labelled, n_outputs)
        Their targets, float64.
    single_output : bool
        Whether y was 1-D.
    """
    y = check_array(
        y,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite="allow-nan" if semi_supervised else True,
        input_name=name,
    )
    if y.ndim > 2:
        raise ValueError(
            f"{name} must be of shape (n_samples,) or (n_samples, n_outputs), got {y.shape}."
        )
    _check_target_length(y, n_samples, name)
    values = y.reshape(n_samples, -1)
    missing = np.isnan(values)
    partial = np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1))
    if partial.size:
        raise ValueError(
            f"{name} has NaN in some but not all outputs of {partial.size} samples (first: row "
            f"{partial[0]}); NaN marks an unlabelled node only when all its outputs are NaN."
        )
    labelled = np.flatnonzero(~missing.all(axis=1))
    if labelled.size == 0:
        raise ValueError(f"{name} has no labelled sample: every target is NaN (unlabelled).")
    return labelled, values[labelled], y.ndim == 1


def training_weights(
    sample_weight, n_samples, labelled, class_weight=None, targets=None, name="sample_weight"
):
    """Weight of each labelled sample in the loss: ``sample_weight`` times class weights.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        One weight per sample of X (unlabelled ones included, and ignored).
    n_samples : int
    labelled : ndarray of shape (n_labelled,)
        Positions of the labelled samples.
    class_weight : dict, list of dict, "balanced" or None, default=None
        As :class:`~sklearn.linear_model.LogisticRegression` takes it; needs
        ``targets``, the labels of the labelled samples ("balanced" counts them
        unweighted, as LogisticRegression does). For a label indicator matrix, as
        :func:`~sklearn.utils.class_weight.compute_sample_weight` takes it for
        several outputs (each label a binary output; weights multiplied).
    targets : ndarray of shape (n_labelled,) or (n_labelled, n_labels), default=None
    name : str, default="sample_weight"
        The argument's name in error messages (``"sample_weight_val"`` for the
        validation nodes' weights).

    Returns
    -------
    weights : ndarray of shape (n_labelled,) or None
        None when every weight is 1.

    Raises
    ------
    ValueError
        If a weight is negative or not finite, or all labelled samples weigh 0.
    """
    weights = None
    if sample_weight is not None:
        try:
            sample_weight = check_sample_weight(
                sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
            )
        except ValueError as error:  # scikit-learn's message names "sample_weight", or none
            message = str(error).replace("sample_weight", name)
            raise ValueError(message if name in message else f"{name}: {message}") from None
        weights = sample_weight[labelled]
    if class_weight is not None and targets.ndim == 2:
        by_sample = compute_sample_weight(class_weight, targets)
        weights = by_sample if weights is None else weights * by_sample
    elif class_weight is not None:
        classes = np.unique(targets)
        per_class = compute_class_weight(class_weight, classes=classes, y=targets)
        by_sample = per_class[np.searchsorted(classes, targets)]
        weights = by_sample if weights is None else weights * by_sample
    if weights is None:
        return None
    if not weights.sum() > 0:
        raise ValueError(
            f"{name} is 0 on every labelled sample: there is nothing to learn from. "
            "Give at least one labelled sample a positive weight."
        )
    return weights.astype(np.float32)


def _check_no_marker_among_strings(y):
    # np.asarray turns ["a", -1] into the strings ["a", "-1"]; an object array keeps the int.
    marked = y == str(UNLABELLED)
    if y.dtype == object:
        marked |= np.array([label == UNLABELLED for label in y], dtype=bool)
    if marked.any():
        raise ValueError(
            f"y holds string labels and the unlabelled marker -1 (on {marked.sum()} of {len(y)} "
            f"nodes, first at position {np.flatnonzero(marked)[0]}): only integer labels have an "
            "unlabelled marker. Either encode the classes as integers "
            "(sklearn.preprocessing.LabelEncoder) and keep -1 for unlabelled nodes, or fit on "
            "the labelled nodes only, X[labelled] with y[labelled]: messages still pass over "
            "the whole graph."
        )


def check_validation_arguments(early_stopping, X_val, y_val, sample_weight_val, whose=""):
    """Refuse an incomplete set of ``fit``'s validation arguments.

    ``X_val`` and ``y_val`` come together; ``sample_weight_val`` only with them; and
    not with ``early_stopping=False``, which asks for no validation (as
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier` refuses it). ``whose``
    names the estimator whose ``early_stopping`` it is (a distiller's member, as
    ``"the student's "``); empty: the estimator's own.

    Raises
    ------
    ValueError
    """
    if (X_val is None) != (y_val is None):
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(f"{given} is passed to fit without {missing}; pass both or neither.")
    if X_val is None and sample_weight_val is not None:
        raise ValueError("sample_weight_val is passed to fit without X_val and y_val.")
    if X_val is not None and not isinstance(early_stopping, str) and not early_stopping:
        raise ValueError(
            f"X_val and y_val are passed to fit while {whose}early_stopping is False; "
            "set it to 'auto' (the default) or True to validate on them."
        )


def check_validation_nodes(X, X_val):
    """Refuse validation nodes unless X and X_val are both graph input (nodes).

    Raises
    ------
    TypeError
    """
    if X_val is not None and not (is_graph_input(X) and is_graph_input(X_val)):
        raise TypeError(
            "X_val must be nodes of the training graph (GraphNodes, a networkx graph or a "
            f"PyG Data, as X), got X of type {type(X).__name__} and X_val of type "
            f"{type(X_val).__name__}. With feature rows as X, use early_stopping=True and "
            "validation_fraction instead."
        )


def check_same_graph(nodes, other):
    """Refuse ``other`` (GraphNodes of X_val) unless it is on the graph of ``nodes``.

    The same graph: subsets of one GraphNodes share it; GraphNodes built apart from
    equal arrays (a networkx graph converted twice) are compared by content.

    Raises
    ------
    ValueError
    """
    if nodes._graph is other._graph:
        return
    same = (
        nodes.adjacency.shape == other.adjacency.shape
        and nodes.features.shape == other.features.shape
        and _equal_arrays(nodes.adjacency, other.adjacency)
        and _equal_arrays(nodes.features, other.features)
        and (nodes.edge_attr is None) == (other.edge_attr is None)
        and (nodes.edge_attr is None or np.array_equal(nodes.edge_attr, other.edge_attr))
    )
    if not same:
        raise ValueError(
            f"X_val must select nodes of the training graph; it is on another graph "
            f"({other.n_nodes} nodes, {other.adjacency.nnz} stored edges, "
            f"{other.n_features} features against {nodes.n_nodes}, {nodes.adjacency.nnz} and "
            f"{nodes.n_features}, or the same sizes with other values). Select the "
            "validation nodes from X's graph, e.g. X_val = X.all_nodes[val_index]."
        )


def _equal_arrays(a, b):
    if sp.issparse(a) or sp.issparse(b):
        if not (sp.issparse(a) and sp.issparse(b)):
            return False
        return (a != b).nnz == 0
    return np.array_equal(a, b)
