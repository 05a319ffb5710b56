"""Every public name is listed in the API reference (docs/api.rst), under its module."""

import ast
import re
from pathlib import Path

import pytest

import skgkedm
import skgkedm.datasets
import skgkedm.nn

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def public_names():
    for module in (skgkedm, skgkedm.datasets, skgkedm.nn):
        for name in module.__all__:
            if name != "__version__":
                yield module.__name__, name


def documented_names():
    """(module, name) of each autosummary entry, module from the last currentmodule."""
    documented, module = set(), None
    for line in API_RST.read_text(encoding="utf-8").splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line)
        if directive:
            module = directive.group(1)
        elif re.fullmatch(r"\s+[A-Za-z_]\w*", line):
            documented.add((module, line.strip()))
    return documented


@pytest.mark.parametrize(("module", "name"), list(public_names()))
def test_public_name_is_in_api_reference(module, name):
    assert (module, name) in documented_names(), (
        f"{module}.{name} is missing from docs/api.rst (list it in an autosummary "
        f"block after '.. currentmodule:: {module}')"
    )


ESTIMATORS = [
    skgkedm.GKEDMClassifier,
    skgkedm.GKEDMGraphClassifier,
    skgkedm.GKEDMGraphRegressor,
    skgkedm.DistilledGCNClassifier,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_parameter_has_its_own_entry_with_type_and_default(estimator):
    # The graph estimators' docstrings were assembled with str.replace, and one
    # grouped entry (gkedm, ..., gkedm_layers) had no type or default.
    from numpydoc.docscrape import ClassDoc

    entries = {entry.name: entry for entry in ClassDoc(estimator)["Parameters"]}
    for name, value in estimator().get_params(deep=False).items():
        assert name in entries, f"{estimator.__name__} does not document {name}"
        default = entries[name].type.partition("default=")[2]
        assert default, f"{estimator.__name__}.{name} gives no default"
        assert ast.literal_eval(default) == value, (
            f"{estimator.__name__}.{name}: documented default {default}, actual {value!r}"
        )
