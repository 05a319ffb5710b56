"""Pickling without live torch objects, and a warning when versions differ on load."""

import warnings

import torch


def _versions():
    from . import __version__

    return {"skgkedm": __version__, "torch": torch.__version__.split("+")[0]}


class PortableStateMixin:
    """Pickle only plain Python and NumPy state, and record the versions that wrote it.

    Subclasses keep fitted weights as CPU NumPy arrays and build torch modules from them
    only for the duration of a call, so a model trained on a GPU loads on a machine with
    no GPU.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if hasattr(self, "classes_"):
            state["_saved_versions"] = _versions()
        return state

    def __setstate__(self, state):
        saved = state.get("_saved_versions")
        if saved is not None:
            current = _versions()
            for package, version in saved.items():
                if current[package] != version:
                    warnings.warn(
                        f"This {type(self).__name__} was saved with {package} {version} and "
                        f"is loaded with {package} {current[package]}; predictions may "
                        "differ. Refit it with the installed version to be safe.",
                        UserWarning,
                        stacklevel=2,
                    )
        super().__setstate__(state)
