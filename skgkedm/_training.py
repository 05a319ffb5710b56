"""The full-batch training loop shared by every estimator: epochs, early stopping, history."""

import copy
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch.nn import functional as F


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
        Print one line per epoch when positive.
    """

    learning_rate: float
    weight_decay: float
    max_epochs: int
    n_iter_no_change: int | None
    tol: float
    verbose: int


@dataclass
class TrainingHistory:
    """What happened during training.

    Attributes
    ----------
    loss_curve : list of float
        Training loss at each epoch.
    validation_scores : list of float
        Validation accuracy at each epoch (empty without validation rows).
    best_epoch : int
        Epoch (1-based) whose weights were kept.
    """

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_epoch: int = 0


def train_network(
    network,
    graph,
    train,
    validation,
    schedule,
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
    parameters : iterable of Parameter, default=None
        Parameters to optimise (all of the network's by default).
    use_gkedm : bool, default=True
        Run the network with its GKEDM module.
    extra_loss : callable, default=None
        ``extra_loss(output) -> Tensor`` added to the cross-entropy (distillation).
    phase : str, default=""
        Label shown in verbose output.

    Returns
    -------
    TrainingHistory
    """
    parameters = list(network.parameters() if parameters is None else parameters)
    optimizer = torch.optim.Adam(
        parameters, lr=schedule.learning_rate, weight_decay=schedule.weight_decay
    )
    history = TrainingHistory()
    best_state, best_score, best_loss, stall = None, -np.inf, np.inf, 0
    validate = len(validation[0]) > 0
    try:
        for epoch in range(1, schedule.max_epochs + 1):
            started = time.perf_counter()
            loss = _training_step(network, graph, train, optimizer, use_gkedm, extra_loss)
            history.loss_curve.append(loss)
            message = f"{phase}epoch {epoch:4d}  loss {loss:.4f}"
            if validate:
                score, val_loss = _validation_step(network, graph, validation, use_gkedm)
                history.validation_scores.append(score)
                message += f"  validation accuracy {score:.4f}"
                if score > best_score + schedule.tol or (
                    score >= best_score and val_loss < best_loss
                ):
                    best_state = copy.deepcopy(network.state_dict())
                    best_score, best_loss, stall = max(score, best_score), val_loss, 0
                    history.best_epoch = epoch
                else:
                    stall += 1
            if schedule.verbose:
                print(f"{message}  ({1000 * (time.perf_counter() - started):.0f} ms)")
            if validate and schedule.n_iter_no_change and stall >= schedule.n_iter_no_change:
                break
        else:
            if validate and schedule.n_iter_no_change:
                warnings.warn(
                    f"Training reached max_epochs={schedule.max_epochs} while the "
                    "validation score was still improving; consider raising max_epochs.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
    except KeyboardInterrupt:
        warnings.warn(
            f"Training interrupted by the user after {len(history.loss_curve)} epochs; "
            "the model keeps the best weights found so far.",
            stacklevel=4,
        )
    if best_state is not None:
        network.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.loss_curve)
    return history


def _training_step(network, graph, train, optimizer, use_gkedm, extra_loss):
    rows, targets = train
    network.train()
    optimizer.zero_grad()
    output = network(graph, use_gkedm=use_gkedm)
    loss = F.cross_entropy(output.logits[rows], targets)
    if extra_loss is not None:
        loss = loss + extra_loss(output)
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
