"""DistilledGCNClassifier: distil a large GKEDM model into a compact one."""

import copy
from numbers import Real
from types import MappingProxyType

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import GraphClassifierBase
from ._classifier import HIDDEN_GKEDM, GKEDMClassifier
from ._distillation_checks import check_attention_pair, check_batch_pair, check_single_label
from ._graph_estimators import GKEDMGraphClassifier
from .data._validation import check_validation_arguments
from .nn._distillation_loss import DistillationLoss
from .utils._sklearn_compat import Interval, StrOptions, fit_context
from .utils._torch_utils import resolve_device

PAPER_GKEDM = MappingProxyType(
    {
        **HIDDEN_GKEDM,
        "gkedm_scoring": "dot",
        "gkedm_update": "residual",
        "schedule": "joint",
    }
)
"""The paper's GKEDM module, as :class:`GKEDMClassifier` parameters.

Learned scaled dot-product attention and a residual update (Wu, 2024) on a GCN's
hidden layer, one step, trained jointly with the backbone. :class:`GKEDMClassifier`'s
defaults differ (an MLP's class scores propagated ten hops with equal weights,
consistency loss) because they measured better on Cora, CiteSeer and chameleon.
The benchmarks' "paper's module" runs use these settings, and so does the
paper's form of :class:`DistilledGCNClassifier` (see its ``teacher`` parameter). A
read-only mapping; unpack it, as in ``GKEDMClassifier(**PAPER_GKEDM)``.

See Also
--------
GKEDMClassifier : Its ``gkedm_scoring``, ``gkedm_update`` and ``schedule`` parameters.

Examples
--------
>>> from skgkedm import PAPER_GKEDM, GKEDMClassifier
>>> dict(PAPER_GKEDM)  # doctest: +NORMALIZE_WHITESPACE
{'backbone': 'gcn', 'gkedm_position': 'hidden', 'gkedm_hops': 1,
 'gkedm_normalization': 'mean', 'schedule': 'joint', 'consistency': 0.0,
 'gkedm_scoring': 'dot', 'gkedm_update': 'residual'}
>>> GKEDMClassifier(hidden_dims=(16,), **PAPER_GKEDM).gkedm_update
'residual'
"""


DISTILLER_RECIPE = {**HIDDEN_GKEDM, "gkedm_scoring": "cosine", "max_epochs": 200}
"""The default teacher's and student's recipe (besides their widths): cosine attention
on a GCN's hidden layer, whose maps attention distillation transfers, 200 epochs (as
before the classifier's default changed)."""


