"""
Node regression and multi-label nodes
=====================================

The same graph network answers other questions than "which class?".
:class:`~skgkedm.GKEDMRegressor` predicts a number per node (a page's traffic, a
price, a score), with NaN marking the nodes whose target is unknown;
:class:`~skgkedm.GKEDMClassifier` takes a 0/1 indicator matrix and predicts several
labels per node. Both train on a few labelled nodes while messages pass over the whole
graph. The user guide's :ref:`tasks` page has the table of tasks; real-data figures
(Wikipedia traffic, BlogCatalog's interest groups) are in :ref:`performance`.
"""

# %%
# A graph with a numeric target
# -----------------------------
# 600 nodes in 4 communities; each node's target is its community's level plus noise
# of its own, and only 30 % of the targets are known.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score

from skgkedm import GKEDMClassifier, GKEDMRegressor
from skgkedm.datasets import make_node_classification

X, community = make_node_classification(
    600, n_classes=4, n_features=20, homophily=0.8, class_sep=0.6, random_state=0
)
rng = np.random.default_rng(0)
target = np.array([1.0, 2.5, 4.0, 6.0])[community] + rng.normal(0, 0.6, len(community))
known = rng.random(len(target)) < 0.3
y = np.where(known, target, np.nan)  # NaN: an unlabelled node
print(f"{known.sum()} known targets of {len(y)} nodes")

# %%
# Regression: predicted against actual
# ------------------------------------
# ``transduction_`` holds the prediction for every node of the training graph.
reg = GKEDMRegressor(max_epochs=100, random_state=0).fit(X, y)
unknown = ~known
r2 = reg.score(X[unknown], target[unknown])
print(f"R² on the nodes whose target was unknown: {r2:.2f}")
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(target[unknown], reg.transduction_[unknown], s=8, alpha=0.6)
limits = [target.min() - 0.5, target.max() + 0.5]
ax.plot(limits, limits, color="grey", linewidth=1)
ax.set(
    xlim=limits,
    ylim=limits,
    xlabel="actual target",
    ylabel="predicted",
    title=f"{unknown.sum()} nodes with unknown targets, R² {r2:.2f}",
)
plt.show()

# %%
# Multi-label: several labels per node
# ------------------------------------
# Two labels per node: its community, and the community most of its neighbours
# belong to (often the same). Rows of -1 mark unlabelled nodes, as -1 does for
# single labels.
adjacency = X.adjacency.tocsr()
labels = np.zeros((len(community), 4), dtype=int)
labels[np.arange(len(community)), community] = 1
for node in range(len(community)):
    neighbours = adjacency.indices[adjacency.indptr[node] : adjacency.indptr[node + 1]]
    if len(neighbours):
        labels[node, np.bincount(community[neighbours], minlength=4).argmax()] = 1
Y = np.where(known[:, None], labels, -1)
clf = GKEDMClassifier(max_epochs=100, random_state=0).fit(X, Y)
predicted = clf.predict(X[unknown])
print("predict_proba shape:", clf.predict_proba(X[unknown]).shape)
print(f"subset accuracy {clf.score(X[unknown], labels[unknown]):.2f}")
print(f"micro-F1 {f1_score(labels[unknown], predicted, average='micro'):.2f}")
