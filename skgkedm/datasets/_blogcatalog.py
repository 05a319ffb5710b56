"""BlogCatalog: bloggers, their friendships and their interest groups (multi-label)."""

import os

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ..data._graph_nodes import GraphNodes
from ._files import get_data_home, require_files

BLOGCATALOG_FILE = "blogcatalog.mat"

LICENCE = (
    "BlogCatalog is distributed with DeepWalk (https://github.com/phanein/deepwalk, "
    "example_graphs/blogcatalog.mat) under the GNU General Public License v3.0 "
    "(GPL-3.0). skgkedm is BSD-licensed: it neither ships nor downloads the file, and "
    "only reads the one you place in <data_home>/blogcatalog/."
)


def fetch_blogcatalog(*, data_home=None):
    """Load BlogCatalog: a social graph of bloggers with 39 interest groups (multi-label).

    10,312 bloggers of blogcatalog.com, their 333,983 friendships (undirected) and
    the interest groups each belongs to: 39 groups, 1.4 per blogger on average.
    The nodes have no features: ``X`` carries the 15 structural features that
    :class:`~skgkedm.GraphNodes` computes from the graph. Read from the MATLAB file
    ``blogcatalog.mat`` of DeepWalk in ``<data_home>/blogcatalog/``; the file is
    GPL-3.0, so skgkedm does not ship or download it (see the ``licence`` field).

    =================   ====================================
    Nodes               10,312
    Edges               333,983 (undirected, no self-loops)
    Features            none (15 structural features)
    Labels              39 (multi-label, 1.4 per node)
    =================   ====================================

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding a ``blogcatalog/`` subfolder with ``blogcatalog.mat``.
        ``None`` uses the environment variable ``SKGKEDM_DATA``, else
        ``~/skgkedm_data``.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields:

        X : GraphNodes
            All 10,312 nodes; binary symmetric adjacency, 15 structural features
            per node (see Notes of :class:`~skgkedm.GraphNodes`). They take a few
            seconds to compute.
        y : ndarray of shape (10312, 39), dtype int64
            Indicator matrix: ``y[i, k] == 1`` if blogger ``i`` is in group ``k``.
        DESCR : str
            Description of the dataset: source, size and reference.
        licence : str
            The file's licence (GPL-3.0) and why it is not shipped.

    Raises
    ------
    OSError
        If ``blogcatalog.mat`` is missing (the message names the folder and file).

    Notes
    -----
    DeepWalk, node2vec and LINE report Micro- and Macro-F1 with 10 % to 90 % of the
    nodes labelled, predicting for each test node as many groups as it truly has.

    References
    ----------
    L. Tang and H. Liu, "Relational learning via latent social dimensions", KDD 2009.

    B. Perozzi, R. Al-Rfou and S. Skiena, "DeepWalk: online learning of social
    representations", KDD 2014.

    Examples
    --------
    >>> from skgkedm.datasets import fetch_blogcatalog
    >>> data = fetch_blogcatalog()  # doctest: +SKIP
    >>> data.X.shape, data.y.shape  # doctest: +SKIP
    ((10312, 15), (10312, 39))
    """
    from scipy.io import loadmat

    folder = os.path.join(get_data_home(data_home), "blogcatalog")
    require_files(
        folder,
        [BLOGCATALOG_FILE],
        "The file is GPL-3.0 and is not downloaded by skgkedm: get example_graphs/"
        "blogcatalog.mat from https://github.com/phanein/deepwalk and place it there, or "
        "point data_home or SKGKEDM_DATA at the folder holding blogcatalog/.",
    )
    mat = loadmat(os.path.join(folder, BLOGCATALOG_FILE))
    edges = sp.coo_array(mat["network"])
    off_diagonal = (edges.row != edges.col) & (edges.data != 0)
    adjacency = sp.csr_array(
        (
            np.ones(off_diagonal.sum(), dtype=np.float32),
            (edges.row[off_diagonal], edges.col[off_diagonal]),
        ),
        shape=edges.shape,
    )
    adjacency.sum_duplicates()
    adjacency.data[:] = 1.0
    y = (sp.csr_array(mat["group"]).toarray() != 0).astype(np.int64)
    n_nodes = adjacency.shape[0]
    return Bunch(
        X=GraphNodes(adjacency),
        y=y,
        DESCR=(
            f"BlogCatalog (Tang & Liu, 2009), as distributed with DeepWalk: {n_nodes} "
            f"bloggers, {adjacency.nnz // 2} undirected friendships, no node features, "
            f"{y.shape[1]} interest groups ({y.sum() / n_nodes:.2f} per blogger on "
            "average; multi-label). " + LICENCE
        ),
        licence=LICENCE,
    )
