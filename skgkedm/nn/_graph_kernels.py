"""The few array kernels graph preparation is written with, on the CPU or a device.

Graph preparation (:mod:`skgkedm.loader._message_graph`, the propagation matrices of
:mod:`skgkedm.nn._backbones`) is written once, with torch tensors on the device the
network runs on. Its reorderings go through the kernels here: on a GPU they are torch
ops on the device, so the graph never goes back to the host; on the CPU, where the same
torch ops measured two to ten times slower than NumPy's and SciPy's (a stable sort
against a counting transposition; gathers; repeats), they run NumPy on the tensors' own
memory (no copy). Both give the same tensors, bit for bit (``tests/test_graph_preparation.py``).
"""

import numpy as np
import torch


def host_kernels(tensor):
    """Whether graph preparation runs NumPy/SciPy kernels on ``tensor``'s memory.

    True on the CPU; elsewhere everything stays in torch, on the device. The one switch
    between the two: the device-placement tests turn it off to run the device's code
    path on the CPU.
    """
    return tensor.device.type == "cpu"


def row_pointers(rows, n_rows):
    """CSR row pointers of entries with these rows (in any order).

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import row_pointers
    >>> row_pointers(torch.tensor([0, 0, 2]), 3).tolist()
    [0, 2, 2, 3]
    """
    counts = torch.bincount(rows, minlength=n_rows)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def entry_rows(ptr, nnz):
    """The row of every stored entry of CSR row pointers ``ptr`` (``nnz`` entries).

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import entry_rows
    >>> entry_rows(torch.tensor([0, 2, 2, 3]), 3).tolist()
    [0, 0, 2]
    """
    return repeat_rows(torch.arange(ptr.numel() - 1, device=ptr.device), ptr, nnz)


def repeat_rows(values, ptr, nnz):
    """``values[row]`` for the row of every stored entry of CSR row pointers ``ptr``.

    A repeat, not a gather: it reads ``values`` once, in order.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import repeat_rows
    >>> repeat_rows(torch.tensor([0.5, 1.0, 2.0]), torch.tensor([0, 2, 2, 3]), 3).tolist()
    [0.5, 0.5, 2.0]
    """
    if host_kernels(ptr):
        return torch.from_numpy(np.repeat(values.numpy(), np.diff(ptr.numpy())))
    return torch.repeat_interleave(values, ptr.diff(), output_size=nnz)


def take(values, index):
    """``values[index]`` along the first axis.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import take
    >>> take(torch.tensor([5.0, 6.0, 7.0]), torch.tensor([2, 0])).tolist()
    [7.0, 5.0]
    """
    if host_kernels(values):
        return torch.from_numpy(np.take(values.numpy(), index.numpy(), axis=0))
    return values.index_select(0, index)


def put(out, index, values):
    """``out[index] = values`` along the first axis, in place; returns ``out``."""
    if host_kernels(out):
        out.numpy()[index.numpy()] = values.numpy() if isinstance(values, torch.Tensor) else values
        return out
    if isinstance(values, torch.Tensor):
        return out.index_copy_(0, index, values)
    return out.index_fill_(0, index, values)


def transposed_pattern(ptr, columns, n_columns, rows=None, counting=None):
    """The CSR pattern of a matrix's transpose, and where its entries come from.

    The transpose's entries are the matrix's in the stable order by column: entries of
    one column keep their row order, so each row of the transpose has sorted column
    indices. On a device one stable sort of the column indices; on the CPU, SciPy's
    counting transposition (one pass over the entries) gives the same order.

    Parameters
    ----------
    ptr : Tensor of shape (n_rows + 1,)
    columns : Tensor of shape (n_stored,)
    n_columns : int
    rows : Tensor of shape (n_stored,) or None, default=None
        The row of each stored entry, when already at hand.
    counting : bool or None, default=None
        Use the counting transposition; None: where :func:`host_kernels` says so.

    Returns
    -------
    transpose_ptr : Tensor of shape (n_columns + 1,), int64
    transpose_columns : Tensor of shape (n_stored,), int64
        The row in the matrix of each entry of the transpose.
    order : Tensor of shape (n_stored,), int64
        The position in the matrix of each entry of the transpose.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import transposed_pattern
    >>> ptr, columns = torch.tensor([0, 2, 3]), torch.tensor([0, 2, 0])
    >>> [part.tolist() for part in transposed_pattern(ptr, columns, 3)]
    [[0, 2, 2, 3], [0, 1, 0], [0, 2, 1]]
    >>> [part.tolist() for part in transposed_pattern(ptr, columns, 3, counting=False)]
    [[0, 2, 2, 3], [0, 1, 0], [0, 2, 1]]
    """
    if counting is None:
        counting = host_kernels(columns)
    if not counting:
        order = torch.sort(columns, stable=True).indices
        if rows is None:
            rows = entry_rows(ptr, columns.numel())
        return row_pointers(columns, n_columns), rows.index_select(0, order), order
    import scipy.sparse as sp

    positions = sp.csr_array(
        (np.arange(columns.numel()), columns.numpy(), ptr.numpy()),
        shape=(ptr.numel() - 1, n_columns),
    )
    transposed = sp.csc_array(positions)
    return tuple(
        torch.from_numpy(part.astype(np.int64, copy=False))
        for part in (transposed.indptr, transposed.indices, transposed.data)
    )


