"""Validation of what users pass as X and y."""

import numbers
from collections.abc import Mapping

import networkx as nx
import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

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


def split_labels(y, n_samples, semi_supervised):
    """Validate classification labels; separate the labelled samples.

    With ``semi_supervised`` (graph input), ``-1`` marks an unlabelled sample
    (scikit-learn's semi-supervised convention) when the labels are numbers; string
    labels have no such marker, so a ``-1`` (or ``"-1"``) among them is refused.
    Without ``semi_supervised`` every value, ``-1`` included, is a class.

    Returns
    -------
    labelled : ndarray of shape (n_labelled,)
        Positions of the labelled samples.
    classes : ndarray of shape (n_classes,)
        Sorted distinct labels.
    encoded : ndarray of shape (n_labelled,)
        Index into ``classes`` of each labelled sample.
    """
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(
            f"y has {len(y)} labels but X has {n_samples} samples (nodes); expected one "
            "label per sample, with -1 for unlabelled nodes."
        )
    is_numeric = np.issubdtype(y.dtype, np.number)
    labelled = np.arange(n_samples)
    if semi_supervised and is_numeric:
        labelled = np.flatnonzero(y != UNLABELLED)
    elif semi_supervised:
        _check_no_marker_among_strings(y)
    if labelled.size == 0:
        raise ValueError("y has no labelled sample: every label is -1 (unlabelled).")
    check_classification_targets(y[labelled])
    classes, encoded = np.unique(y[labelled], return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"The labelled samples hold one class only ({classes.tolist()[0]!r}); at least two "
            "classes are needed to train a classifier."
        )
    return labelled, classes, encoded


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
