"""The one place that imports scikit-learn's private helpers."""

from sklearn.base import _fit_context as fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions

__all__ = ["Interval", "Options", "StrOptions", "fit_context"]
