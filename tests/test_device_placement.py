"""A fit or predict on a device never sends the graph back to the host.

The graph's arrays are uploaded once; graph preparation (message edges, propagation
matrix, transposes, attention layout) and the training loop then run on the device.
On a machine without a GPU the check runs on the CPU with a fake device check: every
way a tensor reaches NumPy or Python lists (``.cpu()``, ``.numpy()``, ``.tolist()``,
``__array__``) and every way host data becomes a tensor (``torch.from_numpy``,
``torch.as_tensor``, ``torch.tensor``) is recorded while graph preparation or the
training loop runs. With CUDA present the same tests run for real on ``cuda``, where
``.to()`` towards the CPU is recorded too.
"""

import contextlib
import functools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skgkedm import (
    GKEDMClassifier,
    GKEDMRegressor,
    _gkedm_check,
    _network_estimator,
    _node_estimator,
)
from skgkedm.data import GraphNodes
from skgkedm.loader import _graph_memo
from skgkedm.nn import _graph_kernels
from skgkedm.nn._backbones import Backbone

DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")
    ),
]


class HostTransfers:
    """Records host transfers of tensors while armed.

    ``downloads`` lists (how, number of elements) of every tensor of more than one
    element that went to the host (scalars such as a loss read for the history are
    allowed); ``uploaded`` counts the elements of tensors of more than one element made
    from host data (the optimiser's step counters are scalars).
    """

    def __init__(self, monkeypatch):
        self.depth = 0
        self.downloads = []
        self.uploaded = 0
        for name in ("cpu", "numpy", "tolist", "__array__"):
            self._watch_download(monkeypatch, name)
        original_to = torch.Tensor.to

        def to(tensor, *args, **kwargs):
            moved = original_to(tensor, *args, **kwargs)
            if self.depth and tensor.device.type != "cpu" and moved.device.type == "cpu":
                self._download("to", tensor)
            return moved

        monkeypatch.setattr(torch.Tensor, "to", to)
        for name in ("from_numpy", "as_tensor", "tensor"):
            self._watch_upload(monkeypatch, name)

    def _download(self, how, tensor):
        if tensor.numel() > 1:
            self.downloads.append((how, tensor.numel()))

    def _watch_download(self, monkeypatch, name):
        original = getattr(torch.Tensor, name)

        @functools.wraps(original)
        def watched(tensor, *args, **kwargs):
            if self.depth:
                self._download(name, tensor)
            return original(tensor, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, watched)

    def _watch_upload(self, monkeypatch, name):
        original = getattr(torch, name)

        @functools.wraps(original)
        def watched(data, *args, **kwargs):
            result = original(data, *args, **kwargs)
            if self.depth and not isinstance(data, torch.Tensor) and result.numel() > 1:
                self.uploaded += result.numel()
            return result

        monkeypatch.setattr(torch, name, watched)

    @contextlib.contextmanager
    def armed(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def arm_during(self, monkeypatch, owner, name):
        """Record while ``owner.name`` (a function or method) runs."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def armed(*args, **kwargs):
            with self.armed():
                return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, armed)


@pytest.fixture
def transfers(monkeypatch):
    """Host transfers during graph preparation and the training loop of node estimators,
    which runs the device's code path (no NumPy kernel on the tensors' memory)."""
    monkeypatch.setattr(_graph_kernels, "host_kernels", lambda tensor: False)
    recorder = HostTransfers(monkeypatch)
    recorder.arm_during(monkeypatch, _node_estimator, "graph_tensors")
    recorder.arm_during(monkeypatch, _gkedm_check, "graph_tensors")  # the check's own
    # A call on the graph the estimator last prepared reuses it through its memo.
    recorder.arm_during(monkeypatch, _graph_memo.GraphMemo, "graph_tensors")
    recorder.arm_during(monkeypatch, _network_estimator.NetworkEstimatorMixin, "_train")
    return recorder


def input_elements(nodes):
    """Elements of the arrays a graph's upload carries: its CSR adjacency and features."""
    adjacency, features = nodes.adjacency, nodes.features
    feature_elements = features.nnz * 2 + features.shape[0] + 1 if hasattr(features, "nnz") else (
        features.size
    )  # fmt: skip
    return 2 * adjacency.nnz + adjacency.shape[0] + 1 + feature_elements


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("gkedm", [False, True])
def test_fit_and_predict_keep_the_graph_on_the_device(cora, transfers, device, gkedm):
    X, y = cora.X, cora.y
    model = GKEDMClassifier(
        # A GCN: the default's MLP without GKEDM reads no graph at all.
        backbone="gcn", gkedm=gkedm, hidden_dims=(8,), max_epochs=3, early_stopping=True,
        n_iter_no_change=5,
        gkedm_check=False, device=device, random_state=0,
    )  # fmt: skip
    model.fit(X[cora.train_index], y[cora.train_index])
    assert transfers.downloads == []
    # Only the graph's own arrays cross, once: nothing prepared on the host is uploaded.
    assert 0 < transfers.uploaded <= input_elements(X)
    transfers.uploaded = 0
    predicted = model.predict(X[cora.test_index])
    assert transfers.downloads == []
    assert 0 < transfers.uploaded <= input_elements(X)
    assert predicted.shape == (len(cora.test_index),)
    # A copy has no memo: it prepares the graph on the device again.
    transfers.uploaded = 0
    copied = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copied.predict(X[cora.test_index]), predicted)
    assert transfers.downloads == []
    assert 0 < transfers.uploaded <= input_elements(X)


