"""
Molecules: predicting aqueous solubility from the molecular graph
=================================================================

Each sample here is a whole molecule: atoms are nodes, bonds are edges.
:class:`~skgkedm.GKEDMGraphRegressor` learns the measured log-solubility of 1,025
molecules from their graphs alone and predicts it for 257 molecules it has never
seen; :class:`~skgkedm.GKEDMGraphClassifier` does the same for the three solubility
classes. Both take the molecules as a :class:`~skgkedm.GraphList` built from SMILES
strings with RDKit (``pip install skgkedm[chem]``); the data set ships with skgkedm.
"""

# %%
# The molecules, as graphs
# ------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_squared_error

from skgkedm import GKEDMGraphClassifier, GKEDMGraphRegressor
from skgkedm.datasets import load_solubility

data = load_solubility(as_graphs=True)
train, test = data.train_index, data.test_index
print(data.X)
print(f"{len(train)} training and {len(test)} test molecules, e.g. {data.smiles[0]!r}")

# %%
# Regression: log-solubility
# --------------------------
# Defaults: three GCN layers, GKEDM attention along the bonds, a sum readout per
# molecule.
# ``max_epochs=50`` (the default is 100) keeps this page quick to build.
reg = GKEDMGraphRegressor(max_epochs=50, random_state=0)
reg.fit(data.X[train], data.y_continuous[train])
predicted = reg.predict(data.X[test])
rmse = mean_squared_error(data.y_continuous[test], predicted) ** 0.5
print(f"test RMSE {rmse:.2f} log units, R2 {reg.score(data.X[test], data.y_continuous[test]):.2f}")

fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(data.y_continuous[test], predicted, s=12, alpha=0.7)
limits = [data.y_continuous.min() - 0.5, data.y_continuous.max() + 0.5]
ax.plot(limits, limits, color="grey", linewidth=1)
ax.set(
    xlim=limits,
    ylim=limits,
    xlabel="measured log-solubility (log mol/L)",
    ylabel="predicted",
    title=f"257 unseen molecules, RMSE {rmse:.2f}",
)
plt.show()

# %%
# Classification: low, medium or high solubility
# -----------------------------------------------
clf = GKEDMGraphClassifier(max_epochs=50, random_state=0)
clf.fit(data.X[train], data.y[train])
accuracy = clf.score(data.X[test], data.y[test])
majority = np.mean(data.y[test] == max(set(data.y[train]), key=list(data.y[train]).count))
print(f"test accuracy {accuracy:.3f} (majority class: {majority:.3f})")
