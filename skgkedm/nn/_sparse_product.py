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

from ._edge_ops import csr_prefix, csr_tensor
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
    """A constant sparse CSR matrix paired with its transpose, plus a diagonal.

    The matrix it stands for is ``matrix + diag(diagonal)``: a GCN's self-loops are
    kept apart from the edges, so that inserting them does not rebuild the matrix.

    Attributes
    ----------
    matrix : Tensor of shape (n_rows, n_columns)
        Sparse CSR, without the diagonal's entries.
    transpose : Tensor of shape (n_columns, n_rows) or None
        Sparse CSR; ``matrix`` itself when the matrix is symmetric. The transpose of a
        matrix that is not symmetric takes as much memory as the matrix. None where
        nothing is differentiated (predictions): products with the matrix then have no
        gradient.
    diagonal : Tensor of shape (n_rows,) or None, default=None
        Entries ``(i, i)`` added to ``matrix`` (row ``i`` reads column ``i``: the
        first ``n_rows`` columns are the rows' own nodes); None: none.

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
    diagonal: Tensor = None

    def to(self, device):
        """Move every tensor to ``device`` (a symmetric matrix stays shared)."""
        matrix = self.matrix.to(device)
        diagonal = None if self.diagonal is None else self.diagonal.to(device)
        if self.transpose is self.matrix:
            return SparseMatrix(matrix, matrix, diagonal)
        transpose = None if self.transpose is None else self.transpose.to(device)
        return SparseMatrix(matrix, transpose, diagonal)

    def trimmed(self, n_rows, n_columns):
        """The first ``n_rows`` rows, as a matrix of ``n_columns`` columns, with its transpose.

        For a neighbour-sampled subgraph whose nodes come hop by hop: the rows of the
        nodes of the first hops only hold columns of one more hop, so they are a
        prefix of the CSR matrix (as PyG's ``trim_to_layer`` keeps them), with the
        values of the whole subgraph's matrix (its normalisation).

        Parameters
        ----------
        n_rows : int
        n_columns : int
            Every stored column of the kept rows must be below it (not checked).

        Returns
        -------
        SparseMatrix of shape (n_rows, n_columns)

        Examples
        --------
        >>> import torch
        >>> from skgkedm.nn._sparse_product import SparseMatrix
        >>> matrix = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 4.0], [0.0, 5.0, 6.0]])
        >>> sparse = matrix.to_sparse_csr()
        >>> trimmed = SparseMatrix(sparse, sparse.t().to_sparse_csr()).trimmed(1, 2)
        >>> trimmed.matrix.to_dense().tolist(), trimmed.transpose.to_dense().tolist()
        ([[1.0, 2.0]], [[1.0], [2.0]])
        """
        matrix = self.matrix
        ptr = matrix.crow_indices()
        end = int(ptr[n_rows])
        trimmed = csr_tensor(
            ptr[: n_rows + 1],
            matrix.col_indices()[:end],
            matrix.values()[:end],
            (n_rows, n_columns),
        )
        diagonal = None if self.diagonal is None else self.diagonal[:n_rows]
        if self.transpose is None:
            return SparseMatrix(trimmed, None, diagonal)
        transpose = self.transpose
        columns = transpose.col_indices()
        transpose_ptr, kept = csr_prefix(transpose.crow_indices(), columns, n_columns, n_rows)
        values = transpose.values()[: kept.numel()][kept]
        return SparseMatrix(
            trimmed,
            csr_tensor(transpose_ptr, columns[: kept.numel()][kept], values, (n_columns, n_rows)),
            diagonal,
        )


def _product(matrix, dense):
    # In place with beta=0, as in _edge_ops: one output buffer, no zero fill and copy.
    out = dense.new_empty(matrix.size(0), dense.size(1))
    return out.addmm_(matrix, dense, beta=0.0)


def _with_diagonal(out, diagonal, dense):
    """``out += diag(diagonal) @ dense[:len(diagonal)]`` in place (None: nothing)."""
    if diagonal is not None:
        n_rows = diagonal.numel()
        out[:n_rows].addcmul_(diagonal.unsqueeze(1), dense[:n_rows])
    return out


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, dense, sparse):
        ctx.transpose, ctx.diagonal = sparse.transpose, sparse.diagonal
        return _with_diagonal(_product(sparse.matrix, dense), sparse.diagonal, dense)

    @staticmethod
    def backward(ctx, grad):
        return _with_diagonal(_product(ctx.transpose, grad), ctx.diagonal, grad), None


def sparse_product(sparse, dense):
    """``(sparse.matrix + diag(sparse.diagonal)) @ dense``, differentiable by ``dense``.

    Its gradient is ``(sparse.transpose + diag(sparse.diagonal)) @ grad``.

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
