"""Doctests that need an optional dependency are skipped where it is not installed."""

import importlib.util

import pytest

# Doctests whose examples parse SMILES with RDKit (the ``chem`` extra).
NEEDS_RDKIT = ("GraphList.from_smiles", "load_freesolv", "load_solubility")


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("rdkit") is not None:
        return
    skip = pytest.mark.skip(reason="needs RDKit: pip install skgkedm[chem]")
    for item in items:
        if type(item).__name__ == "DoctestItem" and item.name.endswith(NEEDS_RDKIT):
            item.add_marker(skip)
