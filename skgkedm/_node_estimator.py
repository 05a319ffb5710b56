"""GKEDM networks over the nodes of one graph: what node classifier and regressor share."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import NodeEstimatorBase
from ._gkedm_check import GKEDMCheckMixin
from ._network_estimator import NETWORK_PARAMETER_CONSTRAINTS, NetworkEstimatorMixin
from .data._validation import is_graph_input
from .loader._graph_memo import GraphMemo, memoizable, structure_key
from .loader._graph_tensors import feature_tensors, graph_tensors
from .loader._layerwise import layerwise_outputs, supports_layerwise
from .loader._neighbour_sampling import check_fanouts
from .loader._node_batches import NodeBatches, take, whole_graph_batches
from .nn._backbones import BACKBONES
from .nn._feature_forward import DenseForward
from .nn._gkedm import NORMALIZATIONS
from .utils._sklearn_compat import Interval, Options, StrOptions
from .utils._threads import graph_entries, thread_policy
from .utils._torch_utils import resolve_device

NODE_PARAMETER_CONSTRAINTS = {
    **NETWORK_PARAMETER_CONSTRAINTS,
    **NodeEstimatorBase._parameter_constraints,
    "batch_size": [None, Interval(Integral, 1, None, closed="left")],
    "fanouts": [
        None,
        Interval(Integral, 1, None, closed="left"),
        Options(Integral, {-1}),
        "array-like",
    ],
    "gkedm_hops": [Interval(Integral, 1, None, closed="left")],
    "gkedm_alpha": [Interval(Real, 0, 1, closed="both")],
    "gkedm_check": [StrOptions({"auto"}), "boolean"],
    "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
    "gkedm_position": [StrOptions({"hidden", "output"})],
    "gkedm_normalization": [StrOptions(set(NORMALIZATIONS))],
    "consistency": [Interval(Real, 0, None, closed="left")],
}
"""Constraints of the parameters of GKEDM node estimators (scikit-learn's format)."""

FEATURE_CHUNK = 4096
"""Rows a graph-free network predicts at once (see ``NodeNetworkMixin._feature_outputs``).

4,096 rows of a 64-wide hidden layer take 1 MB, which stays in a core's cache: 4,096
and 8,192 measured fastest (CPU time, 1M rows of 16 features, one thread), 16,384
8 % and 65,536 30 % slower, 1,024 25 % slower (more calls). Through ``DenseForward``
(dense features) 4,096 still measured fastest: 2,048 3 % and 8,192 11 % slower."""


class AttentionWeights(NamedTuple):
    """GKEDM attention over edges, as returned by :meth:`GKEDMClassifier.attention_weights`.

    Attributes
    ----------
    source : ndarray of shape (n_edges,)
        Node sending each message (node ids as in ``GraphNodes.node_ids``).
    target : ndarray of shape (n_edges,)
        Node receiving it: one of the selected nodes. Each target has one self-loop.
    weights : ndarray of shape (n_edges, n_heads)
        Attention of each head; over a target's incoming edges each column sums to 1.

    Examples
    --------
    >>> from skgkedm import AttentionWeights, GKEDMClassifier
    >>> from skgkedm.datasets import make_node_classification
    >>> X, y = make_node_classification(60, random_state=0)
    >>> clf = GKEDMClassifier(hidden_dims=(8,), max_epochs=5, random_state=0).fit(X, y)
    >>> attention = clf.attention_weights(X[:3])
    >>> isinstance(attention, AttentionWeights), len(attention.weights) == len(attention.source)
    (True, True)
    """

    source: np.ndarray
    target: np.ndarray
    weights: np.ndarray


class NodeNetworkMixin(GKEDMCheckMixin, NetworkEstimatorMixin):
    """A GKEDM network trained on the labelled nodes of one graph (not for direct use).

    Holds the parameters of :class:`GKEDMClassifier` and :class:`GKEDMRegressor`
    (documented there), builds their batches (the whole graph, or neighbour-sampled
    mini-batches with ``batch_size``), checks the module before the fit
    (``gkedm_check``, :class:`~skgkedm._gkedm_check.GKEDMCheckMixin`), sets
    ``transduction_`` after training, and runs the fitted network on new graphs.
    Subclasses turn outputs into predictions with ``_predictions_from_outputs``.
    """

    _parameter_constraints: dict = NODE_PARAMETER_CONSTRAINTS

    def __init__(
        self,
        backbone="gcn",
        hidden_dims=(64,),
        *,
        gkedm=True,
        gkedm_heads=4,
        gkedm_scoring="uniform",
        gkedm_update="auto",
        gkedm_values="identity",
        gkedm_dropout=0.0,
        gkedm_layers="last",
        gkedm_hops=1,
        gkedm_alpha=0.1,
        gkedm_check="auto",
        gkedm_position="hidden",
        gkedm_normalization="mean",
        schedule="two_phase",
        second_phase_fraction=0.25,
        activation="relu",
        dropout=0.5,
        gat_heads=8,
        learning_rate=0.01,
        weight_decay=5e-4,
        max_epochs=200,
        consistency=0.0,
        batch_size=None,
        fanouts=None,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=50,
        tol=1e-4,
        directed=False,
        n_neighbors=10,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.hidden_dims = hidden_dims
        self.gkedm = gkedm
        self.gkedm_heads = gkedm_heads
        self.gkedm_scoring = gkedm_scoring
        self.gkedm_update = gkedm_update
        self.gkedm_values = gkedm_values
        self.gkedm_dropout = gkedm_dropout
        self.gkedm_layers = gkedm_layers
        self.gkedm_hops = gkedm_hops
        self.gkedm_alpha = gkedm_alpha
        self.gkedm_check = gkedm_check
        self.gkedm_position = gkedm_position
        self.gkedm_normalization = gkedm_normalization
        self.schedule = schedule
        self.second_phase_fraction = second_phase_fraction
        self.activation = activation
        self.dropout = dropout
        self.gat_heads = gat_heads
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.consistency = consistency
        self.batch_size = batch_size
        self.fanouts = fanouts
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.directed = directed
        self.n_neighbors = n_neighbors
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __getstate__(self):
        # The memo of the last graph is a cache, not a model: never saved.
        state = super().__getstate__()
        state.pop("_graph_memo", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "n_iter_"):
            self._graph_memo = GraphMemo()

    def _thread_entries(self, data, n_train):
        return graph_entries(data.inputs)

    def _training_batches(self, data, spec, device, train, validation, seed, sample_hops):
        """The whole graph as one batch, or mini-batches of ``batch_size`` labelled nodes.

        Mini-batches' neighbourhoods are sampled with ``fanouts``; validation batches
        are sampled once, so every epoch is scored on the same ones. The whole graph's
        tensors, when built, are handed on to :meth:`_after_training`.
        """
        if self.batch_size is None:
            graph = graph_tensors(data.inputs, data.input_state["_symmetrize"], spec, device)
            return (*whole_graph_batches(graph, data, device, train, validation), graph)
        if spec.edge_dim:
            raise ValueError(
                f"The graph has edge attributes, which the {self.backbone!r} layers use, but "
                "neighbour-sampled mini-batches (batch_size) do not carry them yet: train "
                "full-batch (batch_size=None), or drop them with "
                "GraphNodes(X.adjacency, X.features)[X.indices]."
            )
        fanouts = check_fanouts(self.fanouts, spec.message_hops)
        # A deeper teacher run on the same batches: extra outer hops take the last fan-out.
        fanouts += fanouts[-1:] * max(0, (sample_hops or 0) - len(fanouts))
        sampled = NodeBatches(
            data.inputs, data.input_state["_symmetrize"], spec, device, fanouts, seed
        )
        rows, targets, weights = data.rows, data.targets, data.weights

        def part(positions):
            return rows[positions], targets[positions], take(weights, positions)

        val_rows, val_targets, val_weights = part(validation)
        validation_batches = list(
            sampled.in_order(val_rows, val_targets, self.batch_size, val_weights)
        )
        train_rows, train_targets, train_weights = part(train)
        return (
            (
                lambda generator: sampled.shuffled(
                    train_rows, train_targets, self.batch_size, train_weights
                )
            ),
            validation_batches,
            None,
        )

    def _after_training(self, network, data, spec, device, prepared):
        """Set ``transduction_``, the prediction for every node, and
        ``_prediction_batch_size``, the batches a mini-batch fit predicts in.

        A full-batch fit runs the whole graph it trained on; a mini-batch fit runs it
        layer by layer in batches of nodes (as its ``predict`` does), in bounded
        memory, and sets no ``transduction_`` where that takes a whole-graph pass
        (``gkedm_hops > 1``).
        """
        self.__dict__.pop("transduction_", None)
        self._prediction_batch_size = self.batch_size
        self._graph_memo = GraphMemo()
        outputs = None
        network.eval()
        with torch.no_grad():
            if prepared is not None:
                outputs = prepared.in_input_order(network(prepared).logits)
                if memoizable(spec):
                    # predict on the training graph reuses its propagation matrix.
                    symmetrize = data.input_state["_symmetrize"]
                    key = structure_key(data.inputs, symmetrize, spec, device)
                    self._graph_memo.keep(key, prepared, spec.gkedm)
            elif self.batch_size is not None and supports_layerwise(spec):
                nodes, symmetrize = data.inputs, data.input_state["_symmetrize"]
                every = np.arange(nodes.adjacency.shape[0])
                outputs = layerwise_outputs(
                    network, nodes, symmetrize, every, self.batch_size, device
                )
        if outputs is not None:
            self.transduction_ = self._predictions_from_outputs(outputs.double().cpu())

    def _propagation(self):
        return self.gkedm_hops, self.gkedm_alpha

    def _gkedm_position(self):
        return self.gkedm_position, self.gkedm_normalization

    def _consistency(self):
        return self.consistency

    def _network_output(self, nodes, symmetrize, device=None):
        """Run the fitted network on a whole graph in evaluation mode.

        Reads only fitted state; ``device`` is resolved from the ``device`` parameter
        when not given. Returns ``(NetworkOutput, GraphTensors)``.
        """
        device = resolve_device(self.device) if device is None else device
        network = self._fitted_network(device)
        # fit and loading (__setstate__) give a fitted model its memo; state restored
        # around __setstate__ (a bare __dict__ update) prepares every graph afresh.
        memo = self.__dict__.get("_graph_memo")
        prepare = graph_tensors if memo is None else memo.graph_tensors
        # The load is measured while the graph is prepared (one thread), not in a sleep.
        with thread_policy(graph_entries(nodes), wait=False) as threads, torch.no_grad():
            graph = prepare(nodes, symmetrize, self._architecture, device)
            threads.update(wait=True)
            return network(graph), graph

    def _fits_without_graph(self):
        return not self.gkedm and not BACKBONES[self.backbone].uses_graph

    def _predicts_without_graph(self):
        return self._architecture.graph_free

    def _node_outputs(self, nodes, symmetrize, dtype=torch.float64):
        """The fitted network's outputs (CPU, ``dtype``) on the selected nodes of a graph."""
        if self._architecture.graph_free:
            return self._feature_outputs(nodes.features, nodes.indices, dtype)
        batch_size = self._prediction_batch_size
        if batch_size is not None and supports_layerwise(self._architecture):
            # Fitted on mini-batches: predict layer by layer in batches of nodes, in
            # bounded memory; the same outputs as the whole-graph pass (float rounding).
            device = resolve_device(self.device)
            network = self._fitted_network(device)
            rows, inverse = np.unique(nodes.indices, return_inverse=True)
            with thread_policy(graph_entries(nodes)), torch.no_grad():
                outputs = layerwise_outputs(network, nodes, symmetrize, rows, batch_size, device)
            return outputs.to(device="cpu", dtype=dtype)[torch.from_numpy(inverse.reshape(-1))]
        output, graph = self._network_output(nodes, symmetrize)
        nodes = torch.tensor(nodes.indices, dtype=torch.long, device=output.logits.device)
        return output.logits[graph.rows_of(nodes)].to(device="cpu", dtype=dtype)

    def _class_indices(self, nodes, symmetrize):
        """Index into ``classes_`` of the most likely class of each selected node.

        The argmax of the network's own (float32) outputs: the softmax that
        ``predict_proba`` applies keeps their order, so this is the argmax of the
        probabilities without computing them (the same class, ties to the first).
        """
        if self._architecture.graph_free:
            return self._feature_outputs(nodes.features, nodes.indices, indices=True)
        outputs = self._node_outputs(nodes, symmetrize, dtype=torch.float32)
        return outputs.argmax(dim=1).numpy()

    def _feature_outputs(self, features, rows, dtype=torch.float64, indices=False):
        """Outputs (CPU, ``dtype``) of a graph-free network, from features alone.

        Only the ``rows`` of ``features`` are read, no edge: each row's outputs are its
        own, so the rows go through the network in chunks of ``FEATURE_CHUNK``, which
        keeps the intermediate layers in the processor's cache; each chunk's outputs
        are written straight into the one output array (converted to ``dtype`` there).
        Dense features on the CPU run through :class:`~skgkedm.nn._feature_forward.DenseForward`
        (buffers reused across chunks; a chunk is converted to float32 only if it is
        not already C-contiguous float32, so validated input is never copied whole).
        ``indices=True`` returns the argmax of each row's outputs instead (an int64
        ndarray), computed chunk by chunk: the class indices of ``predict``.
        """
        device = resolve_device(self.device)
        network = self._fitted_network(device)
        n_rows = len(rows)
        everything = n_rows == features.shape[0] and np.array_equal(rows, np.arange(n_rows))
        forward = None
        if not sp.issparse(features) and DenseForward.supports(network):
            forward = DenseForward(network, min(FEATURE_CHUNK, max(n_rows, 1)))
        if indices:
            outputs = np.empty(n_rows, dtype=np.int64)
        else:
            outputs = torch.empty((n_rows, self._architecture.n_classes), dtype=dtype)
        # The whole call may take less than a load measure: never sleep for one.
        with thread_policy(n_rows, wait=False) as threads, torch.no_grad():
            for start in range(0, n_rows, FEATURE_CHUNK):
                threads.update()
                stop = start + FEATURE_CHUNK
                chunk = features[start:stop] if everything else features[rows[start:stop]]
                if forward is not None:
                    scores = forward(_float32_rows(chunk))
                    if indices:
                        np.argmax(scores, axis=1, out=outputs[start:stop])
                    else:
                        outputs[start:stop] = torch.from_numpy(scores)
                    continue
                scores = network(feature_tensors(chunk, device)).logits
                if indices:
                    outputs[start:stop] = scores.argmax(dim=1).cpu().numpy()
                else:
                    outputs[start:stop] = scores
        return outputs

    def attention_weights(self, X):
        """GKEDM attention over the incoming edges of the selected nodes.

        Parameters
        ----------
        X : GraphNodes or networkx graph
            Nodes whose incoming attention to return, with their graph.

        Returns
        -------
        AttentionWeights
            ``(source, target, weights)``: one row per edge into a selected node
            (self-loops included), weights of shape (n_edges, gkedm_heads), or
            (n_edges, 1) with ``gkedm_position="output"``.

        Examples
        --------
        >>> from skgkedm import GKEDMClassifier
        >>> from skgkedm.datasets import make_node_classification
        >>> X, y = make_node_classification(100, random_state=0)
        >>> clf = GKEDMClassifier(max_epochs=5, random_state=0).fit(X, y)
        >>> attention = clf.attention_weights(X[[0]])
        >>> attention.weights.shape[1]  # on the class scores, the module has one head
        1
        >>> bool((attention.target == 0).all())
        True
        >>> attention.weights.sum(axis=0).round(4).tolist()
        [1.0]
        """
        check_is_fitted(self)
        if not is_graph_input(X):
            raise TypeError(
                f"attention_weights needs GraphNodes or a networkx graph, got {type(X).__name__}."
            )
        if not self._architecture.gkedm:
            raise ValueError(
                "This model has no GKEDM module, so no attention: it was fitted with "
                "gkedm=False, or its gkedm_check chose a network without the module "
                f"(gkedm_check_choice_={getattr(self, 'gkedm_check_choice_', None)!r})."
            )
        nodes, symmetrize = self._graph_to_predict(X)
        output, graph = self._network_output(nodes, symmetrize)
        source, target = graph.attention_index.cpu().numpy()
        keep = np.isin(target, nodes.indices)
        ids = nodes.all_nodes.node_ids
        return AttentionWeights(
            ids[source[keep]], ids[target[keep]], output.attention[keep].cpu().numpy()
        )


def _float32_rows(chunk):
    """``chunk`` as a writable, C-contiguous float32 array: itself when it is one."""
    if chunk.dtype == np.float32 and chunk.flags.c_contiguous and chunk.flags.writeable:
        return chunk
    return np.array(chunk, dtype=np.float32, order="C")
