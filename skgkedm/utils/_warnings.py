"""Warnings that point at the user's call, however deep inside skgkedm they are raised."""

import sys
import warnings

# Frames of these modules are skipped: skgkedm's own, and scikit-learn's ``_fit_context``
# wrapper around every ``fit``.
_SKIPPED = ("skgkedm", "sklearn.base")


def _skipped(frame):
    name = frame.f_globals.get("__name__", "")
    return any(name == prefix or name.startswith(prefix + ".") for prefix in _SKIPPED)


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first caller outside skgkedm.

    A fixed ``stacklevel`` is right for one call path only: ``fit`` reaches the same
    warning through a different number of frames in each estimator (and in the
    distiller), so the frame to blame is found by walking the stack. Outside
    skgkedm, that is the user's code, or the scikit-learn tool (``GridSearchCV``,
    ``cross_val_score``) that called ``fit``.

    Parameters
    ----------
    message : str
    category : type of Warning

    Examples
    --------
    >>> import warnings
    >>> from skgkedm.utils._warnings import warn_at_caller
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("careful", UserWarning)
    >>> str(caught[0].message)
    'careful'
    """
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and _skipped(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
