"""The training loop shared by every estimator: epochs, batches, early stopping, history."""

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch.nn import functional as F
from torch.torch_version import TorchVersion

from ._progress import EpochReporter
from ._torch_utils import keep_step_memory
from ._warnings import warn_at_caller

# Why a phase stopped, as reported by TrainingHistory.stop_reason.
MAX_EPOCHS = "max_epochs reached"
NO_IMPROVEMENT = "no validation improvement"
INTERRUPTED = "interrupted by the user"


@dataclass(frozen=True)
class Objective:
    """What training minimises and early stopping maximises.

    Attributes
    ----------
    loss : callable
        ``loss(outputs, targets, weights) -> Tensor``: the mean over the rows, weighted
        by ``weights`` (a Tensor of shape (n_rows,), or None for equal weights).
    score : callable
        ``score(outputs, targets, weights) -> float``, higher is better; weighted as
        scikit-learn's metrics weight with ``sample_weight``.
    name : str
        Name of the score in progress output.
    per_sample : callable or None, default=None
        ``per_sample(outputs, targets, weights) -> Tensor`` of shape (n_rows,): each
        row's share of the score, whose mean weighted by ``weights`` is ``score``.
        ``gkedm_check`` compares candidates row by row with it (paired standard
        errors); None when the score does not split over rows.
    probabilities : callable or None, default=None
        ``probabilities(outputs) -> Tensor``: what :func:`consistency_loss` compares
        (class or label probabilities; the outputs themselves for regression).
    """

    loss: Callable
    score: Callable
    name: str
    per_sample: Callable | None = None
    probabilities: Callable | None = None


def weighted_mean(values, weights):
    """Mean of ``values`` (one per row), weighted by ``weights`` (None: equal weights).

    A batch whose weights are all zero contributes zero (not NaN).

    Examples
    --------
    >>> import torch
    >>> from skgkedm.utils._training import weighted_mean
    >>> float(weighted_mean(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 0.0])))
    1.0
    """
    if weights is None:
        return values.mean()
    weights = weights.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(torch.finfo(values.dtype).tiny)


def _accuracy(outputs, targets, weights=None):
    return weighted_mean((outputs.argmax(dim=1) == targets).float(), weights).item()


def _correct(outputs, targets, weights=None):
    """1 where the predicted class is right, else 0: accuracy row by row."""
    return (outputs.argmax(dim=1) == targets).double()


def _cross_entropy(outputs, targets, weights=None):
    return weighted_mean(F.cross_entropy(outputs, targets, reduction="none"), weights)


def _r2(outputs, targets, weights=None):
    """R² averaged over outputs, as scikit-learn's r2_score (targets are standardised)."""
    targets = targets.reshape(len(targets), -1)
    outputs = outputs.reshape(targets.shape)
    w = targets.new_ones(len(targets)) if weights is None else weights.to(targets.dtype)
    w = w[:, None]
    mean = (w * targets).sum(dim=0) / w.sum().clamp_min(1e-12)
    residual = (w * (targets - outputs) ** 2).sum(dim=0)
    total = (w * (targets - mean) ** 2).sum(dim=0).clamp_min(1e-12)
    return (1 - residual / total).mean().item()


def _r2_per_sample(outputs, targets, weights=None):
    """Each row's share of R²: ``1 - mean over outputs of squared error / total variance``.

    Their mean, weighted as :func:`_r2` weighs, is :func:`_r2`'s score.
    """
    targets = targets.reshape(len(targets), -1).double()
    outputs = outputs.reshape(targets.shape).double()
    w = targets.new_ones(len(targets)) if weights is None else weights.to(targets.dtype)
    share = w / w.sum().clamp_min(1e-12)
    mean = (share[:, None] * targets).sum(dim=0)
    variance = (share[:, None] * (targets - mean) ** 2).sum(dim=0).clamp_min(1e-12)
    return 1 - ((targets - outputs) ** 2 / variance).mean(dim=1)


