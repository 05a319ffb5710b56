"""``gkedm_check``: what the module, the graph and the features are worth, before the fit.

The node estimators' check trains candidate networks (the module, the plain backbone,
a network and a linear model on the features alone) on folds of the labelled nodes, or
on all of them with the validation nodes held out, scores each on what it held out,
and chooses the first within its margin of the best (:func:`_check_choice`).
"""

from dataclasses import replace
from functools import partial
from typing import NamedTuple

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold

from .loader._graph_tensors import graph_tensors
from .loader._node_batches import labelled_batch, take, whole_graph_batches
from .nn._backbones import BACKBONES
from .nn._network import GKEDMNetwork
from .utils._torch_utils import build_seeded, fit_generator
from .utils._training import INTERRUPTED, TrainingContext

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


class GKEDMCheckMixin:
    """``gkedm_check`` for the node estimators (not for direct use).

    Overrides :meth:`NetworkEstimatorMixin._checked_spec`; reads the estimator's
    ``gkedm_check``, ``batch_size`` and ``verbose`` and trains with its ``_train``.
    """

    _check_graph_free_standard_errors = CHECK_STANDARD_ERRORS
    """``gkedm_check``'s margin for its graph-free candidates, in standard errors."""

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
            held = labelled_batch(own, data, device, held_out)
            # Validation nodes pick each candidate's epoch, as they pick the fit's.
            batches, _ = whole_graph_batches(own, data, device, fit_part, fit_part[:0])
            return batches, [held] if on_validation else [], held

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
        held_weights = take(data.weights, held_out)
        weights = None if held_weights is None else np.asarray(held_weights, dtype=np.float64)
        every = labelled_batch(graph, data, device, held_out)
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


def _check_choice(candidates, weights, graph_free_margin=CHECK_STANDARD_ERRORS):
    """The first candidate within its margin of the best held-out score.

    ``candidates`` as :meth:`GKEDMCheckMixin._check_gkedm` returns them (in order of
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
