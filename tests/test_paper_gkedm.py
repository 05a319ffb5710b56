"""skgkedm.PAPER_GKEDM: the paper's module settings, spelled out once."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator

from skgkedm import PAPER_GKEDM, DistilledGCNClassifier, GKEDMClassifier
from skgkedm._classifier import HIDDEN_GKEDM
from skgkedm.datasets import make_node_classification
from skgkedm.nn._distillation_loss import attention_kl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return make_node_classification(120, n_classes=3, n_features=8, random_state=0)


def fitted_parameters(graph, recipe=HIDDEN_GKEDM, **params):
    X, y = graph
    model = GKEDMClassifier(
        **recipe, hidden_dims=(8,), gkedm_heads=2, max_epochs=4, random_state=0
    )
    return model.set_params(**params).fit(X[:80], y[:80])


def test_paper_gkedm_builds_the_papers_module(graph):
    # On a GCN's hidden layer (the previous default's recipe).
    plain = fitted_parameters(graph, gkedm=False)
    paper = fitted_parameters(graph, **PAPER_GKEDM)
    uniform = fitted_parameters(graph)
    cosine = fitted_parameters(graph, gkedm_scoring="cosine")
    # Query and key projections (2 d^2) and the residual scale; cosine scores learn one
    # temperature; equal weights learn nothing.
    assert paper.n_parameters_ - plain.n_parameters_ == 2 * 8 * 8 + 1
    assert cosine.n_parameters_ - plain.n_parameters_ == 1
    assert uniform.n_parameters_ == plain.n_parameters_
    # Joint training: one phase of max_epochs epochs.
    assert paper.n_iter_ == len(paper.loss_curve_) == 4
    # The default (an MLP's class scores, ten hops) learns only its 11 hop weights.
    default = fitted_parameters(graph, recipe={})
    mlp = fitted_parameters(graph, recipe={}, gkedm=False)
    assert default.n_parameters_ - mlp.n_parameters_ == 11
    assert paper._architecture.backbone == "gcn" != default._architecture.backbone


def test_paper_gkedm_is_read_only_and_names_estimator_parameters():
    assert set(PAPER_GKEDM) <= set(GKEDMClassifier().get_params())
    with pytest.raises(TypeError):
        PAPER_GKEDM["schedule"] = "two_phase"
    assert PAPER_GKEDM["schedule"] == "joint"


def test_distiller_defaults_to_the_package_module_with_cosine_attention():
    teacher, student = DistilledGCNClassifier()._templates()
    default = GKEDMClassifier()
    for template in (teacher, student):
        # Attention maps to distil: cosine scores, not the default's equal weights, on
        # a GCN's hidden layer (the previous default's recipe).
        assert template.gkedm_scoring == "cosine" != default.gkedm_scoring
        assert template.gkedm_update == default.gkedm_update
        assert template.gkedm_position == "hidden" != default.gkedm_position
    assert (teacher.hidden_dims, student.hidden_dims) == ((256,), (16,))


def attention_divergence(teacher, student, X):
    """Mean over nodes of KL(teacher's map || student's map), heads averaged."""
    reference = teacher.attention_weights(X)
    weights = student.attention_weights(X)
    assert np.array_equal(reference.source, weights.source)
    assert np.array_equal(reference.target, weights.target)
    tensors = (torch.from_numpy(a) for a in (reference.weights, weights.weights, reference.target))
    return attention_kl(*tensors, n_nodes=len(X)).item()


def test_distiller_papers_form_transfers_the_papers_attention_maps(graph):
    # The paper's form, one set of parameters away from the defaults: its learned
    # dot-product maps are what the attention term pulls the student towards.
    X, y = graph
    paper = {**PAPER_GKEDM, "gkedm_heads": 2, "max_epochs": 100, "weight_decay": 0.0}
    paper["dropout"] = 0.0  # maps learned without dropout noise (PAPER_GKEDM says 0.5)
    teacher = GKEDMClassifier(hidden_dims=(32,), random_state=0, **paper).fit(X[:80], y[:80])

    def student(attention_weight):
        return DistilledGCNClassifier(
            FrozenEstimator(teacher),
            GKEDMClassifier(hidden_dims=(8,), **paper),
            attention_weight=attention_weight,
            soft_label_weight=0.0,
            random_state=0,
        ).fit(X[:80], y[:80])

    distilled, alone = student(10.0), student(0.0)
    assert distilled.student_.gkedm_scoring == "dot" and distilled.student_.schedule == "joint"
    assert attention_divergence(teacher, distilled.student_, X) < 0.5 * attention_divergence(
        teacher, alone.student_, X
    )


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *ROOT.glob("docs/**/*.rst"),
            ROOT / "README.rst",
            *ROOT.glob("benchmarks/*.py"),
            *ROOT.glob("examples/*.py"),
        ]
    ),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_commands_name_paper_gkedm_instead_of_spelling_it_out(path):
    # A benchmark command that spells the settings out drifts when they change.
    text = path.read_text(encoding="utf-8")
    spelled = re.findall(r"gkedm_scoring=dot,\S*", text)
    assert not spelled, (
        f"{path.relative_to(ROOT)} spells out the paper's module ({spelled[0]}); "
        "write PAPER_GKEDM instead (benchmarks accept it in --set and --variant)."
    )
