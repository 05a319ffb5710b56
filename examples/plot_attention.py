"""
Where a node looks: GKEDM attention on the karate club
======================================================

GKEDM attends along the edges of the graph: each node spreads one unit of attention
per head over its incoming edges, its self-loop included.
:meth:`GKEDMClassifier.attention_weights <skgkedm.GKEDMClassifier.attention_weights>`
returns those weights for the selected nodes. This example fits the classifier on
Zachary's karate club with four labelled members, then draws the attention of one
member whose friends belong to both clubs.
"""

# %%
# The graph, four labels, and the rest unlabelled (``-1``)
# --------------------------------------------------------
# The karate club has no node features, so each member gets a one-hot identity
# vector in the node attribute ``"x"``. A networkx graph passed as X means all of its
# nodes; ``y == -1`` marks the members whose club the model must infer.
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from skgkedm import GKEDMClassifier, GraphNodes

G = nx.karate_club_graph()
for node in G.nodes:
    G.nodes[node]["x"] = np.eye(len(G))[node]
clubs = np.array(["Mr. Hi", "Officer"])
truth = np.array([list(clubs).index(G.nodes[node]["club"]) for node in G.nodes])
labelled = [0, 1, 32, 33]
y = np.full(len(G), -1)
y[labelled] = truth[labelled]

# %%
# Fit and predict
# ---------------
# With ``gkedm_scoring="cosine"`` (the default gives every edge the same weight) GKEDM
# scores an edge by the cosine similarity of the two members' representations times
# one learned temperature (see :ref:`method`). Weight decay
# pulls that temperature towards zero, which flattens the attention; with four labels
# it is switched off here so that the attention can sharpen.
clf = GKEDMClassifier(
    hidden_dims=(16,), gkedm_scoring="cosine", weight_decay=0.0, random_state=0
).fit(G, y)
X = GraphNodes.from_networkx(G)
predicted = clf.predict(X)
print(f"club predicted correctly for {np.mean(predicted == truth):.0%} of the members")

# %%
# The attention of member 2
# -------------------------
# ``X[[node]]`` selects one node of the graph; the result holds one row per incoming
# edge, and ``weights`` one column per head. The plot uses the mean over heads. Each
# weight is also shown as a multiple of the uniform weight, 1 / (number of incoming
# edges), which attention that ignored the members would give every edge.
node = 2
attention = clf.attention_weights(X[[node]])
mean_attention = attention.weights.mean(axis=1)
uniform = 1 / len(mean_attention)
for source, weight in zip(attention.source, mean_attention, strict=True):
    who = "itself" if source == node else f"in club {clubs[truth[source]]}"
    print(f"from {source:2d} ({who:15s}): {weight:.3f} = {weight / uniform:.2f} x uniform")

# %%
# Edges into member 2 are coloured and sized by attention; its self-loop weight is in
# the title. Node colours show the predicted club, black rings the four labelled
# members.
position = nx.spring_layout(G, seed=3)
incoming = [(source, node) for source in attention.source if source != node]
weight_of = dict(zip(attention.source, mean_attention, strict=True))
edge_weights = np.array([weight_of[source] for source, _ in incoming])
# Greens from its light end, not from white, so that weak edges stay visible.
edge_colormap = ListedColormap(plt.get_cmap("Greens")(np.linspace(0.3, 1, 256)))
edge_norm = plt.Normalize(0, edge_weights.max())

fig, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
nx.draw_networkx_edges(G, position, ax=ax, edge_color="lightgrey", width=0.8)
nx.draw_networkx_edges(
    G,
    position,
    edgelist=incoming,
    ax=ax,
    edge_color=edge_weights,
    edge_cmap=edge_colormap,
    edge_vmin=0,
    edge_vmax=edge_weights.max(),
    width=1 + 7 * edge_weights / edge_weights.max(),
)
node_colors = ListedColormap(["tab:blue", "tab:orange"])
nx.draw_networkx_nodes(
    G,
    position,
    ax=ax,
    node_color=predicted,
    cmap=node_colors,
    vmin=0,
    vmax=1,
    node_size=[600 if member == node else 260 for member in G.nodes],
    edgecolors=["black" if member in labelled else "white" for member in G.nodes],
    linewidths=[2.5 if member in labelled else 1 for member in G.nodes],
)
nx.draw_networkx_labels(G, position, ax=ax, font_size=8)
colorbar = fig.colorbar(plt.cm.ScalarMappable(edge_norm, edge_colormap), ax=ax, shrink=0.8)
colorbar.set_label(f"attention into member {node} (mean over {attention.weights.shape[1]} heads)")
legend = [
    Line2D([], [], marker="o", linestyle="none", markersize=10, color=node_colors(i), label=club)
    for i, club in enumerate(clubs)
]
legend.append(
    Line2D(
        [],
        [],
        marker="o",
        linestyle="none",
        markersize=10,
        markerfacecolor="white",
        markeredgecolor="black",
        markeredgewidth=2.5,
        label="labelled member",
    )
)
ax.legend(handles=legend, title="predicted club", loc="upper left")
ax.set_title(
    f"Attention of member {node} over its {len(incoming)} friends "
    f"(self-loop: {weight_of[node]:.2f})"
)
ax.set_axis_off()
plt.show()

# %%
# How far from uniform?
# ---------------------
# Member 2's friends come from both clubs. Its attention leans towards the friends
# predicted to share its club, but only mildly: every weight stays within a factor of
# two of uniform, so the GKEDM update still mixes in every friend's representation.
friends = attention.source != node
same_club = predicted[attention.source.astype(int)] == predicted[node]
share = mean_attention[friends & same_club].sum() / mean_attention[friends].sum()
ratios = mean_attention / uniform
print(f"weights from {ratios.min():.2f} to {ratios.max():.2f} times uniform ({uniform:.3f})")
print(
    f"attention on friends predicted in member {node}'s club: {share:.0%} "
    f"(uniform attention would give {np.mean(same_club[friends]):.0%})"
)
