"""What every estimator built on a GKEDMNetwork shares: its spec, schedule and fitted weights."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._spec import NetworkSpec
from .data._validation import check_hidden_dims
from .nn._backbones import BACKBONES
from .nn._gkedm import SCORINGS, UPDATES, VALUES
from .nn._network import GKEDMNetwork
from .utils._sklearn_compat import Interval, StrOptions
from .utils._threads import thread_policy
from .utils._torch_utils import build_seeded, fit_generator, resolve_device
from .utils._training import (
    CLASSIFICATION,
    INTERRUPTED,
    TrainingContext,
    TrainingSchedule,
    train_network,
    warn_once,
)
from .utils._warnings import warn_at_caller

ACTIVATIONS = {"relu", "elu", "gelu", "leaky_relu", "tanh"}

NETWORK_PARAMETER_CONSTRAINTS = {
    "backbone": [StrOptions(set(BACKBONES))],
    "hidden_dims": ["array-like", Interval(Integral, 1, None, closed="left")],
    "gkedm": ["boolean"],
    "gkedm_heads": [Interval(Integral, 1, None, closed="left")],
    "gkedm_scoring": [StrOptions(set(SCORINGS))],
    "gkedm_update": [StrOptions({*UPDATES, "auto"})],
    "gkedm_values": [StrOptions(set(VALUES))],
    "gkedm_dropout": [Interval(Real, 0, 1, closed="left")],
    "gkedm_layers": [StrOptions({"last", "every"})],
    "schedule": [StrOptions({"joint", "two_phase", "two_phase_finetune"})],
    "second_phase_fraction": [Interval(Real, 0, 1, closed="neither")],
    "activation": [StrOptions(ACTIVATIONS)],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "gat_heads": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": [StrOptions({"auto"}), "boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}
"""Constraints of the parameters every network estimator takes (scikit-learn's format)."""


AUTO_DROPOUT = 0.5
"""What ``dropout="auto"`` is on a graph (on feature rows it is 0)."""


def resolve_dropout(dropout, feature_rows):
    """The dropout rate of a fit: ``dropout``, or for ``"auto"`` ``AUTO_DROPOUT`` on a
    graph and 0 on feature rows (``feature_rows``: X was a plain feature matrix).

    A k-nearest-neighbour graph of feature rows is built from a handful of dense,
    measured columns (iris has 4): dropping half of them at each step, as dropout on
    a graph's bag-of-words features does harmlessly, cost the default 3 points on
    iris (``benchmarks/tabular.py``).

    Examples
    --------
    >>> from skgkedm._network_estimator import resolve_dropout
    >>> resolve_dropout("auto", feature_rows=False), resolve_dropout("auto", True)
    (0.5, 0.0)
    >>> resolve_dropout(0.2, feature_rows=True)
    0.2
    """
    if dropout == "auto":
        return 0.0 if feature_rows else AUTO_DROPOUT
    return dropout


class NetworkEstimatorMixin:
    """Build, train and keep a GKEDMNetwork from the estimator's parameters (not for direct use).

    The estimator holds the parameters constrained by ``NETWORK_PARAMETER_CONSTRAINTS``.
    A fit validates its input into a :class:`~skgkedm._base.TrainingData` and runs
    :meth:`_fit_validated`, the one training pipeline: it builds a
    :class:`~skgkedm._spec.NetworkSpec` with :meth:`_network_spec`, asks the
    estimator for its batches (the hooks :meth:`_thread_entries` and
    :meth:`_training_batches`), trains through :meth:`_train`, lets
    :meth:`_after_training` read the trained network, and keeps the result with
    :meth:`_store_network`; predictions rebuild the network from that fitted state
    with :meth:`_fitted_network`.
    """

    def _readout(self):
        """The network's readout: None for nodes as samples (graph estimators override)."""
        return None

    def _fit_validated(self, data, extra_loss=None, sample_hops=None):
        """Train on validated :class:`~skgkedm._base.TrainingData`, adopting its input state.

        The one entry point of composite estimators: the distiller validates X and y
        once and trains teacher and student through it. ``extra_loss(output, batch)``
        adds a term to the loss of the phase that runs GKEDM (or of the only phase).
        ``sample_hops``: with sampled mini-batches of nodes, sample neighbourhoods at
        least this many hops deep (for a deeper teacher run on the same batches).
        """
        self.__dict__.pop("n_iter_", None)
        self._adopt_input(data.input_state)
        spec = self._network_spec(
            data.inputs.n_features,
            data.n_outputs,
            self._readout(),
            edge_dim=data.inputs.n_edge_features,
            feature_rows=data.input_state.get("_knn_graph") is not None,
        )
        warn_ignored_edge_attributes(data.inputs.n_edge_features, spec)
        device = resolve_device(self.device)
        random_state = check_random_state(self.random_state)
        validates = self._validates(data.n_validation)
        train, validation = self._validation_split(
            len(data.rows), data.stratify, random_state, validates, data.n_validation
        )
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        context = TrainingContext(fit_generator(seed, device))
        with thread_policy(self._thread_entries(data, len(train))) as context.threads:
            batches, validation_batches, prepared = self._training_batches(
                data, spec, device, train, validation, seed, sample_hops
            )
            # A checked module may give way to the plain backbone or to a network on
            # the features alone (distillation's extra loss needs the module, so it is
            # never checked).
            checked, trained = self._checked_spec(
                spec, data, train, validation, random_state, seed, prepared,
                context.threads, checkable=extra_loss is None,
            )  # fmt: skip
            if checked.backbone != spec.backbone:
                # The check chose another backbone: train on (or read) its tensors.
                batches, validation_batches, prepared = self._training_batches(
                    data, checked, device, train, validation, seed, sample_hops
                )
            spec = checked
            if trained is not None:
                # The check trained the network the fit keeps: with validation nodes,
                # the chosen candidate (as this fit would train it); after Ctrl-C in
                # the check, the network it was training, as a fit interrupted in its
                # own training keeps its weights so far.
                network, histories = trained
            else:
                network = build_seeded(lambda: GKEDMNetwork(spec), seed).to(device)
                histories = self._train(
                    network,
                    batches,
                    validation_batches,
                    context,
                    objective=data.objective,
                    extra_loss=extra_loss,
                )
            # The batch builders (a sampler's copy of the graph) are done with: freed
            # before the whole-graph work of _after_training.
            del batches, validation_batches
            self._after_training(network, data, spec, device, prepared)
        warn_once(histories, self._stops_early())
        self._store_network(spec, network, histories, validates)
        return self

    def _thread_entries(self, data, n_train):
        """Hook: stored entries (edges plus nodes) one training step handles."""
        raise NotImplementedError

    def _training_batches(self, data, spec, device, train, validation, seed, sample_hops):
        """Hook: ``(batches, validation_batches, prepared)``.

        ``batches`` and ``validation_batches`` as :func:`train_network` takes them;
        ``train`` and ``validation`` are positions into ``data.rows``; ``seed`` seeds
        any sampling of the batches; ``sample_hops`` as in :meth:`_fit_validated`.
        ``prepared`` (anything, or None) is handed on to :meth:`_after_training`.
        """
        raise NotImplementedError

    def _after_training(self, network, data, spec, device, prepared):
        """Hook: read the trained network before it is stored (``transduction_``)."""

    def _checked_spec(self, spec, data, train, validation, random_state, seed, prepared,
                      threads, checkable):  # fmt: skip
        """Hook: the spec to train, and ``(network, histories)`` the check trained, or None.

        Node estimators check GKEDM against the plain backbone and a network on the
        features alone here (``gkedm_check``), and may hand over a network the check
        trained (the chosen candidate, or one interrupted by the user) for the fit to
        keep; by default the spec stands and the fit trains it.
        """
        return spec, None

    def _propagation(self):
        """GKEDM's propagation steps and initial teleport: ``(hops, alpha)``."""
        return 1, 0.1

    def _gkedm_position(self):
        """Where GKEDM runs, and how it normalises: ``(position, normalization)``."""
        return "hidden", "mean"

    def _consistency(self):
        """Weight of the consistency loss between two dropout views (0: none)."""
        return 0.0

    def _network_spec(self, in_dim, n_outputs, readout=None, edge_dim=0, feature_rows=False):
        """The NetworkSpec of a fit; ``feature_rows``: X was a plain feature matrix.

        ``gkedm_update="auto"`` resolves here: ``"residual"`` for a module on the
        hidden layer of feature rows (a k-nearest-neighbour graph, where it measured
        best), ``"replace"`` on graphs and for a module on the class scores (whose
        propagation keeps each node's own scores by its teleport). So does
        ``dropout="auto"`` (node estimators): ``AUTO_DROPOUT`` on a graph, none on
        feature rows.
        """
        hidden_dims = check_hidden_dims(self.hidden_dims)
        hops, alpha = self._propagation()
        position, normalization = self._gkedm_position()
        update = self.gkedm_update
        if update == "auto":
            update = "residual" if feature_rows and position == "hidden" else "replace"
        attended = hidden_dims if self.gkedm_layers == "every" else hidden_dims[-1:]
        if self.gkedm and position == "output":
            if self.gkedm_layers == "every":
                raise ValueError(
                    "gkedm_layers='every' puts a module after each hidden layer; with "
                    "gkedm_position='output' there is one, on the class scores: use "
                    "gkedm_layers='last'."
                )
            attended = []  # one head on the class scores: any width
        if self.gkedm and any(width % self.gkedm_heads for width in attended):
            which = (
                "every hidden width" if self.gkedm_layers == "every" else "the last hidden width"
            )
            raise ValueError(
                f"gkedm_heads={self.gkedm_heads} must divide {which}; got "
                f"hidden_dims={hidden_dims}."
            )
        BACKBONES[self.backbone].check_widths(hidden_dims, self.gat_heads)
        return NetworkSpec(
            in_dim=int(in_dim),
            hidden_dims=hidden_dims,
            n_classes=int(n_outputs),
            backbone=self.backbone,
            activation=self.activation,
            dropout=float(resolve_dropout(self.dropout, feature_rows)),
            gat_heads=int(self.gat_heads),
            gkedm=bool(self.gkedm),
            gkedm_heads=int(self.gkedm_heads),
            gkedm_scoring=self.gkedm_scoring,
            gkedm_update=update,
            gkedm_values=self.gkedm_values,
            gkedm_dropout=float(self.gkedm_dropout),
            gkedm_layers=self.gkedm_layers,
            readout=readout,
            # Backbones whose layers take edge attributes use the graphs' (GINE, GAT's).
            edge_dim=int(edge_dim) if BACKBONES[self.backbone].edge_features else 0,
            gkedm_hops=int(hops),
            gkedm_alpha=float(alpha),
            gkedm_position=position,
            gkedm_normalization=normalization,
        )

    def _validates(self, n_validation):
        """Whether a fit validates, keeping the best epoch's weights:
        ``early_stopping=True``, or ``"auto"`` with ``n_validation`` validation samples
        given to ``fit``."""
        if isinstance(self.early_stopping, str):  # "auto"
            return n_validation > 0
        return bool(self.early_stopping)

    def _stops_early(self):
        """Whether a validating fit stops after ``n_iter_no_change`` epochs without
        improvement (``early_stopping=True``); with ``"auto"`` it trains every epoch."""
        return not isinstance(self.early_stopping, str) and bool(self.early_stopping)

    def _validation_split(self, n_samples, stratify, random_state, validates, n_validation=0):
        """Positions of the samples to train on and to validate on (none unless ``validates``).

        The last ``n_validation`` samples are given validation samples (``X_val``);
        without them ``validation_fraction`` of the samples is held out, and
        ``stratify`` (encoded classes, or None) keeps class shares in both parts where
        every class has two samples.
        """
        positions = np.arange(n_samples)
        if not validates:
            return positions, positions[:0]
        if n_validation:
            return positions[:-n_validation], positions[-n_validation:]
        if stratify is not None:
            counts = np.bincount(stratify)
            if counts[counts > 0].min() < 2:
                stratify = None
        try:
            return train_test_split(
                positions,
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=random_state,
            )
        except ValueError as error:
            raise ValueError(
                f"early_stopping needs enough labelled samples to hold out "
                f"validation_fraction={self.validation_fraction} of {n_samples}: {error}"
            ) from error

    def _train(self, network, batches, validation, context, *, objective=CLASSIFICATION,
               extra_loss=None, after_phase=None, verbose=None, name=""):  # fmt: skip
        """Run the schedule's phases; return their TrainingHistory list.

        ``batches`` and ``validation`` are as :func:`~skgkedm.utils._training.train_network`
        takes them; ``extra_loss`` is added in the phase that runs GKEDM (or the only one).
        ``after_phase(use_gkedm)``, when given, is called after each phase, with whether
        the phase ran the network with its GKEDM module. ``verbose`` overrides the
        estimator's; ``name`` (of the network trained) heads each phase's name.
        """
        if self.schedule == "joint" or network.gkedm is None or self.max_epochs < 2:
            # Two phases need two epochs: one epoch trains everything at once, as "joint".
            phases = [("", self.max_epochs, None, True)]
        else:
            fraction = round(self.second_phase_fraction * self.max_epochs)
            second = min(max(1, fraction), self.max_epochs - 1)
            on_top = None
            if self.schedule == "two_phase":
                on_top = [*network.gkedm_parameters(), *network.output_parameters()]
            phases = [
                ("phase 1 (backbone)", self.max_epochs - second, None, False),
                ("phase 2 (GKEDM)", second, on_top, True),
            ]
        histories = []
        for phase, epochs, parameters, use_gkedm in phases:
            schedule = TrainingSchedule(
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                max_epochs=epochs,
                n_iter_no_change=self.n_iter_no_change if self._stops_early() else None,
                tol=self.tol,
                verbose=self.verbose if verbose is None else verbose,
            )
            history = train_network(
                network,
                batches,
                validation,
                schedule,
                context,
                objective=objective,
                parameters=parameters,
                use_gkedm=use_gkedm,
                extra_loss=extra_loss if use_gkedm else None,
                # Like extra_loss, the consistency loss trains the module's predictions: a
                # network without it (gkedm=False, the check's plain network, a first
                # phase) learns from the labels alone.
                consistency=self._consistency()
                if use_gkedm and network.gkedm is not None
                else 0.0,
                phase=": ".join(part for part in (name, phase) if part),
            )
            histories.append(history)
            if history.stop_reason == INTERRUPTED:
                break
            if after_phase is not None:
                after_phase(use_gkedm and network.gkedm is not None)
        return histories

    def _store_network(self, spec, network, histories, validates):
        """Keep the trained network as fitted state (NumPy weights) and its training record.

        ``validates``: whether the fit scored validation samples. Sets ``n_iter_``
        last: the attribute that marks the estimator fitted.
        """
        self._architecture = spec
        self._weights = {k: v.detach().cpu().numpy() for k, v in network.state_dict().items()}
        self.n_parameters_ = sum(p.numel() for p in network.parameters() if p.requires_grad)
        self.loss_curve_ = [loss for h in histories for loss in h.loss_curve]
        scores = [score for h in histories for score in h.validation_scores]
        self.validation_scores_ = scores if validates else None
        self.best_validation_score_ = _kept_score(histories) if validates else None
        self.n_iter_ = len(self.loss_curve_)

    def _fitted_network(self, device):
        """The fitted network on ``device``, in evaluation mode, built from fitted state alone."""
        spec = self._architecture
        # Construction draws initial weights, replaced at once by the fitted ones.
        network = build_seeded(lambda: GKEDMNetwork(spec), 0)
        network.load_state_dict({k: torch.from_numpy(v) for k, v in self._weights.items()})
        return network.to(device).eval()


def warn_ignored_edge_attributes(n_edge_features, spec):
    """Warn that the graph's edge attributes go unused by the network of ``spec``.

    Only the ``"gin"`` (GINE) and ``"gat"`` backbones read edge attributes; every other
    backbone, and GKEDM's propagation, ignores them. A model that silently drops what
    the user passed would look like it used it: say so at ``fit``.
    """
    if not n_edge_features or spec.edge_dim:
        return
    users = " and ".join(
        sorted(repr(name) for name, backbone in BACKBONES.items() if backbone.edge_features)
    )
    module = " (nor does the GKEDM module)" if spec.gkedm else ""
    warn_at_caller(
        f"X has {n_edge_features} edge attribute(s) per edge, which this model ignores: the "
        f"{spec.backbone!r} backbone does not read edge attributes{module}. Backbones "
        f"{users} use them (full-batch); or build X without them (edge_attr=None) to fit "
        "without this warning.",
        UserWarning,
    )


def _kept_score(histories):
    """Validation score of the weights the fit kept: the best epoch of the last phase run.

    Each phase starts from the weights the previous one kept, and keeps its own best
    epoch's, so an earlier phase's better score describes discarded weights. None when
    no epoch of that phase was scored (interrupted before its first validation).
    """
    last = histories[-1]
    if 1 <= last.best_epoch <= len(last.validation_scores):
        return float(last.validation_scores[last.best_epoch - 1])
    return None
