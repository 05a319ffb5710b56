"""GKEDM networks over the nodes of one graph: what node classifier and regressor share."""

from dataclasses import replace
from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ._base import NodeEstimatorBase
from ._network_estimator import NETWORK_PARAMETER_CONSTRAINTS, NetworkEstimatorMixin
from .data._validation import is_graph_input
from .loader._batch import Batch
from .loader._graph_memo import GraphMemo, memoizable, structure_key
from .loader._graph_tensors import feature_tensors, graph_tensors
from .loader._layerwise import layerwise_outputs, supports_layerwise
from .loader._neighbour_sampling import check_fanouts
from .loader._node_batches import NodeBatches
from .nn._backbones import BACKBONES
from .nn._feature_forward import DenseForward
from .nn._gkedm import NORMALIZATIONS
from .nn._network import GKEDMNetwork
from .utils._sklearn_compat import Interval, Options, StrOptions
from .utils._threads import graph_entries, thread_policy
from .utils._torch_utils import build_seeded, fit_generator, resolve_device
from .utils._training import INTERRUPTED, TrainingContext

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

CHECK_MIN_LABELS = 200
"""With ``gkedm_check="auto"``, the fewest labelled training nodes that make a check."""

CHECK_FOLDS = 2
"""Folds of ``gkedm_check``'s cross-validation: each candidate is trained on one half of
the labelled training nodes and predicts the other half, then the other way round, so
every labelled node is held out once (a held-out fifth left the check 40 nodes on the
homophily sweep, too few to tell candidates apart; two folds cost each candidate two
fits on half the labels)."""

CHECK_CANDIDATES = ("plain", "linear", "features", "gkedm")
"""What ``gkedm_check`` compares, in the order it prefers them: the plain backbone (the
model the user's network wraps: a network that drops the graph, or adds the module,
must beat it clearly), a linear model of each node's own features (no hidden layer,
no dropout: logistic regression, or linear regression, with the fit's weight decay),
a network on them (the ``"mlp"`` backbone, same widths), and the backbone with GKEDM.
When the backbone reads no graph (``"mlp"``, the classifier's default), it is the
features candidate, the order is linear, features, GKEDM, and the plain candidate is
``CHECK_GRAPH_BACKBONE``, ranked after the module: the check switches to it only when
it scores clearly better. (Ranked after the linear and features candidates, the
plain backbone lost 0.5 to 1.9 points of R² to its own ``gkedm=False`` fit in the
regressor's default on chameleon, squirrel and diabetes, ``node_tasks.py``.)"""

CHECK_GRAPH_BACKBONE = "gcn"
"""The plain graph network ``gkedm_check`` compares when the backbone reads no graph."""

CHECK_NAMES = {
    "linear": "linear on the features",
    "features": "on the features alone",
    "plain": "the plain backbone",
    "gkedm": "with GKEDM",
}
"""How ``gkedm_check``'s verbose line names its candidates."""

CHECK_STANDARD_ERRORS = 1.0
"""With ``gkedm_check``, a richer candidate is chosen only if it beats every simpler one
by more than this many standard errors of their paired held-out difference."""

CHECK_GRAPH_FREE = ("linear", "features")
"""The candidates of ``gkedm_check`` that read no graph."""

CHECK_GRAPH_FREE_STANDARD_ERRORS = 0.5
"""The classifier's margin for the graph-free candidates: one is chosen only if its
held-out accuracy is within this many standard errors of the best (the module and the
plain backbone keep ``CHECK_STANDARD_ERRORS``). Over 20 seeds of
``benchmarks/check_rules.py`` (chameleon, squirrel, both without duplicates, Twitch
DE, homophily 0.1-0.9; facebook 10 seeds) it scored at least the one-standard-error
rule on every data set and higher on the four where the default trailed GCN or the
logistic regression, by 0.1 to 0.5 points (14 choices of 210 differ); the regressor
was not measured, so it keeps ``CHECK_STANDARD_ERRORS``."""

FEATURE_CHUNK = 4096
"""Rows a graph-free network predicts at once (see ``NodeNetworkMixin._feature_outputs``).

4,096 rows of a 64-wide hidden layer take 1 MB, which stays in a core's cache: 4,096
and 8,192 measured fastest (CPU time, 1M rows of 16 features, one thread), 16,384
8 % and 65,536 30 % slower, 1,024 25 % slower (more calls). Through ``DenseForward``
(dense features) 4,096 still measured fastest: 2,048 3 % and 8,192 11 % slower."""


