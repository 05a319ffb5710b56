"""Where the dataset loaders find their files: ``data_home`` and ``SKGKEDM_DATA``."""

import os


def get_data_home(data_home=None):
    """The folder holding the datasets' subfolders, as an absolute path.

    ``data_home`` if given, else the environment variable ``SKGKEDM_DATA``, else
    ``~/skgkedm_data``; ``~`` is expanded.
    """
    if data_home is None:
        data_home = os.environ.get("SKGKEDM_DATA") or os.path.join("~", "skgkedm_data")
    return os.path.expanduser(os.fspath(data_home))


def require_files(folder, files, advice):
    """Raise an OSError naming the folder and the files of ``files`` missing from it.

    ``advice`` ends the message: where to get the files.
    """
    missing = [file for file in files if not os.path.isfile(os.path.join(folder, file))]
    if missing:
        raise OSError(f"Files missing from {folder}: {', '.join(missing)}. {advice}")
