"""GKEDMGraphClassifier and GKEDMGraphRegressor: graphs as samples, one label per graph."""

from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    ClassifierTargetsMixin,
    EpochTrainedMixin,
    RegressorTargetsMixin,
    with_class_weight,
)
from ._network_estimator import NETWORK_PARAMETER_CONSTRAINTS, NetworkEstimatorMixin
from ._persistence import PortableStateMixin
from .data._graph_list import as_graph_list, graph_items, joined, rows_as_graphs
from .data._validation import (
    GRAPHS,
    check_graph_width,
    check_not_split_graph,
    check_validation_arguments,
    graph_input_kind,
    refuse_rows_after_graphs,
)
from .loader._graph_batches import GraphBatches
from .nn._network import READOUTS
from .utils._sklearn_compat import Interval, StrOptions, fit_context
from .utils._threads import thread_policy
from .utils._torch_utils import resolve_device

# Graphs per forward pass when predicting: large enough to amortise the per-batch cost,
# small enough that a batch of molecules stays a few MB.
PREDICT_BATCH_GRAPHS = 1024


class GraphEstimatorBase(
    EpochTrainedMixin, NetworkEstimatorMixin, PortableStateMixin, BaseEstimator
):
    """Input handling, training and prediction for graphs as samples (not for direct use).

    Subclasses turn ``y`` into training targets with ``_encode_targets``
    (:class:`~skgkedm._base.ClassifierTargetsMixin`,
    :class:`~skgkedm._base.RegressorTargetsMixin`).
    """

    _parameter_constraints: dict = {
        **NETWORK_PARAMETER_CONSTRAINTS,
        "readout": [StrOptions(set(READOUTS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "directed": ["boolean"],
    }

    def __init__(
        self,
        backbone="gcn",
        hidden_dims=(64, 64, 64),
        *,
        readout="sum",
        batch_size=64,
        gkedm=True,
        gkedm_heads=4,
        gkedm_scoring="cosine",
        gkedm_update="replace",
        gkedm_values="identity",
        gkedm_dropout=0.0,
        gkedm_layers="last",
        schedule="two_phase",
        second_phase_fraction=0.25,
        activation="relu",
        dropout=0.0,
        gat_heads=8,
        learning_rate=0.005,
        weight_decay=0.0,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        directed=False,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.hidden_dims = hidden_dims
        self.readout = readout
        self.batch_size = batch_size
        self.gkedm = gkedm
        self.gkedm_heads = gkedm_heads
        self.gkedm_scoring = gkedm_scoring
        self.gkedm_update = gkedm_update
        self.gkedm_values = gkedm_values
        self.gkedm_dropout = gkedm_dropout
        self.gkedm_layers = gkedm_layers
        self.schedule = schedule
        self.second_phase_fraction = second_phase_fraction
        self.activation = activation
        self.dropout = dropout
        self.gat_heads = gat_heads
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.directed = directed
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _training_data(self, X, y, sample_weight=None, X_val=None, y_val=None,
                       sample_weight_val=None):  # fmt: skip
        """Validate X, y and sample_weight at fit time, adopting what predicting needs.

        Any previous fit is forgotten first. ``X_val``, ``y_val`` and
        ``sample_weight_val``: validation graphs (or rows, as X), appended to the data
        as validation samples.

        Returns
        -------
        TrainingData
        """
        if not (X_val is None and y_val is None and sample_weight_val is None):
            check_validation_arguments(self.early_stopping, X_val, y_val, sample_weight_val)
        self.__dict__.pop("n_iter_", None)
        self.__dict__.pop("feature_names_in_", None)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        graphs = self._graphs_to_fit(X)
        encoded = self._encode_targets(y, len(graphs), False, sample_weight)
        state = {
            "n_features_in_": graphs.n_features,
            "feature_names_in_": getattr(self, "feature_names_in_", None),
            "_fitted_on_rows": self._fitted_on_rows,
            # Predictions read this fitted flag, never the ``directed`` parameter.
            "_symmetrize": not self.directed,
        }
        data = encoded.training_data(graphs, encoded.labelled, state)
        self._adopt_input(data.input_state)
        if X_val is None:
            return data
        validation = self._graphs_like_training(X_val)
        encoded = self._encode_validation_targets(y_val, len(validation), False, sample_weight_val)
        positions = len(graphs) + np.arange(len(validation))
        return data._replace(inputs=joined(graphs, validation)).with_validation(positions, encoded)

    def _readout(self):
        return self.readout

    def _thread_entries(self, data, n_train):
        return _batch_entries(data.inputs, min(self.batch_size, n_train))

    def _training_batches(self, data, spec, device, train, validation, seed, sample_hops):
        """Shuffled mini-batches of ``batch_size`` graphs; validation in large batches."""
        batches = GraphBatches(data.inputs, data.input_state["_symmetrize"], spec, device)
        targets = torch.as_tensor(data.targets).to(device)
        weights = None if data.weights is None else torch.as_tensor(data.weights).to(device)
        batch_size = min(self.batch_size, len(train))
        return (
            (lambda generator: batches.shuffled(train, targets, batch_size, generator, weights)),
            list(batches.in_order(validation, targets, PREDICT_BATCH_GRAPHS, weights)),
            None,
        )

    def _graphs_to_fit(self, X):
        """Validate X at fit time: a GraphList, networkx graphs, or feature rows."""
        self._fitted_on_rows = not _check_graph_input(X)
        if not self._fitted_on_rows:
            return as_graph_list(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=True)
        return rows_as_graphs(X)

    def _graphs_to_predict(self, X):
        check_is_fitted(self)
        return self._graphs_like_training(X)

    def _graphs_like_training(self, X):
        """Validate X against the training input (graphs of its width, or rows)."""
        if _check_graph_input(X):
            graphs = as_graph_list(X)
            check_graph_width(self, graphs.n_features)
            return graphs
        if not self._fitted_on_rows:
            refuse_rows_after_graphs(
                self, "a GraphList or a list of graphs (networkx or torch_geometric Data)"
            )
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return rows_as_graphs(X)

    def _outputs(self, X):
        """The fitted network's outputs for every graph of X, shape (n_graphs, n_outputs)."""
        graphs = self._graphs_to_predict(X)
        device = resolve_device(self.device)
        network = self._fitted_network(device)
        chunk = min(PREDICT_BATCH_GRAPHS, len(graphs))
        with thread_policy(_batch_entries(graphs, chunk)), torch.no_grad():
            batches = GraphBatches(graphs, self._symmetrize, self._architecture, device)
            everything = np.arange(len(graphs))
            outputs = [
                network(batch.graph).logits for batch in batches.in_order(everything, None, chunk)
            ]
        return torch.cat(outputs).double().cpu()


def _check_graph_input(X):
    """Whether X holds graphs; refuse what looks like graphs gone wrong."""
    if graph_input_kind(X) == GRAPHS:
        return True
    check_not_split_graph(X)
    items = graph_items(X)
    if items is not None and len(items) == 0:
        raise ValueError("X is empty: at least one graph is needed.")
    return False


def _batch_entries(graphs, batch_size):
    """Stored entries (edges plus nodes) of an average batch, for the thread policy."""
    entries = graphs.n_edges.sum() + graphs.n_nodes.sum()
    return int(entries * batch_size / len(graphs))


class GKEDMGraphClassifier(ClassifierTargetsMixin, ClassifierMixin, GraphEstimatorBase):
    """Graph neural network classifier of whole graphs, with GKEDM attention.

    Each sample is a graph (a molecule, a protein, a program) with one label. A
    backbone of message-passing layers (GCN, GraphSAGE, GAT or GIN, from PyTorch
    Geometric) and GKEDM attention along each graph's own edges compute node
    representations; a readout pools them per graph and a two-layer head classifies
    the graph. Training runs on shuffled mini-batches of graphs; predicting on new
    graphs is the normal case.

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin"}, default="gcn"
        Message-passing layers. On the molecule sets shipped with skgkedm, GCN with
        GKEDM had the lowest regression errors and GIN the highest, and GAT the best
        solubility-class accuracy at twice GCN's cost (``benchmarks/molecules.py``).
    hidden_dims : int or sequence of int, default=(64, 64, 64)
        Width of each message-passing layer; a node sees ``len(hidden_dims)`` hops.
    readout : {"mean", "sum", "max"}, default="sum"
        How node representations become a graph's: PyTorch Geometric's
        ``global_mean_pool``, ``global_add_pool`` or ``global_max_pool``.
    batch_size : int, default=64
        Counted in graphs (the samples here; in :class:`GKEDMClassifier` it counts
        labelled nodes): graphs per training step. Each epoch visits the training
        graphs in a new order drawn from ``random_state``.
    gkedm : bool, default=True
        Insert the GKEDM module after the last message-passing layer (or every one,
        ``gkedm_layers``); its attention runs along the edges of each graph (graphs
        never exchange messages).
    gkedm_heads : int, default=4
        Attention heads of GKEDM; must divide ``hidden_dims[-1]``.
    gkedm_scoring : {"dot", "cosine", "additive", "uniform"}, default="cosine"
        GKEDM's attention scores, as in :class:`GKEDMClassifier`.
    gkedm_update : {"residual", "gated", "replace"}, default="replace"
        How GKEDM's aggregated neighbourhood updates a node, as in
        :class:`GKEDMClassifier`.
    gkedm_values : {"identity", "projected"}, default="identity"
        GKEDM aggregates the node representations themselves, or learned projections
        of them.
    gkedm_dropout : float, default=0.0
        Dropout on GKEDM's attention weights during training.
    gkedm_layers : {"last", "every"}, default="last"
        GKEDM after the last message-passing layer only, or after every one (then
        ``gkedm_heads`` must divide every hidden width).
    schedule : {"joint", "two_phase", "two_phase_finetune"}, default="two_phase"
        As in :class:`GKEDMClassifier`; the second phase trains GKEDM and the head.
    second_phase_fraction : float, default=0.25
        Share of ``max_epochs`` given to the second phase of a two-phase schedule
        (rounded, at least one epoch; the first phase gets the rest, at least one).
    activation : {"relu", "elu", "gelu", "leaky_relu", "tanh"}, default="relu"
        Activation after each hidden layer and in the head.
    dropout : float, default=0.0
        Dropout on the input features, hidden representations and the head.
    gat_heads : int, default=8
        Attention heads of GAT layers; must divide each hidden width.
    learning_rate : float, default=0.005
        Adam's step size.
    weight_decay : float, default=0.0
        L2 penalty (Adam's weight decay).
    max_epochs : int, default=100
        Passes over the training graphs, over all phases, unless early stopping ends
        sooner; ``max_epochs=1`` runs one epoch of the whole network, as ``"joint"``.
    early_stopping : "auto" or bool, default="auto"
        Validate at every epoch and keep the weights of the epoch with the best
        validation accuracy: on ``fit``'s ``X_val`` and ``y_val`` where given, else on
        ``validation_fraction`` of the graphs held out (stratified). True: stop when
        it has not improved by ``tol`` for ``n_iter_no_change`` epochs. ``"auto"``:
        with ``X_val``, train all ``max_epochs`` and keep the best epoch; without,
        no validation. False: no validation; ``X_val`` is then refused.
    validation_fraction : float, default=0.1
        Share of graphs held out with ``early_stopping`` (unused where ``fit`` is
        given ``X_val``).
    n_iter_no_change : int, default=20
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest validation accuracy gain that counts as an improvement.
    directed : bool, default=False
        If False, messages flow both ways along every edge.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, the batch order and the validation
        split; an int gives identical results on the CPU.
    verbose : int, default=0
        0: silent. 1: a progress bar per phase and a closing line. 2: a line per epoch.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss and the validation score, as
        :class:`~sklearn.linear_model.LogisticRegression` takes them; multiplied with
        ``sample_weight``. Single-label ``y`` only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for a label indicator ``y``, ``arange(n_labels)``.
    n_features_in_ : int
        Features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X of feature rows with string column names.
    n_parameters_ : int
        Trainable parameters of the fitted network.
    n_iter_ : int
        Epochs run, over all phases.
    loss_curve_ : list of float
        Mean training loss at each epoch.
    validation_scores_ : list of float or None
        Validation accuracy at each epoch where the fit validated (``early_stopping``,
        or ``X_val`` given), else None.
    best_validation_score_ : float or None
        Where the fit validated, the validation accuracy of the weights kept: of the
        best epoch of the last phase (an earlier phase's best weights were trained
        further); else None.

    See Also
    --------
    GKEDMGraphRegressor : The same model for continuous targets.
    GraphList : The compact container for many graphs.
    GKEDMClassifier : Nodes of one graph as samples.

    Notes
    -----
    X is a :class:`GraphList`; a list, tuple or pandas Series of networkx graphs
    (node features from the ``"x"`` node attribute, as
    ``torch_geometric.utils.from_networkx`` reads it; graphs without it get 3
    structural features per node); a list or Series of PyTorch Geometric ``Data``
    objects, or a PyG ``Dataset`` (read by :meth:`GraphList.from_pyg`: ``x`` is
    required, ``y`` is not read); or a plain feature matrix, where each row is a graph
    of one node and no edge: the model is then a multilayer perceptron on the rows.
    Converting graphs takes time at every ``fit`` and ``predict``: for a search that
    refits many times, convert once to a GraphList.

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm import GKEDMGraphClassifier
    >>> rings = [nx.cycle_graph(n) for n in range(3, 13)]
    >>> chains = [nx.path_graph(n) for n in range(3, 13)]
    >>> clf = GKEDMGraphClassifier(max_epochs=30, random_state=0)
    >>> clf.fit(rings + chains, [1] * 10 + [0] * 10).predict([nx.cycle_graph(20)])
    array([1])
    """

    _parameter_constraints: dict = {
        **GraphEstimatorBase._parameter_constraints,
        "class_weight": ClassifierTargetsMixin._class_weight_constraint,
    }

    __init__ = with_class_weight(GraphEstimatorBase.__init__)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on graphs and their labels.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Training graphs; or feature rows of shape (n_samples, n_features), each a
            graph of one node.
        y : array-like of shape (n_graphs,) or (n_graphs, n_labels)
            Class of each graph; or a 0/1 label indicator matrix (multi-label).
        sample_weight : array-like of shape (n_graphs,), default=None
            Weight of each graph in the loss and in the validation score of early
            stopping (multiplied by ``class_weight``). Non-negative, not all zero.

        X_val : GraphList, sequence of graphs or {array-like, sparse matrix}, default=None
            Validation graphs (feature rows where X is), never trained on: the fit
            scores them after every epoch and keeps the weights of the epoch of best
            validation accuracy (with ``early_stopping=True`` it also stops after
            ``n_iter_no_change`` epochs without gain). ``validation_fraction`` is then
            unused.
        y_val : array-like of shape (n_val,) or (n_val, n_labels), default=None
            Class (or label indicators) of each validation graph, as ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation graph in the validation score.

        Returns
        -------
        self : GKEDMGraphClassifier
            The fitted estimator.
        """
        return self._fit_validated(
            self._training_data(X, y, sample_weight, X_val, y_val, sample_weight_val)
        )

    def predict_proba(self, X):
        """Class probabilities of each graph.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Graphs to classify (feature rows if the model was fitted on rows).

        Returns
        -------
        proba : ndarray of shape (n_graphs, n_classes)
            Probability of each class, columns ordered as ``classes_``; for a model
            fitted on a label indicator matrix, of each label on its own.
        """
        return self._probabilities(self._outputs(X))

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each graph.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Graphs to classify.

        Returns
        -------
        log_proba : ndarray of shape (n_graphs, n_classes)
            Log-probability of each class, columns ordered as ``classes_``.
        """
        return self._probabilities(self._outputs(X), log=True)

    def predict(self, X):
        """Predict the class of each graph.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Graphs to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_graphs,) or (n_graphs, n_labels)
            Predicted classes, or the predicted label indicator matrix.
        """
        return self._labels_from_probabilities(self.predict_proba(X))


class GKEDMGraphRegressor(RegressorTargetsMixin, RegressorMixin, GraphEstimatorBase):
    """Graph neural network regressor of whole graphs, with GKEDM attention.

    The model of :class:`GKEDMGraphClassifier` with a head that predicts one or
    several continuous targets per graph, trained on the mean squared error of the
    standardised targets. ``score`` is R².

    Parameters
    ----------
    backbone : {"gcn", "sage", "gat", "gin"}, default="gcn"
        Message-passing layers; on FreeSolv, GCN with GKEDM had the lowest error and
        GIN the highest (``benchmarks/molecules.py``).
    hidden_dims : int or sequence of int, default=(64, 64, 64)
        As in :class:`GKEDMGraphClassifier`.
    readout : {"mean", "sum", "max"}, default="sum"
        As in :class:`GKEDMGraphClassifier`.
    batch_size : int, default=64
        As in :class:`GKEDMGraphClassifier`.
    gkedm : bool, default=True
        As in :class:`GKEDMGraphClassifier`.
    gkedm_heads : int, default=4
        As in :class:`GKEDMGraphClassifier`.
    gkedm_scoring : {"dot", "cosine", "additive", "uniform"}, default="cosine"
        As in :class:`GKEDMGraphClassifier`.
    gkedm_update : {"residual", "gated", "replace"}, default="replace"
        As in :class:`GKEDMGraphClassifier`.
    gkedm_values : {"identity", "projected"}, default="identity"
        As in :class:`GKEDMGraphClassifier`.
    gkedm_dropout : float, default=0.0
        As in :class:`GKEDMGraphClassifier`.
    gkedm_layers : {"last", "every"}, default="last"
        As in :class:`GKEDMGraphClassifier`.
    schedule : {"joint", "two_phase", "two_phase_finetune"}, default="two_phase"
        As in :class:`GKEDMGraphClassifier`.
    second_phase_fraction : float, default=0.25
        As in :class:`GKEDMGraphClassifier`.
    activation : {"relu", "elu", "gelu", "leaky_relu", "tanh"}, default="relu"
        As in :class:`GKEDMGraphClassifier`.
    dropout : float, default=0.0
        As in :class:`GKEDMGraphClassifier`.
    gat_heads : int, default=8
        As in :class:`GKEDMGraphClassifier`.
    learning_rate : float, default=0.005
        As in :class:`GKEDMGraphClassifier`.
    weight_decay : float, default=0.0
        As in :class:`GKEDMGraphClassifier`.
    max_epochs : int, default=100
        As in :class:`GKEDMGraphClassifier`.
    early_stopping : "auto" or bool, default="auto"
        As in :class:`GKEDMGraphClassifier`, by the validation R².
    validation_fraction : float, default=0.1
        As in :class:`GKEDMGraphClassifier`.
    n_iter_no_change : int, default=20
        As in :class:`GKEDMGraphClassifier`.
    tol : float, default=1e-4
        Smallest validation R² gain that counts as an improvement.
    directed : bool, default=False
        As in :class:`GKEDMGraphClassifier`.
    device : str, default="auto"
        As in :class:`GKEDMGraphClassifier`.
    random_state : int, RandomState instance or None, default=None
        As in :class:`GKEDMGraphClassifier`.
    verbose : int, default=0
        As in :class:`GKEDMGraphClassifier`.

    Attributes
    ----------
    n_features_in_ : int
        Features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X of feature rows with string column names.
    n_outputs_ : int
        Targets per graph.
    n_parameters_ : int
        Trainable parameters of the fitted network.
    n_iter_ : int
        Epochs run, over all phases.
    loss_curve_ : list of float
        Mean training loss (squared error of the standardised targets) at each epoch.
    validation_scores_ : list of float or None
        Validation R² at each epoch where the fit validated, else None.
    best_validation_score_ : float or None
        Where the fit validated, the validation R² of the weights kept: of the best
        epoch of the last phase; else None.

    See Also
    --------
    GKEDMGraphClassifier : The same model for class labels.
    GraphList : The compact container for many graphs.

    Notes
    -----
    X is taken as by :class:`GKEDMGraphClassifier`. y of shape (n_graphs,) gives
    predictions of that shape; y of shape (n_graphs, n_outputs) predicts every column.
    Targets are standardised for training (mean 0, unit variance per column) and
    predictions mapped back, so their scale does not matter.

    Examples
    --------
    >>> import networkx as nx
    >>> from skgkedm import GKEDMGraphRegressor
    >>> graphs = [nx.path_graph(n) for n in range(2, 30)]
    >>> sizes = [float(len(g)) for g in graphs]
    >>> reg = GKEDMGraphRegressor(batch_size=8, max_epochs=50, random_state=0)
    >>> reg.fit(graphs, sizes).score(graphs, sizes) > 0.9
    True
    >>> reg.predict([nx.path_graph(40)]).round(-1)
    array([40.])
    """

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on graphs and their continuous targets.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Training graphs; or feature rows of shape (n_samples, n_features), each a
            graph of one node.
        y : array-like of shape (n_graphs,) or (n_graphs, n_outputs)
            Target(s) of each graph; finite numbers.
        sample_weight : array-like of shape (n_graphs,), default=None
            Weight of each graph in the loss, in the target standardisation and in
            the validation R² of early stopping. Non-negative, not all zero.

        X_val : GraphList, sequence of graphs or {array-like, sparse matrix}, default=None
            Validation graphs (feature rows where X is), never trained on: the fit
            scores them after every epoch and keeps the weights of the epoch of best
            validation R² (with ``early_stopping=True`` it also stops after
            ``n_iter_no_change`` epochs without gain). ``validation_fraction`` is then
            unused.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Target(s) of each validation graph, as ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation graph in the validation score.

        Returns
        -------
        self : GKEDMGraphRegressor
            The fitted estimator.
        """
        return self._fit_validated(
            self._training_data(X, y, sample_weight, X_val, y_val, sample_weight_val)
        )

    def predict(self, X):
        """Predict the target(s) of each graph.

        Parameters
        ----------
        X : GraphList, sequence of graphs or {array-like, sparse matrix}
            Graphs to predict for (feature rows if the model was fitted on rows).

        Returns
        -------
        y_pred : ndarray of shape (n_graphs,) or (n_graphs, n_outputs)
            Predictions, shaped as the ``y`` the model was fitted on.
        """
        return self._targets_from_outputs(self._outputs(X))