class CheckCandidate(NamedTuple):
    """One network that ``gkedm_check`` trained and scored on its held-out nodes.

    Attributes
    ----------
    spec : NetworkSpec
        Its architecture: what the final fit trains if it is chosen.
    score : float
        Held-out score (accuracy, R²) after its full training.
    per_sample : ndarray of shape (n_held_out,) or None
        Each held-out node's share of ``score`` (see ``Objective.per_sample``).
    trained : tuple or None, default=None
        ``(network, histories)``: the candidate trained on every training label, which
        the fit keeps as its network if it is chosen (validation nodes given to
        ``fit``); None: the final fit trains the chosen spec.
    """

    spec: object
    score: float
    per_sample: object
    trained: object = None


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


class NodeNetworkMixin(NetworkEstimatorMixin):
    """A GKEDM network trained on the labelled nodes of one graph (not for direct use).

    Holds the parameters of :class:`GKEDMClassifier` and :class:`GKEDMRegressor`
    (documented there), builds their batches (the whole graph, or neighbour-sampled
    mini-batches with ``batch_size``), sets ``transduction_`` after training, and
    runs the fitted network on new graphs. Subclasses turn outputs into predictions
    with ``_predictions_from_outputs``.
    """

    _parameter_constraints: dict = NODE_PARAMETER_CONSTRAINTS

    _check_graph_free_standard_errors = CHECK_STANDARD_ERRORS
    """``gkedm_check``'s margin for its graph-free candidates, in standard errors."""

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
            return (*_whole_graph_batches(graph, data, device, train, validation), graph)
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
            return rows[positions], targets[positions], _take(weights, positions)

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

    def _checked_spec(self, spec, data, train, validation, random_state, seed, prepared,
                      threads, checkable):  # fmt: skip
        """Check GKEDM against the plain backbone and the features alone (``gkedm_check``).

        With ``CHECK_MIN_LABELS`` validation nodes or more given to ``fit``
        (``data.n_validation``: ``validation`` positions them), every candidate trains
        on all of ``train`` and is scored on them; else on ``CHECK_FOLDS`` folds of
        ``train``, from ``CHECK_MIN_LABELS`` training labels (fewer validation nodes
        never stop a check the training labels allow; with fewer of both, ``True``
        checks on the validation nodes given).
        Returns the spec to train (the candidate the check chose) and ``(network,
        histories)`` of a network the check trained that the fit keeps: with validation
        nodes, the chosen candidate itself (trained on every label, with the fit's seed,
        at its best validation epoch); when the user interrupted the check, the network
        it was training; else None. Sets ``gkedm_check_scores_`` and
        ``gkedm_check_choice_``.
        """
        self.gkedm_check_scores_ = None
        self.gkedm_check_choice_ = None
        on_validation = data.n_validation > 0 and (
            data.n_validation >= CHECK_MIN_LABELS or len(train) < CHECK_MIN_LABELS
        )
        scored = validation if on_validation else train
        if not (checkable and self._checks_gkedm(spec, len(scored))):
            return spec, None
        if on_validation:
            folds = [(train, validation)]
        else:
            stratify = None if data.stratify is None else data.stratify[train]
            folds = _check_folds(train, stratify, random_state)
        context = TrainingContext(fit_generator(seed, prepared.x.device), threads)
        candidates, weights, interrupted = self._check_gkedm(
            spec, seed, prepared, data, folds, context, on_validation
        )
        self.gkedm_check_scores_ = {name: c.score for name, c in candidates.items()}
        if interrupted is not None:
            interrupted_spec, network, histories = interrupted
            return interrupted_spec, (network, histories)
        choice = _check_choice(candidates, weights, self._check_graph_free_standard_errors)
        self.gkedm_check_choice_ = choice
        if self.verbose:
            scores = ", ".join(
                f"{candidates[name].score:.3f} {CHECK_NAMES[name]}" for name in candidates
            )
            print(
                f"gkedm_check: held-out {data.objective.name} {scores}: the model is "
                f"{CHECK_NAMES[choice]}",
                flush=True,
            )
        return candidates[choice].spec, candidates[choice].trained

    def _checks_gkedm(self, spec, n_labelled):
        """Whether this fit checks GKEDM against the plain backbone (``gkedm_check``)."""
        if not spec.gkedm or self.gkedm_check is False:
            return False
        if self.gkedm_check == "auto":
            return self.batch_size is None and n_labelled >= CHECK_MIN_LABELS
        if self.batch_size is not None:
            raise ValueError(
                "gkedm_check=True needs full-batch training (batch_size=None); use "
                "gkedm_check='auto' or False with mini-batches."
            )
        return True

    def _check_gkedm(self, spec, seed, graph, data, folds, context, on_validation=False):
        """Cross-validated scores of the candidates of ``CHECK_CANDIDATES``.

        Each candidate network is trained as the final fit would train it, on the
        fit positions of each fold of ``folds`` (``(fit_part, held_out)`` positions of
        the labelled samples), and predicts its held-out positions; every labelled
        sample is held out once, and each candidate is scored once on all of them
        with the fit's own score (accuracy, R²). With a two-phase schedule the
        backbone of phase 1 is the plain candidate (scored after it), and GKEDM is
        scored after phase 2; a single phase trains a plain network beside it. The
        linear candidate is a graph-free network without hidden layer (and without
        dropout: logistic or linear regression with weight decay); the
        features-only candidate is the ``"mlp"`` backbone with the same widths (none
        when the backbone already is). ``on_validation``: the one fold holds out the
        validation nodes, and every candidate trains as a fit of its own spec would,
        from the fit's seed and keeping its best validation epoch, and is scored
        there; it is kept (``CheckCandidate.trained``) to be the fit's network if
        chosen. Returns ``{name: CheckCandidate}`` (in the check's order of
        preference), the held-out weights (None: equal) and None, or, when the user
        interrupted the check, the candidates scored so far and ``(spec, network,
        histories)`` of the network it was training.
        """
        device = graph.x.device
        objective = data.objective
        outputs = {}  # name: held-out outputs of each fold so far
        specs = {}
        trained = {}  # name: (network, histories) of a candidate the fit may keep

        def batches_for(network_spec, fit_part, held_out):
            """Training batches and the held-out batch, on the tensors the spec needs."""
            backbone = network_spec.backbone
            if backbone not in tensors:
                tensors[backbone] = graph
                if backbone != spec.backbone and BACKBONES[backbone].uses_graph:
                    symmetrize = data.input_state["_symmetrize"]
                    own = graph_tensors(data.inputs, symmetrize, network_spec, device)
                    tensors[backbone] = own
            own = tensors[backbone]
            # Validation nodes pick each candidate's epoch, as they pick the fit's.
            scored = held_out if on_validation else fit_part[:0]
            batches, validation = _whole_graph_batches(own, data, device, fit_part, scored)
            return batches, validation, _labelled_batch(own, data, device, held_out)

        def predict(name, network_spec, network, use_gkedm, held):
            network.eval()
            with torch.no_grad():
                logits = network(held.graph, use_gkedm=use_gkedm).logits
            outputs.setdefault(name, []).append(held.outputs(logits))
            specs[name] = network_spec

        plain = replace(spec, gkedm=False)
        # The backbone alone is the plain candidate, or, when it reads no graph, the
        # features candidate beside a plain graph network.
        backbone_alone = "plain" if BACKBONES[spec.backbone].uses_graph else "features"
        runs = {
            "gkedm": spec,
            backbone_alone: plain,
            "linear": replace(plain, backbone="mlp", edge_dim=0, hidden_dims=(), dropout=0.0),
        }
        if backbone_alone == "plain":
            runs["features"] = replace(plain, backbone="mlp", edge_dim=0)
        else:
            runs["plain"] = replace(plain, backbone=CHECK_GRAPH_BACKBONE, edge_dim=0)
        tensors = {}
        interrupted = None
        held_parts = []
        for fit_part, held_out in folds:
            held_parts.append(held_out)
            for name, network_spec in runs.items():
                # A two-phase schedule scores the plain backbone after its first phase.
                if len(outputs.get(name, ())) == len(held_parts):
                    continue
                batches, validation, held = batches_for(network_spec, fit_part, held_out)
                network = build_seeded(partial(GKEDMNetwork, network_spec), seed).to(device)
                if on_validation:
                    # The candidate may be the fit's network: its dropout draws start
                    # from the fit's seed, as a fit of its spec alone would draw them.
                    context = TrainingContext(fit_generator(seed, device), context.threads)

                def after_phase(use_gkedm, name=name, spec=network_spec, net=network, held=held):
                    if name == "gkedm" and not use_gkedm:
                        name, spec = backbone_alone, plain
                    predict(name, spec, net, use_gkedm, held)

                # A candidate that may be the fit's network shows its training as the
                # fit's would (verbose), named; fold-trained ones are the check's own.
                histories = self._train(
                    network, batches, validation, context, objective=objective,
                    after_phase=after_phase, verbose=None if on_validation else 0,
                    name=f"gkedm_check, {CHECK_NAMES[name]}" if on_validation else "",
                )  # fmt: skip
                if histories[-1].stop_reason == INTERRUPTED:
                    interrupted = (network_spec, network, histories)
                    break
                if on_validation:
                    trained[name] = (network, histories)
            if interrupted is not None:
                break
        # Candidates held out on every fold so far are scored on all of those nodes.
        held_out = np.concatenate(held_parts)
        held_weights = _take(data.weights, held_out)
        weights = None if held_weights is None else np.asarray(held_weights, dtype=np.float64)
        every = _labelled_batch(graph, data, device, held_out)
        found = {}
        for name, parts in outputs.items():
            # Interrupted, a candidate may lack the last fold: scored on those it has.
            rows = slice(0, sum(len(part) for part in held_parts[: len(parts)]))
            targets = every.targets[rows]
            held_w = None if every.weights is None else every.weights[rows]
            joined = torch.cat(parts)
            per_sample = None
            if objective.per_sample is not None:
                per_sample = objective.per_sample(joined, targets, held_w)
                per_sample = per_sample.double().cpu().numpy()
            value = float(objective.score(joined, targets, held_w))
            found[name] = CheckCandidate(specs[name], value, per_sample, trained.get(name))
        # A plain GCN beside a graph-free backbone is an alternative to the fit's own
        # model, not a simpler form of it: it comes last, so it must win clearly.
        order = (
            CHECK_CANDIDATES
            if backbone_alone == "plain"
            else ("linear", "features", "gkedm", "plain")
        )
        ordered = {key: found[key] for key in order if key in found}
        return ordered, weights, interrupted

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


