"""A search spread over Dask worker processes gives the serial search's results.

``benchmarks/dask_search.py`` measures the bytes it ships and the threads the workers
use (see docs/user_guide/scaling.rst).
"""

import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skgkedm import GKEDMClassifier
from skgkedm.datasets import make_node_classification

distributed = pytest.importorskip("distributed")


def search():
    estimator = GKEDMClassifier(max_epochs=20, hidden_dims=(16,), random_state=0)
    return GridSearchCV(estimator, {"learning_rate": [0.01, 0.05]}, cv=2)


def test_search_on_dask_workers_equals_serial_search():
    X, y = make_node_classification(300, random_state=0)
    serial = search().fit(X, y)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
            distributed.get_task_stream(client) as stream,
            joblib.parallel_backend("dask"),
        ):
            spread = search().fit(X, y)
    # The 2 x 2 fits ran in the workers, in batches of one or more.
    keys = [task["key"] for task in stream.data]
    calls = [re.fullmatch(r"batch_of_.+_(\d+)_calls-[0-9a-f]+", key) for key in keys]
    assert sum(int(call[1]) for call in calls) == 4, keys
    assert not caught, [str(warning.message) for warning in caught]

    np.testing.assert_array_equal(
        spread.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert spread.best_params_ == serial.best_params_
    np.testing.assert_array_equal(spread.predict_proba(X), serial.predict_proba(X))


def test_graph_inputs_report_the_graph_they_carry_to_dask():
    # joblib's Dask backend scatters, once per search, the arguments dask sizes above 1 kB.
    import networkx as nx
    from dask.sizeof import sizeof

    from skgkedm import GraphList

    X, _ = make_node_classification(300, random_state=0)
    graph_bytes = X.adjacency.data.nbytes + X.features.nbytes
    assert sizeof(X[:3]) > graph_bytes > 1000
    graphs = GraphList.from_networkx([nx.path_graph(50)] * 20)
    assert sizeof(graphs[:2]) > graphs.stacked()[0].data.nbytes > 1000
