"""PyTorch Geometric's ``Data`` to and from the containers, importing PyG only when met."""

import numpy as np
import scipy.sparse as sp


def is_pyg_data(value):
    """Whether ``value`` is a ``torch_geometric.data.Data``, without importing PyG first.

    A value of a class defined outside PyTorch Geometric is not one, so plain input
    never loads PyG.
    """
    if not _from_pyg(value):
        return False
    from torch_geometric.data import Data

    return isinstance(value, Data)


def is_pyg_dataset(value):
    """Whether ``value`` is a ``torch_geometric.data.Dataset``, without importing PyG first."""
    if not _from_pyg(value):
        return False
    from torch_geometric.data import Dataset

    return isinstance(value, Dataset)


def _from_pyg(value):
    # PyG's Batch classes are made at run time (DataBatch), so look along the whole MRO.
    return any(cls.__module__.startswith("torch_geometric") for cls in type(value).__mro__)


def pyg_data_list(graphs):
    """The ``Data`` objects of a list, tuple, PyG ``Dataset`` or ``Batch``.

    Raises
    ------
    TypeError
        If ``graphs`` is a single ``Data`` (not a ``Batch``), not a sequence, or holds
        something other than ``Data``.
    ValueError
        If it is empty.
    """
    if is_pyg_data(graphs):
        from torch_geometric.data import Batch

        if not isinstance(graphs, Batch):
            raise TypeError(
                "GraphList.from_pyg expects several graphs (a list of Data, a Dataset or a "
                "Batch), got a single Data; wrap it in a list, or use GraphNodes.from_pyg "
                "for the nodes of one graph."
            )
        graphs = graphs.to_data_list()
    elif is_pyg_dataset(graphs):
        graphs = [graphs[position] for position in range(len(graphs))]
    elif isinstance(graphs, (str, bytes)) or not hasattr(graphs, "__len__"):
        raise TypeError(
            "from_pyg expects a list of torch_geometric.data.Data, a Dataset or a Batch, "
            f"got {type(graphs).__name__}."
        )
    graphs = list(graphs)
    if not graphs:
        raise ValueError("The list of graphs is empty: at least one graph is needed.")
    for position, graph in enumerate(graphs):
        if not is_pyg_data(graph):
            raise TypeError(
                f"Graph {position} is a {type(graph).__name__}, not a torch_geometric.data.Data."
            )
    return graphs