def _take(values, positions):
    return None if values is None else values[positions]


def _labelled_batch(graph, data, device, part):
    """The whole graph's tensors with the labelled samples at positions ``part``."""
    weights = _take(data.weights, part)
    return Batch(
        graph,
        graph.rows_of(torch.as_tensor(data.rows[part], dtype=torch.long, device=device)),
        torch.as_tensor(data.targets[part], device=device),
        None if weights is None else torch.as_tensor(weights, device=device),
    )


def _whole_graph_batches(graph, data, device, train, validation):
    """Full-batch training: every epoch is one step on the whole graph's tensors."""
    whole_graph = _labelled_batch(graph, data, device, train)
    validation_batches = (
        [_labelled_batch(graph, data, device, validation)] if len(validation) else []
    )
    return (lambda generator: [whole_graph]), validation_batches


def _check_choice(candidates, weights, graph_free_margin=CHECK_STANDARD_ERRORS):
    """The first candidate within its margin of the best held-out score.

    ``candidates`` as :meth:`NodeNetworkMixin._check_gkedm` returns them (in order of
    preference); a candidate's margin is ``CHECK_STANDARD_ERRORS`` standard errors of
    the mean paired difference to the best over the held-out nodes, weighted by
    ``weights`` (None: equal), the "one standard error rule" of model selection: a
    richer model must win by more than the noise of the check. The graph-free
    candidates (``CHECK_GRAPH_FREE``) have ``graph_free_margin`` standard errors
    instead. Without per-node shares
    (``per_sample`` None) it is the highest score, the simplest on ties.
    """
    best = max(candidates.values(), key=lambda candidate: candidate.score)
    for name, candidate in candidates.items():
        margin = 0.0
        if best.per_sample is not None and candidate.per_sample is not None:
            difference = best.per_sample - candidate.per_sample
            errors = graph_free_margin if name in CHECK_GRAPH_FREE else CHECK_STANDARD_ERRORS
            margin = errors * standard_error(difference, weights)
        if candidate.score >= best.score - margin:  # true of the best itself
            return name


