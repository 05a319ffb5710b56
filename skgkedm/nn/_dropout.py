"""Dropout whose mask comes from a given generator, for dense and sparse CSR tensors."""

import torch
from torch.nn import functional as F

from ._edge_ops import csr_tensor


def dropout(x, p, training, generator=None):
    """Zero each entry with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Like :func:`torch.nn.functional.dropout`, but the mask is drawn from ``generator``
    (torch's global generator when None), so that fits running at once in threads each
    draw from their own generator. On a sparse CSR tensor only the stored values drop.

    Parameters
    ----------
    x : Tensor
        Dense tensor, or sparse CSR matrix.
    p : float
        Probability of zeroing an entry, in [0, 1].
    training : bool
        Apply dropout; when False, ``x`` is returned as it is.
    generator : torch.Generator, default=None
        Source of the mask, on ``x``'s device.

    Returns
    -------
    Tensor
        Same shape and layout as ``x``.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._dropout import dropout
    >>> x = torch.ones(2, 4)
    >>> dropped = dropout(x, 0.5, True, torch.Generator().manual_seed(0))
    >>> sorted(set(dropped.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    >>> torch.equal(dropout(x, 0.5, False), x)
    True
    """
    if not training or p == 0:
        return x
    if x.layout == torch.sparse_csr:
        values = dropout(x.values(), p, training, generator)
        return csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape)
    if generator is None:
        return F.dropout(x, p=p, training=True)
    if p >= 1:
        return x * 0.0
    # Uniform draws compared in place: half the time of bernoulli_ on the CPU.
    scale = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x * scale.ge_(p).div_(1.0 - p)
