"""Generated node-classification graphs: a stochastic block model with Gaussian features."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..data._graph_nodes import GraphNodes
from ._edges import undirected_adjacency

# A Gaussian feature above this value counts as a present "word" when features are sparse.
_SPARSE_THRESHOLD = 1.0


def make_node_classification(
    n_nodes=1000,
    *,
    n_classes=3,
    n_features=16,
    average_degree=10.0,
    homophily=0.8,
    class_sep=1.0,
    sparse_features=False,
    random_state=None,
):
    """Generate a graph whose node classes show in both its edges and its features.

    Nodes get balanced classes in random order. Edges follow a stochastic block
    model: ``round(n_nodes * average_degree / 2)`` node pairs are drawn, each from a
    uniformly random node to a uniformly random node of the same class with
    probability ``homophily``, else of a uniformly random other class. Self-loops are
    dropped, edges made undirected and duplicate pairs merged. Features are the
    node's class centre (a random unit vector scaled by ``class_sep``) plus standard
    Gaussian noise. Everything is vectorised: a million nodes of average degree 10
    with 100 features take seconds.

    Parameters
    ----------
    n_nodes : int, default=1000
        Number of nodes; at least ``n_classes``.
    n_classes : int, default=3
        Number of classes; at least 2. Class sizes differ by at most one.
    n_features : int, default=16
        Number of features per node; at least 1.
    average_degree : float, default=10.0
        Expected number of neighbours per node, in (0, n_nodes - 1]. Merged
        duplicates and dropped self-loops make the realised degree slightly lower
        on small, dense graphs.
    homophily : float, default=0.8
        Expected fraction of edges joining two nodes of the same class, in [0, 1].
        1/n_classes gives edges that ignore classes; 0 gives only cross-class edges.
    class_sep : float, default=1.0
        Norm of each class centre, >= 0. Noise has unit variance per feature, so
        small values make the features alone weakly informative and the graph
        matter more; 0 makes features pure noise.
    sparse_features : bool, default=False
        If True, features are binarised like a bag of words (1.0 where the Gaussian
        feature exceeds 1, about 16% of entries) and stored as a float32
        ``scipy.sparse.csr_array``; else they are a dense float32 array.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output.

    Returns
    -------
    X : GraphNodes
        All ``n_nodes`` nodes; binary symmetric adjacency without self-loops.
    y : ndarray of shape (n_nodes,), dtype int64
        Class of every node, in ``0 .. n_classes - 1``.

    See Also
    --------
    fetch_planetoid : Real citation graphs with a public split.

    Examples
    --------
    >>> import numpy as np
    >>> from skgkedm.datasets import make_node_classification
    >>> X, y = make_node_classification(600, n_classes=3, homophily=0.9, random_state=0)
    >>> X.shape, np.bincount(y).tolist()
    ((600, 16), [200, 200, 200])
    >>> source, target = X.adjacency.nonzero()
    >>> round(float(np.mean(y[source] == y[target])), 1)
    0.9
    """
    _check_params(n_nodes, n_classes, n_features, average_degree, homophily, class_sep)
    rng = check_random_state(random_state)
    y = rng.permutation(np.arange(n_nodes, dtype=np.int64) % n_classes)
    adjacency = _sample_adjacency(y, n_classes, average_degree, homophily, rng)
    features = _sample_features(y, n_classes, n_features, class_sep, rng)
    if sparse_features:
        features = sp.csr_array(features > _SPARSE_THRESHOLD, dtype=np.float32)
    return GraphNodes(adjacency, features), y


def _check_params(n_nodes, n_classes, n_features, average_degree, homophily, class_sep):
    def is_int(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    def is_real(value):
        return isinstance(value, numbers.Real) and not isinstance(value, bool)

    if not is_int(n_classes) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    if not is_int(n_nodes) or n_nodes < n_classes:
        raise ValueError(f"n_nodes must be an integer >= n_classes={n_classes}, got {n_nodes!r}.")
    if not is_int(n_features) or n_features < 1:
        raise ValueError(f"n_features must be an integer >= 1, got {n_features!r}.")
    if not is_real(average_degree) or not 0 < average_degree <= n_nodes - 1:
        raise ValueError(
            f"average_degree must be a number in (0, n_nodes - 1] = (0, {n_nodes - 1}], "
            f"got {average_degree!r}."
        )
    if not is_real(homophily) or not 0 <= homophily <= 1:
        raise ValueError(f"homophily must be a number in [0, 1], got {homophily!r}.")
    if not is_real(class_sep) or not 0 <= class_sep < np.inf:
        raise ValueError(f"class_sep must be a finite number >= 0, got {class_sep!r}.")


def _sample_adjacency(y, n_classes, average_degree, homophily, rng):
    n_nodes = len(y)
    members = np.argsort(y, kind="stable")
    sizes = np.bincount(y, minlength=n_classes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))

    n_pairs = max(1, round(n_nodes * average_degree / 2))
    source = rng.randint(n_nodes, size=n_pairs)
    target_class = y[source]
    # Shifting by 1 .. n_classes - 1 picks each other class with equal probability.
    other = rng.random_sample(n_pairs) >= homophily
    shift = rng.randint(1, n_classes, size=n_pairs)
    target_class = np.where(other, (target_class + shift) % n_classes, target_class)
    target = members[starts[target_class] + rng.randint(0, sizes[target_class])]

    return undirected_adjacency(source, target, n_nodes)


def _sample_features(y, n_classes, n_features, class_sep, rng):
    centres = rng.standard_normal((n_classes, n_features))
    centres *= class_sep / np.linalg.norm(centres, axis=1, keepdims=True)
    features = rng.standard_normal((len(y), n_features)).astype(np.float32)
    features += centres.astype(np.float32)[y]
    return features