def _mse(outputs, targets, weights=None):
    squared = (outputs.reshape(targets.shape) - targets) ** 2
    return weighted_mean(squared.reshape(len(targets), -1).mean(dim=1), weights)


def _binary_cross_entropy(outputs, targets, weights=None):
    """Summed over labels, a (weighted) mean over rows: MLPClassifier's multi-label loss."""
    losses = F.binary_cross_entropy_with_logits(outputs, targets, reduction="none")
    return weighted_mean(losses.sum(dim=1), weights)


def _exact(outputs, targets, weights=None):
    """1 where every label of the row is right, else 0: subset accuracy row by row."""
    return ((outputs > 0) == (targets > 0.5)).all(dim=1).double()


def _subset_accuracy(outputs, targets, weights=None):
    """Share of rows whose every label is right, as scikit-learn's accuracy_score."""
    return weighted_mean(_exact(outputs, targets).float(), weights).item()


FEW_CLASSES = 16
"""Below this many classes, :func:`class_probabilities` takes the softmax of the
transposed scores."""


def class_probabilities(outputs):
    """Softmax of class scores over their last dimension.

    torch's softmax over a last dimension of few entries (Cora's 7 classes) runs about
    one row at a time: on Cora's 2,708 nodes it took 0.35 ms, forward and backward
    0.55 ms (one thread). Over the transposed scores (a reduction along the other
    dimension, vectorised across the nodes) it takes 0.19 ms, with the same values up
    to rounding; from 16 classes on the row-wise softmax is as fast or faster.

    Parameters
    ----------
    outputs : Tensor of shape (..., n_rows, n_classes)

    Returns
    -------
    Tensor of the same shape
        Each row sums to 1.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.utils._training import class_probabilities
    >>> scores = torch.tensor([[0.0, 0.0], [0.0, 200.0]])
    >>> class_probabilities(scores).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    if outputs.dim() < 2 or outputs.size(-1) >= FEW_CLASSES:
        return outputs.softmax(dim=-1)
    return outputs.transpose(-1, -2).softmax(dim=-2).transpose(-1, -2)


def _label_probabilities(outputs):
    return torch.sigmoid(outputs)


def _identity(outputs):
    return outputs


CONSISTENCY_TEMPERATURE = 0.5
"""Sharpening temperature of the consistency target (GRAND's, Feng et al., 2020)."""


COLLAPSE_FLOOR = 0.25
"""The share of the predictions below which a class counts as collapsing, as a
fraction of its share of the labels (:func:`consistency_loss`)."""


def consistency_loss(first, second, objective, label_shares=None):
    r"""Disagreement of two dropout views of every node's outputs with their sharpened mean.

    GRAND's consistency regularisation (Feng et al., NeurIPS 2020), with two views: with
    :math:`p^{(1)}, p^{(2)}` the views' class probabilities and
    :math:`\bar{p} = (p^{(1)} + p^{(2)}) / 2`, the target
    :math:`\tilde{p}_c \propto \bar{p}_c^{1/T}` (temperature ``T`` =
    ``CONSISTENCY_TEMPERATURE``, no gradient) and the loss is
    :math:`\frac{1}{2} \sum_{s} \operatorname{mean}_i \lVert p^{(s)}_i - \tilde{p}_i \rVert^2`.
    It needs no labels: every node of the batch counts. Label indicators sharpen each
    label's probability against its complement; regression targets are not sharpened
    (the target is the views' mean).

    Sharpening rewards agreeing on any class, so with few labels it can pull every
    node into one class (CiteSeer with 5 labels per class: 0.27 test accuracy, against
    0.55 for a plain GCN). Given the classes' shares of the labels :math:`\pi_c`, a
    barrier keeps each class's mean predicted probability :math:`m_c =
    \operatorname{mean}_i \bar{p}_{ic}` at least ``COLLAPSE_FLOOR`` (a quarter) of its
    share: the loss adds :math:`\sum_c \max(0, \log(\pi_c / 4) - \log m_c)`, zero unless
    a class collapses (CiteSeer, 5 per class: 0.649 over 10 seeds).

    Parameters
    ----------
    first, second : Tensor of shape (n_rows, n_outputs)
        The network's outputs on the same rows under two dropout masks.
    objective : Objective
        Says how outputs become probabilities.
    label_shares : Tensor of shape (n_outputs,), default=None
        Each class's share of the labels (single-label classification); None: no
        barrier.

    Returns
    -------
    Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.utils._training import CLASSIFICATION, consistency_loss
    >>> same = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> float(consistency_loss(same, same, CLASSIFICATION)) > 0  # not yet sharp
    True
    >>> sharp = torch.tensor([[50.0, 0.0]])
    >>> float(consistency_loss(sharp, sharp, CLASSIFICATION)) < 1e-12  # sharp, agreeing
    True
    """
    probabilities = objective.probabilities
    views = probabilities(first), probabilities(second)
    with torch.no_grad():
        target = (views[0] + views[1]) / 2
        if objective.probabilities is not _identity:
            power = 1.0 / CONSISTENCY_TEMPERATURE
            if objective.probabilities is _label_probabilities:
                target = target**power / (target**power + (1 - target) ** power)
            else:
                target = target**power
                target = target / target.sum(dim=1, keepdim=True)
    loss = (
        sum(((view - target) ** 2).reshape(len(view), -1).sum(dim=1).mean() for view in views) / 2
    )
    if label_shares is None:
        return loss
    shares = (views[0] + views[1]).mean(dim=0) / 2
    labelled = label_shares > 0
    floor = (COLLAPSE_FLOOR * label_shares[labelled]).log()
    return loss + torch.relu(floor - (shares[labelled] + 1e-12).log()).sum()


def label_shares(batch, n_classes):
    """Each class's share of a batch's (weighted) labels, for :func:`consistency_loss`.

    Parameters
    ----------
    batch : Batch
        With class indices as targets.
    n_classes : int

    Returns
    -------
    Tensor of shape (n_classes,)
    """
    weights = batch.weights.to(torch.float32) if batch.weights is not None else None
    counts = torch.bincount(batch.targets, weights=weights, minlength=n_classes).float()
    return counts / counts.sum()


CLASSIFICATION = Objective(
    _cross_entropy, _accuracy, "accuracy", _correct, probabilities=class_probabilities
)
REGRESSION = Objective(_mse, _r2, "R2", _r2_per_sample, probabilities=_identity)
MULTILABEL = Objective(
    _binary_cross_entropy, _subset_accuracy, "subset accuracy", _exact,
    probabilities=_label_probabilities,
)  # fmt: skip
"""Independent labels: a sigmoid output per label, binary cross-entropy."""


@dataclass
class TrainingSchedule:
    """How long and how to train.

    Attributes
    ----------
    learning_rate, weight_decay : float
        Adam's step size and L2 penalty.
    max_epochs : int
        Upper bound on epochs.
    n_iter_no_change : int or None
        With validation rows, stop after this many epochs without improvement.
    tol : float
        Minimum improvement of the validation score that counts.
    verbose : int
        0 silent, 1 a progress bar and a closing line, 2 a line per epoch.
    """

    learning_rate: float
    weight_decay: float
    max_epochs: int
    n_iter_no_change: int | None
    tol: float
    verbose: int


@dataclass
class TrainingHistory:
    """What happened during one phase of training.

    Attributes
    ----------
    phase : str
        Name of the phase ("" for single-phase training).
    loss_curve : list of float
        Training loss at each epoch.
    validation_scores : list of float
        Validation score at each epoch (empty without validation rows).
    best_epoch : int
        Epoch (1-based) whose weights were kept.
    stop_reason : str
        ``MAX_EPOCHS``, ``NO_IMPROVEMENT`` or ``INTERRUPTED``.
    """

    phase: str = ""
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_epoch: int = 0
    stop_reason: str = MAX_EPOCHS


@dataclass
class TrainingContext:
    """Where and how one fit runs, shared by its phases.

    Attributes
    ----------
    generator : torch.Generator
        Source of the fit's dropout masks.
    threads : ThreadPolicy or None
        Updated between epochs to follow the machine's load.
    """

    generator: torch.Generator
    threads: object = None


def train_network(
    network,
    batches,
    validation,
    schedule,
    context,
    *,
    objective=CLASSIFICATION,
    parameters=None,
    use_gkedm=True,
    extra_loss=None,
    consistency=0.0,
    phase="",
):
    """Train ``network``: an optimiser step per batch, epochs until the schedule stops.

    Parameters
    ----------
    network : GKEDMNetwork
    batches : callable
        ``batches(generator) -> list of Batch``: one epoch's batches (a single
        full-graph batch for node classification; shuffled mini-batches of graphs,
        drawn from ``generator``, for graphs as samples).
    validation : list of Batch
        The samples that decide early stopping; empty: the last epoch's weights are
        kept.
    schedule : TrainingSchedule
    context : TrainingContext
    objective : Objective, default=CLASSIFICATION
        The loss to minimise and the validation score to maximise.
    parameters : iterable of Parameter, default=None
        Parameters to optimise (all of the network's by default).
    use_gkedm : bool, default=True
        Run the network with its GKEDM module.
    extra_loss : callable, default=None
        ``extra_loss(output, batch) -> Tensor`` added to the objective's loss
        (distillation); ``batch`` is the Batch the network ran on.
    consistency : float, default=0.0
        Weight of :func:`consistency_loss` between two dropout views of every output
        row of each batch (labelled or not); 0 runs one view and adds nothing.
    phase : str, default=""
        Name of the phase, shown in progress output and warnings.

    Returns
    -------
    TrainingHistory
        With ``stop_reason == INTERRUPTED`` the caller should stop training: the user
        pressed Ctrl-C.
    """
    keep_step_memory()
    parameters = list(network.parameters() if parameters is None else parameters)
    trained = {id(parameter) for parameter in parameters}
    frozen = [p for p in network.parameters() if id(p) not in trained and p.requires_grad]
    # Frozen parameters need no gradient: their layers' backward passes are skipped.
    for parameter in frozen:
        parameter.requires_grad_(False)
    try:
        return _train_parameters(
            network, batches, validation, schedule, context, objective, parameters,
            use_gkedm, extra_loss, consistency, phase,
        )  # fmt: skip
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)


