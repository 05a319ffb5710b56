"""What every benchmark record says about where it ran: versions and machine."""

import json
import platform

import sklearn
import torch
import torch_geometric

import skgkedm


def versions(**more):
    """Versions of Python and the packages behind a measurement (``more``: others)."""
    return {
        "python": platform.python_version(),
        "skgkedm": skgkedm.__version__,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "scikit-learn": sklearn.__version__,
        **more,
    }


def machine():
    """The processor architecture and the torch threads of this process."""
    return f"{platform.machine()}, {torch.get_num_threads()} torch threads"


def write_record(path, record):
    """Write ``record`` as indented JSON to ``path`` (None: nowhere), folders included."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
