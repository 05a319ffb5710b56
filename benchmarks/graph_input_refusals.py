"""How fast scikit-learn tools that need an array refuse GraphNodes, on Cora.

Each line calls the tool's ``fit`` (or the NumPy function) on all 2,708 Cora nodes as
GraphNodes and reports the seconds until it raises, and the error's type. No model is
trained: every one of these tools converts X to an array before fitting anything.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/graph_input_refusals.py
"""

import time
from functools import partial

import numpy as np
from sklearn.ensemble import BaggingClassifier
from sklearn.multiclass import OneVsOneClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.utils.validation import check_array

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid


def refusing_calls(X, y):
    """(name, call) pairs, each expected to raise on GraphNodes."""
    yield "np.asarray(X)", partial(np.asarray, X)
    yield "check_array(X)", partial(check_array, X)
    tools = {
        "make_pipeline(StandardScaler(), clf)": make_pipeline(StandardScaler(), GKEDMClassifier()),
        "BaggingClassifier(clf)": BaggingClassifier(GKEDMClassifier()),
        "OneVsOneClassifier(clf)": OneVsOneClassifier(GKEDMClassifier()),
        "SelfTrainingClassifier(clf)": SelfTrainingClassifier(GKEDMClassifier()),
    }
    for name, tool in tools.items():
        yield f"{name}.fit", partial(tool.fit, X, y)


def main():
    data = fetch_planetoid("cora")
    print("| call | seconds until it raises | error |")
    for name, call in refusing_calls(data.X, data.y):
        started = time.perf_counter()
        try:
            call()
            outcome = "no error"
        except Exception as error:
            outcome = type(error).__name__
        print(f"| {name} | {time.perf_counter() - started:.3f} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
