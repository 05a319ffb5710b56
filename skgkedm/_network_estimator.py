"""What every estimator built on a GKEDMNetwork shares: its spec, schedule and fitted weights."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from ._spec import NetworkSpec
from .data._validation import check_hidden_dims
from .nn._backbones import BACKBONES
from .nn._gkedm import SCORINGS, UPDATES, VALUES
from .nn._network import GKEDMNetwork
from .utils._sklearn_compat import Interval, StrOptions
from .utils._torch_utils import build_seeded
from .utils._training import CLASSIFICATION, INTERRUPTED, TrainingSchedule, train_network

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
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}
"""Constraints of the parameters every network estimator takes (scikit-learn's format)."""


class NetworkEstimatorMixin:
    """Build, train and keep a GKEDMNetwork from the estimator's parameters (not for direct use).

    The estimator holds the parameters constrained by ``NETWORK_PARAMETER_CONSTRAINTS``.
    A fit builds a :class:`~skgkedm._spec.NetworkSpec` with :meth:`_network_spec`,
    trains through :meth:`_train` and keeps the result with :meth:`_store_network`;
    predictions rebuild the network from that fitted state with :meth:`_fitted_network`.
    """

    def _network_spec(
        self, in_dim, n_outputs, readout=None, edge_dim=0, feature_rows=False, hops=1, alpha=0.1
    ):
        """The NetworkSpec of a fit; ``feature_rows``: X was a plain feature matrix.

        ``gkedm_update="auto"`` resolves here: ``"residual"`` on feature rows (a
        k-nearest-neighbour graph, where it measured best), ``"replace"`` on graphs.
        ``hops`` and ``alpha``: GKEDM's propagation steps and initial teleport.
        """
        hidden_dims = check_hidden_dims(self.hidden_dims)
        update = self.gkedm_update
        if update == "auto":
            update = "residual" if feature_rows else "replace"
        attended = hidden_dims if self.gkedm_layers == "every" else hidden_dims[-1:]
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
            dropout=float(self.dropout),
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
        )

    def _validation_split(self, n_samples, stratify, random_state):
        """Positions of the samples to train on and to validate on (none without early stopping).

        ``stratify`` (encoded classes, or None) keeps class shares in both parts where
        every class has two samples.
        """
        positions = np.arange(n_samples)
        if not self.early_stopping:
            return positions, positions[:0]
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
               extra_loss=None, after_phase=None, verbose=None):  # fmt: skip
        """Run the schedule's phases; return their TrainingHistory list.

        ``batches`` and ``validation`` are as :func:`~skgkedm.utils._training.train_network`
        takes them; ``extra_loss`` is added in the phase that runs GKEDM (or the only one).
        ``after_phase(use_gkedm)``, when given, is called after each phase, with whether
        the phase ran the network with its GKEDM module. ``verbose`` overrides the
        estimator's.
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
        for name, epochs, parameters, use_gkedm in phases:
            schedule = TrainingSchedule(
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                max_epochs=epochs,
                n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
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
                phase=name,
            )
            histories.append(history)
            if history.stop_reason == INTERRUPTED:
                break
            if after_phase is not None:
                after_phase(use_gkedm and network.gkedm is not None)
        return histories

    def _store_network(self, spec, network, histories):
        """Keep the trained network as fitted state (NumPy weights) and its training record.

        Sets ``n_iter_`` last: the attribute that marks the estimator fitted.
        """
        self._architecture = spec
        self._weights = {k: v.detach().cpu().numpy() for k, v in network.state_dict().items()}
        self.n_parameters_ = sum(p.numel() for p in network.parameters() if p.requires_grad)
        self.loss_curve_ = [loss for h in histories for loss in h.loss_curve]
        scores = [score for h in histories for score in h.validation_scores]
        self.validation_scores_ = scores if self.early_stopping else None
        self.best_validation_score_ = _kept_score(histories) if self.early_stopping else None
        self.n_iter_ = len(self.loss_curve_)

    def _fitted_network(self, device):
        """The fitted network on ``device``, in evaluation mode, built from fitted state alone."""
        spec = self._architecture
        # Construction draws initial weights, replaced at once by the fitted ones.
        network = build_seeded(lambda: GKEDMNetwork(spec), 0)
        network.load_state_dict({k: torch.from_numpy(v) for k, v in self._weights.items()})
        return network.to(device).eval()


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
