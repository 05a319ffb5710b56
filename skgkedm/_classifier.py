"""GKEDMClassifier: a GNN backbone with the GKEDM attention module, as an estimator."""

from ._base import GraphClassifierBase, with_class_weight
from ._gkedm_check import CHECK_GRAPH_FREE_STANDARD_ERRORS
from ._node_estimator import NODE_PARAMETER_CONSTRAINTS, NodeNetworkMixin
from .utils._sklearn_compat import fit_context

PROPAGATION_DEFAULTS = {
    "backbone": "mlp",
    "gkedm_position": "output",
    "gkedm_hops": 10,
    "gkedm_normalization": "symmetric",
    "schedule": "joint",
    "consistency": 1.0,
    "dropout": "auto",
}
"""Where GKEDMClassifier's defaults differ from GKEDMRegressor's (shared ``__init__``):
an MLP's class scores propagated ten hops (APPNP's placement, GPR-GNN's learned hop
weights), trained jointly with the consistency loss. Measured in
``benchmarks/gkedm_accuracy.py`` (docs: "When does GKEDM help?")."""

HIDDEN_GKEDM = {
    "backbone": "gcn",
    "gkedm_position": "hidden",
    "gkedm_hops": 1,
    "gkedm_normalization": "mean",
    "schedule": "two_phase",
    "consistency": 0.0,
    "dropout": 0.5,
}
"""The classifier's defaults until 0.2.0.dev0 for the same parameters: one GKEDM step
on a GCN's hidden layer, trained in two phases (the regressor's defaults)."""