def pyg_arrays(data):
    """A ``Data``'s adjacency, node features and edge attributes as arrays.

    Parameters
    ----------
    data : torch_geometric.data.Data
        With ``x``, ``edge_index`` and optionally ``edge_weight`` and ``edge_attr``.
        Not modified.

    Returns
    -------
    adjacency : scipy.sparse.coo_array of shape (n_nodes, n_nodes)
        ``adjacency[i, j]`` is the weight of the edge ``i -> j`` (``edge_index[0]`` to
        ``edge_index[1]``); edges of weight 0 are left out.
    features : ndarray or scipy.sparse.csr_array of shape (n_nodes, n_features)
    edge_attr : ndarray of shape (n_edges, n_edge_features) or None
        In the order of ``adjacency.nonzero()``.

    Raises
    ------
    TypeError
        If ``data`` is not a ``Data``.
    ValueError
        If it has no ``x`` or no ``edge_index``, or they or ``edge_weight`` and
        ``edge_attr`` have the wrong shapes or values.
    """
    if not is_pyg_data(data):
        raise TypeError(f"Expected a torch_geometric.data.Data, got {type(data).__name__}.")
    x = data.x
    if x is None:
        raise ValueError(
            "The Data has no node features (data.x is None); skgkedm needs them. Add "
            "them (e.g. with torch_geometric.transforms.OneHotDegree or "
            "LocalDegreeProfile), or build GraphNodes(adjacency) / GraphList(adjacencies) "
            "without features to get skgkedm's structural features."
        )
    features = _array(x, "x")
    if features.ndim == 1:
        features = features.reshape(-1, 1)
    n_nodes = features.shape[0]
    edge_index = data.edge_index
    if edge_index is None:
        raise ValueError(
            "The Data has no edge_index; skgkedm reads the edges from it (a graph without "
            "edges has an edge_index of shape (2, 0); a SparseTensor adj_t is not read)."
        )
    edge_index = _array(edge_index, "edge_index")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(
            f"data.edge_index must be of shape (2, n_edges), got {tuple(edge_index.shape)}."
        )
    if not np.issubdtype(edge_index.dtype, np.integer):
        raise ValueError(f"data.edge_index must hold integers, got dtype {edge_index.dtype}.")
    n_edges = edge_index.shape[1]
    if n_edges and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
        raise ValueError(
            f"data.edge_index refers to node {int(edge_index.max())} or "
            f"{int(edge_index.min())}, but data.x has {n_nodes} rows (nodes 0 to "
            f"{n_nodes - 1})."
        )
    weight = np.ones(n_edges, dtype=np.float32)
    if getattr(data, "edge_weight", None) is not None:
        weight = _array(data.edge_weight, "edge_weight").astype(np.float32)
        if weight.shape != (n_edges,):
            raise ValueError(
                f"data.edge_weight has shape {tuple(weight.shape)} but data.edge_index has "
                f"{n_edges} edges; expected shape ({n_edges},)."
            )
    edge_attr = getattr(data, "edge_attr", None)
    if edge_attr is not None:
        edge_attr = _array(edge_attr, "edge_attr")
        if edge_attr.shape[0] != n_edges:
            raise ValueError(
                f"data.edge_attr has {edge_attr.shape[0]} rows but data.edge_index has "
                f"{n_edges} edges; expected one row per edge."
            )
        edge_attr = edge_attr[weight != 0]
    kept = weight != 0
    adjacency = sp.coo_array(
        (weight[kept], (edge_index[0][kept], edge_index[1][kept])), shape=(n_nodes, n_nodes)
    )
    return adjacency, features, edge_attr


def _array(tensor, name):
    """A tensor as a NumPy array (sparse tensors as a scipy CSR array); a copy."""
    import torch

    if not isinstance(tensor, torch.Tensor):
        return np.array(tensor)
    tensor = tensor.detach().cpu()
    if tensor.layout != torch.strided:
        coo = tensor.to_sparse_coo().coalesce()
        if coo.dim() != 2:
            raise ValueError(f"data.{name} is a sparse tensor of {coo.dim()} dimensions, not 2.")
        rows, columns = coo.indices().numpy()
        return sp.csr_array((coo.values().numpy(), (rows, columns)), shape=tuple(coo.shape))
    return tensor.numpy().copy()


def to_pyg_data(adjacency, features, edge_attr):
    """A ``torch_geometric.data.Data`` of one graph.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Canonical CSR; ``adjacency[i, j]`` is the edge ``i -> j``.
    features : ndarray or scipy sparse matrix of shape (n_nodes, n_features)
        Made dense.
    edge_attr : ndarray of shape (adjacency.nnz, n_edge_features) or None
        Aligned with the adjacency's stored entries.

    Returns
    -------
    torch_geometric.data.Data
        ``x`` (float32), ``edge_index`` (int64, in CSR order), ``edge_weight`` when
        some edge weighs other than 1, ``edge_attr`` when given.
    """
    import torch
    from torch_geometric.data import Data

    rows = np.repeat(np.arange(adjacency.shape[0]), np.diff(adjacency.indptr))
    edge_index = np.stack([rows, adjacency.indices]).astype(np.int64)
    if sp.issparse(features):
        features = features.toarray()
    data = Data(
        x=torch.from_numpy(np.array(features, dtype=np.float32)),
        edge_index=torch.from_numpy(edge_index),
    )
    if np.any(adjacency.data != 1):
        data.edge_weight = torch.from_numpy(adjacency.data.astype(np.float32))
    if edge_attr is not None:
        data.edge_attr = torch.from_numpy(np.array(edge_attr, dtype=np.float32))
    return data