# SplitMix64's finaliser (Steele, Lea and Flood, 2014) and the golden-ratio increment.
_MIXERS = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_LOW_BITS = 2**31 - 1
# Entries hashed at a time: on the CPU the temporaries of a chunk stay in cache (NumPy,
# one thread); on a device, chunks bound the temporaries' memory.
FINGERPRINT_CHUNKS = {"host": 2**16, "device": 2**24}


def symmetric_fingerprint(ptr, columns, weights, rows):
    """Whether a CSR matrix equals its transpose, weights included, told by checksums.

    Each stored entry ``(i, j, w)`` is hashed (SplitMix64's finaliser of its key and the
    bits of its weight), and so is the entry ``(j, i, w)`` the transpose stores in its
    place; the matrix is symmetric exactly when both lists hold the same entries, so the
    sums of two 31-bit parts of the hashes agree. A matrix that is not symmetric has
    them agree only by a coincidence of chance about 2**-62; the answer False is always
    right. A few passes over the entries, a chunk at a time, with NumPy on the CPU: a
    quarter of a transposition's time (1M nodes, 10M entries: about 0.08 s against
    0.39 s), and no sort on a GPU.

    Parameters
    ----------
    ptr : Tensor of shape (n_rows + 1,)
        Row pointers (a square matrix).
    columns, rows : Tensor of shape (n_stored,)
        Column and row of each stored entry (int64), no duplicate entry.
    weights : Tensor of shape (n_stored,)
        float32 or float64.

    Returns
    -------
    bool

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._graph_kernels import symmetric_fingerprint
    >>> ptr, rows = torch.tensor([0, 1, 2]), torch.tensor([0, 1])
    >>> symmetric_fingerprint(ptr, torch.tensor([1, 0]), torch.tensor([2.0, 2.0]), rows)
    True
    >>> symmetric_fingerprint(ptr, torch.tensor([1, 0]), torch.tensor([2.0, 3.0]), rows)
    False
    """
    n_rows = ptr.numel() - 1
    if weights.dtype == torch.float64:
        bits = weights.view(torch.int64)
    else:
        bits = weights.view(torch.int32).long()
    if host_kernels(ptr):
        # Unsigned 64-bit NumPy arrays: products wrap, shifts are logical.
        arrays = [tensor.numpy().view(np.uint64) for tensor in (rows, columns, bits)]
        hashing, chunk = _Hashing(host=True, n_rows=n_rows), FINGERPRINT_CHUNKS["host"]
        difference = np.zeros(2, dtype=np.int64)
    else:
        arrays = [rows, columns, bits]
        hashing, chunk = _Hashing(host=False, n_rows=n_rows), FINGERPRINT_CHUNKS["device"]
        difference = torch.zeros(2, dtype=torch.int64, device=ptr.device)
    for start in range(0, columns.numel(), chunk):
        row, column, bit = (array[start : start + chunk] for array in arrays)
        bit = bit * hashing.golden
        difference = difference + hashing.checksums(row, column, bit)
        difference = difference - hashing.checksums(column, row, bit)
    return not bool((difference != 0).any())


class _Hashing:
    """SplitMix64's finaliser on NumPy uint64 arrays (``host``) or torch int64 tensors
    (constants as signed integers, shifts masked to be logical)."""

    def __init__(self, host, n_rows):
        self.host = host
        self.n_rows, self.golden = self.constant(n_rows), self.constant(_GOLDEN)
        self.mixers = [self.constant(value) for value in _MIXERS]

    def constant(self, value):
        if self.host:
            return np.uint64(value)
        return value - 2**64 if value >= 2**63 else value

    def shifted(self, values, shift):
        return (values >> self.constant(shift)) & self.constant(2 ** (64 - shift) - 1)

    def checksums(self, first, second, weight_bits):
        """Sums of two 31-bit parts of the hashes of entries ``(first, second)``."""
        hashed = first * self.n_rows
        hashed += second
        hashed += weight_bits
        for shift, multiplier in zip((30, 27), self.mixers, strict=True):
            hashed ^= self.shifted(hashed, shift)
            hashed *= multiplier
        hashed ^= self.shifted(hashed, 31)
        low = self.constant(_LOW_BITS)
        parts = (hashed & low).sum(), (self.shifted(hashed, 32) & low).sum()
        return np.array(parts, dtype=np.int64) if self.host else torch.stack(parts)