@pytest.mark.parametrize("device", DEVICES)
def test_directed_graph_with_edge_attributes_stays_on_the_device(transfers, device):
    # A directed graph (transposes built) whose GAT layers read edge attributes.
    rng = np.random.default_rng(0)
    n_nodes, n_edges = 60, 240
    source, target = rng.integers(0, n_nodes, (2, n_edges))
    keep = source != target
    adjacency = np.zeros((n_nodes, n_nodes))
    adjacency[source[keep], target[keep]] = 1.0
    adjacency = sp.csr_array(adjacency)
    X = GraphNodes(adjacency, rng.random((n_nodes, 4)), edge_attr=rng.random((adjacency.nnz, 2)))
    y = rng.random(n_nodes)
    model = GKEDMRegressor(
        backbone="gat", hidden_dims=(8,), gat_heads=2, max_epochs=2, directed=True,
        gkedm_check=False, device=device, random_state=0,
    )  # fmt: skip
    model.fit(X, y)
    assert transfers.downloads == []
    elements = input_elements(X) + X.edge_attr.size
    assert 0 < transfers.uploaded <= elements


def test_check_catches_a_download_in_the_training_loop(cora, transfers, monkeypatch):
    # The regression the tests above guard against: a tensor sent to the host each step.
    forward = _network_estimator.GKEDMNetwork.forward

    def leaky(network, graph, *args, **kwargs):
        output = forward(network, graph, *args, **kwargs)
        output.logits.detach().cpu()
        return output

    monkeypatch.setattr(_network_estimator.GKEDMNetwork, "forward", leaky)
    GKEDMClassifier(hidden_dims=(8,), max_epochs=2, gkedm_check=False, random_state=0).fit(
        cora.X, cora.y
    )
    assert transfers.downloads
    assert {how for how, _ in transfers.downloads} == {"cpu"}


def test_check_catches_graph_preparation_on_the_host(cora, transfers, monkeypatch):
    # The layout of the code before this check: a propagation matrix built with NumPy
    # from the host's copy of the graph, then uploaded.
    propagation = Backbone.propagation

    def on_the_host(backbone, messages, transpose=True):
        sparse = propagation(backbone, messages, transpose)
        values = sparse.matrix.values().numpy()
        torch.from_numpy(np.ascontiguousarray(values))
        return sparse

    monkeypatch.setattr(Backbone, "propagation", on_the_host)
    GKEDMClassifier(
        backbone="gcn", gkedm=False, hidden_dims=(8,), max_epochs=1, random_state=0
    ).fit(cora.X, cora.y)
    assert transfers.downloads
    assert transfers.uploaded > input_elements(cora.X)
