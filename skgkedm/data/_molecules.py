"""SMILES strings to molecular graphs: RDKit parses, PyTorch Geometric describes the atoms."""

import numpy as np
import scipy.sparse as sp

INSTALL_HINT = "pip install skgkedm[chem] (or pip install rdkit)"


def atom_feature_blocks():
    """The one-hot blocks of an atom's features, as PyTorch Geometric defines them.

    Returns
    -------
    list of (str, list)
        One ``(name, categories)`` per column of ``torch_geometric.utils.smiles``'s
        atom feature matrix, in column order: ``atomic_num`` (0 to 118),
        ``chirality``, ``degree``, ``formal_charge``, ``num_hs``,
        ``num_radical_electrons``, ``hybridization``, ``is_aromatic`` and
        ``is_in_ring``. Each column becomes ``len(categories)`` one-hot features.

    Examples
    --------
    >>> [(name, len(categories)) for name, categories in atom_feature_blocks()][:3]
    [('atomic_num', 119), ('chirality', 9), ('degree', 11)]
    """
    from torch_geometric.utils.smiles import x_map

    return [(name, list(categories)) for name, categories in x_map.items()]


def bond_feature_blocks():
    """The one-hot blocks of a bond's features, as PyTorch Geometric defines them.

    Returns
    -------
    list of (str, list)
        One ``(name, categories)`` per column of ``torch_geometric.utils.smiles``'s
        bond feature matrix, in column order: ``bond_type`` (22 RDKit bond types),
        ``stereo`` (6) and ``is_conjugated`` (2). Each column becomes
        ``len(categories)`` one-hot features, 30 in all.

    Examples
    --------
    >>> [(name, len(categories)) for name, categories in bond_feature_blocks()]
    [('bond_type', 22), ('stereo', 6), ('is_conjugated', 2)]
    """
    from torch_geometric.utils.smiles import e_map

    return [(name, list(categories)) for name, categories in e_map.items()]


def import_rdkit():
    """Import RDKit's ``Chem`` and ``rdBase``, or say how to install RDKit."""
    try:
        from rdkit import Chem, rdBase
    except ImportError as error:
        raise ImportError(
            f"Building graphs from SMILES needs RDKit, which is not installed: {INSTALL_HINT}."
        ) from error
    return Chem, rdBase


def molecule_blocks(smiles, bond_features=False):
    """Parse SMILES strings into one block-diagonal molecular graph.

    Parameters
    ----------
    smiles : sequence of str
        One SMILES string per molecule.
    bond_features : bool, default=False
        Also return the one-hot bond features.

    Returns
    -------
    adjacency : scipy.sparse.csr_array of shape (n_atoms, n_atoms)
        Symmetric bond adjacency of all molecules, weight 1 per bond (float32).
    features : scipy.sparse.csr_array of shape (n_atoms, n_one_hot)
        One-hot atom features (float32), 9 ones per row.
    offsets : ndarray of shape (n_molecules + 1,)
        Molecule ``k``'s atoms are rows ``offsets[k]:offsets[k + 1]``.
    edge_attr : ndarray of shape (adjacency.nnz, 30) or None
        With ``bond_features``: the one-hot features of the bond of every stored
        entry of ``adjacency`` (float32, CSR order); else None.

    Raises
    ------
    TypeError
        If ``smiles`` is a single string or holds something other than strings.
    ValueError
        If ``smiles`` is empty or a SMILES string does not describe a molecule with at
        least one atom that PyTorch Geometric's molecule features can describe.
    ImportError
        If RDKit is not installed.
    """
    smiles = _smiles_sequence(smiles)
    Chem, rdBase = import_rdkit()
    from torch_geometric.utils import from_rdmol

    atoms, edges, bonds, sizes = [], [], [], []
    # RDKit logs every parse error to stderr; the ValueError below says what went wrong.
    with rdBase.BlockLogs():
        for position, text in enumerate(smiles):
            molecule = Chem.MolFromSmiles(text)
            if molecule is None:
                raise ValueError(
                    f"SMILES {position} ({text!r}) is not a valid molecule: "
                    f"{_parse_problem(Chem, text)}."
                )
            if molecule.GetNumAtoms() == 0:
                raise ValueError(
                    f"SMILES {position} ({text!r}) has no atoms; every molecule needs at "
                    "least one."
                )
            try:
                data = from_rdmol(molecule)
            except ValueError as error:
                # A property outside PyG's category lists (its list.index fails): an atom's
                # (such as hybridization SP2D) or a bond's, which PyG describes too.
                raise ValueError(
                    f"SMILES {position} ({text!r}) has an atom or bond that PyTorch "
                    f"Geometric's molecule features cannot describe: {error}."
                ) from error
            atoms.append(data.x.numpy())
            edges.append(data.edge_index.numpy())
            bonds.append(data.edge_attr.numpy().reshape(-1, len(bond_feature_blocks())))
            sizes.append(len(data.x))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n_atoms = int(offsets[-1])
    edge_index = np.concatenate(
        [edge + offset for edge, offset in zip(edges, offsets[:-1], strict=True)], axis=1
    )
    # Entries in CSR order (by atom, then neighbour), so that bond features line up.
    order = np.lexsort((edge_index[1], edge_index[0]))
    rows, columns = edge_index[0][order], edge_index[1][order]
    adjacency = sp.csr_array(
        (np.ones(len(order), dtype=np.float32), (rows, columns)), shape=(n_atoms, n_atoms)
    )
    edge_attr = None
    if bond_features:
        codes = np.concatenate(bonds)[order]
        edge_attr = _one_hot(codes, bond_feature_blocks()).toarray()
    return adjacency, _one_hot(np.concatenate(atoms), atom_feature_blocks()), offsets, edge_attr


def _one_hot(codes, blocks):
    """One-hot encode PyG's (n, n_columns) category codes, one block per column."""
    widths = np.array([len(categories) for _, categories in blocks])
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    n_atoms, n_columns = codes.shape
    columns = (codes + starts).ravel().astype(np.int32)
    indptr = np.arange(0, n_atoms * n_columns + 1, n_columns, dtype=np.int32)
    data = np.ones(n_atoms * n_columns, dtype=np.float32)
    return sp.csr_array((data, columns, indptr), shape=(n_atoms, int(widths.sum())))


def _smiles_sequence(smiles):
    if isinstance(smiles, (str, bytes)) or not hasattr(smiles, "__len__"):
        raise TypeError(
            f"smiles must be a sequence of SMILES strings, one per molecule, got "
            f"{type(smiles).__name__}; wrap a single SMILES string in a list."
        )
    smiles = list(smiles)
    if not smiles:
        raise ValueError("smiles is empty: at least one molecule is needed.")
    for position, text in enumerate(smiles):
        if not isinstance(text, str):
            raise TypeError(
                f"SMILES {position} is a {type(text).__name__}, not a str; expected one "
                "SMILES string per molecule."
            )
    # Plain str: NumPy's str_ would show as np.str_('...') in error messages.
    return [str(text) for text in smiles]


def _parse_problem(Chem, text):
    """Why RDKit refused a SMILES string, in words (called inside BlockLogs)."""
    unsanitized = Chem.MolFromSmiles(text, sanitize=False)
    if unsanitized is None:
        return "RDKit cannot parse it (check its syntax: brackets, ring closures, atoms)"
    problems = Chem.DetectChemistryProblems(unsanitized)
    if problems:
        return f"RDKit rejects its chemistry ({problems[0].Message()})"
    return "RDKit cannot sanitize it"