def _train_parameters(
    network, batches, validation, schedule, context, objective, parameters, use_gkedm,
    extra_loss, consistency, phase,
):  # fmt: skip
    # torch's fused Adam: one kernel per parameter instead of a dozen operations (on
    # Cora's default a third of the optimiser's time); the same update up to rounding.
    # (torch 2.4 and later on the CPU; earlier versions refuse fused=True there.)
    devices = ("cpu", "cuda") if TorchVersion(torch.__version__) >= (2, 4) else ("cuda",)
    fused = all(p.device.type in devices and p.is_floating_point() for p in parameters)
    optimizer = torch.optim.Adam(
        parameters,
        lr=schedule.learning_rate,
        weight_decay=schedule.weight_decay,
        fused=fused or None,
    )
    history = TrainingHistory(phase=phase)
    reporter = EpochReporter(schedule.verbose, phase, schedule.max_epochs, objective.name)
    best_state, best_score, best_loss, stall = None, -np.inf, np.inf, 0
    validate = len(validation) > 0
    try:
        for epoch in range(1, schedule.max_epochs + 1):
            started = time.perf_counter()
            if context.threads is not None:
                context.threads.update()
            loss = _training_epoch(
                network, batches, optimizer, objective, use_gkedm, extra_loss, consistency,
                context,
            )  # fmt: skip
            history.loss_curve.append(loss)
            score = None
            if validate:
                score, val_loss = _validation_step(network, validation, objective, use_gkedm)
                history.validation_scores.append(score)
                if score > best_score + schedule.tol or (
                    score >= best_score and val_loss < best_loss
                ):
                    best_state = copy.deepcopy(network.state_dict())
                    best_score, best_loss, stall = max(score, best_score), val_loss, 0
                    history.best_epoch = epoch
                else:
                    stall += 1
            reporter.epoch(epoch, loss, score, 1000 * (time.perf_counter() - started))
            if validate and schedule.n_iter_no_change and stall >= schedule.n_iter_no_change:
                history.stop_reason = NO_IMPROVEMENT
                break
    except KeyboardInterrupt:
        history.stop_reason = INTERRUPTED
    if best_state is not None:
        network.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.loss_curve)
    reporter.close(
        len(history.loss_curve),
        history.stop_reason,
        history.best_epoch,
        best_score if validate and best_state is not None else None,
    )
    return history


