"""The architecture of a fitted network: what a saved model needs besides its weights."""

from dataclasses import MISSING, dataclass, fields

from .nn._backbones import BACKBONES


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """Architecture of a :class:`~skgkedm.nn._network.GKEDMNetwork`, saved with the model.

    A fitted estimator keeps one as ``_architecture``: predictions rebuild exactly the
    network that was trained from it and the stored weights, whatever the estimator's
    parameters say later. Fields that were added after the first saved format have
    defaults: the value that reproduces models saved before the field existed. Adding
    a field therefore needs such a default and a bump of
    ``skgkedm._persistence.FORMAT_VERSION``.

    Parameters
    ----------
    in_dim : int
        Features per node.
    hidden_dims : tuple of int
        Width of each hidden layer.
    n_classes : int
        Width of the output layer: classes, or regression targets.
    backbone : {"gcn", "sage", "gat", "gin", "mlp"}
        Message-passing layers (``"mlp"``: linear layers on each node's own features).
    activation : str
        Activation after each hidden layer, a name torch_geometric's
        ``activation_resolver`` knows.
    dropout : float
        Dropout on the input features and hidden representations.
    gat_heads : int
        Attention heads of GAT hidden layers.
    gkedm : bool
        Whether GKEDM follows the last hidden layer.
    gkedm_heads : int
        Attention heads of GKEDM.
    gkedm_values : {"identity", "projected"}
        What GKEDM aggregates.
    gkedm_dropout : float
        Dropout on GKEDM's attention weights.
    gkedm_scoring : {"dot", "cosine", "additive", "uniform"}, default="dot"
        GKEDM's attention scores. Added in saved format 1 (skgkedm 0.2.0); models
        saved before it used the scaled dot product.
    gkedm_update : {"residual", "gated", "replace"}, default="residual"
        How GKEDM updates a node. Added in saved format 1 (skgkedm 0.2.0); models
        saved before it used the residual update.
    gkedm_layers : {"last", "every"}, default="last"
        GKEDM after the last hidden layer only, or after every hidden layer. Added
        in saved format 2 (skgkedm 0.2.0); models saved before it had one module.
    readout : {"mean", "sum", "max"} or None, default=None
        None: the network classifies nodes, its output layer is one more
        message-passing layer. Otherwise it predicts one output per graph: the node
        representations after GKEDM are pooled per graph this way, then a two-layer
        head maps them to the outputs. Added in saved format 2 (skgkedm 0.2.0);
        every model saved before it classified nodes.
    edge_dim : int, default=0
        Edge attributes per edge the layers use (GINE for ``"gin"``, GAT's edge term
        for ``"gat"``); 0 for layers without edge attributes. Added in saved format 4
        (skgkedm 0.2.0); models saved before it used none.
    gkedm_hops : int, default=1
        Propagation steps of each GKEDM module: 1 is one attention-weighted
        aggregation; more sum the steps with learned per-hop weights (see
        :class:`~skgkedm.nn.GKEDM`). Added in saved format 6 (skgkedm 0.2.0); models
        saved before it took one step.
    gkedm_alpha : float, default=0.1
        Teleport probability of the initial per-hop weights (personalised PageRank);
        unused with one hop. Added in saved format 6.
    gkedm_position : {"hidden", "output"}, default="hidden"
        Where the GKEDM module runs: on the last hidden representations, before the
        output layer (the paper's placement), or on the class scores the output layer
        computes (APPNP's placement: predict, then propagate), with one head. Added in
        saved format 8; models saved before it ran the module on the hidden layer.
    gkedm_normalization : {"mean", "symmetric"}, default="mean"
        GKEDM propagates along its attention weights, or their symmetric
        normalisation (see :class:`~skgkedm.nn.GKEDM`). Added in saved format 8;
        models saved before it used the weights as they are.

    Examples
    --------
    >>> from skgkedm._spec import NetworkSpec
    >>> spec = NetworkSpec(
    ...     in_dim=16, hidden_dims=(64,), n_classes=3, backbone="gcn", activation="relu",
    ...     dropout=0.5, gat_heads=8, gkedm=True, gkedm_heads=4, gkedm_values="identity",
    ...     gkedm_dropout=0.0,
    ... )
    >>> spec.gkedm_scoring, spec.gkedm_update
    ('dot', 'residual')
    """

    in_dim: int
    hidden_dims: tuple[int, ...]
    n_classes: int
    backbone: str
    activation: str
    dropout: float
    gat_heads: int
    gkedm: bool
    gkedm_heads: int
    gkedm_values: str
    gkedm_dropout: float
    gkedm_scoring: str = "dot"
    gkedm_update: str = "residual"
    gkedm_layers: str = "last"
    readout: str | None = None
    edge_dim: int = 0
    gkedm_hops: int = 1
    gkedm_alpha: float = 0.1
    gkedm_position: str = "hidden"
    gkedm_normalization: str = "mean"

    @property
    def graph_free(self):
        """Whether the network reads node features only: no layer, nor GKEDM, uses edges.

        Such a network predicts each node from its own features, so nothing of a graph
        is built to run it (the ``"mlp"`` backbone without GKEDM).
        """
        return not self.gkedm and not BACKBONES[self.backbone].uses_graph

    @property
    def message_hops(self):
        """Steps of message passing from input to output: how far a node's output sees.

        Each message-passing layer is one; so is each GKEDM module (it aggregates along
        the edges). A readout's head passes no messages.
        """
        layers = len(self.hidden_dims) + (1 if self.readout is None else 0)
        modules = 0
        if self.gkedm:
            modules = len(self.hidden_dims) if self.gkedm_layers == "every" else 1
        return layers + modules


def later_field_defaults():
    """Fields of NetworkSpec added after the first saved format, with their defaults.

    Returns
    -------
    defaults : dict of str to object
        The value each such field takes for a model saved before it existed.

    Examples
    --------
    >>> from skgkedm._spec import later_field_defaults
    >>> later_field_defaults()["gkedm_update"]
    'residual'
    """
    return {
        field.name: field.default for field in fields(NetworkSpec) if field.default is not MISSING
    }
