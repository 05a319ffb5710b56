"""Helpers every estimator shares: the training loop, progress output, thread policy,
torch seeding and devices, and the one place that imports scikit-learn's private helpers."""

__all__: list[str] = []
