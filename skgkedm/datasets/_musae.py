"""The MUSAE graphs: Wikipedia chameleon and squirrel, Facebook pages, Twitch DE."""

import csv
import itertools
import json
import os

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from ..data._graph_nodes import GraphNodes
from ._edges import undirected_adjacency
from ._files import get_data_home, require_files

MUSAE_URL = "https://github.com/benedekrozemberczki/MUSAE"

LICENCE = (
    "The MUSAE graphs are distributed under the GNU General Public License v3.0 "
    f"(GPL-3.0) by their authors ({MUSAE_URL}, also on SNAP). skgkedm is BSD-licensed: "
    "it neither ships nor downloads them, and only reads the files you place in "
    "<data_home>/musae/."
)

# name -> (file prefix, targets, default target, one-line description)
_DATASETS = {
    "chameleon": (
        "chameleon",
        ("classes", "traffic"),
        "English Wikipedia pages about chameleons and the mutual links between them",
    ),
    "squirrel": (
        "squirrel",
        ("classes", "traffic"),
        "English Wikipedia pages about squirrels and the mutual links between them",
    ),
    "facebook": (
        "facebook",
        ("page_type",),
        "verified Facebook pages and the mutual likes between them",
    ),
    "twitch_de": (
        "DE",
        ("mature", "views", "partner", "days"),
        "German-speaking Twitch streamers and the mutual follows between them",
    ),
}
_N_CLASSES = 5
PAGE_TYPES = ("company", "government", "politician", "tvshow")


