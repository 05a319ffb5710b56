"""The input container: a graph, its node features and a selection of its nodes."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

from ._selection import SelectionMixin, read_only, stored_bytes
from ._structural_features import graph_features


class _Graph:
    """The part every subset shares: validated adjacency, features, node ids, edge attributes."""

    __slots__ = ("adjacency", "edge_attr", "features", "node_ids")

    def __init__(self, adjacency, features, node_ids, edge_attr=None):
        self.adjacency = adjacency
        self.features = features
        self.node_ids = node_ids
        self.edge_attr = edge_attr


class GraphNodes(SelectionMixin):
    """Nodes of a graph, seen by scikit-learn as the rows of a feature matrix.

    A sample is a node *of a graph*: ``len(X)`` is the number of selected nodes,
    ``X.shape == (len(X), n_features)``, and ``X[idx]`` selects nodes the way
    ``X[idx]`` selects rows of an array. Every subset shares the whole graph, so
    ``train_test_split``, ``KFold``, ``cross_val_score`` and ``GridSearchCV`` split
    the *labels* while messages still pass over every node and edge.

    Parameters
    ----------
    adjacency : {array-like, sparse matrix} of shape (n_nodes, n_nodes)
        Adjacency matrix. ``adjacency[i, j] > 0`` is an edge from node ``i`` to node
        ``j`` with that weight. Weights must be finite and non-negative.
    features : {array-like, sparse matrix} of shape (n_nodes, n_features), default=None
        Node features. Sparse features stay sparse (CSR). ``None`` gives 15 features
        per node computed from the graph (see Notes).
    edge_attr : array-like of shape (n_edges, n_edge_features), default=None
        Edge attributes (bond types, relation types, distances): row ``k`` describes
        the ``k``-th edge in the order of ``adjacency.nonzero()`` (row by row; for a
        scipy sparse matrix, its storage order). A 1-D array is one attribute per
        edge. Values must be finite; the adjacency must not list an edge twice.
        ``None``: no edge attributes.

    Attributes
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        The whole graph, shared by every subset (float32, duplicates summed).
    features : ndarray or scipy.sparse.csr_array of shape (n_nodes, n_features)
        Features of every node of the graph (float32).
    edge_attr : ndarray of shape (adjacency.nnz, n_edge_features) or None
        Attributes of every edge (float32, read-only), aligned with the stored entries
        of :attr:`adjacency` (CSR order: ``adjacency.nonzero()``); None without edge
        attributes.
    n_edge_features : int
        Attributes per edge; 0 without edge attributes.
    indices : ndarray of shape (n_selected,)
        Positions of the selected nodes in the graph, in selection order.
    node_ids : ndarray of shape (n_selected,)
        Identifiers of the selected nodes: the networkx node ids for a graph built
        with :meth:`from_networkx`, else the positions themselves.
    all_nodes : GraphNodes
        Every node of the same graph, in graph order.
    n_nodes : int
        Number of nodes of the whole graph.
    n_features : int
        Number of features per node.
    shape : tuple of int
        ``(n_selected, n_features)``.

    See Also
    --------
    GraphNodes.from_networkx : Build from a networkx graph.
    GraphNodes.from_pyg : Build from a PyTorch Geometric ``Data``.

    Notes
    -----
    The arrays passed in are copied once at construction, never modified; subsets
    made by indexing share that copy.

    A graph without features gets 15 per node, computed deterministically from the
    adjacency alone (edges count in either direction):

    - 3 structural features: a constant 1, ``log(1 + degree)`` and the mean of
      ``log(1 + degree)`` over the node's neighbours. They mean the same on any graph.
    - 12 positional features: the 8 smoothest and the 4 least smooth non-trivial
      eigenvectors of the normalised adjacency ``D^-1/2 A D^-1/2``, scaled to entries
      of order 1 and signed deterministically. The smooth ones separate communities
      (as in spectral clustering), the others the two sides of bipartite structure
      (a backbone that keeps a node apart from its neighbours, ``"sage"`` or
      ``"gin"``, can use those; GCN averages them away). They locate a node *within
      its own graph*: a model fitted on some labelled nodes of a graph uses them to
      classify the other nodes of that graph, but on a different graph they mean
      something else. To predict on new graphs, pass features that mean the same on
      every graph, such as degrees.

    Degree features alone leave community labels near chance: on the karate club,
    with half of the nodes hidden, they give 0.45 accuracy on the hidden ones and
    these features 0.935 (mean of 10 splits, ``benchmarks/featureless_graphs.py``).
    The cost grows linearly with the number of edges.

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm import GraphNodes
    >>> G = nx.karate_club_graph()
    >>> X = GraphNodes(nx.to_scipy_sparse_array(G))
    >>> X
    GraphNodes(n_selected=34, n_nodes=34, n_edges=156, n_features=15)
    >>> X[[0, 33]].indices
    array([ 0, 33])
    >>> X[X.indices % 2 == 0].shape
    (17, 15)
    """

    def __init__(self, adjacency, features=None, edge_attr=None):
        validated = validate_adjacency(adjacency)
        if edge_attr is not None:
            edge_attr = align_edge_attr(adjacency, validated, edge_attr)
        n_nodes = validated.shape[0]
        if features is None:
            features = graph_features(validated)
        else:
            features = validate_features(features, n_nodes)
        self._graph = _Graph(validated, features, None, edge_attr)
        self._indices = read_only(np.arange(n_nodes))

    @classmethod
    def from_networkx(cls, graph, feature_attr="x", weight="weight", edge_attrs=None):
        """Build from a networkx graph, keeping its node order.

        Parameters
        ----------
        graph : networkx.Graph
            Any networkx graph: directed or not, multigraph (parallel edges add their
            weights), with self-loops or isolated nodes, and any hashable node ids.
        feature_attr : str, default="x"
            Node attribute holding each node's feature vector (or scalar). If no node
            has it, 15 features are computed from the graph: 3 from degrees and 12
            eigenvectors that locate each node in the graph, so that community labels
            can be learnt (see Notes of :class:`GraphNodes`; they do not carry over to
            a different graph). If only some nodes have it, a ValueError names one
            that does not.
        weight : str or None, default="weight"
            Edge attribute used as edge weight; edges without it weigh 1. ``None``
            gives every edge weight 1.
        edge_attrs : sequence of str, default=None
            Edge attributes to keep as :attr:`edge_attr`, each a number or a vector
            per edge (the same length on every edge), concatenated in this order, as
            ``torch_geometric.utils.from_networkx(group_edge_attrs=...)`` does. Every
            edge must have them; a multigraph may not have parallel edges. An
            undirected edge gives both directions the same attributes. ``None``: no
            edge attributes.

        Returns
        -------
        X : GraphNodes
            All nodes of ``graph``, in ``graph.nodes`` order; ``X.node_ids`` holds
            the networkx ids so predictions map back to nodes.

        Notes
        -----
        Estimators accept a networkx graph as ``X`` directly, but scikit-learn's
        splitters (``train_test_split``, cross-validation, searches) cannot split
        one: they turn it into a list of adjacency dicts, which the estimators
        refuse. Wrap the graph with this method first; its subsets keep the graph.

        Examples
        --------
        >>> import networkx as nx
        >>> from skgkedm import GraphNodes
        >>> G = nx.Graph()
        >>> G.add_node("a", x=[1.0, 0.0])
        >>> G.add_node("b", x=[0.0, 1.0])
        >>> G.add_edge("a", "b")
        >>> X = GraphNodes.from_networkx(G)
        >>> X.shape, list(X.node_ids)
        ((2, 2), ['a', 'b'])
        """
        import networkx as nx

        if not isinstance(graph, nx.Graph):
            raise TypeError(f"from_networkx expects a networkx graph, got {type(graph).__name__}.")
        nodes = list(graph.nodes)
        if not nodes:
            raise ValueError("The networkx graph has no nodes; at least one is required.")
        adjacency, edge_attr = networkx_adjacency(graph, nodes, weight, edge_attrs)
        features = networkx_features(graph, nodes, feature_attr)
        X = cls(adjacency, features, edge_attr)
        X._graph.node_ids = read_only(np.fromiter(nodes, dtype=object, count=len(nodes)))
        return X

    @classmethod
    def from_pyg(cls, data):
        """Build from a PyTorch Geometric ``Data`` object: all its nodes.

        Parameters
        ----------
        data : torch_geometric.data.Data
            One graph: ``x`` (node features, dense or sparse), ``edge_index`` (messages
            flow from ``edge_index[0]`` to ``edge_index[1]``, as in PyG; the adjacency
            gets the entry ``[edge_index[0, k], edge_index[1, k]]``), and optionally
            ``edge_weight`` (one non-negative weight per edge; edges weighing 0 are
            dropped) and ``edge_attr`` (kept as :attr:`edge_attr`). Without
            ``edge_attr``, an edge listed twice adds its weights; with it, every edge
            must be listed once (``torch_geometric.utils.coalesce``). ``data.y`` and
            other fields are not read: pass the targets to ``fit`` as ``y``, as
            scikit-learn does. Not modified.

        Returns
        -------
        X : GraphNodes
            All nodes of the graph, in PyG's node order.

        Raises
        ------
        TypeError
            If ``data`` is not a ``torch_geometric.data.Data``.
        ValueError
            If ``data`` has no ``x`` (skgkedm does not invent features for a ``Data``:
            the message says how to get structural features) or no ``edge_index``,
            or a field has the wrong shape or values.

        See Also
        --------
        GraphNodes.to_pyg : The way back.
        GraphList.from_pyg : Many graphs, one a sample.

        Examples
        --------
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from skgkedm import GraphNodes
        >>> data = Data(x=torch.eye(3), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
        >>> X = GraphNodes.from_pyg(data)
        >>> X
        GraphNodes(n_selected=3, n_nodes=3, n_edges=4, n_features=3)
        >>> X.to_pyg()
        Data(x=[3, 3], edge_index=[2, 4])
        """
        from ._pyg import pyg_arrays

        adjacency, features, edge_attr = pyg_arrays(data)
        return cls(adjacency, features, edge_attr)

    def to_pyg(self):
        """The whole graph as a PyTorch Geometric ``Data`` object.

        Returns
        -------
        data : torch_geometric.data.Data
            ``x`` (float32, dense: sparse features are made dense),
            ``edge_index`` (int64; ``edge_index[:, k]`` is the ``k``-th entry of
            ``adjacency.nonzero()``), ``edge_weight`` (float32) when some edge weighs
            other than 1, and ``edge_attr`` (float32) when the graph has edge
            attributes. Every node of the graph is in it: the selected ones are
            ``X.indices``.

        Examples
        --------
        >>> import networkx as nx
        >>> from skgkedm import GraphNodes
        >>> GraphNodes.from_networkx(nx.path_graph(3)).to_pyg()
        Data(x=[3, 15], edge_index=[2, 4])
        """
        from ._pyg import to_pyg_data

        return to_pyg_data(self.adjacency, self.features, self.edge_attr)

    @property
    def adjacency(self):
        return self._graph.adjacency

    @property
    def features(self):
        return self._graph.features

    @property
    def edge_attr(self):
        # Graphs pickled before edge attributes existed have no such slot.
        return getattr(self._graph, "edge_attr", None)

    @property
    def n_edge_features(self):
        return 0 if self.edge_attr is None else self.edge_attr.shape[1]

    @property
    def node_ids(self):
        if self._graph.node_ids is None:
            return self._indices
        return self._graph.node_ids[self._indices]

    @property
    def all_nodes(self):
        """GraphNodes selecting every node of the same graph, in graph order."""
        return self._with_indices(np.arange(self.n_nodes))

    @property
    def n_nodes(self):
        return self._graph.adjacency.shape[0]

    @property
    def n_features(self):
        return self._graph.features.shape[1]

    @property
    def shape(self):
        return (len(self._indices), self.n_features)

    _STORAGE = "_graph"
    _ARRAY_REFUSAL = (
        "GraphNodes cannot become a NumPy array: a node's prediction depends on the "
        "whole graph, which rows of an array would lose. scikit-learn tools that only "
        "select nodes work with GraphNodes (train_test_split, KFold, cross_val_score, "
        "GridSearchCV, CalibratedClassifierCV, VotingClassifier, OneVsRestClassifier); "
        "tools that turn X into an array do not (StandardScaler and other transformers in "
        "a Pipeline, BaggingClassifier, OneVsOneClassifier, SelfTrainingClassifier, "
        "StackingClassifier(passthrough=True)). Transform the features before building "
        "GraphNodes, e.g. GraphNodes(X.adjacency, scaler.fit_transform(X.features)); the "
        "selected rows are X.features[X.indices]. See the user guide page "
        "'scikit-learn tools on graph input'."
    )

    def _stored_bytes(self):
        edges = () if self.edge_attr is None else (self.edge_attr,)
        return stored_bytes(self._graph.adjacency, self._graph.features, *edges)

    def _read_only_arrays(self):
        node_ids = () if self._graph.node_ids is None else (self._graph.node_ids,)
        return node_ids + (() if self.edge_attr is None else (self.edge_attr,))

    def __repr__(self):
        edges = f", n_edge_features={self.n_edge_features}" if self.edge_attr is not None else ""
        return (
            f"{type(self).__name__}(n_selected={len(self)}, n_nodes={self.n_nodes}, "
            f"n_edges={self.adjacency.nnz}, n_features={self.n_features}{edges})"
        )


def edgeless_nodes(features):
    """GraphNodes over feature rows with no edge at all: every row selected.

    For models that use no edge (a graph-free ``"mlp"`` network): plain feature rows
    become samples without the cost of a k-nearest-neighbour graph.

    Parameters
    ----------
    features : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Already validated (float32, finite), as ``validate_data`` returns them; used
        without a copy.

    Returns
    -------
    GraphNodes

    Examples
    --------
    >>> import numpy as np
    >>> from skgkedm.data._graph_nodes import edgeless_nodes
    >>> edgeless_nodes(np.zeros((4, 2), dtype=np.float32))
    GraphNodes(n_selected=4, n_nodes=4, n_edges=0, n_features=2)
    """
    n_samples = features.shape[0]
    if sp.issparse(features):
        features = sp.csr_array(features)
    adjacency = sp.csr_array((n_samples, n_samples), dtype=np.float32)
    nodes = object.__new__(GraphNodes)
    nodes._graph = _Graph(adjacency, features, None)
    nodes._indices = read_only(np.arange(n_samples))
    return nodes


def validate_adjacency(adjacency):
    if sp.issparse(adjacency) or isinstance(adjacency, np.ndarray):
        shape = adjacency.shape
    else:
        shape = np.shape(adjacency)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(
            f"adjacency must be a square (n_nodes, n_nodes) matrix, got shape {shape}."
        )
    if shape[0] == 0:
        raise ValueError("adjacency is empty: a graph needs at least one node.")
    _check_not_text(adjacency, "adjacency")
    adjacency = check_array(
        adjacency,
        accept_sparse="csr",
        dtype=np.float32,
        copy=True,
        input_name="adjacency",
    )
    adjacency = sp.csr_array(adjacency)
    adjacency.sum_duplicates()
    if adjacency.data.size and adjacency.data.min() < 0:
        raise ValueError("adjacency has negative edge weights; weights must be >= 0.")
    adjacency.eliminate_zeros()
    return adjacency


def align_edge_attr(adjacency, validated, edge_attr):
    """Edge attributes in the CSR order of the validated adjacency.

    Parameters
    ----------
    adjacency : {array-like, sparse matrix}
        The adjacency as the user gave it; not modified.
    validated : scipy.sparse.csr_array
        Its validated, canonical form (``validate_adjacency``).
    edge_attr : array-like of shape (n_edges,) or (n_edges, n_edge_features)
        One row per edge, in the order of ``adjacency.nonzero()``.

    Returns
    -------
    ndarray of shape (validated.nnz, n_edge_features), float32, read-only
    """
    _check_not_text(edge_attr, "edge_attr")
    edge_attr = check_array(
        edge_attr,
        ensure_2d=False,
        allow_nd=True,
        ensure_min_samples=0,
        ensure_min_features=0,
        dtype=np.float32,
        copy=True,
        input_name="edge_attr",
    )
    if edge_attr.ndim == 1:
        edge_attr = edge_attr.reshape(-1, 1)
    if edge_attr.ndim != 2 or edge_attr.shape[1] == 0:
        raise ValueError(
            f"edge_attr must be of shape (n_edges,) or (n_edges, n_edge_features), got shape "
            f"{edge_attr.shape}."
        )
    if sp.issparse(adjacency):
        entries = sp.coo_array(adjacency)
        stored = entries.data != 0
        rows, columns = entries.row[stored], entries.col[stored]
    else:
        rows, columns = np.nonzero(np.asarray(adjacency))
    if len(edge_attr) != len(rows):
        raise ValueError(
            f"edge_attr has {len(edge_attr)} rows but the adjacency has {len(rows)} edges "
            "(non-zero entries); expected one row per edge, in the order of "
            "adjacency.nonzero()."
        )
    n_nodes = validated.shape[0]
    keys = rows.astype(np.int64) * n_nodes + columns
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(np.diff(keys[order]) == 0)
    if repeated.size:
        first = order[repeated[0]]
        raise ValueError(
            f"The adjacency lists the edge ({rows[first]}, {columns[first]}) more than once; "
            "with edge attributes every edge must be listed once (sum or pick its "
            "attributes before, e.g. with torch_geometric.utils.coalesce)."
        )
    return read_only(np.ascontiguousarray(edge_attr[order]))


def _check_not_text(values, name):
    # check_array's own message for strings does not say which input holds them.
    if sp.issparse(values):
        return
    try:
        is_text = np.asarray(values).dtype.kind in "USO"
    except (TypeError, ValueError):
        return  # ragged input: check_array reports it
    if is_text:
        try:
            np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must hold numbers: {error}") from error


def validate_features(features, n_nodes):
    _check_not_text(features, "features")
    features = check_array(
        features, accept_sparse="csr", dtype=np.float32, copy=True, input_name="features"
    )
    if features.shape[0] != n_nodes:
        raise ValueError(
            f"features has {features.shape[0]} rows but the graph has {n_nodes} nodes; "
            "expected one feature row per node."
        )
    if sp.issparse(features):
        features = sp.csr_array(features)
        features.sum_duplicates()
    return features


def networkx_adjacency(graph, nodes, weight, edge_attrs):
    """The adjacency of a networkx graph and, if asked for, its edge attributes.

    Returns
    -------
    adjacency : scipy sparse matrix of shape (n_nodes, n_nodes)
    edge_attr : ndarray of shape (n_edges, n_edge_features) or None
        In the order of ``adjacency.nonzero()``.
    """
    import networkx as nx

    if edge_attrs is None:
        try:
            adjacency = nx.to_scipy_sparse_array(
                graph, nodelist=nodes, weight=weight, dtype=np.float64, format="csr"
            )
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Edge attribute {weight!r} must hold numbers (edge weights): {error}"
            ) from error
        return adjacency, None
    if isinstance(edge_attrs, str) or not all(isinstance(name, str) for name in edge_attrs):
        raise TypeError(
            f"edge_attrs must be a list of edge attribute names (str), got {edge_attrs!r}."
        )
    edge_attrs = list(edge_attrs)
    if not edge_attrs:
        raise ValueError("edge_attrs is empty: name at least one edge attribute, or pass None.")
    position = {node: k for k, node in enumerate(nodes)}
    rows, columns, weights, values, seen = [], [], [], [], set()
    for source, target, data in graph.edges(data=True):
        if (source, target) in seen:
            raise ValueError(
                f"The multigraph has parallel edges between {source!r} and {target!r}; edge "
                "attributes need one edge per node pair."
            )
        seen.add((source, target))
        if not graph.is_directed():
            seen.add((target, source))
        row = _edge_values(data, edge_attrs, source, target, values[0] if values else None)
        edge_weight = 1.0 if weight is None else data.get(weight, 1.0)
        try:
            edge_weight = float(edge_weight)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Edge attribute {weight!r} must hold numbers (edge weights), got "
                f"{edge_weight!r} on the edge ({source!r}, {target!r})."
            ) from error
        if edge_weight == 0:
            continue  # not an edge of the adjacency
        pairs = [(source, target)]
        if not graph.is_directed() and source != target:
            pairs.append((target, source))
        for u, v in pairs:
            rows.append(position[u])
            columns.append(position[v])
            weights.append(edge_weight)
            values.append(row)
    n_nodes = len(nodes)
    adjacency = sp.coo_array(
        (np.array(weights, dtype=np.float64), (np.array(rows, dtype=np.int64), columns)),
        shape=(n_nodes, n_nodes),
    )
    if not values:  # no edges: the attributes' widths are unknown, one column per name
        return adjacency, np.zeros((0, len(edge_attrs)))
    return adjacency, np.array(values, dtype=np.float64)


def _edge_values(data, names, source, target, previous):
    """The named attributes of one edge, concatenated into a vector."""
    parts = []
    for name in names:
        if name not in data:
            raise ValueError(
                f"Edge attribute {name!r} is missing on the edge ({source!r}, {target!r}); "
                "every edge needs every attribute of edge_attrs."
            )
        try:
            parts.append(np.asarray(data[name], dtype=np.float64).ravel())
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Edge attribute {name!r} of the edge ({source!r}, {target!r}) is not "
                f"numeric: {data[name]!r}."
            ) from error
    row = np.concatenate(parts)
    if previous is not None and row.shape != previous.shape:
        raise ValueError(
            f"The edge attributes {names} have {row.size} values on the edge "
            f"({source!r}, {target!r}) but {previous.size} on another edge; every edge "
            "needs the same length."
        )
    return row


def networkx_features(graph, nodes, feature_attr):
    values = graph.nodes.data(feature_attr)
    missing = [node for node in nodes if values[node] is None]
    if len(missing) == len(nodes):
        return None
    if missing:
        raise ValueError(
            f"Node attribute {feature_attr!r} is missing on {len(missing)} of {len(nodes)} "
            f"nodes (for example node {missing[0]!r}); give every node a feature vector "
            "or none at all (structural features)."
        )
    rows = []
    for node in nodes:
        try:
            row = np.asarray(values[node], dtype=np.float64).ravel()
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Node attribute {feature_attr!r} of node {node!r} is not numeric: "
                f"{values[node]!r}."
            ) from error
        if rows and row.shape != rows[0].shape:
            raise ValueError(
                f"Node attribute {feature_attr!r} has {row.size} values on node {node!r} "
                f"but {rows[0].size} on node {nodes[0]!r}; all nodes need the same length."
            )
        rows.append(row)
    return np.vstack(rows)
