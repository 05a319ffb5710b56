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
