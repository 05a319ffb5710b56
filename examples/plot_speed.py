"""
Training time per epoch against graph size
==========================================

Training is full-batch: every epoch passes messages over the whole graph, so its
cost grows with the number of nodes and edges. GKEDM's attention is computed along
the edges only, never as an n x n matrix, so its cost too grows with the size of the
graph, not with its square. This example times training epochs of
:class:`~skgkedm.GKEDMClassifier` with and without the GKEDM module on generated
graphs of 1,000 to 8,000 nodes, on the CPU of the machine that runs it. The
:ref:`performance` page has measurements up to a million nodes
(``benchmarks/scale.py``).
"""

# %%
# Timing epochs
# -------------
# A fit of 1 epoch and a fit of 6 epochs are timed; their difference divided by 5 is
# the time of one epoch, without the one-off preparation of the graph. Each fit runs
# twice and the faster run counts, which filters out most of the noise of a busy
# machine. ``schedule="joint"`` makes every epoch train the whole network (the default
# two-phase schedule freezes the backbone in its second phase).
import time

import matplotlib.pyplot as plt

from skgkedm import GKEDMClassifier
from skgkedm.datasets import make_node_classification


def time_epochs(n_nodes_list, extra_epochs=5, repeats=2):
    """Return {gkedm: ([n_nodes, ...], [ms_per_epoch, ...])} on generated graphs."""
    curves = {False: ([], []), True: ([], [])}
    # The first fits of a process pay one-off costs (loading kernels): warm up first.
    X, y = make_node_classification(200, n_classes=4, random_state=0)
    for gkedm in (False, True):
        GKEDMClassifier(gkedm=gkedm, max_epochs=2, device="cpu").fit(X, y)
    for n_nodes in n_nodes_list:
        X, y = make_node_classification(n_nodes, n_classes=4, random_state=0)
        train = slice(0, n_nodes // 10)
        for gkedm in (False, True):
            seconds = {}
            for max_epochs in (1, 1 + extra_epochs):
                clf = GKEDMClassifier(
                    gkedm=gkedm,
                    schedule="joint",
                    max_epochs=max_epochs,
                    device="cpu",
                    random_state=0,
                )
                runs = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    clf.fit(X[train], y[train])
                    runs.append(time.perf_counter() - started)
                seconds[max_epochs] = min(runs)
            per_epoch = (seconds[1 + extra_epochs] - seconds[1]) / extra_epochs
            curves[gkedm][0].append(n_nodes)
            curves[gkedm][1].append(1000 * per_epoch)
    return curves


curves = time_epochs([1000, 2000, 4000, 8000])
for gkedm, (n_nodes, ms) in curves.items():
    print(
        f"gkedm={gkedm}: "
        + ", ".join(f"{n:,} nodes {t:.1f} ms" for n, t in zip(n_nodes, ms, strict=True))
    )

# %%
# The plot
# --------
# Both axes are logarithmic; a straight line of slope 1 means time proportional to
# the size of the graph (the generated graphs have an average degree of 10, so edges
# grow with nodes). On the smallest graphs a fixed cost per epoch (launching each
# operation) weighs as much as the graph itself and flattens the lines. The vertical
# gap between the lines is GKEDM's own cost: a score and a weighted message per edge
# and head. Timings on a busy machine vary from run to run.
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for gkedm, marker, label in [(False, "o", "GCN alone (gkedm=False)"), (True, "s", "GCN + GKEDM")]:
    n_nodes, ms = curves[gkedm]
    ax.plot(n_nodes, ms, marker=marker, label=label)
ax.set_xscale("log")
ax.set_yscale("log")
ax.xaxis.set_minor_locator(plt.NullLocator())
sizes = sorted(set(curves[False][0]) | set(curves[True][0]))
ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
ax.set_xlabel("nodes in the graph (average degree 10, 16 features)")
ax.set_ylabel("training time per epoch (ms)")
ax.set_title("Full-batch training speed, timed on this machine's CPU", fontsize=11)
ax.grid(alpha=0.3, which="both")
ax.legend(title="model (hidden width 64)")
plt.show()
