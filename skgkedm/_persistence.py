"""Pickling without live torch objects: a versioned saved state, migrated on load."""

import warnings

import torch

from ._spec import NetworkSpec, later_field_defaults
from ._version import __version__

FORMAT_VERSION = 10
"""Version of the pickled state. Bump it, with a migration in ``_MIGRATIONS``, whenever
the saved attributes change (a field added to NetworkSpec, an attribute renamed, a
parameter added to an estimator); see CHANGELOG.rst."""


def _versions():
    return {"skgkedm": __version__, "torch": torch.__version__.split("+")[0]}


def _from_format_0(state, estimator_name):
    """Format 0 (skgkedm 0.1.0.dev0) to 1 (0.2.0): what each saved model lacks.

    - The architecture was a dict; models saved before GKEDM's scoring and update became
      choices lack both keys and both GKEDMClassifier parameters. They ran the paper's
      module (scaled dot product, residual update): NetworkSpec's defaults.
    - Two-phase schedules ran ``max_epochs`` per phase; now ``max_epochs`` in all, split
      by ``second_phase_fraction``. Twice the epochs, split in halves, is the same recipe.
    - Predicting on graph input always symmetrised messages unless ``directed``; fitted
      models now remember it as ``_symmetrize``.
    - ``transduction_`` needs the training graph, which is not saved: such models have none.
    """
    architecture = state.get("_architecture")
    if isinstance(architecture, dict):
        state["_architecture"] = NetworkSpec(**architecture)
    if "gkedm" in state:
        # A GKEDMClassifier's parameters (the distiller has no ``gkedm``).
        defaults = later_field_defaults()
        for name in ("gkedm_scoring", "gkedm_update"):
            state.setdefault(name, defaults[name])
        if "second_phase_fraction" not in state:
            state["second_phase_fraction"] = 0.5
            if state["gkedm"] and state["schedule"] != "joint":
                state["max_epochs"] *= 2
    if "n_iter_" in state:
        state.setdefault("_symmetrize", not state["directed"])
    return state


def _from_format_1(state, estimator_name):
    """Format 1 to 2 (both skgkedm 0.2.0.dev0): NetworkSpec gained ``readout`` and
    ``gkedm_layers``, GKEDMClassifier the ``gkedm_layers`` parameter.

    Every model saved in format 1 classified nodes with one GKEDM module:
    ``readout=None`` and ``gkedm_layers="last"``, NetworkSpec's defaults, which
    unpickling an older NetworkSpec already gives; the estimator gets the parameter.
    """
    if "gkedm" in state:
        state.setdefault("gkedm_layers", "last")
    return state


def _from_format_2(state, estimator_name):
    """Format 2 to 3 (both skgkedm 0.2.0.dev0): GKEDMClassifier gained ``batch_size`` and
    ``fanouts`` (neighbour-sampled mini-batches). Every model saved before trained
    full-batch: ``batch_size=None``. Graph estimators (they have ``readout``) already
    had their own ``batch_size``.
    """
    if "gkedm" in state and "readout" not in state:
        state.setdefault("batch_size", None)
        state.setdefault("fanouts", None)
    return state


def _from_format_3(state, estimator_name):
    """Format 3 to 4 (both skgkedm 0.2.0.dev0).

    - NetworkSpec gained ``edge_dim``, the edge attributes the layers use. Every model
      saved before used none: ``edge_dim=0``, NetworkSpec's default, which unpickling an
      older NetworkSpec already gives.
    - Fitted graph estimators remember whether messages flow both ways as
      ``_symmetrize``, so that ``set_params(directed=...)`` after fit no longer changes
      their predictions. Models saved before predicted with the ``directed`` they were
      fitted with, unless it was changed since.
    """
    if "readout" in state and "n_iter_" in state:
        state.setdefault("_symmetrize", not state["directed"])
    return state


