"""A graph-free network's forward pass on dense feature rows, in reused float32 buffers.

A network that reads no edge (the ``"mlp"`` backbone without GKEDM) is a stack of
linear layers. Predicting with it is bound by its first product, ``X @ W1``: every
other step is cheap next to it, but torch's generic forward pass spends about as much
again around it on a large matrix of features (a new tensor per layer and chunk, a
separate pass for the bias, and a slow product with few output columns).
:class:`DenseForward` runs the same layers on chunks of rows into buffers allocated
once: each hidden layer is one ``torch.addmm`` (bias fused) followed by its activation
in place, and the output layer, whose few columns (the classes) torch's product
handles poorly, is NumPy's product. Measured in ``benchmarks/graph_free_students.py``
(``--speed``).
"""

import numpy as np
import torch

from ._backbones import NodeLinear


class DenseForward:
    """Outputs of a graph-free network, chunk by chunk, in buffers reused across chunks.

    Parameters
    ----------
    network : GKEDMNetwork
        A fitted graph-free network (``spec.graph_free``) on the CPU, in evaluation mode.
    rows : int
        The most rows one call receives.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skgkedm._spec import NetworkSpec
    >>> from skgkedm.nn._network import GKEDMNetwork
    >>> from skgkedm.nn._feature_forward import DenseForward
    >>> from skgkedm.loader._graph_tensors import feature_tensors
    >>> spec = NetworkSpec(
    ...     in_dim=4, hidden_dims=(8,), n_classes=3, backbone="mlp", activation="relu",
    ...     dropout=0.5, gat_heads=8, gkedm=False, gkedm_heads=4, gkedm_values="identity",
    ...     gkedm_dropout=0.0,
    ... )
    >>> network = GKEDMNetwork(spec).eval()
    >>> x = np.random.RandomState(0).rand(5, 4).astype(np.float32)
    >>> with torch.no_grad():
    ...     expected = network(feature_tensors(x, torch.device("cpu"))).logits.numpy()
    >>> bool(np.allclose(DenseForward(network, 5)(x), expected, atol=1e-6))
    True
    """

    def __init__(self, network, rows):
        if not self.supports(network):
            raise ValueError("DenseForward runs a graph-free network of linear layers only.")
        activation = network.activation
        self._relu = isinstance(activation, torch.nn.ReLU)
        self._activation = activation
        *hidden, output = network.convs
        self._hidden = [
            (
                layer.bias.detach(),
                layer.weight.detach().t().contiguous(),
                torch.empty((rows, layer.out_features), dtype=torch.float32),
            )
            for layer in hidden
        ]
        self._output_weight = output.weight.detach().numpy().T.copy()
        self._output_bias = output.bias.detach().numpy()
        self._out = np.empty((rows, output.out_features), dtype=np.float32)

    @staticmethod
    def supports(network):
        """Whether ``network`` is a graph-free stack of linear layers on the CPU."""
        return (
            network.spec.graph_free
            and network.head is None
            and all(type(layer) is NodeLinear for layer in network.convs)
            and all(p.device.type == "cpu" for p in network.parameters())
        )

    def __call__(self, features):
        """The network's outputs (float32, a view of a reused buffer) for ``features``.

        ``features``: a dense float32 C-contiguous array of at most ``rows`` rows, read
        in place. The result is overwritten by the next call.
        """
        n = features.shape[0]
        h = torch.from_numpy(features)
        for bias, weight, buffer in self._hidden:
            out = buffer[:n]
            torch.addmm(bias, h, weight, out=out)
            h = torch.relu_(out) if self._relu else self._activation(out)
        scores = self._out[:n]
        np.matmul(h.numpy(), self._output_weight, out=scores)
        scores += self._output_bias
        return scores