def warn_once(histories, early_stopping):
    """After all phases of a fit, warn once about an interruption or a cut-short phase.

    Parameters
    ----------
    histories : list of TrainingHistory
        One per phase run.
    early_stopping : bool
        Whether phases could stop early; only then is reaching max_epochs worth a
        ConvergenceWarning.
    """
    epochs = sum(len(history.loss_curve) for history in histories)
    interrupted = [h for h in histories if h.stop_reason == INTERRUPTED]
    if interrupted:
        where = f" in {interrupted[0].phase}" if interrupted[0].phase else ""
        warn_at_caller(
            f"Training interrupted by the user{where} after {epochs} epochs; the model "
            "keeps the best weights found so far.",
            UserWarning,
        )
        return
    cut_short = [h for h in histories if h.stop_reason == MAX_EPOCHS]
    if early_stopping and cut_short:
        where = ", ".join(h.phase for h in cut_short if h.phase)
        where = f" (in {where})" if where else ""
        warn_at_caller(
            f"Training reached max_epochs{where} while the validation score was still "
            "improving; consider raising max_epochs.",
            ConvergenceWarning,
        )


def _training_epoch(
    network, batches, optimizer, objective, use_gkedm, extra_loss, consistency, context
):
    """One optimiser step per batch; return the mean loss over the epoch's targets."""
    network.train()
    total, counted = 0.0, 0
    # The consistency loss compares two dropout views, computed in one call (the
    # network runs them as one pass where it can: GKEDMNetwork.fuses_views).
    views = 2 if consistency else 1
    for batch in batches(context.generator):
        optimizer.zero_grad()
        output = network(
            batch.graph, use_gkedm=use_gkedm, generator=context.generator, views=views
        )
        logits = output.logits
        if views > 1:
            logits, second = logits
            output = output._replace(logits=logits)
        loss = objective.loss(batch.outputs(logits), batch.targets, batch.weights)
        if extra_loss is not None:
            loss = loss + extra_loss(output, batch)
        if consistency:
            shares = None
            if objective.probabilities is class_probabilities:
                shares = label_shares(batch, logits.size(1))
            loss = loss + consistency * consistency_loss(logits, second, objective, shares)
        if not torch.isfinite(loss):
            raise ValueError(
                "The training loss became NaN or infinite; lower learning_rate, or check "
                "the scale of the features."
            )
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch.targets)
        counted += len(batch.targets)
    return total / counted


@torch.no_grad()
def _validation_step(network, validation, objective, use_gkedm):
    network.eval()
    outputs = [
        batch.outputs(network(batch.graph, use_gkedm=use_gkedm).logits) for batch in validation
    ]
    outputs = torch.cat(outputs)
    targets = torch.cat([batch.targets for batch in validation])
    weights = None
    if all(batch.weights is not None for batch in validation):
        weights = torch.cat([batch.weights for batch in validation])
    return (
        objective.score(outputs, targets, weights),
        objective.loss(outputs, targets, weights).item(),
    )
