"""The full-batch training loop shared by every estimator: epochs, early stopping, history."""

import copy
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch.nn import functional as F

from ._progress import EpochReporter

# Why a phase stopped, as reported by TrainingHistory.stop_reason.
MAX_EPOCHS = "max_epochs reached"
NO_IMPROVEMENT = "no validation improvement"
INTERRUPTED = "interrupted by the user"


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
        Validation accuracy at each epoch (empty without validation rows).
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
    graph,
    train,
    validation,
    schedule,
    context,
    *,
    parameters=None,
    use_gkedm=True,
    extra_loss=None,
    phase="",
):
    """Train ``network`` full-batch on the labelled rows of one graph.

    Parameters
    ----------
    network : GKEDMNetwork
    graph : GraphTensors
    train, validation : tuple of (Tensor, Tensor)
        ``(rows, targets)``: graph positions and encoded classes of the samples whose
        labels drive the loss, and of those that decide early stopping (may be empty:
        then the last epoch's weights are kept).
    schedule : TrainingSchedule
    context : TrainingContext
    parameters : iterable of Parameter, default=None
        Parameters to optimise (all of the network's by default).
    use_gkedm : bool, default=True
        Run the network with its GKEDM module.
    extra_loss : callable, default=None
        ``extra_loss(output, graph) -> Tensor`` added to the cross-entropy
        (distillation).
    phase : str, default=""
        Name of the phase, shown in progress output and warnings.

    Returns
    -------
    TrainingHistory
        With ``stop_reason == INTERRUPTED`` the caller should stop training: the user
        pressed Ctrl-C.
    """
    parameters = list(network.parameters() if parameters is None else parameters)
    trained = {id(parameter) for parameter in parameters}
    frozen = [p for p in network.parameters() if id(p) not in trained and p.requires_grad]
    # Frozen parameters need no gradient: their layers' backward passes are skipped.
    for parameter in frozen:
        parameter.requires_grad_(False)
    try:
        return _train_parameters(
            network, graph, train, validation, schedule, context, parameters,
            use_gkedm, extra_loss, phase,
        )  # fmt: skip
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)


def _train_parameters(
    network, graph, train, validation, schedule, context, parameters, use_gkedm, extra_loss, phase
):
    optimizer = torch.optim.Adam(
        parameters, lr=schedule.learning_rate, weight_decay=schedule.weight_decay
    )
    history = TrainingHistory(phase=phase)
    reporter = EpochReporter(schedule.verbose, phase, schedule.max_epochs)
    best_state, best_score, best_loss, stall = None, -np.inf, np.inf, 0
    validate = len(validation[0]) > 0
    try:
        for epoch in range(1, schedule.max_epochs + 1):
            started = time.perf_counter()
            if context.threads is not None:
                context.threads.update()
            loss = _training_step(network, graph, train, optimizer, use_gkedm, extra_loss, context)
            history.loss_curve.append(loss)
            score = None
            if validate:
                score, val_loss = _validation_step(network, graph, validation, use_gkedm)
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
        warnings.warn(
            f"Training interrupted by the user{where} after {epochs} epochs; the model "
            "keeps the best weights found so far.",
            UserWarning,
            stacklevel=5,
        )
        return
    cut_short = [h for h in histories if h.stop_reason == MAX_EPOCHS]
    if early_stopping and cut_short:
        where = ", ".join(h.phase for h in cut_short if h.phase)
        where = f" (in {where})" if where else ""
        warnings.warn(
            f"Training reached max_epochs{where} while the validation score was still "
            "improving; consider raising max_epochs.",
            ConvergenceWarning,
            stacklevel=5,
        )


def _training_step(network, graph, train, optimizer, use_gkedm, extra_loss, context):
    rows, targets = train
    network.train()
    optimizer.zero_grad()
    output = network(graph, use_gkedm=use_gkedm, generator=context.generator)
    loss = F.cross_entropy(output.logits[rows], targets)
    if extra_loss is not None:
        loss = loss + extra_loss(output, graph)
    if not torch.isfinite(loss):
        raise ValueError(
            "The training loss became NaN or infinite; lower learning_rate, or check "
            "the scale of the features."
        )
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def _validation_step(network, graph, validation, use_gkedm):
    rows, targets = validation
    network.eval()
    logits = network(graph, use_gkedm=use_gkedm).logits[rows]
    accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
    return accuracy, F.cross_entropy(logits, targets).item()