class DistilledGCNClassifier(GraphClassifierBase):
    r"""A compact GKEDM student trained to mimic a large GKEDM teacher.

    Knowledge distillation with GKEDM as the "auxiliary transferor" (Wu, 2024): the
    teacher (a wide backbone with GKEDM) is trained first, then frozen; the student (a
    narrow backbone with GKEDM) learns from the labels, from the teacher's attention
    maps and from the teacher's softened predictions. Both attend along the same edges,
    so their attention maps are comparable whatever their widths and head counts.
    Predictions come from the student.

    The student minimises

    .. math::
        \mathcal{L} = \operatorname{CE}(y, z^S)
        + \alpha \, \frac{1}{n} \sum_{i=1}^{n}
          \operatorname{KL}\big(\bar a^T_i \,\big\|\, \bar a^S_i\big)
        + \beta \, \tau^2 \, \frac{1}{n} \sum_{i=1}^{n}
          \operatorname{KL}\big(\operatorname{softmax}(z^T_i / \tau) \,\big\|\,
          \operatorname{softmax}(z^S_i / \tau)\big)

    where the cross-entropy covers the labelled training nodes, :math:`\bar a_i` is
    node :math:`i`'s attention over its incoming edges (self-loop included) averaged
    over heads, :math:`z` are class scores, :math:`\alpha` is ``attention_weight``,
    :math:`\beta` is ``soft_label_weight`` and :math:`\tau` is ``temperature``. The
    distillation terms need no labels and cover every node :math:`i = 1 \dots n` of the
    training graph (transductive distillation). The teacher's outputs are computed
    once, in evaluation mode, on the whole training graph.

    Parameters
    ----------
    teacher : GKEDMClassifier, GKEDMGraphClassifier, FrozenEstimator or None, default=None
        Unfitted template of the teacher, cloned and fitted on the same data in
        ``fit``. ``None`` uses ``GKEDMClassifier(hidden_dims=(256,),
        gkedm_scoring="cosine")``: the default model four times wider, with cosine
        attention (whose maps attention distillation transfers) instead of the
        default's equal weights. A
        ``sklearn.frozen.FrozenEstimator`` wrapping a *fitted* GKEDMClassifier is used
        as is, without refitting: the cheap way to tune the student with
        ``GridSearchCV``. The paper's form of the distiller is
        ``teacher=GKEDMClassifier(hidden_dims=(256,), weight_decay=5e-3,
        **PAPER_GKEDM), student=GKEDMClassifier(hidden_dims=(16,), **PAPER_GKEDM),
        attention_weight=0.1`` (:data:`PAPER_GKEDM`); it was the default until
        0.2.0.dev0, and measured worse (see Notes).
    student : GKEDMClassifier, GKEDMGraphClassifier or None, default=None
        Unfitted template of the student, cloned and fitted in ``fit``. A
        :class:`GKEDMGraphClassifier` student (with a teacher of the same kind and
        backbone) distils graphs as samples; see Notes. ``None`` uses
        ``GKEDMClassifier(hidden_dims=(16,), gkedm_scoring="cosine",
        schedule="joint")``: cosine attention, trained jointly, so
        that both distillation terms reach the whole network from the first epoch.
        Pass a template to tune its parameters as ``student__<name>`` (for instance
        ``student__hidden_dims``). A graph-free student,
        ``GKEDMClassifier(backbone="mlp", gkedm=False)``, learns the teacher's soft
        labels over every node of the training graph and then predicts from node
        features alone (GLNN, Zhang et al., 2022); to serve the training graph's own
        nodes, fit it closely (``dropout=0.0, weight_decay=0.0, max_epochs=500``); see
        Notes.
    attention_weight : float or "auto", default="auto"
        Weight :math:`\alpha \ge 0` of attention distillation (the paper's best value,
        for its own module, is 0.1). ``"auto"`` is 1.0 when teacher and student both
        have GKEDM and 0 otherwise. A weight above 0 is refused when the teacher or the
        student has ``gkedm=False``: without the module there is no attention map to
        transfer (a graph-free student has none).
        Above 0, a teacher that the distiller trains keeps its module
        (``gkedm_check=False``), and a frozen teacher whose check dropped it is
        refused. A student trained with a distillation loss is never checked.
    soft_label_weight : float, default=10.0
        Weight :math:`\beta \ge 0` of soft-label distillation. With
        ``temperature=2``, 10 gave the best validation accuracy on Cora and CiteSeer
        among 1, 3, 10 and 30.
    temperature : float, default=2.0
        Softening temperature :math:`\tau > 0` of the soft labels.
    directed : bool, default=False
        If False, messages flow both ways along every edge of a graph given as
        :class:`GraphNodes` or networkx graph. This setting, not the templates' own
        ``directed``, decides the graph both teacher and student see.
    n_neighbors : int, default=10
        For plain feature matrices: each sample is linked to this many nearest
        training samples. Overrides the templates' ``n_neighbors`` likewise.
    random_state : int, RandomState instance or None, default=None
        Seeds teacher and student whose own ``random_state`` is None; an int gives
        identical results on the CPU.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the label loss of teacher and student, as
        :class:`~sklearn.linear_model.LogisticRegression` takes them; overrides the
        templates' ``class_weight``, as ``directed`` does.

    Attributes
    ----------
    teacher_ : GKEDMClassifier or GKEDMGraphClassifier
        The fitted teacher (the wrapped estimator itself for a FrozenEstimator).
    student_ : GKEDMClassifier or GKEDMGraphClassifier
        The fitted student, which makes the predictions.
    classes_ : ndarray of shape (n_classes,)
        Class labels (``-1``, the unlabelled marker, excluded).
    n_features_in_ : int
        Number of features per node.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, for a DataFrame X with string column names.
    teacher_n_parameters_ : int
        Trainable parameters of the teacher's network.
    student_n_parameters_ : int
        Trainable parameters of the student's network.
    compression_ratio_ : float
        ``teacher_n_parameters_ / student_n_parameters_``.
    n_iter_ : int
        Epochs the student trained for.
    transduction_ : ndarray of shape (n_graph_nodes,)
        The student's predicted class of every node of the training graph (node
        classifiers only, where the student sets it).
    teacher_agreement_ : float or None
        Share of the training graph's nodes, labelled or not, on which the student
        predicts the teacher's class (node classifiers where student and teacher
        predicted every node of it in their fits, or a frozen teacher beside a
        whole-graph student; else None). Far below the teacher's own accuracy, it
        says the student cannot follow the teacher: a graph-free student on a graph
        whose edges, not its node features, carry the class.

    See Also
    --------
    GKEDMClassifier : The teacher and student models.
    sklearn.frozen.FrozenEstimator : Reuse a fitted teacher without refitting.

    Notes
    -----
    Input handling (graphs, networkx graphs, plain feature matrices joined into a
    k-nearest-neighbour graph) is the distiller's own, with its ``directed`` and
    ``n_neighbors``; teacher and student then train on exactly that graph, and the
    teacher's outputs are computed on it. A frozen teacher must have been fitted with
    the same classes and number of features as the data the distiller is fitted on.

    **A student on mini-batches** (``batch_size`` set) meets the teacher on each of its
    neighbour-sampled batches instead of on the whole graph: the teacher must share its
    backbone (and have GKEDM only if it does). The batches are sampled as many hops deep
    as the deeper of the two models sees (extra outer hops take the student's last
    fan-out), and both terms average over the batch's labelled target nodes only: the
    outer sampled nodes have truncated neighbourhoods.

    **Graphs as samples.** With :class:`GKEDMGraphClassifier` teacher and student, X
    is a list of graphs (see :class:`GKEDMGraphClassifier`), and the terms above run
    per mini-batch: the teacher, frozen, runs on each of the student's batches, so
    both attend along the same edges of the same graphs, and the soft labels are the
    teacher's class scores per graph. The teacher must share the student's backbone
    (the batches hold that backbone's propagation matrix) and have GKEDM only if the
    student has it. Predictions and ``predict_proba`` take graphs, as the student's do;
    there is no ``transduction_``.

    **Graph-free students.** With a student that uses no edge (``backbone="mlp"``,
    ``gkedm=False``) the distiller predicts as the student does: from each sample's
    own features, a plain feature matrix needing no graph (no k-nearest-neighbour
    graph is built); graph input is accepted and only its selected nodes' features
    are read. The teacher still needs the graph to train. Transductively (the test
    nodes in the training graph, predicted from their features) such a student scored
    +0.3 (Cora), +0.7 (CiteSeer) and -1.1 (facebook) points against the default
    teacher, 17 to 27 points above the same MLP trained alone; fitted closely (no
    dropout, no weight decay, 500 epochs) -0.0, +0.0 and -0.1. On nodes held out of
    training the close fit generalises far worse (Cora -18.0 points against the
    teacher, the default student -6.8), so keep the default regularisation to predict
    new nodes. Its ``predict`` took 42 to 54 times less CPU time than the default
    teacher's on a 1M-node graph (55 to 61 times with the teacher's module kept;
    ``benchmarks/graph_free_students.py``; user guide, :ref:`graph_free_students`).

    A frozen teacher fitted on the whole training set has seen the labels of the
    validation folds of a cross-validation on that set, so cross-validated scores of
    students distilled from it are optimistic; they still rank student settings fairly
    against each other. Score the chosen setting on held-out data.

    On the public Cora and CiteSeer splits (``benchmarks/distillation.py``, 10 seeds)
    the default student has 16 times fewer parameters than the default teacher and
    predicts 2.4 times faster. Distilled, it scored 82.8 % on Cora (alone 82.4 %,
    teacher 82.0 %) and 71.8 % on CiteSeer (alone 71.0 %, teacher 71.0 %); the paper's
    form scored 82.0 % and 70.9 %. The soft labels carry the gain. Attention
    distillation alone moved the student by +0.0 and +0.3 points: the GKEDM attention
    maps of both models are close to uniform and carry little to transfer, and
    sharper maps did not help (user guide, "When does GKEDM help?").

    References
    ----------
    Wu, 2024. "Attention is all you need for boosting graph convolutional neural
    network." arXiv:2403.15419.

    Hinton, Vinyals and Dean, 2015. "Distilling the Knowledge in a Neural Network."
    arXiv:1503.02531.

    Zhang, Liu, Sun and Shah, 2022. "Graph-less Neural Networks: Teaching Old MLPs
    New Tricks via Distillation." ICLR 2022.

    Examples
    --------
    >>> from skgkedm import DistilledGCNClassifier, GKEDMClassifier
    >>> from skgkedm.datasets import make_node_classification
    >>> X, y = make_node_classification(300, n_classes=3, random_state=0)
    >>> dist = DistilledGCNClassifier(
    ...     teacher=GKEDMClassifier(hidden_dims=(64,), max_epochs=30),
    ...     student=GKEDMClassifier(hidden_dims=(8,), max_epochs=30),
    ...     random_state=0,
    ... ).fit(X[:200], y[:200])
    >>> dist.predict(X[200:205]).shape
    (5,)
    >>> dist.compression_ratio_ > 5
    True

    A fitted teacher is reused without refitting when wrapped in ``FrozenEstimator``.
    To transfer attention maps it needs attention, kept whatever a check would say:

    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.model_selection import GridSearchCV
    >>> teacher = GKEDMClassifier(
    ...     hidden_dims=(64,), gkedm_scoring="cosine", gkedm_check=False, max_epochs=30,
    ...     random_state=0,
    ... ).fit(X[:200], y[:200])
    >>> search = GridSearchCV(
    ...     DistilledGCNClassifier(FrozenEstimator(teacher), GKEDMClassifier(max_epochs=30)),
    ...     {"student__hidden_dims": [(4,), (8,)], "attention_weight": [0.0, 1.0]},
    ...     cv=2,
    ... ).fit(X[:200], y[:200])
    >>> sorted(search.best_params_)
    ['attention_weight', 'student__hidden_dims']

    A graph-free student predicts from plain feature rows, with no graph:

    >>> mlp = GKEDMClassifier(backbone="mlp", gkedm=False, max_epochs=30)
    >>> graph_free = DistilledGCNClassifier(FrozenEstimator(teacher), mlp, random_state=0)
    >>> graph_free.fit(X[:200], y[:200]).predict(X.features[200:205]).shape
    (5,)
    """

    _parameter_constraints: dict = {
        "teacher": [GKEDMClassifier, GKEDMGraphClassifier, FrozenEstimator, None],
        "student": [GKEDMClassifier, GKEDMGraphClassifier, None],
        "attention_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "soft_label_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        **GraphClassifierBase._parameter_constraints,
        "class_weight": GraphClassifierBase._class_weight_constraint,
    }

    def __init__(
        self,
        teacher=None,
        student=None,
        *,
        attention_weight="auto",
        soft_label_weight=10.0,
        temperature=2.0,
        directed=False,
        n_neighbors=10,
        random_state=None,
        class_weight=None,
    ):
        self.teacher = teacher
        self.student = student
        self.attention_weight = attention_weight
        self.soft_label_weight = soft_label_weight
        self.temperature = temperature
        self.directed = directed
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.class_weight = class_weight

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the teacher (unless frozen), then distil it into the student.

        Parameters
        ----------
        X : GraphNodes, networkx graph, GraphList, list of networkx graphs or \
{array-like, sparse matrix}
            Training nodes with their graph (messages pass over the whole graph), a
            networkx graph (all of its nodes), or feature rows of shape
            (n_samples, n_features) joined into a k-nearest-neighbour graph. With
            graph-level teacher and student: training graphs, as
            :meth:`GKEDMGraphClassifier.fit` takes them.
        y : array-like of shape (n_samples,)
            Class of each sample; ``-1`` marks an unlabelled node (node classifiers).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the label loss of teacher and student
            (multiplied by ``class_weight``); the distillation terms, which need no
            labels, are not weighted.
        X_val : GraphNodes, networkx graph, torch_geometric Data, GraphList or list \
