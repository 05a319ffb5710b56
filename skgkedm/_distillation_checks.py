"""Which teacher and student :class:`DistilledGCNClassifier` can pair, and on what data."""

from .nn._backbones import BACKBONES


def check_batch_pair(teacher, student):
    """A student trained on mini-batches is distilled batch by batch: the teacher runs on
    the student's batches (graph classifiers, and node classifiers with ``batch_size``).

    The batch tensors are built for the student's backbone (its propagation matrix) and
    hold GKEDM's attention edges only if the student has GKEDM, so the teacher must
    share the backbone, and may have GKEDM only if the student has it too.
    """
    if teacher.backbone != student.backbone:
        raise ValueError(
            f"Teacher and student must share the backbone when the student trains on "
            f"mini-batches: the teacher runs on the student's mini-batches; got teacher "
            f"backbone={teacher.backbone!r} and student backbone={student.backbone!r}."
        )
    if teacher.gkedm and not student.gkedm:
        raise ValueError(
            "A teacher with GKEDM needs a student with GKEDM (gkedm=True) when the student "
            "trains on mini-batches: the teacher runs on the student's mini-batches, which "
            "hold attention edges only when the student attends."
        )


def check_single_label(data):
    """Soft labels are softmax distributions over classes: refuse a label indicator y."""
    if data.input_state["_multilabel"]:
        raise ValueError(
            "DistilledGCNClassifier distils single-label classifiers (its soft labels are "
            "distributions over classes); y is a label indicator matrix (multi-label). "
            "Train a GKEDMClassifier on it directly."
        )


def check_attention_pair(attention_weight, teacher, student):
    """Refuse attention distillation asked for explicitly when a model has no attention map.

    Parameters
    ----------
    attention_weight : float or "auto"
        The distiller's parameter; ``"auto"`` is never refused.
    teacher, student : GKEDMClassifier or GKEDMGraphClassifier
        The (unwrapped) templates.

    Raises
    ------
    ValueError
        If ``attention_weight > 0`` and the teacher or the student has ``gkedm=False``;
        the message says when the student is graph-free.

    Examples
    --------
    >>> from skgkedm import GKEDMClassifier
    >>> from skgkedm._distillation_checks import check_attention_pair
    >>> mlp = GKEDMClassifier(backbone="mlp", gkedm=False)
    >>> check_attention_pair("auto", GKEDMClassifier(), mlp)
    >>> check_attention_pair(0.5, GKEDMClassifier(), mlp)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: attention_weight=0.5 ... a graph-free student ... set attention_weight=0 or "auto".
    """
    if attention_weight == "auto" or attention_weight == 0:
        return
    for role, model in (("teacher", teacher), ("student", student)):
        if not model.gkedm:
            why = 'set attention_weight=0, "auto" or gkedm=True.'
            if role == "student" and not BACKBONES[model.backbone].uses_graph:
                why = (
                    f"a graph-free student (backbone={model.backbone!r}, gkedm=False) reads "
                    'no edge and has no attention map; set attention_weight=0 or "auto".'
                )
            raise ValueError(
                f"attention_weight={attention_weight} distils GKEDM attention maps, but "
                f"the {role} has gkedm=False and so has none: {why}"
            )
