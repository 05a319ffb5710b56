"""The input container for graphs as samples: many graphs held as one block-diagonal graph."""

import itertools

import numpy as np
import scipy.sparse as sp

from ._graph_nodes import (
    align_edge_attr,
    networkx_adjacency,
    networkx_features,
    validate_adjacency,
    validate_features,
)
from ._selection import SelectionMixin, read_only, stored_bytes
from ._structural_features import structural_features


class _Blocks:
    """What every subset shares: the block-diagonal graph, its features, offsets and
    edge attributes (aligned with the adjacency's CSR entries, or None)."""

    __slots__ = ("adjacency", "edge_attr", "features", "offsets")

    def __init__(self, adjacency, features, offsets, edge_attr=None):
        self.adjacency = adjacency
        self.features = features
        self.offsets = offsets
        self.edge_attr = edge_attr


class GraphList(SelectionMixin):
    """Many graphs, seen by scikit-learn as a list of samples: one graph a sample.

    The graphs are held compactly as one block-diagonal sparse adjacency matrix, the
    stacked node features and the node offset of each graph. ``len(X)`` is the number
    of selected graphs and ``X[idx]`` selects graphs the way ``X[idx]`` selects rows
    of an array, so ``train_test_split``, ``KFold``, ``cross_val_score`` and
    ``GridSearchCV`` split a GraphList with no adapter. Subsets share the stored
    graphs; nothing is copied by indexing.

    Parameters
    ----------
    adjacencies : sequence of {array-like, sparse matrix}
        One square adjacency matrix per graph: ``adjacency[i, j] > 0`` is an edge
        from node ``i`` to node ``j`` with that weight (finite, non-negative).
    features : sequence of {array-like, sparse matrix}, default=None
        Node features of each graph, of shape (n_nodes_of_graph, n_features), the same
        ``n_features`` for every graph. ``None`` gives every node 3 structural
        features that mean the same on any graph: a constant 1, ``log(1 + degree)``
        and the mean of ``log(1 + degree)`` over its neighbours.
    edge_attr : sequence of array-like, default=None
        Edge attributes of each graph, of shape (n_edges_of_graph, n_edge_features),
        the same ``n_edge_features`` for every graph: row ``k`` describes the
        ``k``-th edge of ``adjacency.nonzero()`` (see :class:`GraphNodes`). ``None``:
        no edge attributes.

    Attributes
    ----------
    indices : ndarray of shape (n_selected,)
        Positions of the selected graphs among the stored ones, in selection order.
    n_features : int
        Features per node.
    n_nodes : ndarray of shape (n_selected,)
        Nodes of each selected graph.
    n_edges : ndarray of shape (n_selected,)
        Stored adjacency entries of each selected graph (an undirected edge counts
        twice).
    edge_attr : ndarray of shape (n_edges.sum(), n_edge_features) or None
        Edge attributes of the selected graphs (float32), aligned with the stored
        entries of the adjacency that :meth:`stacked` returns; None without edge
        attributes.
    n_edge_features : int
        Attributes per edge; 0 without edge attributes.
    shape : tuple of int
        ``(n_selected,)``: one sample per graph.

    See Also
    --------
    GraphList.from_networkx : Build from networkx graphs.
    GraphList.from_pyg : Build from PyTorch Geometric ``Data`` objects or a ``Dataset``.
    GraphNodes : The container for nodes of one graph as samples.

    Notes
    -----
    Estimators that take graphs as samples (:class:`GKEDMGraphClassifier`,
    :class:`GKEDMGraphRegressor`) also take a list of networkx graphs directly; a
    GraphList validates and stacks them once, so a search that refits many times
    does not convert the graphs again for every fit.

    The arrays passed in are copied once at construction, never modified.

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm import GraphList
    >>> X = GraphList.from_networkx([nx.path_graph(3), nx.cycle_graph(5), nx.star_graph(4)])
    >>> X
    GraphList(n_selected=3, n_stored=3, n_nodes=13, n_features=3)
    >>> X[[2, 0]].n_nodes
    array([5, 3])
    >>> len(X[X.n_nodes > 3])
    2
    """

    def __init__(self, adjacencies, features=None, edge_attr=None):
        adjacencies = _as_sequence(adjacencies, "adjacencies")
        if features is not None:
            features = _as_sequence(features, "features")
            if len(features) != len(adjacencies):
                raise ValueError(
                    f"features holds {len(features)} matrices but adjacencies {len(adjacencies)}; "
                    "expected one feature matrix per graph."
                )
        validated = [_graph_adjacency(a, position) for position, a in enumerate(adjacencies)]
        aligned = None
        if edge_attr is not None:
            aligned = _graph_edge_attrs(adjacencies, validated, edge_attr)
        if features is None:
            rows = [structural_features(adjacency) for adjacency in validated]
        else:
            rows = [
                _graph_features(f, a.shape[0], position)
                for position, (a, f) in enumerate(zip(validated, features, strict=True))
            ]
        self._blocks = _stack(validated, rows, aligned)
        self._indices = read_only(np.arange(len(validated)))

    @classmethod
    def from_networkx(cls, graphs, feature_attr="x", weight="weight", edge_attrs=None):
        """Build from networkx graphs, keeping each graph's node order.

        Parameters
        ----------
        graphs : sequence of networkx.Graph
            Any networkx graphs: directed or not, multigraphs (parallel edges add their
            weights), with self-loops or isolated nodes, and any hashable node ids.
        feature_attr : str, default="x"
            Node attribute holding each node's feature vector (or scalar), as
            ``torch_geometric.utils.from_networkx`` reads it. Either every node of every
            graph has it, with the same length, or none has: then every node gets the 3
            structural features (see the class's ``features`` parameter).
        weight : str or None, default="weight"
            Edge attribute used as edge weight; edges without it weigh 1. ``None``
            gives every edge weight 1.
        edge_attrs : sequence of str, default=None
            Edge attributes to keep, concatenated in this order (see
            :meth:`GraphNodes.from_networkx`); every edge of every graph must have
            them, with the same lengths. ``None``: no edge attributes.

        Returns
        -------
        X : GraphList
            The graphs, in the given order.

        Examples
        --------
        >>> import networkx as nx
        >>> from skgkedm import GraphList
        >>> G = nx.Graph()
        >>> G.add_node(0, x=[1.0, 0.0])
        >>> G.add_node(1, x=[0.0, 1.0])
        >>> G.add_edge(0, 1)
        >>> GraphList.from_networkx([G, G]).n_features
        2
        """
        import networkx as nx

        graphs = _as_sequence(graphs, "graphs")
        adjacencies, features, edge_attr = [], [], []
        for position, graph in enumerate(graphs):
            if not isinstance(graph, nx.Graph):
                raise TypeError(
                    f"Graph {position} is a {type(graph).__name__}, not a networkx graph."
                )
            nodes = list(graph.nodes)
            if not nodes:
                raise ValueError(f"Graph {position} has no nodes; every graph needs at least one.")
            try:
                adjacency, attributes = networkx_adjacency(graph, nodes, weight, edge_attrs)
                adjacencies.append(adjacency)
                edge_attr.append(attributes)
                features.append(networkx_features(graph, nodes, feature_attr))
            except ValueError as error:
                raise ValueError(f"Graph {position}: {error}") from error
        featureless = [position for position, f in enumerate(features) if f is None]
        if featureless and len(featureless) < len(features):
            with_features = next(p for p, f in enumerate(features) if f is not None)
            raise ValueError(
                f"Node attribute {feature_attr!r} is missing on every node of graph "
                f"{featureless[0]} but present on graph {with_features}; give every node "
                "of every graph a feature vector, or none at all (structural features)."
            )
        return cls(
            adjacencies,
            None if featureless else features,
            None if edge_attrs is None else edge_attr,
        )

    @classmethod
    def from_smiles(cls, smiles, bond_features=False):
        """Build molecular graphs from SMILES strings: atoms are nodes, bonds are edges.

        RDKit parses each SMILES string (hydrogens stay implicit: nodes are the atoms the
        string writes, usually the heavy atoms) and PyTorch Geometric's
        ``torch_geometric.utils.from_rdmol`` describes each atom by 9 categorical
        properties: atomic number, chirality, degree, formal charge, number of
        hydrogens, number of radical electrons, hybridization, aromaticity and ring
        membership. Each property is one-hot encoded over PyTorch Geometric's category
        list (``torch_geometric.utils.smiles.x_map``), giving 177 features per atom,
        exactly 9 of them 1. Every bond is an undirected edge of weight 1, and with
        ``bond_features`` it carries PyG's 3 bond properties one-hot encoded over
        ``torch_geometric.utils.smiles.e_map`` as :attr:`edge_attr`: bond type (22
        categories), stereo configuration (6) and conjugation (2), 30 features with 3
        ones. Backbones that take edge features use them (``"gin"`` becomes GINE,
        ``"gat"`` adds PyG's edge term); ``"gcn"`` and ``"sage"`` ignore them.

        Parameters
        ----------
        smiles : sequence of str
            One SMILES string per molecule (a list, tuple or array of str). A salt or
            mixture (``"[Na+].[Cl-]"``) gives one graph with several components.
        bond_features : bool, default=False
            Keep the 30 one-hot bond features as edge attributes. Off by default: on
            the shipped molecule sets (5 seeds, ``benchmarks/edge_features.py``) they
            lowered GIN's solubility-class accuracy (0.800 against 0.818 without) and
            its FreeSolv RMSE rose (1.68 against 1.35); GAT's classes fell too (0.834
            against 0.854) and only its FreeSolv RMSE improved, within the noise (1.14
            against 1.18). PyG's own GINE loop gained nothing either.

        Returns
        -------
        X : GraphList
            The molecules, in the given order, with ``n_features == 177`` and, with
            ``bond_features``, ``n_edge_features == 30``. Features
            are a float32 ``scipy.sparse.csr_array``: 9 of 177 entries per atom are
            ones, and sparse storage holds them in about a ninth of the memory of a
            dense array (76 rather than 708 bytes per atom), for a fit that takes about
            as long.

        Raises
        ------
        ImportError
            If RDKit is not installed (``pip install skgkedm[chem]``).
        TypeError
            If ``smiles`` is a single string or holds something other than strings.
        ValueError
            If a SMILES string is not a valid molecule (the message names its position
            and the string), has no atoms, or has an atom or bond property outside
            PyTorch Geometric's category lists (such as RDKit's hybridization ``SP2D``
            of square planar metal atoms).

        See Also
        --------
        skgkedm.datasets.load_solubility : Molecules with a solubility class.
        skgkedm.datasets.load_freesolv : Molecules with a hydration free energy.

        Notes
        -----
        The SMILES strings are parsed as ``torch_geometric.utils.from_smiles`` parses
        them, but an invalid string raises an error instead of becoming an empty graph,
        and RDKit's log messages are silenced only while parsing.

        Examples
        --------
        >>> from skgkedm import GraphList
        >>> X = GraphList.from_smiles(["CCO", "c1ccccc1"], bond_features=True)
        >>> X
        GraphList(n_selected=2, n_stored=2, n_nodes=9, n_features=177, n_edge_features=30)
        >>> X.n_nodes
        array([3, 6])
        >>> X.edge_attr[:2].nonzero()[1].tolist()  # C-C: single bond, no stereo, not conjugated
        [1, 22, 28, 1, 22, 28]
        """
        from ._molecules import molecule_blocks

        adjacency, features, offsets, edge_attr = molecule_blocks(smiles, bond_features)
        graphs = object.__new__(cls)
        if edge_attr is not None:
            edge_attr = read_only(edge_attr)
        graphs._blocks = _Blocks(adjacency, features, read_only(offsets), edge_attr)
        graphs._indices = read_only(np.arange(len(offsets) - 1))
        return graphs

    @classmethod
    def from_pyg(cls, graphs):
        """Build from PyTorch Geometric graphs: a list of ``Data``, a ``Dataset`` or a ``Batch``.

        Parameters
        ----------
        graphs : list of torch_geometric.data.Data, Dataset or Batch
            The graphs, each read as :meth:`GraphNodes.from_pyg` reads one: ``x``,
            ``edge_index``, ``edge_weight`` and ``edge_attr``; either every graph has
            ``edge_attr``, of the same width, or none has. ``y`` is not read: pass
            the targets to ``fit`` as ``y`` (for a dataset, e.g.
            ``[data.y.item() for data in dataset]``). Not modified.

        Returns
        -------
        X : GraphList
            The graphs, in the given order.

        Raises
        ------
        TypeError
            If ``graphs`` is a single (non-``Batch``) ``Data`` or holds something else.
        ValueError
            If a graph has no ``x`` or no ``edge_index``, a field has the wrong shape,
            or some graphs have edge attributes and others not (the message names
            the graphs).

        See Also
        --------
        GraphList.to_pyg : The way back.

        Examples
        --------
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from skgkedm import GraphList
        >>> edges = torch.tensor([[0, 1], [1, 0]])
        >>> graphs = [Data(x=torch.ones(2, 4), edge_index=edges, edge_attr=torch.ones(2, 3))] * 2
        >>> X = GraphList.from_pyg(graphs)
        >>> X
        GraphList(n_selected=2, n_stored=2, n_nodes=4, n_features=4, n_edge_features=3)
        >>> X[[1]].to_pyg()
        [Data(x=[2, 4], edge_index=[2, 2], edge_attr=[2, 3])]
        """
        from ._pyg import pyg_arrays, pyg_data_list

        adjacencies, features, edge_attr = [], [], []
        for position, data in enumerate(pyg_data_list(graphs)):
            try:
                adjacency, x, attributes = pyg_arrays(data)
            except ValueError as error:
                raise ValueError(f"Graph {position}: {error}") from error
            adjacencies.append(adjacency)
            features.append(x)
            edge_attr.append(attributes)
        if all(attributes is None for attributes in edge_attr):
            edge_attr = None
        return cls(adjacencies, features, edge_attr)

    def to_pyg(self):
        """The selected graphs as a list of PyTorch Geometric ``Data`` objects.

        Returns
        -------
        graphs : list of torch_geometric.data.Data
            One per selected graph, in selection order, as
            :meth:`GraphNodes.to_pyg` writes a graph (dense ``x``, ``edge_index``,
            ``edge_weight`` when some edge weighs other than 1, ``edge_attr`` when
            the graphs have edge attributes). ``torch_geometric.loader.DataLoader``
            batches them.

        Examples
        --------
        >>> import networkx as nx
        >>> from skgkedm import GraphList
        >>> GraphList.from_networkx([nx.path_graph(2), nx.path_graph(3)]).to_pyg()
        [Data(x=[2, 3], edge_index=[2, 2]), Data(x=[3, 3], edge_index=[2, 4])]
        """
        from ._pyg import to_pyg_data

        adjacency, features, offsets = self.stacked()
        edge_attr = self.edge_attr
        graphs = []
        for start, stop in itertools.pairwise(offsets):
            first, last = adjacency.indptr[start], adjacency.indptr[stop]
            block = sp.csr_array(
                (
                    adjacency.data[first:last],
                    adjacency.indices[first:last] - start,
                    adjacency.indptr[start : stop + 1] - first,
                ),
                shape=(stop - start, stop - start),
            )
            attributes = None if edge_attr is None else edge_attr[first:last]
            graphs.append(to_pyg_data(block, features[start:stop], attributes))
        return graphs

    _STORAGE = "_blocks"
    _ARRAY_REFUSAL = (
        "GraphList cannot become a NumPy array: each sample is a whole graph. "
        "scikit-learn tools that only select samples work with it (train_test_split, "
        "KFold, cross_val_score, GridSearchCV); transformers in a Pipeline do not. "
        "Transform node features before building the GraphList."
    )

    @property
    def n_features(self):
        return self._blocks.features.shape[1]

    @property
    def edge_attr(self):
        stored = getattr(self._blocks, "edge_attr", None)  # None in older pickles
        if stored is None or self._selects_all():
            return stored
        return stored[self._entries()]

    @property
    def n_edge_features(self):
        stored = getattr(self._blocks, "edge_attr", None)
        return 0 if stored is None else stored.shape[1]

    @property
    def n_nodes(self):
        offsets = self._blocks.offsets
        return offsets[self._indices + 1] - offsets[self._indices]

    @property
    def n_edges(self):
        """Stored adjacency entries (directed edges) of each selected graph."""
        indptr, offsets = self._blocks.adjacency.indptr, self._blocks.offsets
        return indptr[offsets[self._indices + 1]] - indptr[offsets[self._indices]]

    @property
    def shape(self):
        return (len(self._indices),)

    def stacked(self):
        """The selected graphs as one block-diagonal graph.

        Returns
        -------
        adjacency : scipy.sparse.csr_array of shape (n_total, n_total)
            Block-diagonal adjacency of the selected graphs, in selection order
            (float32).
        features : ndarray or scipy.sparse.csr_array of shape (n_total, n_features)
            Their stacked node features (float32).
        offsets : ndarray of shape (n_selected + 1,)
            Graph ``k``'s nodes are rows ``offsets[k]:offsets[k + 1]``.

        Examples
        --------
        >>> import networkx as nx
        >>> from skgkedm import GraphList
        >>> X = GraphList.from_networkx([nx.path_graph(2), nx.path_graph(3)])
        >>> adjacency, features, offsets = X[[1]].stacked()
        >>> adjacency.shape, offsets.tolist()
        ((3, 3), [0, 3])
        """
        blocks = self._blocks
        sizes = self.n_nodes
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        if self._selects_all():
            return blocks.adjacency, blocks.features, offsets
        rows = concatenated_ranges(blocks.offsets[self._indices], sizes)
        # A graph's entries are contiguous in the block-diagonal CSR matrix: gather them
        # and shift their columns, keeping their order (and so the edge attributes').
        stored = blocks.adjacency
        entries = self._entries()
        row_counts = np.diff(stored.indptr)[rows]
        shift = np.repeat(blocks.offsets[self._indices] - offsets[:-1], self.n_edges)
        adjacency = sp.csr_array(
            (
                stored.data[entries],
                (stored.indices[entries] - shift).astype(stored.indices.dtype),
                np.concatenate([[0], np.cumsum(row_counts)]).astype(stored.indptr.dtype),
            ),
            shape=(len(rows), len(rows)),
        )
        return adjacency, blocks.features[rows], offsets

    def _selects_all(self):
        return np.array_equal(self._indices, np.arange(len(self._blocks.offsets) - 1))

    def _entries(self):
        """Positions of the selected graphs' stored adjacency entries, in selection order."""
        indptr, offsets = self._blocks.adjacency.indptr, self._blocks.offsets
        return concatenated_ranges(indptr[offsets[self._indices]], self.n_edges)

    def _stored_bytes(self):
        blocks = self._blocks
        edges = () if self.n_edge_features == 0 else (blocks.edge_attr,)
        return blocks.offsets.nbytes + stored_bytes(blocks.adjacency, blocks.features, *edges)

    def _read_only_arrays(self):
        return () if self.n_edge_features == 0 else (self._blocks.edge_attr,)

    def __repr__(self):
        edges = f", n_edge_features={self.n_edge_features}" if self.n_edge_features else ""
        return (
            f"{type(self).__name__}(n_selected={len(self)}, "
            f"n_stored={len(self._blocks.offsets) - 1}, n_nodes={int(self.n_nodes.sum())}, "
            f"n_features={self.n_features}{edges})"
        )