of networkx graphs, default=None
            Validation nodes of the training graph (or, with graph-level teacher and
            student, validation graphs), as :meth:`GKEDMClassifier.fit` takes them:
            never trained on, they pick the kept epoch of the teacher (unless frozen)
            and of the student, each as its own fit with ``X_val`` would; the student
            still learns the teacher's soft labels over every node of the training
            graph, these included. Both ``early_stopping`` must allow validation.
        y_val : array-like of shape (n_val,), default=None
            Classes of the validation samples, as ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation sample in the validation score.

        Returns
        -------
        self : DistilledGCNClassifier
            The fitted estimator.
        """
        teacher, student = self._templates()
        teacher_seed, student_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=2
        )
        validation = (X_val, y_val, sample_weight_val)
        if isinstance(student, GKEDMGraphClassifier):
            self._fit_graph_level(
                teacher, student, X, y, sample_weight, validation, teacher_seed, student_seed
            )
        else:
            labelled = self._training_data(X, y, sample_weight, *validation)
            check_single_label(labelled)
            if isinstance(teacher, FrozenEstimator):
                self.teacher_ = self._check_frozen_teacher(teacher.estimator)
            else:
                member = self._member(teacher, teacher_seed)
                if self._attention_weight() > 0:
                    # Attention maps to transfer need the module: no check may drop it.
                    member.set_params(gkedm_check=False)
                self.teacher_ = member._fit_validated(labelled)
            # A student on mini-batches meets the teacher on each batch, as graphs do;
            # the batches reach as far as the deeper of the two sees.
            per_batch = student.batch_size is not None
            self.student_ = self._member(student, student_seed)._fit_validated(
                labelled,
                extra_loss=self._distillation_loss(None if per_batch else labelled, per_batch),
                sample_hops=self.teacher_._architecture.message_hops,
            )
            self.__dict__.pop("transduction_", None)
            self.teacher_agreement_ = None
            if hasattr(self.student_, "transduction_"):
                self.transduction_ = self.student_.transduction_
                frozen = isinstance(teacher, FrozenEstimator)
                self.teacher_agreement_ = self._teacher_agreement(labelled, frozen, per_batch)
        self.teacher_n_parameters_ = int(self.teacher_.n_parameters_)
        self.student_n_parameters_ = int(self.student_.n_parameters_)
        self.compression_ratio_ = self.teacher_n_parameters_ / self.student_n_parameters_
        self.n_iter_ = self.student_.n_iter_
        return self

    def _fit_graph_level(self, teacher, student, X, y, sample_weight, validation,
                         teacher_seed, student_seed):  # fmt: skip
        """Distil a graph classifier: teacher and student see the same mini-batches of graphs.

        The student's input handling is the distiller's: it validates X and y (and the
        validation graphs, ``(X_val, y_val, sample_weight_val)``), and the distiller
        adopts the same input state (``classes_``, ``n_features_in_``).
        """
        self.__dict__.pop("transduction_", None)
        self.teacher_agreement_ = None
        if any(argument is not None for argument in validation):
            self._check_validation_arguments(*validation)
        self.student_ = self._member(student, student_seed)
        data = self.student_._training_data(X, y, sample_weight, *validation)
        check_single_label(data)
        self._adopt_input(data.input_state)
        if isinstance(teacher, FrozenEstimator):
            self.teacher_ = self._check_frozen_teacher(teacher.estimator)
        else:
            self.teacher_ = self._member(teacher, teacher_seed)._fit_validated(data)
        self.student_._fit_validated(data, extra_loss=self._distillation_loss(None))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False  # soft labels are softmax distributions
        return tags

    def _templates(self):
        """Return validated (teacher, student) templates, defaults filled in."""
        teacher = self.teacher
        if teacher is None:
            teacher = GKEDMClassifier(hidden_dims=(256,), **DISTILLER_RECIPE)
        student = self.student
        if student is None:
            student = GKEDMClassifier(
                hidden_dims=(16,), **{**DISTILLER_RECIPE, "schedule": "joint"}
            )
        inner = teacher.estimator if isinstance(teacher, FrozenEstimator) else teacher
        if not isinstance(student, (GKEDMClassifier, GKEDMGraphClassifier)):
            raise TypeError(
                "student must be a GKEDMClassifier or a GKEDMGraphClassifier; got "
                f"{type(student).__name__}."
            )
        kind = type(student)
        if type(inner) is not kind:
            got = type(teacher).__name__
            if inner is not teacher:
                got = f"FrozenEstimator({type(inner).__name__})"
            raise TypeError(
                f"teacher must be a {kind.__name__} like the student, or a FrozenEstimator "
                f"wrapping a fitted {kind.__name__}; got {got}."
            )
        inner._validate_params()
        student._validate_params()
        if student.batch_size is not None:
            check_batch_pair(inner, student)
        check_attention_pair(self.attention_weight, inner, student)
        return teacher, student

    def _attention_weight(self):
        """The weight of attention distillation, ``"auto"`` resolved (see the parameter)."""
        if self.attention_weight != "auto":
            return float(self.attention_weight)
        teacher, student = self._templates()
        inner = teacher.estimator if isinstance(teacher, FrozenEstimator) else teacher
        # A fitted teacher has a module only if its gkedm_check kept it.
        has_module = getattr(inner, "_architecture", inner).gkedm
        return 1.0 if has_module and student.gkedm else 0.0

    def _member(self, template, seed):
        """Clone a template to train on the distiller's validated input.

        The clone is trained through ``_fit_validated``, so it adopts the distiller's
        input handling (the k-nearest-neighbour graph, classes) and predicts alone
        exactly as within the distiller; ``seed`` seeds it unless it has its own
        random_state.
        """
        model = clone(template).set_params(directed=self.directed, class_weight=self.class_weight)
        if "n_neighbors" in model.get_params():
            model.set_params(n_neighbors=self.n_neighbors)
        if model.random_state is None:
            model.set_params(random_state=int(seed))
        return model

    def _teacher_agreement(self, labelled, frozen, per_batch):
        """Share of the training graph's nodes where the student predicts the teacher's class.

        Can the student follow its teacher? A graph-free student cannot where the
        edges, not the features, carry the class. The student's predictions are its
        ``transduction_``; a teacher fitted here has its own on the same graph. A
        frozen teacher runs on the whole graph once more, as the whole-graph soft
        labels did (its device's fallback warned at its fit); beside a student on
        mini-batches, which never needed that pass, None.
        """
        if not frozen:
            says = getattr(self.teacher_, "transduction_", None)
        elif per_batch:
            says = None
        else:
            device = resolve_device(self.teacher_.device, warn=False)
            symmetrize = labelled.input_state["_symmetrize"]
            output, graph = self.teacher_._network_output(labelled.inputs, symmetrize, device)
            indices = graph.in_input_order(output.logits).argmax(dim=1).cpu().numpy()
            says = self.teacher_.classes_[indices]
        return None if says is None else float(np.mean(says == self.transduction_))

    def _check_validation_arguments(self, X_val, y_val, sample_weight_val):
        """Refuse validation data that a member to train would not validate on."""
        teacher, student = self._templates()
        members = {"student": student}
        if not isinstance(teacher, FrozenEstimator):
            members["teacher"] = teacher
        for role, member in members.items():
            check_validation_arguments(
                member.early_stopping, X_val, y_val, sample_weight_val, whose=f"the {role}'s "
            )

    def _check_frozen_teacher(self, teacher):
        check_is_fitted(teacher, msg="The frozen teacher must be a fitted estimator.")
        if self._attention_weight() > 0 and not teacher._architecture.gkedm:
            raise ValueError(
                f"attention_weight={self.attention_weight} distils GKEDM attention maps, "
                "but the frozen teacher has no GKEDM module (its gkedm_check found the "
                "plain backbone better); set attention_weight=0, or refit the teacher "
                "with gkedm_check=False."
            )
        if teacher.n_features_in_ != self.n_features_in_ or not np.array_equal(
            teacher.classes_, self.classes_
        ):
            raise ValueError(
                f"The frozen teacher was fitted on {teacher.n_features_in_} features and "
                f"classes {teacher.classes_.tolist()}, but the distiller is fitted on "
                f"{self.n_features_in_} features and classes {self.classes_.tolist()}."
            )
        return teacher

    def _distillation_loss(self, labelled, seeds_only=False):
        """The student's extra loss, or None when both distillation weights are 0.

        ``labelled``: the training graph, on which the teacher's outputs are computed
        once; None for a student trained on mini-batches, whose every batch the teacher
        then runs on. ``seeds_only``: the batches are sampled neighbourhoods of nodes,
        and the terms cover their target nodes only.
        """
        attention_weight = self._attention_weight()
        if attention_weight == 0 and self.soft_label_weight == 0:
            return None
        # The teacher's fit already warned if its device fell back to the CPU.
        device = resolve_device(self.teacher_.device, warn=False)
        # Teacher outputs (or, for graphs as samples, the teacher itself) on each device
        # the student runs on, moved there once.
        on_device = {}
        if labelled is None:  # a student on mini-batches: run the teacher on each one
            on_device[device] = self.teacher_._fitted_network(device)

            @torch.no_grad()
            def teacher_output(graph):
                where = graph.x.device
                if where not in on_device:
                    on_device[where] = copy.deepcopy(on_device[device]).to(where)
                return on_device[where](graph)

        else:
            on_device[device], _ = self.teacher_._network_output(
                labelled.inputs, labelled.input_state["_symmetrize"], device=device
            )

            def teacher_output(graph):
                where = graph.x.device
                if where not in on_device:
                    on_device[where] = type(on_device[device])(
                        *(None if t is None else t.to(where) for t in on_device[device])
                    )
                return on_device[where]

        return DistillationLoss(
            teacher_output,
            attention_weight,
            float(self.soft_label_weight),
            float(self.temperature),
            seeds_only,
        )

    def _predicts_without_graph(self):
        # A graph-free student predicts from features alone, so the distiller does too.
        return (
            not isinstance(self.student_, GKEDMGraphClassifier)
            and self.student_._predicts_without_graph()
        )

    def _graph_to_predict(self, X):
        """Validate X at predict time; graphs as samples are the student's to validate."""
        check_is_fitted(self)
        if isinstance(self.student_, GKEDMGraphClassifier):
            return X, None
        return super()._graph_to_predict(X)

    def _class_scores(self, nodes, symmetrize, log=False):
        """Class probabilities (or their logarithms) of the samples, from the student."""
        if isinstance(self.student_, GKEDMGraphClassifier):
            graphs = nodes
            if log:
                return self.student_.predict_log_proba(graphs)
            return self.student_.predict_proba(graphs)
        return self.student_._class_scores(nodes, symmetrize, log=log)

    def _class_indices(self, nodes, symmetrize):
        """The student's predicted class indices (``classes_`` are the student's)."""
        if isinstance(self.student_, GKEDMGraphClassifier):
            return super()._class_indices(nodes, symmetrize)
        return self.student_._class_indices(nodes, symmetrize)
