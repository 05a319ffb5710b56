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
    fields = dyadic(p) if x.device.type == "cpu" else None
    if fields is not None:
        return x * scaled(bit_mask(x.shape, *fields, generator), 1.0 / (1.0 - p), x.dtype)
    # Uniform draws compared in place: half the time of bernoulli_ on the CPU.
    scale = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x * scale.ge_(p).div_(1.0 - p)


def scaled(mask, scale, dtype):
    """``mask * scale`` in ``dtype``: 0 where ``mask`` is 0, ``scale`` where it is 1.

    In float32 it writes the scale's bit pattern into the integer mask in place and
    reads those bits as floats: the same values as a conversion and a multiplication,
    without their two passes over a mask of every entry (and without allocating a
    float copy: at a million nodes, a mask is hundreds of megabytes).

    Parameters
    ----------
    mask : Tensor of dtype int32
        0 or 1 everywhere; overwritten.
    scale : float
    dtype : torch.dtype

    Returns
    -------
    Tensor of dtype ``dtype``, the shape of ``mask``

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._dropout import scaled
    >>> scaled(torch.tensor([0, 1, 1], dtype=torch.int32), 2.0, torch.float32).tolist()
    [0.0, 2.0, 2.0]
    """
    if dtype != torch.float32:
        return mask.to(dtype).mul_(scale)
    pattern = torch.tensor(scale, dtype=torch.float32).view(torch.int32).item()
    return mask.mul_(pattern).view(torch.float32)


MASK_BITS = 8
"""The most random bits :func:`bit_mask` spends on one entry."""


def dyadic(p):
    """``(bits, dropped)`` with ``p == dropped / 2**bits`` and ``bits <= MASK_BITS``, or None.

    Examples
    --------
    >>> from skgkedm.nn._dropout import dyadic
    >>> dyadic(0.5), dyadic(0.75), dyadic(0.1)
    ((1, 1), (2, 3), None)
    """
    for bits in range(1, MASK_BITS + 1):
        dropped = p * (1 << bits)
        if dropped == int(dropped):
            return bits, int(dropped)
    return None


# Bit offsets of the fields of one random word, by field width.
_OFFSETS = {}


def bit_mask(shape, bits, dropped, generator):
    """A keep mask that drops each entry with probability ``dropped / 2**bits``, exactly.

    Each entry reads ``bits`` bits of a random word (torch's CPU generator gives 31
    uniform bits per int32 word) and is kept when they are at least ``dropped``. Drawing
    a float per entry (``torch.rand``) was most of the cost of dropout on the CPU: at
    ``p = 0.5``, one bit per entry draws 31 times fewer words (about a third of the
    time on Cora's hidden layer, masks included).

    Parameters
    ----------
    shape : tuple of int
    bits : int
        From 1 to ``MASK_BITS``.
    dropped : int
        From 1 to ``2**bits - 1``.
    generator : torch.Generator
        A CPU generator.

    Returns
    -------
    Tensor of shape ``shape``, dtype int32
        1 where the entry is kept, 0 where it drops.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._dropout import bit_mask
    >>> mask = bit_mask((1000, 10), 2, 1, torch.Generator().manual_seed(0))
    >>> sorted(mask.unique().tolist()), 0.73 < mask.float().mean().item() < 0.77
    ([0, 1], True)
    """
    n = 1
    for size in shape:
        n *= size
    per_word = 31 // bits
    offsets = _OFFSETS.get(bits)
    if offsets is None:
        offsets = _OFFSETS[bits] = torch.arange(per_word, dtype=torch.int32) * bits
    words = torch.empty(-(-n // per_word), 1, dtype=torch.int32)
    words.random_(generator=generator)  # uniform on [0, 2**31): 31 random bits
    fields = (words >> offsets).bitwise_and_((1 << bits) - 1).view(-1)[:n].view(shape)
    if bits == 1:
        return fields  # one bit, dropped == 1: the bit is the mask
    return fields.ge(dropped).to(torch.int32)
