"""The demo: node classification with GKEDMClassifier in a few seconds.

Runs with no downloaded data on a generated graph; also on Cora when the environment
variable ``SKGKEDM_DATA`` points at a folder holding ``planetoid/ind.cora.*``.

    python examples/quickstart.py
"""

import os
import tempfile
import time

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid, make_node_classification

started = time.perf_counter()

# A generated graph: 1,000 nodes in 4 classes, 70% of edges inside a class, and node
# features that only weakly separate the classes, so the graph carries the signal.
X, y = make_node_classification(
    1000, n_classes=4, n_features=16, homophily=0.7, class_sep=0.6, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=0.15, stratify=y, random_state=0
)
print(f"{X_train!r}\n{X_test!r}")

# Train on 15% of the nodes: messages still pass over the whole graph.
clf = GKEDMClassifier(random_state=0).fit(X_train, y_train)
print(f"GKEDMClassifier test accuracy:    {clf.score(X_test, y_test):.3f}")

features_only = MLPClassifier(max_iter=1000, random_state=0)
features_only.fit(X_train.features[X_train.indices], y_train)
mlp_accuracy = features_only.score(X_test.features[X_test.indices], y_test)
print(f"MLPClassifier on features alone:  {mlp_accuracy:.3f}")

# Tune it like any scikit-learn estimator.
search = GridSearchCV(GKEDMClassifier(random_state=0), {"gkedm": [False, True]}, cv=3)
search.fit(X_train, y_train)
print(f"GridSearchCV best: {search.best_params_}, CV accuracy {search.best_score_:.3f}")

# Save the tuned model with joblib and load it back: the file holds NumPy weights only.
best = search.best_estimator_
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.joblib")
    joblib.dump(best, path)
    loaded = joblib.load(path)
same = np.array_equal(loaded.predict_proba(X_test), best.predict_proba(X_test))
print(
    f"Tuned model test accuracy:        {best.score(X_test, y_test):.3f} "
    f"(reloaded from disk: {loaded.score(X_test, y_test):.3f}, identical predictions: {same})"
)

# Cora, when its files are available: the public split, 140 labelled nodes.
try:
    cora = fetch_planetoid("cora", download_if_missing=False)
except OSError as error:
    print(f"Cora skipped ({error.__class__.__name__}): set SKGKEDM_DATA to run it.")
else:
    model = GKEDMClassifier(random_state=0)
    model.fit(cora.X[cora.train_index], cora.y[cora.train_index])
    accuracy = model.score(cora.X[cora.test_index], cora.y[cora.test_index])
    print(f"Cora public split test accuracy:  {accuracy:.3f}")

print(f"Done in {time.perf_counter() - started:.1f} s.")
