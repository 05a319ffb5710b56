"""GKEDMRegressor: continuous node targets, with a GNN backbone and GKEDM attention."""

from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._base import NodeEstimatorBase, RegressorTargetsMixin, regression_score
from ._node_estimator import NodeNetworkMixin
from .utils._sklearn_compat import fit_context


class GKEDMRegressor(NodeNetworkMixin, RegressorTargetsMixin, RegressorMixin, NodeEstimatorBase):
    """Graph neural network node regressor with GKEDM attention.

    The model of :class:`GKEDMClassifier` (a backbone of message-passing layers, then
    GKEDM attention along each node's edges) with an output per target, trained on
    the mean squared error of the standardised targets: page traffic, prices, scores
    of the nodes of a graph. Training is transductive (messages pass over the whole
    graph, only labelled nodes enter the loss); full-batch by default, on
    neighbour-sampled mini-batches with ``batch_size``. ``score`` is R².
    Its defaults are the classifier's until 0.2.0.dev0 (one GKEDM step on a GCN's
    hidden layer, two phases): the classifier's propagation defaults
    (``gkedm_position="output"``, ten hops, consistency loss; pass
    ``**skgkedm._classifier.PROPAGATION_DEFAULTS`` to try them) led on one of the
    three regression data sets measured and lost on two (see Notes).

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin"}, default="gcn"
        Message-passing layers, as in :class:`GKEDMClassifier`.
    hidden_dims : int or sequence of int, default=(64,)
        Width of each hidden layer; an output layer to the targets follows.
    gkedm : bool, default=True
        Insert the GKEDM module after the last hidden layer.
    gkedm_heads : int, default=4
        Attention heads of GKEDM; must divide ``hidden_dims[-1]``.
    gkedm_scoring : {"dot", "cosine", "additive", "uniform"}, default="uniform"
        GKEDM's scores, as in :class:`GKEDMClassifier`: by default equal weights (one
        more normalised propagation step).
    gkedm_update : {"auto", "residual", "gated", "replace"}, default="auto"
        How GKEDM's aggregated neighbourhood updates a node; ``"auto"`` is
        ``"replace"`` on graph input and ``"residual"`` on feature rows, as in
        :class:`GKEDMClassifier`. On heterophilous graphs ``"residual"`` measured
        better for regression (see Notes).
    gkedm_values : {"identity", "projected"}, default="identity"
        GKEDM aggregates the node representations, or learned projections of them.
    gkedm_dropout : float, default=0.0
        Dropout on GKEDM's attention weights during training.
    gkedm_layers : {"last", "every"}, default="last"
        GKEDM after the last hidden layer only, or after every hidden layer.
    gkedm_hops : int, default=1
        Propagation steps of GKEDM, with learned per-hop weights, as in
        :class:`GKEDMClassifier`.
    gkedm_alpha : float, default=0.1
        Teleport probability of the initial per-hop weights; unused with one hop.
    gkedm_check : "auto" or bool, default="auto"
        Check the module, the plain backbone, a network on the features alone and a
        linear regression of them by two-fold cross-validation over the labelled
        nodes (by R²), and keep the first of them (the plain backbone first, the
        module last) within one standard error of the best, retrained on every
        labelled node, as
        in :class:`GKEDMClassifier`:
        ``"auto"`` checks full-batch fits with at least 200 labelled nodes, or with
        at least 200 validation nodes given to ``fit`` (``X_val``), which then score
        the candidates, each trained on every labelled node at its best validation
        epoch, the chosen one kept as the fitted network (with fewer validation
        nodes, the training labels decide as without them). The scores are kept in
        ``gkedm_check_scores_``, the choice in ``gkedm_check_choice_``.
    gkedm_position : {"hidden", "output"}, default="hidden"
        GKEDM on the last hidden layer, or on the outputs (then with one head), as in
        :class:`GKEDMClassifier`.
    gkedm_normalization : {"mean", "symmetric"}, default="mean"
        GKEDM propagates along its attention weights, or their symmetric
        normalisation, as in :class:`GKEDMClassifier`.
    schedule : {"joint", "two_phase", "two_phase_finetune"}, default="two_phase"
        Training schedule, as in :class:`GKEDMClassifier`: the backbone first, then
        GKEDM and the output layer on top of it.
    second_phase_fraction : float, default=0.25
        Share of ``max_epochs`` given to the second phase of a two-phase schedule.
    activation : {"relu", "elu", "gelu", "leaky_relu", "tanh"}, default="relu"
        Activation after each hidden layer.
    dropout : float or "auto", default=0.5
        Dropout on the input features and hidden representations during training.
        ``"auto"`` is 0.5 on a graph and 0 on a plain feature matrix, as in
        :class:`GKEDMClassifier`.
    gat_heads : int, default=8
        Attention heads of GAT hidden layers; must divide each hidden width.
    learning_rate : float, default=0.01
        Adam's step size.
    weight_decay : float, default=5e-4
        L2 penalty (Adam's weight decay).
    max_epochs : int, default=200
        Number of epochs, over all phases, unless early stopping ends sooner.
    consistency : float, default=0.0
        Weight of a consistency loss between two dropout views of every node's
        predictions (their mean as the target, no sharpening), as in
        :class:`GKEDMClassifier`; 0: none.
    batch_size : int or None, default=None
        None trains full-batch; an int trains on mini-batches of that many labelled
        nodes with sampled neighbourhoods, and the fitted model predicts layer by
        layer in batches of that many nodes, as :class:`GKEDMClassifier` does (see
        :ref:`mini_batches`).
    fanouts : int, sequence of int or None, default=None
        With ``batch_size``: neighbours sampled per node at each hop, as in
        :class:`GKEDMClassifier`.
    early_stopping : "auto" or bool, default="auto"
        Validate at every epoch and keep the weights of the epoch with the best
        validation R². The validation nodes are ``fit``'s ``X_val`` and ``y_val``
        where given, else ``validation_fraction`` of the labelled samples held
        out. True: stop when the validation R² has not improved by
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
        Smallest validation R² gain that counts as an improvement.
    directed : bool, default=False
        If False, messages flow both ways along every edge of a graph given as
        :class:`GraphNodes` or networkx graph. If True, only from source to target.
    n_neighbors : int, default=10
        For plain feature matrices: each sample is linked to this many nearest
        training samples.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, sampling and the validation split; an
        int gives identical results on the CPU.
    verbose : int, default=0
        0: silent. 1: a progress bar per phase and a closing line. 2: a line per epoch.

    Attributes
    ----------
    n_features_in_ : int
        Number of features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X with string column names.
    n_outputs_ : int
        Targets per node.
    n_parameters_ : int
        Trainable parameters of the fitted network.
    n_iter_ : int
        Epochs run, over all phases.
    transduction_ : ndarray of shape (n_graph_nodes,) or (n_graph_nodes, n_outputs)
        Predicted target(s) of every node of the training graph, labelled or not (for
        feature rows: of every training row); with ``batch_size``, computed in batches
        of nodes, as in :class:`GKEDMClassifier`.
    loss_curve_ : list of float
        Training loss (squared error of the standardised targets) at each epoch.
    validation_scores_ : list of float or None
        Validation R² at each epoch where the fit validated (``early_stopping``,
        or ``X_val`` given), else None.
    best_validation_score_ : float or None
        Where the fit validated, the validation R² of the weights kept, else None.
    gkedm_check_scores_ : dict or None
        With a ``gkedm_check``: held-out R² of each network it compared
        (``"linear"``, ``"features"``, ``"plain"``, ``"gkedm"``); on validation nodes
        each at its best epoch, the chosen one's equal to ``best_validation_score_``.
        None when no check ran.
    gkedm_check_choice_ : {"linear", "features", "plain", "gkedm"} or None
        The network the check chose, and the fitted model is; None when no check
        ran.

    See Also
    --------
    GKEDMClassifier : The same model for class labels.
    GKEDMGraphRegressor : Whole graphs as samples.
    sklearn.neural_network.MLPRegressor : A neural network on feature rows alone.

    Notes
    -----
    X is taken as by :class:`GKEDMClassifier`: :class:`GraphNodes`, a networkx graph
    (all of its nodes), or feature rows joined into a k-nearest-neighbour graph. With
    graph input, a NaN target (a row of NaN for several outputs) marks an unlabelled
    node: it passes messages but does not enter the loss. Infinite targets, and NaN in
    feature-row mode, are refused. y of shape (n_samples,) gives predictions of that
    shape; y of shape (n_samples, n_outputs) predicts every column. Targets are
    standardised for training (weighted mean 0 and unit variance per column) and
    predictions mapped back, so their scale does not matter; a heavy-tailed target
    (traffic, prices) is better fitted on its logarithm
    (:class:`~sklearn.compose.TransformedTargetRegressor`).

    On the heterophilous Wikipedia graphs chameleon and squirrel (``log1p`` traffic,
    ``benchmarks/node_tasks.py``, 5 seeds) the default scored R² 0.63 and 0.41, above
    a ridge regression on the features (0.57, 0.40) and below its plain GCN
    (``gkedm=False``: 0.64, 0.42); ``backbone="sage", gkedm_update="residual",
    schedule="joint"`` scored 0.69 and 0.50. The classifier's recipe scored 0.70 and
    0.41, and lower than the default on feature rows (see :ref:`performance`).

    Examples
    --------
    >>> import numpy as np
    >>> from skgkedm import GKEDMRegressor
    >>> from skgkedm.datasets import make_node_classification
    >>> X, y = make_node_classification(300, n_classes=3, random_state=0)
    >>> target = y + np.random.default_rng(0).normal(0, 0.1, 300)
    >>> reg = GKEDMRegressor(max_epochs=50, random_state=0).fit(X[:200], target[:200])
    >>> reg.predict(X[200:205]).shape
    (5,)
    >>> reg.score(X[200:], target[200:]) > 0.5
    True
    """

    _parameter_constraints: dict = NodeNetworkMixin._parameter_constraints

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on the labelled samples (nodes) of X.

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Training nodes with their graph (messages pass over the whole graph), a
            networkx graph (all of its nodes), or feature rows of shape
            (n_samples, n_features) joined into a k-nearest-neighbour graph.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target(s) of each sample; with graph input, NaN marks an unlabelled node.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss, in the target standardisation and in
            the validation R² of early stopping; unlabelled nodes' weights are
            ignored. Non-negative, and positive for at least one labelled sample.

        X_val : GraphNodes, networkx graph or torch_geometric Data, default=None
            Validation nodes of the training graph, never trained on, as
            :meth:`GKEDMClassifier.fit` takes them: the fit keeps the weights of the
            epoch of best validation R², and with 200 of them or more ``gkedm_check``
            scores its candidates on them.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Target(s) of the validation nodes, as ``y``; NaN marks a node that is not
            validated.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation node in the validation score.

        Returns
        -------
        self : GKEDMRegressor
            The fitted estimator.
        """
        return self._fit_validated(
            self._training_data(X, y, sample_weight, X_val, y_val, sample_weight_val)
        )

    def _predictions_from_outputs(self, outputs):
        return self._targets_from_outputs(outputs)

    def predict(self, X):
        """Predict the target(s) of each sample (node).

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Nodes to predict for, with their graph; or feature rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, shaped as the ``y`` the model was fitted on.
        """
        check_is_fitted(self)
        return self._targets_from_outputs(self._node_outputs(*self._graph_to_predict(X)))

    def score(self, X, y, sample_weight=None):
        """R² of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : GraphNodes, networkx graph or {array-like, sparse matrix}
            Samples (nodes) to score.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets. With graph input, NaN targets (unlabelled nodes) are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` over the scored samples.
        """
        return regression_score(self, X, y, sample_weight)