def fetch_musae(name, *, target=None, drop_duplicates=False, data_home=None):
    """Load a MUSAE graph: Wikipedia chameleon or squirrel, Facebook pages or Twitch DE.

    Real social and web graphs of Rozemberczki, Allen & Sarkar (2021), read from the
    files ``<name>_edges.csv``, ``<name>_features.json`` and ``<name>_target.csv``
    in ``<data_home>/musae/``. Edges are undirected; features are the binary
    bag-of-words vectors of the files. The files are GPL-3.0: skgkedm does not ship
    or download them (see the ``licence`` field).

    ==========  ======  ========  ========  =====================================
    Name        Nodes   Edges     Features  Targets
    ==========  ======  ========  ========  =====================================
    chameleon   2,277   31,371    3,132     classes (5), traffic (regression)
    squirrel    5,201   198,353   3,148     classes (5), traffic (regression)
    facebook    22,470  170,823   4,714     page_type (4 classes)
    twitch_de   9,498   153,138   3,170     mature (binary), views, partner, days
    ==========  ======  ========  ========  =====================================

    Edges count undirected node pairs without self-loops: the files hold 36,101
    rows for chameleon and 217,073 for squirrel, which repeat pairs in both
    directions and include 50 and 140 self-loops; facebook's file has 179
    self-loops.

    Parameters
    ----------
    name : {"chameleon", "squirrel", "facebook", "twitch_de"}
        Dataset name, case-insensitive. ``"twitch_de"`` reads the files ``DE_*``.
    target : str, default=None
        What ``y`` holds; ``None`` takes the first of each dataset's list:

        - chameleon, squirrel: ``"classes"``, the 5 traffic classes of Geom-GCN
          (Pei et al., 2020) that the heterophily literature uses, or
          ``"traffic"``, ``log1p`` of the page's average monthly traffic (a node
          regression target). See Notes for the binning.
        - facebook: ``"page_type"``, the page's category as an integer indexing
          ``target_names`` (company, government, politician, tvshow).
        - twitch_de: ``"mature"`` (1 if the streamer flags their content as
          mature, else 0; 5,742 of the 9,498 nodes are 1), ``"views"`` (``log1p`` of
          the number of views), ``"partner"`` (1 for Twitch partners, else 0) or
          ``"days"`` (age of the account in days, as a float).
    drop_duplicates : bool, default=False
        chameleon and squirrel only: keep one node of each group of duplicate
        pages, as Platonov et al. (2023) advise, to avoid train-test leakage. See
        Notes for what counts as a duplicate and how many nodes go.
    data_home : str or path-like, default=None
        Folder holding a ``musae/`` subfolder with the files. ``None`` uses the
        environment variable ``SKGKEDM_DATA``, else ``~/skgkedm_data``.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields:

        X : GraphNodes
            All nodes (those left by ``drop_duplicates``); binary symmetric
            adjacency without self-loops, features as a binary float32
            ``scipy.sparse.csr_array`` of shape (n_nodes, n_features).
        y : ndarray of shape (n_nodes,)
            The target: int64 for classes and 0/1 flags, float64 otherwise.
        target : str
            Name of the target in ``y``.
        target_names : ndarray of str
            For ``"classes"`` the traffic range of each class, for ``"page_type"``
            the page categories; absent for other targets.
        bin_edges : ndarray of shape (6,), dtype float64
            For ``"classes"`` only: the minimum, the four quintiles and the maximum
            of the raw traffic; class ``k`` holds the traffic in
            ``(bin_edges[k], bin_edges[k + 1]]`` (the lowest class includes its
            lower edge).
        node_ids : ndarray of shape (n_nodes,), dtype int64
            Id of every node in the files (``new_id`` for twitch_de); with
            ``drop_duplicates`` the ids of the nodes kept.
        page_names : ndarray of str of shape (n_nodes,)
            facebook only: the name of every page.
        name : str
            Lower-case dataset name.
        DESCR : str
            Description of the dataset: source, size, target and reference.
        licence : str
            The files' licence (GPL-3.0) and why they are not shipped.

    Raises
    ------
    ValueError
        If ``name`` or ``target`` is unknown, or ``drop_duplicates`` is set for a
        dataset without traffic.
    OSError
        If files are missing from ``<data_home>/musae/`` (the message names the
        folder and the files).

    Notes
    -----
    **Traffic classes.** As Geom-GCN (Pei et al., 2020): the four quintiles
    ``q1 <= ... <= q4`` of the raw average monthly traffic are taken with
    ``numpy.quantile`` (linear interpolation), and a page's class is the number of
    quintiles strictly below its traffic (``pandas.qcut(traffic, 5)``: bins closed
    on the right). This gives the class sizes of Geom-GCN's files, 456, 460, 453,
    521 and 387 for chameleon and 1,042, 1,040, 1,039, 1,040 and 1,040 for
    squirrel; ties in the traffic keep the bins from being exactly equal. With
    ``drop_duplicates`` the quintiles are those of the nodes kept.

    **Duplicates.** Platonov et al. (2023) found that many chameleon and squirrel
    pages are duplicates of another page, so random splits put copies of a test
    node in the training set. Their filtered graphs (890 and 2,223 nodes) were
    found with Geom-GCN's node features, which these files do not have; in the
    MUSAE features no two pages are equal. Here two pages are duplicates when they
    link to exactly the same non-empty set of pages (self-loops ignored) *and*
    have the same traffic count; of each group the page with the smallest id is
    kept and the others are removed with their edges. This removes 1,028 of
    chameleon's 2,277 nodes (1,249 kept, 14,721 edges) and 1,882 of squirrel's
    5,201 (3,319 kept, 89,388 edges). The traffic then identifies a group: of the
    nodes sharing their neighbours with another node, nearly all also share its
    exact traffic.

    References
    ----------
    B. Rozemberczki, C. Allen and R. Sarkar, "Multi-scale Attributed Node
    Embedding", Journal of Complex Networks 9(2), 2021.

    H. Pei, B. Wei, K. C.-C. Chang, Y. Lei and B. Yang, "Geom-GCN: Geometric Graph
    Convolutional Networks", ICLR 2020.

    O. Platonov, D. Kuznedelev, M. Diskin, A. Babenko and L. Prokhorenkova, "A
    critical look at the evaluation of GNNs under heterophily: Are we really making
    progress?", ICLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skgkedm.datasets import fetch_musae
    >>> data = fetch_musae("chameleon")  # doctest: +SKIP
    >>> data.X.shape, np.bincount(data.y).tolist()  # doctest: +SKIP
    ((2277, 3132), [456, 460, 453, 521, 387])
    >>> fetch_musae("chameleon", target="traffic").y.dtype  # doctest: +SKIP
    dtype('float64')
    """
    key = str(name).lower()
    if key not in _DATASETS:
        raise ValueError(f"Unknown MUSAE dataset {name!r}; valid names are {list(_DATASETS)}.")
    prefix, targets, about = _DATASETS[key]
    if target is None:
        target = targets[0]
    if target not in targets:
        raise ValueError(
            f"Unknown target {target!r} for the MUSAE dataset {key!r}; valid targets are "
            f"{list(targets)}."
        )
    if drop_duplicates and "traffic" not in targets:
        raise ValueError(
            f"drop_duplicates applies to chameleon and squirrel only, not to {key!r}."
        )
    folder = os.path.join(get_data_home(data_home), "musae")
    require_files(
        folder,
        [f"{prefix}_{part}" for part in ("edges.csv", "features.json", "target.csv")],
        f"The MUSAE files are GPL-3.0 and are not downloaded by skgkedm: get them from "
        f"{MUSAE_URL} (folder input/) or SNAP and place them there, or point data_home "
        "or SKGKEDM_DATA at the folder holding musae/.",
    )
    columns = _read_targets(os.path.join(folder, f"{prefix}_target.csv"))
    order = np.argsort(columns["new_id" if key == "twitch_de" else "id"].astype(np.int64))
    columns = {column: values[order] for column, values in columns.items()}
    n_nodes = len(order)
    adjacency = _read_adjacency(os.path.join(folder, f"{prefix}_edges.csv"), n_nodes)
    features = _read_features(os.path.join(folder, f"{prefix}_features.json"), n_nodes)
    node_ids = np.arange(n_nodes, dtype=np.int64)

    if drop_duplicates:
        keep = first_of_duplicates(adjacency, columns["target"].astype(np.int64))
        adjacency = adjacency[keep][:, keep]
        features = features[keep]
        columns = {column: values[keep] for column, values in columns.items()}
        node_ids = node_ids[keep]

    data = Bunch(
        X=GraphNodes(adjacency, features),
        target=target,
        node_ids=node_ids,
        name=key,
        licence=LICENCE,
    )
    data.update(_target(target, columns))
    if key == "facebook":
        data.page_names = columns["page_name"]
    removed = f", {n_nodes - len(node_ids)} duplicate pages removed" if drop_duplicates else ""
    data.DESCR = (
        f"MUSAE {key} (Rozemberczki, Allen & Sarkar, 2021): {about}. "
        f"{len(node_ids)} nodes{removed}, {adjacency.nnz // 2} undirected edges, "
        f"{features.shape[1]} binary bag-of-words features; target {target!r}. " + LICENCE
    )
    return data


