"""Sparse times dense products whose backward pass reuses a transpose built once.

torch differentiates ``sparse @ dense`` with respect to the dense factor by transposing
the sparse CSR matrix at every backward pass: a conversion that sorts all its stored
entries, which took about a third of a training epoch on Cora. The sparse factors of a
network do not change during a fit (the propagation matrix; the sparsity pattern of
sparse input features, whose values only drop out), so their transposes are laid out
once, when the graph's tensors are built, and the backward pass is one sparse times
dense product. The sparse factors are constants: no gradient flows to them.
"""

from typing import NamedTuple

import torch
from torch import Tensor
from torch.nn import functional as F

from ._edge_ops import csr_tensor
from ._graph_kernels import transposed_pattern


class TransposeLayout(NamedTuple):
    """The sparsity pattern of a CSR matrix's transpose, and where its entries come from.

    Attributes
    ----------
    ptr : Tensor of shape (n_columns + 1,)
        Row pointers of the transpose.
    columns : Tensor of shape (n_stored,)
        Column of each stored entry of the transpose (its row in the matrix).
    order : Tensor of shape (n_stored,)
        Position among the matrix's stored values of each stored entry of the transpose.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._sparse_product import TransposeLayout
    >>> matrix = torch.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 4.0]]).to_sparse_csr()
    >>> layout = TransposeLayout.of(matrix)
    >>> layout.transpose(matrix).to_dense().tolist()
    [[0.0, 3.0], [1.0, 0.0], [2.0, 4.0]]
    """

    ptr: Tensor
    columns: Tensor
    order: Tensor

    @classmethod
    def of(cls, matrix):
        """Lay out the transpose of a sparse CSR matrix.

        Parameters
        ----------
        matrix : Tensor of shape (n_rows, n_columns)
            Sparse CSR, column indices sorted within each row.

        Returns
        -------
        TransposeLayout
            Valid for every matrix with the same sparsity pattern.
        """
        return cls.from_pattern(matrix.crow_indices(), matrix.col_indices(), matrix.size(1))

    @classmethod
    def from_pattern(cls, ptr, columns, n_columns, rows=None):
        """Lay out the transpose of the CSR pattern ``(ptr, columns)``, on its device.

        Parameters
        ----------
        ptr : Tensor of shape (n_rows + 1,)
            Row pointers.
        columns : Tensor of shape (n_stored,)
            Column of each stored entry, sorted within each row.
        n_columns : int
        rows : Tensor of shape (n_stored,) or None, default=None
            The row of each stored entry, when already at hand.

        Returns
        -------
        TransposeLayout
        """
        return cls(*transposed_pattern(ptr, columns, n_columns, rows))

    def transpose(self, matrix):
        """The transpose of ``matrix`` (sparse CSR with this layout's pattern), as CSR."""
        values = matrix.values().index_select(0, self.order)
        return csr_tensor(self.ptr, self.columns, values, (matrix.size(1), matrix.size(0)))

    def to(self, device):
        """Move every tensor to ``device``."""
        return TransposeLayout(*(tensor.to(device) for tensor in self))


class SparseMatrix(NamedTuple):
    """A constant sparse CSR matrix paired with its transpose.

    Attributes
    ----------
    matrix : Tensor of shape (n_rows, n_columns)
        Sparse CSR.
    transpose : Tensor of shape (n_columns, n_rows) or None
        Sparse CSR; ``matrix`` itself when the matrix is symmetric. The transpose of a
        matrix that is not symmetric takes as much memory as the matrix. None where
        nothing is differentiated (predictions): products with the matrix then have no
        gradient.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._sparse_product import SparseMatrix
    >>> symmetric = torch.tensor([[0.0, 2.0], [2.0, 1.0]]).to_sparse_csr()
    >>> SparseMatrix(symmetric, symmetric).to("cpu").transpose.shape
    torch.Size([2, 2])
    """

    matrix: Tensor
    transpose: Tensor

    def to(self, device):
        """Move both matrices to ``device`` (a symmetric matrix stays shared)."""
        matrix = self.matrix.to(device)
        if self.transpose is self.matrix:
            return SparseMatrix(matrix, matrix)
        return SparseMatrix(matrix, None if self.transpose is None else self.transpose.to(device))


def _product(matrix, dense):
    # In place with beta=0, as in _edge_ops: one output buffer, no zero fill and copy.
    out = dense.new_empty(matrix.size(0), dense.size(1))
    return out.addmm_(matrix, dense, beta=0.0)


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, dense, sparse):
        ctx.transpose = sparse.transpose
        return _product(sparse.matrix, dense)

    @staticmethod
    def backward(ctx, grad):
        return _product(ctx.transpose, grad), None


def sparse_product(sparse, dense):
    """``sparse.matrix @ dense``, whose gradient is ``sparse.transpose @ grad``.

    Parameters
    ----------
    sparse : SparseMatrix
        Of shape (n_rows, n_columns); a constant.
    dense : Tensor of shape (n_columns, width)

    Returns
    -------
    Tensor of shape (n_rows, width)

    Raises
    ------
    ValueError
        If ``dense`` requires a gradient and ``sparse`` has no transpose.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._sparse_product import SparseMatrix, sparse_product
    >>> from skgkedm.nn._sparse_product import TransposeLayout
    >>> matrix = torch.tensor([[1.0, 0.0], [2.0, 3.0]]).to_sparse_csr()
    >>> sparse = SparseMatrix(matrix, TransposeLayout.of(matrix).transpose(matrix))
    >>> dense = torch.ones(2, 1, requires_grad=True)
    >>> sparse_product(sparse, dense).sum().backward()
    >>> dense.grad.flatten().tolist()
    [3.0, 3.0]
    """
    if sparse.transpose is None and dense.requires_grad and torch.is_grad_enabled():
        raise ValueError(
            "This sparse matrix was built without its transpose (under torch.no_grad()), "
            "so the product cannot be differentiated; build it with gradients enabled."
        )
    return _SparseProduct.apply(dense, sparse)


def linear(x, weight):
    """``x @ weight.T`` for dense node features, or sparse ones paired with their transpose.

    Parameters
    ----------
    x : Tensor of shape (n_nodes, in_dim), or SparseMatrix of that shape
    weight : Tensor of shape (out_dim, in_dim)

    Returns
    -------
    Tensor of shape (n_nodes, out_dim)
    """
    if isinstance(x, SparseMatrix):
        return sparse_product(x, weight.t())
    return F.linear(x, weight)
