"""Devices and random generators for torch, leaving the caller's global random state alone."""

import threading

import torch

from ._warnings import warn_at_caller


def resolve_device(device, warn=True):
    """Return the torch device to use for ``device`` ("auto", "cpu", "cuda", "cuda:1").

    An unavailable CUDA device falls back to the CPU, with a warning if ``warn``.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got {device!r}."
        ) from error
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}.")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        if not warn:
            return torch.device("cpu")
        warn_at_caller(
            f"device={device!r} was requested but CUDA is not available; using the CPU.",
            RuntimeWarning,
        )
        return torch.device("cpu")
    return resolved


# torch and PyG layers draw their initial weights from torch's process-wide generator and
# take no generator of their own: construction seeds it under this lock (a few
# milliseconds), so fits running at once in threads cannot draw from each other's seeds.
_initialisation_lock = threading.Lock()


def build_seeded(factory, seed):
    """Call ``factory()`` with torch's global CPU generator seeded; restore its state after.

    ``factory`` must build its modules on the CPU (move them to a device afterwards):
    only the CPU generator is seeded, saved and restored. ``torch.manual_seed`` would
    also reseed every CUDA generator, which ``fork_rng(devices=[])`` does not restore, so
    the caller's CUDA random state would be reset by each fit and predict; it is never
    touched here. Concurrent calls from other threads wait, so the same seed always
    gives the same initial weights.
    """
    with _initialisation_lock, torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        return factory()


def fit_generator(seed, device):
    """A torch generator on ``device`` for the random draws of one fit (dropout masks)."""
    return torch.Generator(device=device).manual_seed(seed)


HEAP_BLOCK_BYTES = 16 * 2**20
"""Size of the block :func:`keep_step_memory` allocates and frees once per process."""

_heap_block_freed = False


def keep_step_memory():
    """Let the C allocator keep the memory of a training step for the next one.

    glibc's ``malloc`` serves a block of at least its mmap threshold (128 KiB at first)
    with fresh pages of its own, and returns the top of its heap to the system once
    more than twice that threshold is free there; freeing a larger mmapped block raises
    the threshold to its size (up to 32 MiB). A process that never freed such a block
    (a script that fits Cora) gives back most of every training step's tensors at the
    end of the step and faults the pages in again in the next: 100,000 to 180,000 page
    faults in a fit of the default classifier on Cora (its two dropout views stacked),
    15 to 30 % of its CPU time.
    Allocating and freeing one block of ``HEAP_BLOCK_BYTES`` (never written, so never
    paged in) raises the thresholds as any array of that size freed by the process
    would: steps then reuse the heap's pages. Done once per process; elsewhere than
    glibc it costs an allocation and nothing else.
    """
    global _heap_block_freed
    if not _heap_block_freed:
        _heap_block_freed = True
        block = torch.empty(HEAP_BLOCK_BYTES, dtype=torch.uint8)
        del block
