"""Devices and seeding for torch, without touching the caller's global random state."""

import warnings
from contextlib import contextmanager

import torch


def resolve_device(device):
    """Return the torch device to use for ``device`` ("auto", "cpu", "cuda", "cuda:1").

    An unavailable CUDA device falls back to the CPU with a warning.
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
        warnings.warn(
            f"device={device!r} was requested but CUDA is not available; using the CPU.",
            RuntimeWarning,
            stacklevel=3,
        )
        return torch.device("cpu")
    return resolved


@contextmanager
def seeded_torch(seed, device):
    """Run a block with torch's generators seeded, restoring their state afterwards.

    Parameter initialisation and dropout inside PyTorch draw from torch's global
    generators; forking them keeps training reproducible for a given seed while the
    caller's own random state is left exactly as it was.
    """
    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield
