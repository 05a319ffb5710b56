"""GKEDM: multi-head attention along a graph's edges (Wu, 2024, arXiv 2403.15419)."""

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.weak import WeakTensorKeyDictionary

from ._dropout import dropout
from ._edge_ops import EdgeLayout, edge_aggregate, edge_scores, edge_softmax, propagate_hops

SCORINGS = ("dot", "cosine", "additive", "uniform")
UPDATES = ("residual", "gated", "replace")
VALUES = ("identity", "projected")
NORMALIZATIONS = ("mean", "symmetric")


class GKEDMOutput(NamedTuple):
    """What :class:`GKEDM` returns.

    Attributes
    ----------
    h : Tensor of shape (n_nodes, channels)
        Enhanced node representations.
    edge_index : Tensor of shape (2, n_edges)
        The edges attended along (``edge_index[0]`` source, ``edge_index[1]``
        target), self-loops included when the module adds them.
    attention : Tensor of shape (n_edges, heads)
        Attention weight of each edge for each head; for every target node and head
        the weights over its incoming edges sum to 1.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn import GKEDM
    >>> h, edge_index, attention = GKEDM(4, heads=2)(torch.ones(2, 4), torch.tensor([[0], [1]]))
    >>> edge_index.tolist()
    [[0, 0, 1], [0, 1, 1]]
    >>> attention.sum(dim=0).tolist()
    [2.0, 2.0]
    """

    h: Tensor
    edge_index: Tensor
    attention: Tensor


class GKEDM(nn.Module):
    r"""Graph Knowledge Enhancement and Distillation Module.

    Multi-head attention restricted to the edges of the graph, from "Attention is all
    you need for boosting graph convolutional neural network" (Wu, 2024, arXiv
    2403.15419). For each head :math:`k` with width :math:`d_k = d / K`, the paper's
    scaled dot-product scores (``scoring="dot"``) are

    .. math::
        s_{ij}^k = \frac{(W_Q^k h_i)^\top (W_K^k h_j)}{\sqrt{d_k}}, \qquad
        a_{ij}^k = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}} s_{ij}^k,

    and the update (``update="residual"``) is

    .. math::
        z_i = W_O \big\Vert_{k=1}^{K} \sum_{j} a_{ij}^k v_j^k, \qquad
        h_i' = h_i + \gamma\, z_i,

    where :math:`v_j^k` is the :math:`k`-th slice of :math:`h_j` (``values="identity"``)
    or of :math:`W_V h_j` (``values="projected"``, which also learns :math:`W_O`;
    identity values use none), and :math:`\gamma` is a learned scale, initialised
    at ``residual_scale``. Scores exist only along edges: memory is
    :math:`O(|E| \cdot d)`, never :math:`O(n^2)`.

    Variants of the scores: ``scoring="cosine"`` uses
    :math:`s_{ij}^k = \beta \cos(h_i^k, h_j^k)` with one learned temperature
    :math:`\beta` and no projections (as AGNN, Thekumparambil et al., 2018: with
    ``update="replace"`` and ``values="identity"``, the defaults of
    :class:`~skgkedm.GKEDMClassifier`, the module is multi-head AGNN with one
    parameter, PyG's ``AGNNConv`` run on each head's slice of the channels with the
    heads sharing :math:`\beta`; ``tests/test_gkedm_module.py`` checks the parity);
    ``scoring="additive"`` uses
    :math:`s_{ij}^k = {a^k}^\top \operatorname{LeakyReLU}(W_Q^k h_i + W_K^k h_j)`
    (as GATv2, Brody et al., 2022); ``scoring="uniform"`` gives every edge the same
    score, so :math:`a_{ij}^k = 1 / (|\mathcal{N}(i)| + 1)`: the same aggregation step
    without attention, a control that separates what attention adds from what one more
    propagation step adds (it has no scoring parameters). Variants of the update:
    ``update="gated"`` mixes :math:`h_i' = (1 - g_i) h_i + g_i z_i` with a learned per-node gate
    :math:`g_i = \sigma(w^\top [h_i \Vert z_i] + b)`; ``update="replace"`` sets
    :math:`h_i' = z_i`.

    Multi-hop aggregation (``hops`` :math:`= T > 1`, as GPR-GNN, Chien et al., 2021):
    with :math:`\hat{A}^k` the row-stochastic matrix of head :math:`k`'s attention
    weights, the aggregation is

    .. math::
        z = \sum_{t=0}^{T} \gamma_t \big(\hat{A}^k\big)^t v^k,

    :math:`T` sparse products along the same weights (never a dense
    :math:`n \times n` matrix), with learned per-hop weights :math:`\gamma`
    initialised as personalised PageRank, :math:`\gamma_t = \alpha (1 - \alpha)^t`
    and :math:`\gamma_T = (1 - \alpha)^T`: at initialisation, with uniform scores,
    exactly APPNP's propagation (Gasteiger et al., 2019) over the mean-normalised
    graph. :math:`\gamma_0` weighs the node's own representation: training may move
    weight back to it, or give a hop a negative weight. Attention dropout draws a new
    mask at every step. With ``hops=1`` there are no per-hop weights: one step.

    Normalisation (``normalization="symmetric"``): the messages are weighted by
    :math:`a_{ij}^k \sqrt{d_i / d_j}` instead of :math:`a_{ij}^k`, with :math:`d_i` the
    number of edges into node :math:`i` (its self-loop included): the matrix
    :math:`D^{1/2} \hat{A}^k D^{-1/2}`, which has the eigenvalues of
    :math:`\hat{A}^k` (so its powers stay bounded). With uniform scores it is GCN's
    :math:`D^{-1/2} (A + I) D^{-1/2}`, and ten hops from the personalised PageRank
    start are exactly PyG's ``APPNP``. The returned attention stays :math:`a^k`.

    Parameters
    ----------
    channels : int
        Width :math:`d` of the node representations; divisible by ``heads``.
    heads : int, default=4
        Number of attention heads :math:`K`.
    scoring : {"dot", "cosine", "additive", "uniform"}, default="dot"
        How an edge's attention score is computed (see above).
    update : {"residual", "gated", "replace"}, default="residual"
        How the aggregated neighbourhood :math:`z_i` updates the node (see above).
    values : {"identity", "projected"}, default="identity"
        Aggregate the representations themselves, or learned projections of them.
    attention_dropout : float, default=0.0
        Dropout applied to the attention weights during training.
    residual_scale : float, default=0.0
        Initial value of the learned scale :math:`\gamma` of ``update="residual"``.
        At 0 the module starts as the identity, so a network begins as its plain
        backbone and learns how much attention to add.
    add_self_loops : bool, default=True
        Let every node attend to itself (existing self-loops are replaced).
    hops : int, default=1
        Propagation steps :math:`T` along the attention weights (see above).
    alpha : float, default=0.1
        Teleport probability :math:`\alpha` of the initial per-hop weights; unused
        with one hop.
    normalization : {"mean", "symmetric"}, default="mean"
        Propagate along the attention weights (each node's incoming weights sum to
        1), or along their symmetric normalisation (see above).

    Notes
    -----
    Shapes:

    - input: node representations ``(|V|, d)``, edge index ``(2, |E|)``
    - output: :class:`GKEDMOutput` with h ``(|V|, d)``, edge_index ``(2, |E'|)`` and
      attention ``(|E'|, K)``, where ``|E'|`` counts the self-loops added.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn import GKEDM
    >>> module = GKEDM(8, heads=2)
    >>> h = torch.randn(3, 8)
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> out = module(h, edge_index)
    >>> out.h.shape, out.attention.shape
    (torch.Size([3, 8]), torch.Size([7, 2]))
    """

    def __init__(
        self,
        channels,
        heads=4,
        scoring="dot",
        update="residual",
        values="identity",
        attention_dropout=0.0,
        residual_scale=0.0,
        add_self_loops=True,
        hops=1,
        alpha=0.1,
        normalization="mean",
    ):
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads}).")
        for name, value, options in (
            ("scoring", scoring, SCORINGS),
            ("update", update, UPDATES),
            ("values", values, VALUES),
            ("normalization", normalization, NORMALIZATIONS),
        ):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}.")
        if isinstance(hops, bool) or not isinstance(hops, int) or hops < 1:
            raise ValueError(f"hops must be an int of at least 1, got {hops!r}.")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}.")
        self.channels = channels
        self.heads = heads
        self.scoring = scoring
        self.update = update
        self.values = values
        self.attention_dropout = attention_dropout
        self.initial_residual_scale = residual_scale
        self.add_self_loops = add_self_loops
        self.hops = hops
        self.alpha = alpha
        self.normalization = normalization
        if hops > 1:
            self.hop_weights = nn.Parameter(torch.empty(hops + 1))
        if scoring == "cosine":
            self.temperature = nn.Parameter(torch.empty(()))
        elif scoring != "uniform":
            self.query = nn.Linear(channels, channels, bias=False)
            self.key = nn.Linear(channels, channels, bias=False)
        if scoring == "additive":
            self.score_vector = nn.Parameter(torch.empty(heads, channels // heads))
        if values == "projected":
            self.value = nn.Linear(channels, channels, bias=False)
            self.output = nn.Linear(channels, channels)
        if update == "residual":
            self.residual_scale = nn.Parameter(torch.empty(()))
        elif update == "gated":
            self.gate = nn.Linear(2 * channels, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Reinitialise all learnable parameters."""
        for child in self.children():
            child.reset_parameters()
        if self.scoring == "cosine":
            nn.init.ones_(self.temperature)
        if self.scoring == "additive":
            nn.init.xavier_uniform_(self.score_vector)
        if self.update == "residual":
            nn.init.constant_(self.residual_scale, self.initial_residual_scale)
        if self.hops > 1:
            with torch.no_grad():
                self.hop_weights.copy_(ppr_hop_weights(self.hops, self.alpha))

    def forward(self, h: Tensor, edge_index, generator=None, views=1) -> GKEDMOutput:
        """Enhance node representations by attention along the edges.

        Parameters
        ----------
        h : Tensor of shape (views * n_nodes, channels)
            Node representations: with ``views > 1``, those of several dropout views
            of the same nodes, stacked (rows ``v * n_nodes`` to ``(v + 1) * n_nodes
            - 1`` are view ``v``).
        edge_index : Tensor of shape (2, n_edges) or EdgeLayout
            Edges as (source, target) rows; messages flow from source to target.
            Duplicate edges are not allowed. An :class:`EdgeLayout` (built once with
            :meth:`EdgeLayout.from_edge_index`) skips sorting the edges at every call
            and is used as given: no self-loops are added to it.
        generator : torch.Generator, default=None
            Source of the attention dropout mask during training (torch's global
            generator when None).
        views : int, default=1
            Number of views stacked in ``h``. Each is enhanced as if alone; with
            uniform scores and no attention dropout they share one propagation, side
            by side in the columns (a product with a matrix of ``views`` times the
            width costs less than ``views`` products: Cora's two views of the
            consistency loss).

        Returns
        -------
        GKEDMOutput
            Enhanced representations (the views stacked as in ``h``), the edges used
            (sorted by target) and their attention weights (of the first view).
        """
        n_nodes = h.size(0) // views
        layout = edge_index
        if not isinstance(layout, EdgeLayout):
            if self.add_self_loops:
                from torch_geometric.utils import add_self_loops, remove_self_loops

                edge_index, _ = remove_self_loops(edge_index)
                edge_index, _ = add_self_loops(edge_index, num_nodes=n_nodes)
            layout = EdgeLayout.from_edge_index(edge_index, n_nodes)
        # A trimmed layout (EdgeLayout.trimmed) updates its first rows' nodes only.
        n_targets = layout.ptr.numel() - 1
        if n_targets != n_nodes and (self.hops > 1 or self.normalization != "mean"):
            raise ValueError(
                f"A module of {self.hops} hops or {self.normalization!r} normalisation needs a "
                f"square layout (it reads every node's in-edges), but the layout has "
                f"{n_targets} target rows for {n_nodes} nodes."
            )
        if views > 1 and not self._shares_propagation(n_targets == n_nodes):
            outputs = [self(part, layout, generator) for part in h.chunk(views)]
            return GKEDMOutput(torch.cat([out.h for out in outputs]), *outputs[0][1:])
        targets = h if n_targets == n_nodes else h[:n_targets]
        value = self.value(h) if self.values == "projected" else h
        value = views_in_columns(value.view(views, n_nodes, self.heads, -1))
        if self.scoring == "uniform":
            attention, weights = uniform_weights(layout, self.heads, self.normalization, h.dtype)
        else:
            attention = edge_softmax(self._scores(h, targets, layout), layout)
            weights = normalized(attention, layout, self.normalization)
        z = self._propagate(weights, value, layout, generator)
        z = views_in_rows(z, views).reshape(views * n_targets, self.channels)
        if self.values == "projected":
            z = self.output(z)
        edges = torch.stack([layout.source, layout.target])
        return GKEDMOutput(self._update(targets, z), edges, attention)

    def _shares_propagation(self, square):
        """Whether stacked views can share one propagation (see ``forward``'s ``views``).

        The views' edge weights must be the same: uniform scores, and no attention
        dropout mask per view; a trimmed layout (not ``square``) reads a prefix of
        each view's rows.
        """
        dropout_on = self.training and self.attention_dropout > 0
        return self.scoring == "uniform" and not dropout_on and square

    def _propagate(self, weights, value, layout, generator):
        """``sum_k gamma_k A^k value`` (one step, ``A value``, when ``hops == 1``).

        ``A`` holds the (normalised) attention ``weights``. Each step draws its own
        attention dropout mask, as APPNP's edge dropout does; with fixed weights and no
        dropout the hops run as one autograd node (:func:`propagate_hops`).
        """

        def step(x):
            dropped = dropout(weights, self.attention_dropout, self.training, generator)
            return edge_aggregate(dropped, x, layout)

        if self.hops == 1:
            return step(value)
        fixed = not weights.requires_grad
        if fixed and (self.attention_dropout == 0 or not self.training):
            return propagate_hops(self.hop_weights, value, weights, layout)
        z = self.hop_weights[0] * value
        for hop in range(1, self.hops + 1):
            value = step(value)
            z = z + self.hop_weights[hop] * value
        return z

    def _scores(self, h, targets, layout):
        """Attention logits of every edge, shape (n_edges, heads).

        ``targets`` are the first rows of ``h``: the nodes the layout's rows update.
        """
        n_nodes, head_width = h.size(0), self.channels // self.heads
        if self.scoring == "uniform":
            return h.new_zeros(layout.source.numel(), self.heads)
        if self.scoring == "cosine":
            unit = F.normalize(h.view(n_nodes, self.heads, head_width), dim=-1)
            return self.temperature * edge_scores(unit[: targets.size(0)], unit, layout)
        query = self.query(targets).view(targets.size(0), self.heads, head_width)
        key = self.key(h).view(n_nodes, self.heads, head_width)
        if self.scoring == "dot":
            return edge_scores(query, key, layout) / math.sqrt(head_width)
        pair = query.index_select(0, layout.target) + key.index_select(0, layout.source)
        return (F.leaky_relu(pair, negative_slope=0.2) * self.score_vector).sum(-1)

    def _update(self, h, z):
        if self.update == "residual":
            return h + self.residual_scale * z
        if self.update == "gated":
            gate = torch.sigmoid(self.gate(torch.cat([h, z], dim=1)))
            return h + gate * (z - h)
        return z

    def __repr__(self):
        hops = f", hops={self.hops}, alpha={self.alpha}" if self.hops > 1 else ""
        if self.normalization != "mean":
            hops += f", normalization={self.normalization!r}"
        return (
            f"{type(self).__name__}({self.channels}, heads={self.heads}, "
            f"scoring={self.scoring!r}, update={self.update!r}, values={self.values!r}{hops})"
        )


def views_in_columns(value):
    """Views of a node tensor side by side in its columns, for one propagation.

    Parameters
    ----------
    value : Tensor of shape (views, n_nodes, heads, width)

    Returns
    -------
    Tensor of shape (n_nodes, heads, views * width)
        ``value`` itself (a view) for one view.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._gkedm import views_in_columns, views_in_rows
    >>> value = torch.arange(8.0).view(2, 2, 1, 2)
    >>> views_in_columns(value)[:, 0].tolist()
    [[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]]
    >>> torch.equal(views_in_rows(views_in_columns(value), 2), value.view(4, 1, 2))
    True
    """
    views, n_nodes, heads, width = value.shape
    if views == 1:
        return value[0]
    return value.permute(1, 2, 0, 3).reshape(n_nodes, heads, views * width)


def views_in_rows(value, views):
    """The inverse of :func:`views_in_columns`, the views stacked along the rows.

    Parameters
    ----------
    value : Tensor of shape (n_nodes, heads, views * width)
    views : int

    Returns
    -------
    Tensor of shape (views * n_nodes, heads, width)
    """
    if views == 1:
        return value
    n_nodes, heads, width = value.shape
    value = value.view(n_nodes, heads, views, width // views).permute(2, 0, 1, 3)
    return value.reshape(views * n_nodes, heads, width // views)


# Uniform attention of every live layout, keyed by the layout's ``source`` tensor: it
# depends on the edges alone, so every forward pass over the same layout shares it.
_UNIFORM_WEIGHTS = WeakTensorKeyDictionary()


def normalized(attention, layout, normalization):
    r"""The propagation weights of attention: as they are, or symmetrically normalised.

    Parameters
    ----------
    attention : Tensor of shape (n_edges, heads)
        Each target node's incoming weights sum to 1.
    layout : EdgeLayout
    normalization : {"mean", "symmetric"}
        ``"symmetric"`` multiplies edge ``j -> i`` by :math:`\sqrt{d_i / d_j}` (see
        :class:`GKEDM`).

    Returns
    -------
    Tensor of shape (n_edges, heads)
    """
    if normalization != "symmetric":
        return attention
    degree = (layout.ptr[1:] - layout.ptr[:-1]).clamp(min=1).to(attention.dtype)
    scale = (degree[layout.target] / degree[layout.source]).sqrt()
    return attention * scale[:, None]


def uniform_weights(layout, heads, normalization, dtype):
    """Equal attention over each node's incoming edges, and its propagation weights.

    Computed once per layout (the same values as :func:`edge_softmax` of zero scores
    and :func:`normalized` of them) and shared by every forward pass over it.

    Parameters
    ----------
    layout : EdgeLayout
    heads : int
    normalization : {"mean", "symmetric"}
    dtype : torch.dtype

    Returns
    -------
    attention, weights : Tensor of shape (n_edges, heads)
        Neither requires a gradient.
    """
    cached = _UNIFORM_WEIGHTS.setdefault(layout.source, {})
    key = heads, normalization, dtype
    if key not in cached:
        with torch.no_grad():
            scores = torch.zeros(layout.source.numel(), heads, dtype=dtype,
                                 device=layout.source.device)  # fmt: skip
            attention = edge_softmax(scores, layout)
            cached[key] = attention, normalized(attention, layout, normalization)
    return cached[key]


def ppr_hop_weights(hops, alpha):
    r"""Personalised PageRank weights of hops 0 to ``hops``: APPNP's propagation.

    :math:`\gamma_k = \alpha (1 - \alpha)^k` for :math:`k < K` and
    :math:`\gamma_K = (1 - \alpha)^K`: ``K`` steps of APPNP's recurrence
    :math:`z \leftarrow (1 - \alpha) \hat{A} z + \alpha h` from :math:`z = h` sum to
    :math:`\sum_k \gamma_k \hat{A}^k h`. The weights sum to 1.

    Parameters
    ----------
    hops : int
    alpha : float
        Teleport probability.

    Returns
    -------
    Tensor of shape (hops + 1,)

    Examples
    --------
    >>> from skgkedm.nn._gkedm import ppr_hop_weights
    >>> [round(w, 3) for w in ppr_hop_weights(2, 0.5).tolist()]
    [0.5, 0.25, 0.25]
    """
    weights = alpha * (1 - alpha) ** torch.arange(hops + 1, dtype=torch.float64)
    weights[-1] = (1 - alpha) ** hops
    return weights.float()