def first_of_duplicates(adjacency, traffic):
    """Mask keeping the first node of each group with equal neighbours and traffic.

    Nodes without neighbours are never duplicates.
    """
    seen = set()
    keep = np.ones(adjacency.shape[0], dtype=bool)
    for node in range(adjacency.shape[0]):
        neighbours = adjacency.indices[adjacency.indptr[node] : adjacency.indptr[node + 1]]
        if neighbours.size == 0:
            continue
        signature = (int(traffic[node]), neighbours.tobytes())
        if signature in seen:
            keep[node] = False
        seen.add(signature)
    return keep


def _target(target, columns):
    if target == "classes":
        traffic = columns["target"].astype(np.float64)
        quintiles = np.quantile(traffic, np.arange(1, _N_CLASSES) / _N_CLASSES)
        edges = np.concatenate(([traffic.min()], quintiles, [traffic.max()]))
        names = [f"({low:g}, {high:g}]" for low, high in itertools.pairwise(edges)]
        names[0] = "[" + names[0][1:]
        return {
            "y": np.searchsorted(quintiles, traffic, side="left").astype(np.int64),
            "target_names": np.array(names),
            "bin_edges": edges,
        }
    if target == "traffic":
        return {"y": np.log1p(columns["target"].astype(np.float64))}
    if target == "page_type":
        names, y = np.unique(columns["page_type"], return_inverse=True)
        return {"y": y.astype(np.int64), "target_names": names}
    if target == "views":
        return {"y": np.log1p(columns["views"].astype(np.float64))}
    if target == "days":
        return {"y": columns["days"].astype(np.float64)}
    # mature, partner: the files write True/False.
    return {"y": (columns[target] == "True").astype(np.int64)}


def _read_targets(path):
    with open(path, encoding="utf-8", newline="") as file:
        header, *rows = csv.reader(file)
    return {
        column: np.array(values)
        for column, values in zip(header, zip(*rows, strict=True), strict=True)
    }


def _read_adjacency(path, n_nodes):
    pairs = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    source, target = pairs[:, 0], pairs[:, 1]
    return undirected_adjacency(source, target, n_nodes)


def _read_features(path, n_nodes):
    with open(path, encoding="utf-8") as file:
        lists = json.load(file)
    lengths = [len(lists[str(node)]) for node in range(n_nodes)]
    columns = np.fromiter(
        (column for node in range(n_nodes) for column in lists[str(node)]),
        dtype=np.int64,
        count=sum(lengths),
    )
    rows = np.repeat(np.arange(n_nodes), lengths)
    features = sp.csr_array(
        (np.ones(len(columns), dtype=np.float32), (rows, columns)),
        shape=(n_nodes, int(columns.max()) + 1),
    )
    features.sum_duplicates()
    features.data[:] = 1.0  # some Twitch nodes list a feature twice
    return features