def standard_error(values, weights):
    """Standard error of the (weighted) mean of ``values``."""
    share = np.full(len(values), 1 / len(values)) if weights is None else weights / weights.sum()
    mean = share @ values
    return float(np.sqrt(np.sum(share**2 * (values - mean) ** 2)))


def _check_folds(train, stratify, random_state):
    """``CHECK_FOLDS`` pairs of positions to fit on and to hold out for ``gkedm_check``.

    Stratified (when ``stratify`` is given and every class has ``CHECK_FOLDS``
    samples), shuffled with ``random_state``: each of ``train`` is held out once.
    """
    if stratify is not None:
        counts = np.bincount(stratify)
        if counts[counts > 0].min() < CHECK_FOLDS:
            stratify = None
    if stratify is None:
        splitter = KFold(CHECK_FOLDS, shuffle=True, random_state=random_state)
    else:
        splitter = StratifiedKFold(CHECK_FOLDS, shuffle=True, random_state=random_state)
    labels = np.zeros(len(train)) if stratify is None else stratify
    return [
        (train[fit_part], train[held_out])
        for fit_part, held_out in splitter.split(np.zeros((len(train), 1)), labels)
    ]


def _float32_rows(chunk):
    """``chunk`` as a writable, C-contiguous float32 array: itself when it is one."""
    if chunk.dtype == np.float32 and chunk.flags.c_contiguous and chunk.flags.writeable:
        return chunk
    return np.array(chunk, dtype=np.float32, order="C")
