"""What GraphNodes and GraphList share: a read-only selection over stored data."""

import numbers

import numpy as np


class SelectionMixin:
    """Samples selected from data that every subset shares (not for direct use).

    A subclass keeps its stored data in the attribute named by ``_STORAGE`` and its
    selected positions in ``_indices``; it gives ``_ARRAY_REFUSAL``, the message that
    explains why it cannot become a NumPy array, and ``_stored_bytes()``. Indexing,
    ``len``, ``__array__``, ``__sizeof__`` and unpickling then behave alike: indexing
    selects samples as rows of an array are selected, and never copies the stored data.
    """

    _STORAGE = None
    _ARRAY_REFUSAL = None

    @property
    def indices(self):
        return self._indices

    def __len__(self):
        return len(self._indices)

    def __getitem__(self, key):
        return self._with_indices(
            self._indices[selected_rows(key, len(self), type(self).__name__)]
        )

    def _with_indices(self, indices):
        subset = object.__new__(type(self))
        setattr(subset, self._STORAGE, getattr(self, self._STORAGE))
        subset._indices = read_only(indices)
        return subset

    def __array__(self, dtype=None, copy=None):
        """Refuse conversion to a NumPy array, at once and with what to do instead.

        Without it NumPy would read the selection as a nested sequence (each sample a
        selection of one) and recurse 64 levels deep before failing.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError(self._ARRAY_REFUSAL)

    def __sizeof__(self):
        """Bytes of the selection and of the stored data it carries.

        ``sys.getsizeof`` and ``dask.sizeof`` read it: joblib's Dask backend sends an
        argument it sizes above 1 kB to the cluster once per search instead of once per
        fit, so a search ships the stored data to each worker once.
        """
        return object.__sizeof__(self) + self._indices.nbytes + self._stored_bytes()

    def __setstate__(self, state):
        # NumPy unpickles arrays as writeable; keep them read-only after a round trip.
        self.__dict__.update(state)
        read_only(self._indices)
        for array in self._read_only_arrays():
            read_only(array)

    def _read_only_arrays(self):
        """Stored arrays, besides the selection, to make read-only again after unpickling."""
        return ()


def stored_bytes(*matrices):
    """Bytes of the arrays behind dense and scipy sparse matrices."""
    total = 0
    for matrix in matrices:
        if hasattr(matrix, "nnz"):
            total += matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
        else:
            total += matrix.nbytes
    return total


def read_only(array):
    array.flags.writeable = False
    return array


def selected_rows(key, n_selected, kind="GraphNodes"):
    """Turn an indexing key into integer positions within the selection.

    ``kind`` names the container in error messages.
    """
    if isinstance(key, tuple):
        if not key or any(part not in (Ellipsis, slice(None)) for part in key[1:]):
            raise IndexError(
                f"{kind} selects rows only: use X[rows] or X[rows, ...], got the key {key!r}."
            )
        key = key[0]
    if isinstance(key, slice):
        return np.arange(n_selected)[key]
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        key = [key]
    key = np.asarray(key)
    if key.size == 0:
        return np.zeros(0, dtype=np.intp)
    if key.dtype == bool:
        if key.shape != (n_selected,):
            raise IndexError(
                f"Boolean mask of shape {key.shape} does not match the {n_selected} "
                "selected samples; expected a 1-D mask of that length."
            )
        return np.flatnonzero(key)
    if key.ndim != 1 or not np.issubdtype(key.dtype, np.integer):
        raise IndexError(
            f"{kind} indices must be an int, a slice, a 1-D integer array or a "
            f"boolean mask; got an array of dtype {key.dtype} and shape {key.shape}."
        )
    if key.min() < -n_selected or key.max() >= n_selected:
        bad = key[(key < -n_selected) | (key >= n_selected)][0]
        raise IndexError(
            f"Index {bad} is out of range for {n_selected} selected samples "
            f"(valid: {-n_selected} to {n_selected - 1})."
        )
    return key
