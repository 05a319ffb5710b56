"""The Planetoid citation graphs (Cora, CiteSeer, PubMed) with their public split."""

import os
import pickle
import tempfile
import urllib.request
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils import Bunch

from ..data._graph_nodes import GraphNodes
from ._files import get_data_home

URL_BASE = "https://github.com/kimiyoung/planetoid/raw/master/data/"
_NAMES = ("cora", "citeseer", "pubmed")
_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_N_VAL = 500


def fetch_planetoid(name, *, data_home=None, download_if_missing=True, normalize_features=True):
    """Load a Planetoid citation graph (Cora, CiteSeer or PubMed) with its public split.

    Nodes are papers, edges are citations (undirected), features are bag-of-words
    vectors and labels are topics. The split is the public one of Yang et al. (2016):
    20 labelled nodes per class for training, the next 500 nodes for validation and
    1000 test nodes, exactly as PyTorch Geometric's ``Planetoid`` dataset reads it.

    Parameters
    ----------
    name : {"cora", "citeseer", "pubmed"}
        Dataset name, case-insensitive.
    data_home : str or path-like, default=None
        Folder holding a ``planetoid/`` subfolder with the files
        ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``. ``None`` uses the
        environment variable ``SKGKEDM_DATA``, else ``~/skgkedm_data``.
    download_if_missing : bool, default=True
        Download missing files from the Planetoid repository on GitHub. If False,
        missing files raise an ``OSError``.
    normalize_features : bool, default=True
        Scale each node's feature vector to sum to 1 (rows of zeros stay zero), as
        Kipf & Welling's GCN and PyTorch Geometric's ``NormalizeFeatures`` do, and as
        ``fetch_20newsgroups_vectorized(normalize=True)`` does for documents. False
        returns the raw binary bag-of-words counts.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields:

        X : GraphNodes
            All nodes; binary symmetric adjacency without self-loops, features as a
            float32 ``scipy.sparse.csr_array`` of shape (n_nodes, n_features).
        y : ndarray of shape (n_nodes,), dtype int64
            Class of every node; -1 for nodes without a label (the 15 CiteSeer nodes
            absent from the test files: they have edges but no features or label).
        train_index, val_index, test_index : ndarray of dtype int64
            Node positions of the public split (disjoint, sorted).
        name : str
            Lower-case dataset name.
        DESCR : str
            Short description of the dataset.

    Raises
    ------
    ValueError
        If ``name`` is not a Planetoid dataset.
    OSError
        If files are missing and ``download_if_missing=False``, or a download fails.

    Notes
    -----
    The files are Python pickles; load only files from a source you trust.

    References
    ----------
    Z. Yang, W. Cohen and R. Salakhutdinov, "Revisiting Semi-Supervised Learning with
    Graph Embeddings", ICML 2016.

    Examples
    --------
    >>> from skgkedm.datasets import fetch_planetoid
    >>> data = fetch_planetoid("cora")  # doctest: +SKIP
    >>> data.X.shape  # doctest: +SKIP
    (2708, 1433)
    >>> len(data.train_index), len(data.val_index), len(data.test_index)  # doctest: +SKIP
    (140, 500, 1000)
    """
    key = str(name).lower()
    if key not in _NAMES:
        raise ValueError(f"Unknown Planetoid dataset {name!r}; valid names are {list(_NAMES)}.")
    folder = os.path.join(get_data_home(data_home), "planetoid")
    files = [f"ind.{key}.{part}" for part in _PARTS]
    missing = [file for file in files if not os.path.isfile(os.path.join(folder, file))]
    if missing and not download_if_missing:
        raise OSError(
            f"Planetoid files missing from {folder}: {', '.join(missing)}. "
            "Pass download_if_missing=True or place the files there by hand."
        )
    for file in missing:
        _download(URL_BASE + file, folder, file)
    data = _read_planetoid(folder, key)
    if normalize_features:
        data.X = GraphNodes(data.X.adjacency, normalize(data.X.features, norm="l1"))
    return data


def _download(url, folder, file):
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(dir=folder, prefix=f".{file}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as src:
            out.write(src.read())
        os.replace(tmp_path, os.path.join(folder, file))
    except OSError as error:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise OSError(
            f"Could not download {url} ({error}). Download the Planetoid files "
            f"ind.<name>.{{{','.join(_PARTS)}}} by hand and place them in {folder}."
        ) from error


def _load(folder, key, part):
    path = os.path.join(folder, f"ind.{key}.{part}")
    if part == "test.index":
        return np.loadtxt(path, dtype=np.int64, ndmin=1)
    with open(path, "rb") as f, warnings.catch_warnings():
        # The pickles name the deprecated ``scipy.sparse.csr`` module.
        warnings.simplefilter("ignore", DeprecationWarning)
        return pickle.load(f, encoding="latin1")


def _read_planetoid(folder, key):
    tx, allx, y, ty, ally, graph, test_index = (_load(folder, key, part) for part in _PARTS[1:])
    tx, allx = sp.csr_array(tx, dtype=np.float32), sp.csr_array(allx, dtype=np.float32)
    ty, ally = np.asarray(ty), np.asarray(ally)
    sorted_test = np.sort(test_index)

    # Test ids may leave gaps (15 CiteSeer nodes have no test row): those get zero rows.
    n_test_range = int(sorted_test[-1] - sorted_test[0]) + 1
    test_rows = sorted_test - sorted_test[0]
    tx = sp.coo_array(tx)
    tx = sp.coo_array((tx.data, (test_rows[tx.row], tx.col)), shape=(n_test_range, tx.shape[1]))
    ty_full = np.zeros((n_test_range, ty.shape[1]), dtype=ty.dtype)
    ty_full[test_rows] = ty

    # Row k of tx belongs to node test_index[k] but was stacked at sorted_test[k].
    order = np.arange(allx.shape[0] + n_test_range)
    order[test_index] = sorted_test
    features = sp.csr_array(sp.vstack([allx, tx], format="csr")[order])
    onehot = np.vstack([ally, ty_full])[order]
    labels = np.where(onehot.any(axis=1), onehot.argmax(axis=1), -1).astype(np.int64)

    n_nodes = len(labels)
    rows = np.repeat(np.fromiter(graph.keys(), dtype=np.int64), [len(v) for v in graph.values()])
    cols = np.fromiter((c for v in graph.values() for c in v), dtype=np.int64, count=len(rows))
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    adjacency = sp.coo_array(
        (np.ones(2 * len(rows), dtype=np.float32), (np.r_[rows, cols], np.r_[cols, rows])),
        shape=(n_nodes, n_nodes),
    ).tocsr()
    adjacency.data[:] = 1.0

    n_train = len(y)
    return Bunch(
        X=GraphNodes(adjacency, features),
        y=labels,
        train_index=np.arange(n_train, dtype=np.int64),
        val_index=np.arange(n_train, n_train + _N_VAL, dtype=np.int64),
        test_index=sorted_test.astype(np.int64),
        name=key,
        DESCR=(
            f"Planetoid {key} citation graph: {n_nodes} nodes, {adjacency.nnz // 2} "
            f"undirected edges, {features.shape[1]} bag-of-words features, "
            f"{int(labels.max()) + 1} classes; public split of {n_train} train, "
            f"{_N_VAL} validation and {len(sorted_test)} test nodes (Yang et al., 2016)."
        ),
    )