class GKEDMClassifier(NodeNetworkMixin, GraphClassifierBase):
    """Graph neural network node classifier with the GKEDM module.

    A backbone (an MLP by default, or message-passing layers: GCN, GraphSAGE, GAT or
    GIN, from PyTorch Geometric) with GKEDM, the Graph Knowledge Enhancement and
    Distillation Module: aggregation along each node's edges, weighted by multi-head
    attention (Wu, 2024) or, by default, equally. By default the module propagates the
    backbone's class scores ten hops, summed with learned per-hop weights that start as
    APPNP's personalised PageRank (``gkedm_position="output"``, ``gkedm_hops=10``), and
    training adds a consistency loss over every node (``consistency=1``): the recipe
    of APPNP, GPR-GNN and GRAND, which measured ahead of PyTorch Geometric's APPNP on
    Cora and CiteSeer (:ref:`when_gkedm_helps`). ``GKEDMClassifier(**HIDDEN_GKEDM)``
    (``skgkedm._classifier``) is the previous default: one step on a GCN's hidden
    layer. Where the labels allow, the fit checks the module against the plain
    backbone on held-out nodes and keeps the better (``gkedm_check``).
    Training is transductive: fitting on ``X[train]`` passes messages over the whole
    graph while only the selected nodes' labels enter the loss; full-batch by default,
    on neighbour-sampled mini-batches with ``batch_size``.

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin", "mlp"}, default="mlp"
        Message-passing layers: graph convolution (Kipf & Welling), GraphSAGE with
        mean aggregation, graph attention, or graph isomorphism network; or ``"mlp"``,
        linear layers on each node's own features that ignore the edges. With
        ``gkedm=False`` an ``"mlp"`` model is *graph-free*: it predicts each sample from
        its own features alone, builds no k-nearest-neighbour graph for plain feature
        rows, and uses only the selected nodes' features of graph input (its edges are
        accepted and ignored). It is the student of graph-free distillation
        (:ref:`graph_free_students`). The default, ``"mlp"`` with GKEDM on its class
        scores, is APPNP's arrangement: predict from the features, then propagate.
    hidden_dims : int or sequence of int, default=(64,)
        Width of each hidden layer; an output layer to the classes follows.
    gkedm : bool, default=True
        Insert the GKEDM module (where ``gkedm_position`` says). False: the backbone
        alone (with the default ``"mlp"``, a model of the features alone).
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
        matrices (k-nearest-neighbour graphs) with ``gkedm_position="hidden"``, where
        it measured at least as accurate as ``"replace"`` on scikit-learn's iris, wine,
        breast_cancer and digits (``benchmarks/tabular.py``, :ref:`performance`); on
        the class scores (``gkedm_position="output"``) it is always ``"replace"``: the
        propagation's teleport keeps each node's own scores, and a residual on top cost
        iris 17 points.
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
    gkedm_hops : int, default=10
        Propagation steps of GKEDM. 1: one attention-weighted aggregation step. More:
        the sum over hops ``k = 0..K`` of ``gamma_k A^k h``, ``K`` steps along the same
        attention weights ``A``, with learned per-hop weights ``gamma`` (which may reach
        zero or below; ``gamma_0`` keeps the node's own representation),
        initialised as personalised PageRank with teleport ``gkedm_alpha``: APPNP's
        propagation, as GPR-GNN learns it (see :class:`skgkedm.nn.GKEDM`). On the
        class scores (the default) ten hops lead; on a GCN's hidden layer, before a GCN
        output layer, they lost on CiteSeer (see :ref:`when_gkedm_helps`). With
        ``batch_size``, the extra hops propagate
        within each sampled neighbourhood.
    gkedm_alpha : float, default=0.1
        Teleport probability of the initial per-hop weights; unused with one hop.
    gkedm_check : "auto" or bool, default="auto"
        Check what the graph and the module are worth before keeping them, by
        two-fold cross-validation over the labelled nodes (stratified): each
        candidate network is trained on one half, as the final fit would train it,
        and predicts the other half, then the other way round, so every labelled node
        is held out once. The candidates, in the order the check prefers them: the
        plain backbone (with a two-phase schedule, the first phase's: the model the
        network wraps), a linear model of each node's own features (no hidden layer,
        no dropout: logistic regression with the weight decay), a network on them
        (the ``"mlp"`` backbone, same widths), and the backbone with GKEDM. When the
        backbone reads no graph (``"mlp"``, the default), it is the network on the
        features, the order is linear, features, GKEDM, and a plain ``"gcn"`` of the
        same widths is the graph network, ranked after the module: an alternative to
        it, chosen only on a clear win. The model is the first candidate whose
        held-out accuracy is within one standard error (of the paired difference over
        the held-out nodes) of the best one's, half of one for the linear model and
        the network on the features: a richer network must win by more than the
        noise of the check, and a model without the graph must come close to the
        best. The final model is that network trained on every
        labelled node, exactly as a fit of it without the check gives it (same seed).
        A model of the features alone predicts from a node's features only (no graph
        needed). The check costs about two to three fits (see :ref:`when_gkedm_helps`).
        ``"auto"`` checks full-batch fits with at least 200 labelled nodes (with
        fewer, the check cannot tell the networks apart, and few labels on a
        homophilous graph are where the module helps most); True always checks
        (full-batch only); False never. Given validation nodes (``fit``'s ``X_val``),
        the check trains each candidate on every labelled node, as a fit of it alone
        would (same seed, best validation epoch kept), and scores it on them instead;
        the chosen candidate is the fitted network, not trained again (one fit per
        candidate in all). ``"auto"`` then checks with at least 200 validation nodes,
        however few the training labels; with fewer, on the training labels as
        without them. The scores are kept in
        ``gkedm_check_scores_``, the choice in ``gkedm_check_choice_``.
    gkedm_position : {"hidden", "output"}, default="output"
        Where GKEDM runs: ``"hidden"``, on the last hidden representations, before the
        output layer (the paper's placement); ``"output"``, on the class scores the
        output layer computes, with one head (class scores have no head structure):
        predict, then propagate, as APPNP (Gasteiger et al., 2019) does. With
        ``backbone="mlp"``, ``gkedm_hops=10`` and ``gkedm_scoring="uniform"`` the
        network is APPNP's, with the per-hop weights learned from its personalised
        PageRank start (exactly APPNP's at initialisation with the default
        ``gkedm_normalization="symmetric"``).
        ``gkedm_layers`` must then be ``"last"``.
    gkedm_normalization : {"mean", "symmetric"}, default="symmetric"
        GKEDM propagates along its attention weights (each node's incoming weights sum
        to 1), or along their symmetric normalisation :math:`D^{1/2} A D^{-1/2}`: with
        equal weights, GCN's and APPNP's :math:`D^{-1/2} (A + I) D^{-1/2}`. See
        :class:`skgkedm.nn.GKEDM`.
    schedule : {"joint", "two_phase", "two_phase_finetune"}, default="joint"
        ``"joint"`` trains backbone and GKEDM together (the default: the propagation
        of the class scores shapes what the MLP learns). ``"two_phase"`` follows the
        paper: first the backbone alone, then GKEDM and the output layer on top of the
        frozen hidden layers (it measured better than joint training on Cora and
        CiteSeer for every backbone with the module on the hidden layer);
        ``"two_phase_finetune"`` trains the whole network, backbone included, in the
        second phase. Without GKEDM there is one phase. Every schedule
        runs at most ``max_epochs`` epochs in all; each phase gets at least one, so
        ``max_epochs=1`` runs a single epoch of the whole network with GKEDM, as
        ``"joint"`` does.
    second_phase_fraction : float, default=0.25
        Share of ``max_epochs`` given to the second phase of a two-phase schedule
        (rounded, at least one epoch); the first phase gets the rest (at least one).
    activation : {"relu", "elu", "gelu", "leaky_relu", "tanh"}, default="relu"
        Activation after each hidden layer.
    dropout : float or "auto", default="auto"
        Dropout on the input features and hidden representations during training.
        Sparse features keep their sparsity: only stored values are dropped.
        ``"auto"`` is 0.5 on a graph and 0 on a plain feature matrix (k-NN graph
        mode), whose few dense columns dropout measured to hurt (iris: 0.927 against
        0.957 without, :ref:`performance`).
    gat_heads : int, default=8
        Attention heads of GAT hidden layers; must divide each hidden width.
    learning_rate : float, default=0.01
        Adam's step size.
    weight_decay : float, default=5e-4
        L2 penalty (Adam's weight decay).
    max_epochs : int, default=200
        Number of epochs (passes over the labelled nodes), over all phases, unless
        early stopping ends sooner (``max_iter`` of
        :class:`~sklearn.neural_network.MLPClassifier`). 100 halves the default's cost
        and scored as well on Cora and CiteSeer (0.836 and 0.726, 10 seeds), but 3 to
        4 points lower on generated graphs of edge homophily 0.5 and 0.7 (2 seeds):
        the MLP's class scores need the epochs there.
    consistency : float, default=1.0
        Weight of a consistency loss over every node of the graph, labelled or not
        (GRAND's consistency regularisation, Feng et al., 2020): each training step
        runs the network on two dropout masks (one pass where the layers allow) and
        pulls both views' class probabilities towards their sharpened mean
        (temperature 0.5; see ``skgkedm.utils._training.consistency_loss``). It uses
        the unlabelled nodes, so it helps most with few labels; an epoch costs up to
        twice as much. Sharpening alone could pull every node into one class with few
        labels (the default on CiteSeer with 5 labels per class: 0.27 accuracy): a
        barrier keeps each class's mean predicted probability at least a quarter of
        its share of the labels, and adds nothing otherwise (there: 0.65, plain GCN
        0.55). The barrier is tuned for a weight of 1: ``consistency=2`` collapsed
        CiteSeer's public split again (0.63 against 0.72; 0.5 scored as 1). 0: one
        view, the cross-entropy alone. It trains the module's predictions: a
        network without GKEDM (``gkedm=False``, the check's plain network, the first
        phase of a two-phase schedule) learns from the labels alone, as consistency
        on an MLP without propagation collapsed on CiteSeer (0.265 accuracy).
    batch_size : int or None, default=None
        Counted in labelled nodes (the samples here; in :class:`GKEDMGraphClassifier`
        it counts graphs). None trains full-batch: each epoch is one step on the whole
        graph. An int trains on mini-batches of that many labelled nodes, each with a neighbourhood
        sampled around it (``fanouts``), as PyTorch Geometric's ``NeighborLoader``
        does, each layer computing only the nodes the next layers read (as PyG's
        ``trim_to_layer``): for graphs whose full-batch training does not fit in
        memory. Predictions always use every edge (exact inference, without
        gradients); a model fitted with ``batch_size`` predicts layer by layer in
        batches of that many nodes (the same outputs as one whole-graph pass up to
        float rounding, in bounded memory; one whole-graph pass with
        ``gkedm_hops > 1`` or ``gkedm_normalization="symmetric"``, as by default).
        See :ref:`mini_batches`.
    fanouts : int, sequence of int or None, default=None
        With ``batch_size``: neighbours sampled per node at each hop of message
        passing, one entry per message-passing layer and GKEDM module
        (``len(hidden_dims) + 2`` by default), -1 for all of them; an int samples that
        many at every hop (-1: all neighbours at every hop); None samples 10 at every
        hop.
    early_stopping : "auto" or bool, default="auto"
        Validate at every epoch and keep the weights of the epoch with the best
        validation accuracy. The validation nodes are ``fit``'s ``X_val`` and ``y_val``
        where given, else ``validation_fraction`` of the labelled samples held
        out (stratified). True: stop when the validation accuracy has not improved by
        ``tol`` for ``n_iter_no_change`` epochs. ``"auto"``: where ``X_val`` is given,
        train all ``max_epochs`` and keep the best epoch (the protocol of PyTorch
        Geometric's examples: stopping after 50 epochs without gain lost 1.4 points
        on chameleon and 3.7 on a generated graph, :ref:`when_gkedm_helps`); else no
        validation. False: no validation; ``X_val`` is then refused.
    validation_fraction : float, default=0.1
        Share of labelled samples held out with ``early_stopping`` (unused where
        ``fit`` is given ``X_val``).
    n_iter_no_change : int, default=50
        Patience of early stopping (``early_stopping=True``), in epochs.
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
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss and in the validation score, as
        :class:`~sklearn.linear_model.LogisticRegression` takes them: ``{class:
        weight}``, or ``"balanced"`` for ``n_labelled / (n_classes *
        np.bincount(y_labelled))``; multiplied with ``sample_weight``. For an
        imbalanced task. Single-label ``y`` only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``-1``, the unlabelled marker, excluded); for a label indicator
        ``y``, ``arange(n_labels)``, as :class:`~sklearn.neural_network.MLPClassifier`
        has it.
    n_features_in_ : int
        Number of features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X with string column names.
    n_parameters_ : int
        Trainable parameters of the fitted network.
    n_iter_ : int
        Epochs run, over all phases.
    transduction_ : ndarray of shape (n_graph_nodes,) or (n_graph_nodes, n_labels)
        Predicted class (or labels) of every node of the training graph, labelled or not, as
        :class:`~sklearn.semi_supervised.LabelSpreading` has it (for feature rows: of
        every training row). With ``batch_size``, computed layer by layer in batches
        of nodes, as ``predict`` is (in bounded memory); not set with ``batch_size``
        and a module that reads every in-edge (``gkedm_hops > 1`` or symmetric
        normalisation, as by default), where it would take a whole-graph pass: call
        ``predict`` on the whole training graph instead.
    loss_curve_ : list of float
        Training loss at each epoch.
    validation_scores_ : list of float or None
        Validation accuracy at each epoch where the fit validated (``early_stopping``,
        or ``X_val`` given), else None.
    best_validation_score_ : float or None
        Where the fit validated, the validation accuracy of the weights kept: of the
        best epoch of the last phase (an earlier phase's best weights were trained
        further); else None.
    gkedm_check_scores_ : dict or None
        With a ``gkedm_check``: held-out accuracy of each network it compared,
        ``"linear"`` (a linear model of the features), ``"features"`` (a network on
        the features alone), ``"plain"`` (the backbone, or a GCN beside an ``"mlp"``
        backbone) and ``"gkedm"`` (the backbone with its module), in the check's order
        of preference; on validation nodes each at its best epoch, the chosen one's
        equal to ``best_validation_score_``. None when no check ran.
    gkedm_check_choice_ : {"linear", "features", "plain", "gkedm"} or None
        The network the check chose, and the fitted model is; None when no check
        ran (the model is then the one the parameters describe).

    See Also
    --------
    DistilledGCNClassifier : Distil a large GKEDM model into a compact one.
    GKEDMGraphClassifier : Whole graphs (molecules) as samples.
    GKEDMRegressor : The same model for continuous node targets.
    GraphNodes : The input container for graphs.
    sklearn.neural_network.MLPClassifier : A neural network on feature rows alone,
        without a graph; the user guide maps its parameters to these.

    Notes
    -----
    A sample is a node of a graph: pass :class:`GraphNodes` (or a networkx graph,
    meaning all of its nodes, where ``y == -1`` marks unlabelled ones). A 0/1 label
    indicator matrix ``y`` trains one sigmoid output per label with binary
    cross-entropy (multi-label, as :class:`~sklearn.neural_network.MLPClassifier`);
    ``predict`` then returns an indicator matrix and ``score`` is subset accuracy.
    A label column with no positive sample is allowed, with a warning. A plain feature
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
        **NODE_PARAMETER_CONSTRAINTS,
        "class_weight": GraphClassifierBase._class_weight_constraint,
    }

    _check_graph_free_standard_errors = CHECK_GRAPH_FREE_STANDARD_ERRORS

    __init__ = with_class_weight(NodeNetworkMixin.__init__, **PROPAGATION_DEFAULTS)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on the labelled samples (nodes) of X.

        Parameters
        ----------
        X : GraphNodes, networkx graph, torch_geometric Data or {array-like, sparse matrix}
            Training nodes with their graph (messages pass over the whole graph), a
            networkx graph or a PyTorch Geometric ``Data`` (all of its nodes, read by
            :meth:`GraphNodes.from_pyg`; its ``y`` is not read), or feature rows of
            shape (n_samples, n_features) joined into a k-nearest-neighbour graph.
            Edge attributes of the graph (``X.edge_attr``) are used by the ``"gin"``
            (GINE) and ``"gat"`` backbones; any other backbone (the default ``"mlp"``
            included) ignores them, with a ``UserWarning``.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class of each sample, ``-1`` marking an unlabelled node; or a 0/1 label
            indicator matrix (multi-label), a row of all ``-1`` marking an unlabelled
            node.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss and in the validation score of early
            stopping (multiplied by ``class_weight``); unlabelled nodes' weights are
            ignored. Non-negative, and positive for at least one labelled sample.

        X_val : GraphNodes, networkx graph or torch_geometric Data, default=None
            Validation nodes of the training graph (``X_val = X.all_nodes[val_index]``,
            or the same networkx graph or ``Data`` as X), never trained on: scored at
            every epoch, the fit keeps the weights of the best epoch (with
            ``early_stopping=True`` it also stops after ``n_iter_no_change`` epochs
            without gain), and with 200 of them or more ``gkedm_check`` scores its
            candidates on them. ``validation_fraction`` is then unused. Not for
            feature rows as X.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Labels of the validation nodes, as ``y``; ``-1`` (a row of ``-1`` for label
            indicators) marks a node that is not validated.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation node in the validation score (multiplied by
            ``class_weight``, as ``sample_weight`` is).

        Returns
        -------
        self : GKEDMClassifier
            The fitted estimator.
        """
        return self._fit_validated(
            self._training_data(X, y, sample_weight, X_val, y_val, sample_weight_val)
        )

    def _predictions_from_outputs(self, outputs):
        return self._labels_from_probabilities(self._probabilities(outputs))

    def _class_scores(self, nodes, symmetrize, log=False):
        """Class probabilities (or their logarithms) of the selected nodes of a graph."""
        return self._probabilities(self._node_outputs(nodes, symmetrize), log=log)
