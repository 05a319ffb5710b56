"""The graph a fitted estimator last prepared, kept for its next prediction on that graph."""

import zlib

import numpy as np

from . import _graph_tensors
from ._graph_tensors import feature_tensors, graph_tensors


def structure_key(nodes, symmetrize, spec, device):
    """What the structure of :func:`graph_tensors` depends on, the adjacency by checksums.

    That is, the adjacency, the symmetrisation, the backbone, whether the network
    attends (GKEDM), the device and the node-order setting (``REORDER_MIN_NODES``).

    The adjacency's arrays are read whole (CRC-32, about 4 GB/s: 30 ms for 10M edges,
    against half a second to prepare them), so a graph changed in place gets a new key.

    Parameters
    ----------
    nodes : GraphNodes
    symmetrize : bool
    spec : NetworkSpec
    device : torch.device

    Returns
    -------
    tuple
        Hashable; equal for graphs whose prepared structure is the same.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, torch
    >>> from skgkedm import GraphNodes
    >>> from skgkedm.loader._graph_memo import structure_key
    >>> from skgkedm._spec import NetworkSpec
    >>> spec = NetworkSpec(
    ...     in_dim=2, hidden_dims=(4,), n_classes=2, backbone="gcn", activation="relu",
    ...     dropout=0.5, gat_heads=1, gkedm=False, gkedm_heads=1, gkedm_values="identity",
    ...     gkedm_dropout=0.0)
    >>> X = GraphNodes(sp.csr_array(np.array([[0, 1], [1, 0]])), np.eye(2))
    >>> cpu = torch.device("cpu")
    >>> key = structure_key(X, True, spec, cpu)
    >>> key == structure_key(X[[1]], True, spec, cpu)  # a subset shares its graph
    True
    >>> X.adjacency.data[0] = 2.0
    >>> key == structure_key(X, True, spec, cpu)
    False
    """
    adjacency = nodes.adjacency
    checksums = tuple(
        zlib.crc32(np.ascontiguousarray(array).view(np.uint8))
        for array in (adjacency.indptr, adjacency.indices, adjacency.data)
    )
    arrays = (adjacency.indptr.dtype.str, adjacency.indices.dtype.str, adjacency.data.dtype.str)
    return (
        adjacency.shape, adjacency.nnz, arrays, checksums, bool(symmetrize),
        spec.backbone, spec.gkedm, str(device), _graph_tensors.REORDER_MIN_NODES,
    )  # fmt: skip


def forward_structure(graph, attention):
    """The parts of a graph a forward pass without gradients reads of its edges.

    Parameters
    ----------
    graph : GraphTensors
    attention : bool
        Whether the network attends (keep the attention layout).

    Returns
    -------
    GraphTensors
        Without features, without the transposes of backward passes, and without the
        attention layout unless ``attention``.
    """
    propagation = graph.propagation
    if propagation is not None:
        propagation = propagation._replace(transpose=None)
    layout = graph.attention_layout
    if layout is not None:
        layout = (
            layout._replace(transpose_ptr=None, transpose_target=None, transpose_order=None)
            if attention
            else None
        )
    return graph._replace(
        x=None, x_transpose=None, propagation=propagation, attention_layout=layout
    )


def memoizable(spec):
    """Whether a network built from ``spec`` runs on graphs a :class:`GraphMemo` keeps:
    not a graph-free one (it reads no edge), not one with edge attributes (they are not
    in :func:`structure_key`)."""
    return not spec.graph_free and not spec.edge_dim


class GraphMemo:
    """The structure of the last whole graph an estimator ran on, for the next call to reuse.

    A fit prepares its graph (the propagation matrix, the attention layout: half a
    second at a million nodes and ten million edges) and a ``predict`` on the same graph
    would prepare it again; so would ``predict_proba`` and ``score`` after it. The memo
    keeps one graph's structure, without its features (read anew at every call) and
    without the transposes only training reads, under :func:`structure_key`: the
    adjacency's content, not its identity, so a graph changed in place is prepared
    anew. One object per fitted estimator, mutated by the calls (an estimator's own
    attributes stay as ``fit`` left them); never saved with the model (its
    ``__getstate__`` leaves it out). Outputs are the same with or without it: the
    memo holds exactly the tensors :func:`graph_tensors` builds.
    """

    def __init__(self):
        self._kept = None

    def keep(self, key, graph, attention):
        """Remember the structure of a prepared graph.

        Parameters
        ----------
        key : tuple
            :func:`structure_key` of the graph.
        graph : GraphTensors
            Built for ``key`` (with or without gradients), for a :func:`memoizable`
            network.
        attention : bool
            Whether the network attends (keep the attention layout).
        """
        self._kept = (key, forward_structure(graph, attention))

    def graph_tensors(self, nodes, symmetrize, spec, device):
        """:func:`graph_tensors` without gradients, the structure kept when it matches.

        The arguments are :func:`structure_key`'s. Returns the ``GraphTensors`` with
        the features of ``nodes``; their structure is then kept for the next call.
        """
        if not memoizable(spec):
            return graph_tensors(nodes, symmetrize, spec, device)
        key = structure_key(nodes, symmetrize, spec, device)
        kept = self._kept
        if kept is not None and kept[0] == key:
            structure = kept[1]
            features = nodes.features
            if structure.node_order is not None:
                features = features[structure.node_order.numpy()]
            return structure._replace(x=feature_tensors(features, device).x)
        graph = graph_tensors(nodes, symmetrize, spec, device)
        self.keep(key, graph, spec.gkedm)
        return graph