def concatenated_ranges(starts, counts):
    """``starts[k] : starts[k] + counts[k]`` for every ``k``, concatenated, without a loop.

    Examples
    --------
    >>> import numpy as np
    >>> concatenated_ranges(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    ends = np.cumsum(counts)
    shift = np.repeat(starts - (ends - counts), counts)
    return shift + np.arange(ends[-1] if len(ends) else 0, dtype=np.int64)


def _as_sequence(values, name):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{name} must be a sequence (one entry per graph), got {type(values).__name__}."
        )
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: at least one graph is needed.")
    return values


def _graph_adjacency(adjacency, position):
    try:
        return validate_adjacency(adjacency)
    except ValueError as error:
        raise ValueError(f"Graph {position}: {error}") from error


def _graph_features(features, n_nodes, position):
    try:
        return validate_features(features, n_nodes)
    except ValueError as error:
        raise ValueError(f"Graph {position}: {error}") from error


def _graph_edge_attrs(adjacencies, validated, edge_attr):
    """Each graph's edge attributes in its validated adjacency's CSR order."""
    edge_attr = _as_sequence(edge_attr, "edge_attr")
    if len(edge_attr) != len(adjacencies):
        raise ValueError(
            f"edge_attr holds {len(edge_attr)} arrays but adjacencies {len(adjacencies)}; "
            "expected one array of edge attributes per graph."
        )
    missing = [position for position, e in enumerate(edge_attr) if e is None]
    if missing:
        present = next((p for p, e in enumerate(edge_attr) if e is not None), None)
        raise ValueError(
            f"Graph {missing[0]} has no edge attributes"
            + ("" if present is None else f" but graph {present} has")
            + "; give every graph edge attributes of the same width, or none (edge_attr=None)."
        )
    aligned = []
    for position, (given, canonical, attributes) in enumerate(
        zip(adjacencies, validated, edge_attr, strict=True)
    ):
        try:
            aligned.append(align_edge_attr(given, canonical, attributes))
        except ValueError as error:
            raise ValueError(f"Graph {position}: {error}") from error
        if aligned[-1].shape[1] != aligned[0].shape[1]:
            raise ValueError(
                f"Graph 0 has {aligned[0].shape[1]} edge attributes per edge but graph "
                f"{position} has {aligned[-1].shape[1]}; every graph needs the same edge "
                "attributes."
            )
    return aligned


def _stack(adjacencies, features, edge_attr=None):
    widths = {f.shape[1] for f in features}
    if len(widths) > 1:
        first = features[0].shape[1]
        other = next(p for p, f in enumerate(features) if f.shape[1] != first)
        raise ValueError(
            f"Graph 0 has {first} features per node but graph {other} has "
            f"{features[other].shape[1]}; every graph needs the same features."
        )
    offsets = np.concatenate([[0], np.cumsum([a.shape[0] for a in adjacencies])])
    adjacency = sp.csr_array(sp.block_diag(adjacencies, format="csr", dtype=np.float32))
    if any(sp.issparse(f) for f in features):
        stacked = sp.csr_array(sp.vstack(features, format="csr", dtype=np.float32))
    else:
        stacked = np.vstack(features).astype(np.float32, copy=False)
    if edge_attr is not None:
        edge_attr = read_only(np.concatenate(edge_attr).astype(np.float32, copy=False))
    return _Blocks(adjacency, stacked, read_only(offsets.astype(np.int64)), edge_attr)


def joined(first, second):
    """The graphs ``first`` selects, then those ``second`` selects, as one GraphList.

    Selections of one GraphList share its stored graphs; others are stacked into new
    storage (block-diagonal adjacency, stacked features and edge attributes).

    Raises
    ------
    ValueError
        If the two differ in feature width or in edge attributes.
    """
    if first._blocks is second._blocks:
        return first._with_indices(np.concatenate([first.indices, second.indices]))
    a, b = first._blocks, second._blocks
    a_edge, b_edge = getattr(a, "edge_attr", None), getattr(b, "edge_attr", None)
    if (
        a.features.shape[1] != b.features.shape[1]
        or (a_edge is None) != (b_edge is None)
        or (a_edge is not None and a_edge.shape[1] != b_edge.shape[1])
    ):
        raise ValueError(
            f"X_val's graphs have {b.features.shape[1]} node features and "
            f"{0 if b_edge is None else b_edge.shape[1]} edge attributes, X's "
            f"{a.features.shape[1]} and {0 if a_edge is None else a_edge.shape[1]}; "
            "expected graphs described alike."
        )
    if sp.issparse(a.features) or sp.issparse(b.features):
        features = sp.vstack([sp.csr_array(a.features), sp.csr_array(b.features)], "csr")
    else:
        features = np.vstack([a.features, b.features])
    n_graphs = len(a.offsets) - 1
    graphs = object.__new__(GraphList)
    graphs._blocks = _Blocks(
        sp.block_diag([a.adjacency, b.adjacency], format="csr", dtype=np.float32),
        read_only(features) if isinstance(features, np.ndarray) else features,
        read_only(np.concatenate([a.offsets, b.offsets[1:] + a.offsets[-1]])),
        None if a_edge is None else read_only(np.concatenate([a_edge, b_edge])),
    )
    graphs._indices = read_only(np.concatenate([first.indices, second.indices + n_graphs]))
    return graphs


def graph_items(X):
    """The items of a list, tuple or pandas Series, as a list; None for other input."""
    if isinstance(X, (list, tuple)):
        return list(X)
    if type(X).__name__ == "Series" and type(X).__module__.startswith("pandas"):
        return X.tolist()
    return None


def as_graph_list(X):
    """Return a GraphList for graph input of kind ``GRAPHS`` (see ``graph_input_kind``)."""
    import networkx as nx

    if isinstance(X, GraphList):
        return X
    items = graph_items(X)
    if items is not None and isinstance(items[0], nx.Graph):
        return GraphList.from_networkx(items)
    return GraphList.from_pyg(X if items is None else items)


def rows_as_graphs(X):
    """A GraphList of one-node, edgeless graphs: row ``i`` of X is graph ``i``'s node.

    Parameters
    ----------
    X : ndarray or scipy.sparse.csr_array of shape (n_samples, n_features)
        Validated feature rows.

    Returns
    -------
    GraphList
    """
    n_samples = X.shape[0]
    graphs = object.__new__(GraphList)
    adjacency = sp.csr_array((n_samples, n_samples), dtype=np.float32)
    features = sp.csr_array(X, dtype=np.float32) if sp.issparse(X) else X
    offsets = read_only(np.arange(n_samples + 1, dtype=np.int64))
    graphs._blocks = _Blocks(adjacency, features, offsets)
    graphs._indices = read_only(np.arange(n_samples))
    return graphs