def _from_format_4(state, estimator_name):
    """Format 4 to 5 (both skgkedm 0.2.0.dev0): the ``"mlp"`` backbone (graph-free models)
    and the distiller's ``attention_weight="auto"`` default.

    Nothing to change: every model saved in format 4 has a message-passing backbone, and
    a saved distiller keeps the ``attention_weight`` it was fitted with (then 1.0 by
    default). The bump makes an older skgkedm refuse a model that may hold an ``"mlp"``
    network with its "upgrade" message rather than fail on the unknown backbone.
    """
    return state


CLASSIFIERS = ("GKEDMClassifier", "GKEDMGraphClassifier", "DistilledGCNClassifier")


def _from_format_5(state, estimator_name):
    """Format 5 to 6 (both skgkedm 0.2.0.dev0).

    - The classifiers gained ``class_weight`` and multi-label ``y``; a fitted
      classifier remembers whether it is multi-label as ``_multilabel``. Every model
      saved before was single-label and unweighted.
    - GKEDMClassifier gained ``gkedm_hops``, ``gkedm_alpha`` and ``gkedm_check``,
      NetworkSpec ``gkedm_hops`` and ``gkedm_alpha``, and a fitted classifier
      ``gkedm_check_scores_``. Every model saved before took one attention step
      (``gkedm_hops=1``: NetworkSpec's default, which unpickling an older NetworkSpec
      already gives) and was never checked against its plain backbone: the parameters
      say so, so a clone refits the same recipe (``gkedm_check=False``), and the
      check's scores are None.
    """
    if estimator_name in CLASSIFIERS:
        state.setdefault("class_weight", None)
        if "classes_" in state:
            state.setdefault("_multilabel", False)
    if "gkedm" in state and "readout" not in state:
        state.setdefault("gkedm_hops", 1)
        state.setdefault("gkedm_alpha", 0.1)
        state.setdefault("gkedm_check", False)
        if "n_iter_" in state:
            state.setdefault("gkedm_check_scores_", None)
    return state


def _from_format_6(state, estimator_name):
    """Format 6 to 7 (both skgkedm 0.2.0.dev0): a fitted GKEDMClassifier or
    GKEDMRegressor names the network its ``gkedm_check`` chose, ``gkedm_check_choice_``
    (``"features"``, ``"plain"`` or ``"gkedm"``; None when no check ran).

    A check of format 6 chose between the module and the plain backbone only, and its
    choice is in the saved architecture: ``"gkedm"`` if the network has the module,
    else ``"plain"``.
    """
    if "gkedm" in state and "readout" not in state and "n_iter_" in state:
        checked = state.get("gkedm_check_scores_") is not None
        kept = "gkedm" if state["_architecture"].gkedm else "plain"
        state.setdefault("gkedm_check_choice_", kept if checked else None)
    return state


def _from_format_7(state, estimator_name):
    """Format 7 to 8 (both skgkedm 0.2.0.dev0): GKEDMClassifier and GKEDMRegressor gained
    ``gkedm_position``, ``gkedm_normalization`` and ``consistency``, NetworkSpec
    ``gkedm_position`` and ``gkedm_normalization``.

    Every model saved before ran its module on the last hidden layer
    (``gkedm_position="hidden"``) along its attention weights as they are
    (``gkedm_normalization="mean"``): NetworkSpec's defaults, which unpickling an older
    NetworkSpec already gives; and it trained without the consistency loss: the
    parameters say so, so a clone refits the same recipe.
    """
    if "gkedm" in state and "readout" not in state:
        state.setdefault("gkedm_position", "hidden")
        state.setdefault("gkedm_normalization", "mean")
        state.setdefault("consistency", 0.0)
    return state


