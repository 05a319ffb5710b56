"""GKEDMClassifier: a GNN backbone with the GKEDM attention module, as an estimator."""

from dataclasses import replace
from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import GraphClassifierBase
from ._network_estimator import NETWORK_PARAMETER_CONSTRAINTS, NetworkEstimatorMixin
from .data._validation import is_graph_input
from .loader._batch import Batch
from .loader._graph_tensors import feature_tensors, graph_tensors
from .loader._neighbour_sampling import check_fanouts
from .loader._node_batches import NodeBatches
from .nn._backbones import BACKBONES
from .nn._network import GKEDMNetwork
from .utils._sklearn_compat import Interval, Options, StrOptions, fit_context
from .utils._threads import graph_entries, thread_policy
from .utils._torch_utils import build_seeded, fit_generator, resolve_device
from .utils._training import INTERRUPTED, TrainingContext, warn_once

CHECK_MIN_LABELS = 200
"""With ``gkedm_check="auto"``, the fewest labelled training nodes that make a check."""

CHECK_FRACTION = 0.2
"""Share of the labelled training nodes that ``gkedm_check`` holds out."""

FEATURE_CHUNK = 16_384
"""Rows a graph-free network predicts at once (see ``GKEDMClassifier._feature_scores``)."""


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


class GKEDMClassifier(NetworkEstimatorMixin, GraphClassifierBase):
    """Graph neural network node classifier with the GKEDM module.

    A backbone of message-passing layers (GCN, GraphSAGE, GAT or GIN, from PyTorch
    Geometric) followed by GKEDM, the Graph Knowledge Enhancement and Distillation
    Module: aggregation along each node's edges, weighted by multi-head attention
    (Wu, 2024) or, by default, equally (one more normalised propagation step), that
    updates the node's representation. Where the labels allow, the fit checks the
    module against the plain backbone on held-out nodes and keeps the better
    (``gkedm_check``).
    Training is transductive: fitting on ``X[train]`` passes messages over the whole
    graph while only the selected nodes' labels enter the loss; full-batch by default,
    on neighbour-sampled mini-batches with ``batch_size``.

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin", "mlp"}, default="gcn"
        Message-passing layers: graph convolution (Kipf & Welling), GraphSAGE with
        mean aggregation, graph attention, or graph isomorphism network; or ``"mlp"``,
        linear layers on each node's own features that ignore the edges. With
        ``gkedm=False`` an ``"mlp"`` model is *graph-free*: it predicts each sample from
        its own features alone, builds no k-nearest-neighbour graph for plain feature
        rows, and uses only the selected nodes' features of graph input (its edges are
        accepted and ignored). It is the student of graph-free distillation
        (:ref:`graph_free_students`).
    hidden_dims : int or sequence of int, default=(64,)
        Width of each hidden layer; an output layer to the classes follows.
    gkedm : bool, default=True
        Insert the GKEDM module after the last hidden layer.
    gkedm_heads : int, default=4
        Attention heads of GKEDM; must divide ``hidden_dims[-1]``.
    gkedm_scoring : {"dot", "cosine", "additive", "uniform"}, default="uniform"
        GKEDM's scores: equal weights on all of a node's edges (no attention: the
        module is then a normalised propagation step), the paper's scaled dot product
        of learned query and key projections, cosine similarity with a learned
        temperature, or additive (GATv2-style) scoring. See :class:`skgkedm.nn.GKEDM`.
        The default is the equal-weight step because no attention measured better:
        cosine attention, the default until 0.2.0.dev0, scored within 0.2 points of
        it on Cora and CiteSeer and wherever else both were measured, and costs more
        (see :ref:`when_gkedm_helps`). With it, :meth:`attention_weights` returns
        uniform weights; distillation of attention maps needs an attention scoring
        (the distiller's defaults use ``"cosine"``). The paper's module is
        ``gkedm_scoring="dot", gkedm_update="residual"`` trained with
        ``schedule="joint"``: ``GKEDMClassifier(**skgkedm.PAPER_GKEDM)``.
    gkedm_update : {"auto", "residual", "gated", "replace"}, default="auto"
        How GKEDM's aggregated neighbourhood updates a node: added with a learned
        scale (starting at 0), mixed in through a learned per-node gate, or replacing
        the node's representation (an extra, attention-weighted aggregation step).
        ``"auto"`` is ``"replace"`` on graph input and ``"residual"`` on plain feature
        matrices (k-nearest-neighbour graphs), where it measured at least as accurate
        as ``"replace"`` on scikit-learn's iris, wine, breast_cancer and digits
        (``benchmarks/tabular.py``, :ref:`performance`).
    gkedm_values : {"identity", "projected"}, default="identity"
        GKEDM aggregates the node representations themselves, or learned projections
        of them (with an output projection).
    gkedm_dropout : float, default=0.0
        Dropout on GKEDM's attention weights during training.
    gkedm_layers : {"last", "every"}, default="last"
        GKEDM after the last hidden layer only, or after every hidden layer (then
        ``gkedm_heads`` must divide every hidden width). Deep backbones over-smooth;
        attention after each layer is meant to counter it. Measured, it lifts deep
        GCNs and GIN but breaks deep GraphSAGE and GAT, and an equal-weight step
        (``gkedm_scoring="uniform"``) does as well (see :ref:`performance`).
        ``attention_weights`` and distillation use the module after the last layer.
    gkedm_hops : int, default=1
        Propagation steps of GKEDM. 1: one attention-weighted aggregation step. More:
        the sum over hops ``k = 0..K`` of ``gamma_k A^k h``, ``K`` steps along the same
        attention weights ``A``, with learned per-hop weights ``gamma`` (which may reach
        zero or below; ``gamma_0`` keeps the node's own representation),
        initialised as personalised PageRank with teleport ``gkedm_alpha``: APPNP's
        propagation, as GPR-GNN learns it (see :class:`skgkedm.nn.GKEDM`). Measured, ten
        hops gain on strongly homophilous graphs with few labels and lose on CiteSeer
        (see :ref:`when_gkedm_helps`). With ``batch_size``, the extra hops propagate
        within each sampled neighbourhood.
    gkedm_alpha : float, default=0.1
        Teleport probability of the initial per-hop weights; unused with one hop.
    gkedm_check : "auto" or bool, default="auto"
        Check that GKEDM beats the plain backbone before keeping it: a fifth of the
        labelled nodes (stratified) is held out, the network is trained on the rest and
        scored on them with and without the module (with a two-phase schedule, the
        first phase's backbone is the plain network), and the final model, trained on
        every labelled node, keeps GKEDM only if it scored at least as well; otherwise
        it is the plain backbone, exactly as ``gkedm=False`` fits it. The check costs
        about one more fit. ``"auto"`` checks full-batch fits with at least 200
        labelled nodes (with fewer, 40 held-out nodes cannot tell the two apart, and
        few labels are where the module helps most); True always checks (full-batch
        only); False never. The scores are kept in ``gkedm_check_scores_``.
    schedule : {"joint", "two_phase", "two_phase_finetune"}, default="two_phase"
        ``"two_phase"`` follows the paper: first the backbone alone, then GKEDM and the
        output layer on top of the frozen hidden layers (it measured better than joint
        training on Cora and CiteSeer for every backbone). ``"joint"`` trains backbone
        and GKEDM together; ``"two_phase_finetune"`` trains the whole network, backbone
        included, in the second phase. Without GKEDM there is one phase. Every schedule
        runs at most ``max_epochs`` epochs in all; each phase gets at least one, so
        ``max_epochs=1`` runs a single epoch of the whole network with GKEDM, as
        ``"joint"`` does.
    second_phase_fraction : float, default=0.25
        Share of ``max_epochs`` given to the second phase of a two-phase schedule
        (rounded, at least one epoch); the first phase gets the rest (at least one).
    activation : {"relu", "elu", "gelu", "leaky_relu", "tanh"}, default="relu"
        Activation after each hidden layer.
    dropout : float, default=0.5
        Dropout on the input features and hidden representations during training.
        Sparse features keep their sparsity: only stored values are dropped.
    gat_heads : int, default=8
        Attention heads of GAT hidden layers; must divide each hidden width.
    learning_rate : float, default=0.01
        Adam's step size.
    weight_decay : float, default=5e-4
        L2 penalty (Adam's weight decay).
    max_epochs : int, default=200
        Number of epochs (passes over the labelled nodes), over all phases, unless
        early stopping ends sooner (``max_iter`` of
        :class:`~sklearn.neural_network.MLPClassifier`).
    batch_size : int or None, default=None
        Counted in labelled nodes (the samples here; in :class:`GKEDMGraphClassifier`
        it counts graphs). None trains full-batch: each epoch is one step on the whole
        graph. An int trains on mini-batches of that many labelled nodes, each with a neighbourhood
        sampled around it (``fanouts``), as PyTorch Geometric's ``NeighborLoader``
        does: for graphs whose full-batch training does not fit in memory. Predictions
        always use every edge (exact inference, without gradients). See
        :ref:`mini_batches`.
    fanouts : int, sequence of int or None, default=None
        With ``batch_size``: neighbours sampled per node at each hop of message
        passing, one entry per message-passing layer and GKEDM module
        (``len(hidden_dims) + 2`` by default), -1 for all of them; an int samples that
        many at every hop (-1: all neighbours at every hop); None samples 10 at every
        hop.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labelled samples (stratified), stop
        when their accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Share of labelled samples held out with ``early_stopping``.
    n_iter_no_change : int, default=50
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest validation accuracy gain that counts as an improvement.
    directed : bool, default=False
        If False, messages flow both ways along every edge of a graph given as
        :class:`GraphNodes` or networkx graph. If True, only from source to target.
    n_neighbors : int, default=10
        For plain feature matrices: each sample is linked to this many nearest
        training samples.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.
        A CUDA request on a machine without CUDA falls back to the CPU with a warning.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and the validation split; an int gives
        identical results on the CPU, also when fits run at once in threads or
        processes. torch's global random state is left as it was.
    verbose : int, default=0
        0: silent. 1: a progress bar per phase (tqdm when installed, else a line every
        tenth of the phase) with the loss and validation accuracy, and a closing line
        per phase (epochs run, why it stopped, the epoch whose weights were kept).
        2: a line per epoch, and the closing lines.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``-1``, the unlabelled marker, excluded).
    n_features_in_ : int
        Number of features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X with string column names.
    n_parameters_ : int
        Trainable parameters of the fitted network.
    n_iter_ : int
        Epochs run, over all phases.
    transduction_ : ndarray of shape (n_graph_nodes,)
        Predicted class of every node of the training graph, labelled or not, as
        :class:`~sklearn.semi_supervised.LabelSpreading` has it (for feature rows: of
        every training row). Full-batch fits only: with ``batch_size`` it would take a
        whole-graph forward pass, the memory peak mini-batches avoid; call ``predict``
        on the whole training graph instead.
    loss_curve_ : list of float
        Training loss at each epoch.
    validation_scores_ : list of float or None
        Validation accuracy at each epoch with ``early_stopping``, else None.
    best_validation_score_ : float or None
        With ``early_stopping``, the validation accuracy of the weights kept: of the
        best epoch of the last phase (an earlier phase's best weights were trained
        further); else None.
    gkedm_check_scores_ : dict or None
        With a ``gkedm_check``: held-out accuracy of the network with (``"gkedm"``)
        and without (``"plain"``) its module; the fitted network has GKEDM only if
        ``"gkedm"`` is not the lower. None when no check ran.

    See Also
    --------
    DistilledGCNClassifier : Distil a large GKEDM model into a compact one.
    GKEDMGraphClassifier : Whole graphs (molecules) as samples.
    GraphNodes : The input container for graphs.
    sklearn.neural_network.MLPClassifier : A neural network on feature rows alone,
        without a graph; the user guide maps its parameters to these.

    Notes
    -----
    A sample is a node of a graph: pass :class:`GraphNodes` (or a networkx graph,
    meaning all of its nodes, where ``y == -1`` marks unlabelled ones). A plain feature
    matrix is turned into a k-nearest-neighbour graph; at predict time each new sample
    receives messages from its nearest training samples only.

    The fitted estimator keeps weights as NumPy arrays, not the graph: pickles and
    joblib files hold no torch objects and load on machines without a GPU.

    References
    ----------
    Wu, 2024. "Attention is all you need for boosting graph convolutional neural
    network." arXiv:2403.15419.

    Examples
    --------
    >>> from skgkedm import GKEDMClassifier
    >>> from skgkedm.datasets import make_node_classification
    >>> X, y = make_node_classification(300, n_classes=3, random_state=0)
    >>> clf = GKEDMClassifier(max_epochs=50, random_state=0).fit(X[:200], y[:200])
    >>> clf.predict(X[200:205]).shape
    (5,)
    >>> round(clf.score(X[200:], y[200:]), 1) >= 0.5
    True
    """

    _parameter_constraints: dict = {
        **NETWORK_PARAMETER_CONSTRAINTS,
        **GraphClassifierBase._parameter_constraints,
        "gkedm_hops": [Interval(Integral, 1, None, closed="left")],
        "gkedm_alpha": [Interval(Real, 0, 1, closed="both")],
        "gkedm_check": [StrOptions({"auto"}), "boolean"],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "fanouts": [
            None,
            Interval(Integral, 1, None, closed="left"),
            Options(Integral, {-1}),
            "array-like",
        ],
    }

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
        schedule="two_phase",
        second_phase_fraction=0.25,
        activation="relu",
        dropout=0.5,
        gat_heads=8,
        learning_rate=0.01,
        weight_decay=5e-4,
        max_epochs=200,
        batch_size=None,
        fanouts=None,
        early_stopping=False,
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
        self.schedule = schedule
        self.second_phase_fraction = second_phase_fraction
        self.activation = activation
        self.dropout = dropout
        self.gat_heads = gat_heads
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
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

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on the labelled samples (nodes) of X.

        Parameters
        ----------
        X : GraphNodes, networkx graph, torch_geometric Data or {array-like, sparse matrix}
            Training nodes with their graph (messages pass over the whole graph), a
            networkx graph or a PyTorch Geometric ``Data`` (all of its nodes, read by
            :meth:`GraphNodes.from_pyg`; its ``y`` is not read), or feature rows of
            shape (n_samples, n_features) joined into a k-nearest-neighbour graph.
            Edge attributes of the graph (``X.edge_attr``) are used by the ``"gin"``
            (GINE) and ``"gat"`` backbones.
        y : array-like of shape (n_samples,)
            Class of each sample; ``-1`` marks an unlabelled node.

        Returns
        -------
        self : GKEDMClassifier
            The fitted estimator.
        """
        return self._fit_validated(self._labelled_graph(X, y))

    def _fit_validated(self, labelled, extra_loss=None, sample_hops=None):
        """Train on a validated :class:`LabelledGraph`, adopting its input state.

        The one entry point of composite estimators (the distiller validates X once and
        trains its members through it). ``extra_loss(output, batch)`` adds a term to the
        loss of the phase that runs GKEDM (or of the only phase). ``sample_hops``: with
        ``batch_size``, sample neighbourhoods at least this many hops deep (for a deeper
        teacher run on the same batches); the extra outer hops take the last fan-out.
        """
        self.__dict__.pop("n_iter_", None)
        self._adopt_input(labelled)
        spec = self._network_spec(
            labelled.nodes.n_features,
            len(labelled.classes),
            edge_dim=labelled.nodes.n_edge_features,
            feature_rows=labelled.knn_graph is not None,
            hops=self.gkedm_hops,
            alpha=self.gkedm_alpha,
        )
        if spec.edge_dim and self.batch_size is not None:
            raise ValueError(
                f"The graph has edge attributes, which the {self.backbone!r} layers use, but "
                "neighbour-sampled mini-batches (batch_size) do not carry them yet: train "
                "full-batch (batch_size=None), or drop them with "
                "GraphNodes(X.adjacency, X.features)[X.indices]."
            )
        device = resolve_device(self.device)
        random_state = check_random_state(self.random_state)
        train, validation = self._validation_split(
            len(labelled.rows), labelled.targets, random_state
        )
        fanouts = check_fanouts(self.fanouts, spec.message_hops)
        fanouts += fanouts[-1:] * max(0, (sample_hops or 0) - len(fanouts))
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        checked = extra_loss is None and self._checks_gkedm(spec, len(train))
        check_split = None
        if checked:
            check_split = _check_split(train, labelled.targets, random_state)
        self.gkedm_check_scores_ = None
        context = TrainingContext(fit_generator(seed, device))
        with thread_policy(graph_entries(labelled.nodes)) as context.threads:
            graph = None
            if self.batch_size is None:
                graph = graph_tensors(labelled.nodes, labelled.symmetrize, spec, device)
                if checked:
                    scores, interrupted = self._check_gkedm(
                        spec, seed, graph, labelled, device, check_split, context
                    )
                    self.gkedm_check_scores_ = scores
                    if scores.get("gkedm", 1.0) < scores.get("plain", 0.0):
                        spec = replace(spec, gkedm=False)
                    context = TrainingContext(fit_generator(seed, device), context.threads)
                batches, validation_batches = _whole_graph_batches(
                    graph, labelled, device, train, validation
                )
            else:
                batches, validation_batches = self._sampled_batches(
                    labelled, spec, device, train, validation, fanouts, seed
                )
            if checked and interrupted is not None:
                # Ctrl-C during the check: keep the network it was training, as a fit
                # interrupted in its own training keeps its weights so far.
                network, histories = interrupted
            else:
                network = build_seeded(lambda: GKEDMNetwork(spec), seed).to(device)
                histories = self._train(
                    network, batches, validation_batches, context, extra_loss=extra_loss
                )
            # Mini-batch fits skip the whole-graph forward pass: it would set their
            # memory peak. ``predict`` on the training graph gives the same labels.
            self.__dict__.pop("transduction_", None)
            if graph is not None:
                network.eval()
                with torch.no_grad():
                    logits = network(graph).logits
                self.transduction_ = self.classes_[logits.argmax(dim=1).cpu().numpy()]
        warn_once(histories, self.early_stopping)
        self._store_network(spec, network, histories)
        return self

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

    def _check_gkedm(self, spec, seed, graph, labelled, device, split, context):
        """Held-out accuracy of the network with and without its GKEDM module.

        One network of ``spec`` is trained on the ``split[0]`` positions of the
        labelled samples; with a two-phase schedule the backbone of phase 1 is the
        plain network (scored after it), and GKEDM is scored after phase 2. A single
        phase trains a plain network beside it. Both are scored on ``split[1]``.
        Returns the scores and None, or, when the user interrupted the check, the
        scores so far and ``(network, histories)`` of the interrupted network.
        """
        fit_part, held_out = split
        batches, _ = _whole_graph_batches(graph, labelled, device, fit_part, fit_part[:0])
        rows = torch.as_tensor(labelled.rows[held_out], dtype=torch.long, device=device)
        targets = torch.as_tensor(labelled.targets[held_out], dtype=torch.long, device=device)
        scores = {}

        def score(network, use_gkedm):
            network.eval()
            with torch.no_grad():
                logits = network(graph, use_gkedm=use_gkedm).logits
            accuracy = (logits[rows].argmax(dim=1) == targets).double().mean().item()
            scores["gkedm" if use_gkedm else "plain"] = accuracy

        # A two-phase schedule scores the plain backbone after its first phase; a single
        # phase (joint, or too few epochs for two) needs a plain network of its own.
        for network_spec in (spec, replace(spec, gkedm=False)):
            if "plain" in scores:
                break
            network = build_seeded(partial(GKEDMNetwork, network_spec), seed).to(device)
            histories = self._train(
                network, batches, [], context, verbose=0,
                after_phase=lambda use_gkedm, network=network: score(network, use_gkedm),
            )  # fmt: skip
            if histories[-1].stop_reason == INTERRUPTED:
                return scores, (network, histories)
        if self.verbose:
            kept = "keeps GKEDM" if scores["gkedm"] >= scores["plain"] else "drops GKEDM"
            print(
                f"gkedm_check: held-out accuracy {scores['gkedm']:.3f} with GKEDM, "
                f"{scores['plain']:.3f} without: the model {kept}",
                flush=True,
            )
        return scores, None

    def _sampled_batches(self, labelled, spec, device, train, validation, fanouts, seed):
        """Mini-batches of ``batch_size`` labelled nodes with sampled neighbourhoods.

        Validation batches are sampled once, so every epoch is scored on the same ones.
        """
        sampled = NodeBatches(labelled.nodes, labelled.symmetrize, spec, device, fanouts, seed)
        rows, targets = labelled.rows, labelled.targets
        validation_batches = list(
            sampled.in_order(rows[validation], targets[validation], self.batch_size)
        )
        return (
            lambda generator: sampled.shuffled(rows[train], targets[train], self.batch_size)
        ), validation_batches

    def _network_output(self, nodes, symmetrize, device=None):
        """Run the fitted network on a whole graph in evaluation mode.

        Reads only fitted state; ``device`` is resolved from the ``device`` parameter
        when not given. Returns ``(NetworkOutput, GraphTensors)``.
        """
        device = resolve_device(self.device) if device is None else device
        network = self._fitted_network(device)
        with thread_policy(graph_entries(nodes)), torch.no_grad():
            graph = graph_tensors(nodes, symmetrize, self._architecture, device)
            return network(graph), graph

    def _fits_without_graph(self):
        return not self.gkedm and not BACKBONES[self.backbone].uses_graph

    def _predicts_without_graph(self):
        return self._architecture.graph_free

    def _class_scores(self, nodes, symmetrize, log=False):
        """Class probabilities (or their logarithms) of the selected nodes of a graph.

        ``log=None`` gives the network's class scores unnormalised, which rank the
        classes as the probabilities do: all ``predict`` needs.
        """
        if self._architecture.graph_free:
            return self._feature_scores(nodes.features, nodes.indices, log)
        output, _ = self._network_output(nodes, symmetrize)
        rows = torch.tensor(nodes.indices, dtype=torch.long, device=output.logits.device)
        return _normalised(output.logits[rows], log)

    def _feature_scores(self, features, rows, log):
        """Class probabilities (or logarithms) of a graph-free network, from features alone.

        Only the ``rows`` of ``features`` are read, no edge: each row's scores are its
        own, so the rows go through the network in chunks of ``FEATURE_CHUNK``, which
        keeps memory bounded and reuses the same buffers from chunk to chunk.
        """
        device = resolve_device(self.device)
        network = self._fitted_network(device)
        scores = np.empty((len(rows), self._architecture.n_classes))
        everything = np.array_equal(rows, np.arange(features.shape[0]))
        with thread_policy(len(rows)), torch.no_grad():
            for start in range(0, len(rows), FEATURE_CHUNK):
                stop = start + FEATURE_CHUNK
                chunk = features[start:stop] if everything else features[rows[start:stop]]
                logits = network(feature_tensors(chunk, device)).logits
                scores[start:stop] = _normalised(logits, log)
        return scores

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
            (self-loops included), weights of shape (n_edges, gkedm_heads).

        Examples
        --------
        >>> from skgkedm import GKEDMClassifier
        >>> from skgkedm.datasets import make_node_classification
        >>> X, y = make_node_classification(100, random_state=0)
        >>> clf = GKEDMClassifier(max_epochs=5, random_state=0).fit(X, y)
        >>> attention = clf.attention_weights(X[[0]])
        >>> attention.weights.shape[1]
        4
        >>> bool((attention.target == 0).all())
        True
        >>> attention.weights.sum(axis=0).round(4).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        check_is_fitted(self)
        if not is_graph_input(X):
            raise TypeError(
                f"attention_weights needs GraphNodes or a networkx graph, got {type(X).__name__}."
            )
        if not self._architecture.gkedm:
            raise ValueError(
                "This model has no GKEDM module, so no attention: it was fitted with "
                "gkedm=False, or its gkedm_check found the plain backbone better "
                f"(held-out accuracy {self.gkedm_check_scores_})."
            )
        nodes, symmetrize = self._graph_to_predict(X)
        output, graph = self._network_output(nodes, symmetrize)
        source, target = graph.attention_index.cpu().numpy()
        keep = np.isin(target, nodes.indices)
        ids = nodes.all_nodes.node_ids
        return AttentionWeights(
            ids[source[keep]], ids[target[keep]], output.attention[keep].cpu().numpy()
        )


def _check_split(train, targets, random_state):
    """Positions to fit on and to hold out (a fifth, stratified) for ``gkedm_check``."""
    stratify = targets[train]
    counts = np.bincount(stratify)
    if counts[counts > 0].min() < 2:
        stratify = None
    fit_part, held_out = train_test_split(
        train, test_size=CHECK_FRACTION, stratify=stratify, random_state=random_state
    )
    return np.sort(fit_part), np.sort(held_out)


def _normalised(logits, log):
    """Probabilities (``log=False``), log-probabilities (True) or the logits (None), in NumPy."""
    if log is None:
        return logits.cpu().numpy()
    normalise = torch.log_softmax if log else torch.softmax
    return normalise(logits.double(), dim=1).cpu().numpy()


def _whole_graph_batches(graph, labelled, device, train, validation):
    """Full-batch training: every epoch is one step on the whole graph's tensors."""

    def labelled_rows(part):
        rows = torch.as_tensor(labelled.rows[part], dtype=torch.long, device=device)
        targets = torch.as_tensor(labelled.targets[part], dtype=torch.long, device=device)
        return Batch(graph, rows, targets)

    whole_graph = labelled_rows(train)
    validation_batches = [labelled_rows(validation)] if len(validation) else []
    return (lambda generator: [whole_graph]), validation_batches