def _from_format_8(state, estimator_name):
    """Format 8 to 9 (both skgkedm 0.2.0.dev0): a fitted node estimator remembers the
    batches it predicts in, ``_prediction_batch_size`` (its ``batch_size`` at fit time,
    None after a full-batch fit). Every model saved before predicted with one
    whole-graph pass, and still does: None.
    """
    if "gkedm" in state and "readout" not in state and "n_iter_" in state:
        state.setdefault("_prediction_batch_size", None)
    return state


def _from_format_9(state, estimator_name):
    """Format 9 to 10 (both skgkedm 0.2.0.dev0): a fitted ``DistilledGCNClassifier``
    reports ``teacher_agreement_``, the share of the training graph's nodes on which
    its student predicts the teacher's class. Models saved before did not measure it:
    None, as for a distiller that cannot (graphs as samples).
    """
    if estimator_name == "DistilledGCNClassifier" and "student_" in state:
        state.setdefault("teacher_agreement_", None)
    return state


# _MIGRATIONS[k] turns a state of format k into one of format k + 1, given the
# estimator's class name.
_MIGRATIONS = (
    _from_format_0,
    _from_format_1,
    _from_format_2,
    _from_format_3,
    _from_format_4,
    _from_format_5,
    _from_format_6,
    _from_format_7,
    _from_format_8,
    _from_format_9,
)


def migrate_state(state, estimator_name):
    """Bring a pickled estimator state from any known format to ``FORMAT_VERSION``.

    Parameters
    ----------
    state : dict
        The state ``__getstate__`` saved; changed in place.
    estimator_name : str
        The estimator's class name, for the error message.

    Returns
    -------
    state : dict
        The state in the current format, without the ``_format_version`` key.

    Raises
    ------
    ValueError
        If the state was saved in a newer format than this skgkedm reads.

    Examples
    --------
    >>> from skgkedm._persistence import migrate_state
    >>> saved = {"_format_version": 0, "gkedm": True, "schedule": "two_phase", "max_epochs": 100}
    >>> state = migrate_state(saved, "GKEDMClassifier")
    >>> state["gkedm_scoring"], state["max_epochs"], state["second_phase_fraction"]
    ('dot', 200, 0.5)
    """
    version = state.pop("_format_version", 0)
    if version > FORMAT_VERSION:
        saved_by = state.get("_saved_versions", {}).get("skgkedm")
        by = f" by skgkedm {saved_by}" if saved_by else ""
        raise ValueError(
            f"This {estimator_name} was saved{by} in saved format {version}, but the "
            f"installed skgkedm {__version__} reads formats up to {FORMAT_VERSION}. "
            "Upgrade skgkedm (pip install --upgrade skgkedm) to load it, or refit the "
            "model with the installed version."
        )
    for migration in _MIGRATIONS[version:]:
        state = migration(state, estimator_name)
    return state


class PortableStateMixin:
    """Pickle only plain Python and NumPy state, versioned, and warn when versions differ.

    Subclasses keep fitted weights as CPU NumPy arrays and build torch modules from them
    only for the duration of a call, so a model trained on a GPU loads on a machine with
    no GPU. The state records ``FORMAT_VERSION``; older states are migrated on load,
    newer ones refused with a message to upgrade skgkedm.
    """

    def __getstate__(self):
        # A copy: on Python >= 3.11 the parent returns the instance's own __dict__.
        state = dict(super().__getstate__())
        state["_format_version"] = FORMAT_VERSION
        if hasattr(self, "n_iter_"):  # fitted
            state["_saved_versions"] = _versions()
        return state

    def __setstate__(self, state):
        state = migrate_state(dict(state), type(self).__name__)
        saved = state.pop("_saved_versions", None)
        if saved is not None:
            current = _versions()
            for package, version in saved.items():
                if current.get(package, version) != version:
                    warnings.warn(
                        f"This {type(self).__name__} was saved with {package} {version} and "
                        f"is loaded with {package} {current[package]}; predictions may "
                        "differ. Refit it with the installed version to be safe.",
                        UserWarning,
                        stacklevel=2,
                    )
        super().__setstate__(state)
