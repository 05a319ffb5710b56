"""Each backbone's record, its layers against stock PyTorch Geometric, and lazy PyG."""

import copy
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

from skgkedm import GKEDMClassifier, GraphNodes
from skgkedm.datasets import make_node_classification
from skgkedm.loader._graph_tensors import build_graph_tensors, features_tensor
from skgkedm.loader._message_graph import MessageGraph
from skgkedm.nn._backbones import BACKBONES
from skgkedm.nn._sparse_product import SparseMatrix, TransposeLayout, linear, sparse_product

# Propagation matrices are sparse CSR tensors: torch warns that they are "in beta".
pytestmark = pytest.mark.filterwarnings("ignore:Sparse:UserWarning")

N_FEATURES = 12
GAT_HEADS = 4


def weighted_directed_graph():
    """A directed graph with random positive weights and no self-loops."""
    graph = nx.gnp_random_graph(30, 0.15, seed=0, directed=True)
    rng = np.random.default_rng(0)
    for source, target in graph.edges:
        graph.edges[source, target]["weight"] = float(rng.uniform(0.5, 3.0))
    return graph


GRAPHS = {
    # Zachary's karate club: undirected, edge weights 1 to 7, messages both ways.
    "karate": (nx.karate_club_graph(), True),
    "directed": (weighted_directed_graph(), False),
}


@pytest.fixture(params=sorted(GRAPHS))
def graph(request):
    """(edge_index, edge_weight, n_nodes, dense adjacency, MessageGraph) of a real graph.

    The edge list (what stock PyG layers take) is read off the dense adjacency with
    NumPy; the MessageGraph (what the package's layers take) is the package's own.
    """
    networkx_graph, symmetrize = GRAPHS[request.param]
    nodes = GraphNodes.from_networkx(networkx_graph)
    adjacency = nodes.adjacency.toarray()
    if symmetrize:
        adjacency = np.maximum(adjacency, adjacency.T)
    source, target = np.nonzero(adjacency)
    edge_index = torch.from_numpy(np.vstack([source, target]).astype(np.int64))
    edge_weight = torch.from_numpy(adjacency[source, target].astype(np.float32))
    messages = MessageGraph.from_adjacency(nodes.adjacency, symmetrize)
    return edge_index, edge_weight, nodes.n_nodes, adjacency, messages


def bag_of_words(n_nodes, dtype=np.float32):
    """Sparse-looking node features: a few words per node, weighted per node."""
    rng = np.random.default_rng(1)
    words = (rng.random((n_nodes, N_FEATURES)) < 0.3) * rng.uniform(0.5, 2.0, (n_nodes, 1))
    return words.astype(dtype)


def with_transpose(csr):
    """Sparse features paired with their transpose, as the network passes them."""
    return SparseMatrix(csr, TransposeLayout.of(csr).transpose(csr))


@pytest.fixture(params=["dense", "sparse"])
def features(request, graph):
    """Bag-of-words-like features as ours receives them, and dense for stock PyG."""
    words = bag_of_words(graph[2])
    dense = torch.from_numpy(words)
    if request.param == "dense":
        return dense, dense
    return with_transpose(features_tensor(sp.csr_array(words))), dense


def ours(name, graph, x, is_output, out_dim=8):
    """The package's layer for ``name`` and its output on ``graph``."""
    messages = graph[4]
    backbone = BACKBONES[name]
    torch.manual_seed(0)
    conv = backbone.build_conv(
        N_FEATURES, out_dim, is_output=is_output, activation=nn.ReLU(), gat_heads=GAT_HEADS
    ).eval()
    with torch.no_grad():
        return conv, conv(x, backbone.propagation(messages))


def stock_output(reference, conv, *inputs):
    """Run a stock PyG layer with ``conv``'s weights."""
    reference.load_state_dict(conv.state_dict())
    with torch.no_grad():
        return reference.eval()(*inputs)


@pytest.mark.parametrize("is_output", [False, True])
def test_gcn_with_precomputed_normalisation_matches_pyg_gcnconv(graph, features, is_output):
    x, dense = features
    edge_index, edge_weight = graph[:2]
    conv, out = ours("gcn", graph, x, is_output)
    # Stock GCNConv normalises and adds self-loops itself, from the raw weighted edges.
    expected = stock_output(GCNConv(N_FEATURES, 8), conv, dense, edge_index, edge_weight)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("is_output", [False, True])
def test_linear_first_sage_matches_pyg_sageconv(graph, features, is_output):
    x, dense = features
    conv, out = ours("sage", graph, x, is_output)
    expected = stock_output(SAGEConv(N_FEATURES, 8), conv, dense, graph[0])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("is_output", [False, True])
def test_gat_with_precomputed_self_loops_matches_pyg_gatconv(graph, features, is_output):
    x, dense = features
    conv, out = ours("gat", graph, x, is_output)
    heads = 1 if is_output else GAT_HEADS
    reference = GATConv(N_FEATURES, 8 // heads, heads=heads, concat=not is_output)
    assert reference.add_self_loops
    expected = stock_output(reference, conv, dense, graph[0])
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("is_output", [False, True])
def test_linear_first_gin_matches_pyg_ginconv(graph, features, is_output):
    x, dense = features
    edge_index, messages = graph[0], graph[4]
    conv, _ = ours("gin", graph, x, is_output)
    conv.eps.fill_(0.5)  # a nonzero eps, so the self term's placement is checked too
    with torch.no_grad():
        out = conv(x, BACKBONES["gin"].propagation(messages))
    reference = GINConv(copy.deepcopy(conv.nn))
    expected = stock_output(reference, conv, dense, edge_index)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def stock_layer(name, conv, graph, dense):
    """The stock PyG layer of ``name`` with ``conv``'s weights, and its inputs."""
    edge_index, edge_weight = graph[:2]
    inputs = (dense, edge_index)
    if name == "gcn":
        # Stock GCNConv normalises and adds self-loops itself, from the raw weighted edges.
        reference, inputs = GCNConv(N_FEATURES, 8), (*inputs, edge_weight)
    elif name == "sage":
        reference = SAGEConv(N_FEATURES, 8)
    elif name == "gat":
        reference = GATConv(N_FEATURES, 8 // conv.heads, heads=conv.heads, concat=conv.concat)
    elif name == "mlp":
        # The graph-free layer: torch's own linear layer on the node's features.
        reference, inputs = nn.Linear(N_FEATURES, 8), (dense,)
    else:
        reference = GINConv(copy.deepcopy(conv.nn))
    reference.load_state_dict(conv.state_dict())
    return reference, inputs


@pytest.mark.parametrize("is_output", [False, True])
@pytest.mark.parametrize("name", list(BACKBONES))
def test_weight_gradients_match_stock_pyg(name, graph, features, is_output):
    x, dense = features
    messages = graph[4]
    backbone = BACKBONES[name]
    torch.manual_seed(0)
    conv = backbone.build_conv(
        N_FEATURES, 8, is_output=is_output, activation=nn.ReLU(), gat_heads=GAT_HEADS
    )
    if name == "gin":
        conv.eps.fill_(0.5)
    reference, inputs = stock_layer(name, conv, graph, dense)
    out = conv(x, backbone.propagation(messages))
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
    (out * upstream).sum().backward()
    (reference(*inputs) * upstream).sum().backward()
    ours_grads = {key: p.grad for key, p in conv.named_parameters()}
    stock_grads = {key: p.grad for key, p in reference.named_parameters()}
    assert ours_grads.keys() == stock_grads.keys()
    for key, grad in ours_grads.items():
        assert grad is not None and grad.abs().sum() > 0, key
        torch.testing.assert_close(grad, stock_grads[key], rtol=0, atol=1e-5, msg=key)


@pytest.mark.parametrize(
    ("out_dim", "input_gradient", "grad_enabled", "aggregates_first"),
    [
        # By hand: aggregating first carries N_FEATURES = 12 columns through the matrix
        # (twice when the input needs a gradient), projecting first carries out_dim
        # (twice whenever the layer is differentiated).
        (8, False, True, True),  # 12 < 2 x 8
        (4, False, True, False),  # 12 > 2 x 4
        (8, False, False, False),  # no gradient: 12 > 8
        (64, False, False, True),  # 12 < 64
        (8, True, True, False),  # 2 x 12 > 2 x 8
        (64, True, True, True),  # 2 x 12 < 2 x 64
    ],
)
@pytest.mark.parametrize("name", ["gcn", "sage"])
def test_layers_take_the_cheaper_order_and_match_stock_pyg(
    name, graph, out_dim, input_gradient, grad_enabled, aggregates_first
):
    from skgkedm.nn._linear_first import propagates_first

    edge_index, edge_weight, n_nodes, _, messages = graph
    dense = torch.from_numpy(bag_of_words(n_nodes))
    torch.manual_seed(0)
    conv = BACKBONES[name].build_conv(
        N_FEATURES, out_dim, is_output=True, activation=None, gat_heads=GAT_HEADS
    )
    if name == "gcn":
        reference, weight, graph_inputs = GCNConv(N_FEATURES, out_dim), "lin", (edge_weight,)
    else:
        reference, weight, graph_inputs = SAGEConv(N_FEATURES, out_dim), "lin_l", ()
    reference.load_state_dict(conv.state_dict())
    x, stock_x = dense.clone().requires_grad_(input_gradient), dense.clone()
    stock_x.requires_grad_(input_gradient)
    with torch.set_grad_enabled(grad_enabled):
        assert propagates_first(x, getattr(conv, weight).weight) is aggregates_first
        out = conv(x, BACKBONES[name].propagation(messages))
        expected = reference(stock_x, edge_index, *graph_inputs)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)
    if not grad_enabled:
        return
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    for key, parameter in conv.named_parameters():
        stock = dict(reference.named_parameters())[key]
        torch.testing.assert_close(parameter.grad, stock.grad, rtol=0, atol=1e-5, msg=key)
    if input_gradient:
        torch.testing.assert_close(x.grad, stock_x.grad, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["gcn", "sage"])
def test_sparse_product_passes_gradcheck(name, graph):
    n_nodes, messages = graph[2], graph[4]
    matrix = BACKBONES[name].propagation(messages).matrix
    sparse = with_transpose(matrix.to(torch.float64))
    generator = torch.Generator().manual_seed(0)
    dense = torch.randn(n_nodes, 3, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda d: sparse_product(sparse, d), dense.requires_grad_())


def test_linear_on_dropped_out_sparse_features_passes_gradcheck(graph):
    csr = torch.from_numpy(bag_of_words(graph[2], np.float64)).to_sparse_csr()
    layout = TransposeLayout.of(csr)
    # Dropout changes the stored values, not the pattern: the layout still applies.
    generator = torch.Generator().manual_seed(0)
    kept = torch.rand(csr.values().shape, generator=generator, dtype=torch.float64) > 0.5
    dropped = torch.sparse_csr_tensor(
        csr.crow_indices(), csr.col_indices(), csr.values() * 2 * kept, size=csr.shape
    )
    x = SparseMatrix(dropped, layout.transpose(dropped))
    assert torch.equal(x.transpose.to_dense(), dropped.to_dense().T)
    weight = torch.randn(5, N_FEATURES, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda w: linear(x, w), weight.requires_grad_())


def test_graph_built_without_gradients_skips_transposes_and_gives_the_same_output(graph):
    n_nodes, messages = graph[2], graph[4]
    words = sp.csr_array(bag_of_words(n_nodes))
    backbone = BACKBONES["sage"]  # its propagation matrix is never symmetric here

    def output(graph_tensors):
        torch.manual_seed(0)
        conv = backbone.build_conv(
            N_FEATURES, 8, is_output=False, activation=nn.ReLU(), gat_heads=GAT_HEADS
        )
        x = graph_tensors.with_transpose(graph_tensors.x)
        return conv(x, graph_tensors.propagation)

    args = (words, messages, backbone, torch.device("cpu"))
    trained = build_graph_tensors(*args, attention=False)
    assert trained.propagation.transpose is not None and trained.x_transpose is not None
    with torch.no_grad():
        predicting = build_graph_tensors(*args, attention=False)
        assert predicting.propagation.transpose is None and predicting.x_transpose is None
        torch.testing.assert_close(output(predicting), output(trained), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=r"without its transpose .* build it with gradients"):
        output(predicting)


GRAPH_BACKBONES = [name for name, backbone in BACKBONES.items() if backbone.uses_graph]


def expected_propagation(name, adjacency):
    """Dense propagation matrix from the adjacency, written out with NumPy."""
    backbone = BACKBONES[name]
    with_loops = adjacency + np.eye(len(adjacency)) if backbone.self_loops else adjacency
    if backbone.mean_aggregation:
        receives = (with_loops > 0).T
        return (receives / np.maximum(receives.sum(axis=1, keepdims=True), 1)).astype(np.float32)
    if not backbone.gcn_normalize:
        return (with_loops > 0).T.astype(np.float32)
    scale = with_loops.sum(axis=0) ** -0.5  # in-degree with the self-loop
    return (scale[:, None] * with_loops.T * scale[None, :]).astype(np.float32)


def test_graph_free_backbone_builds_no_propagation_matrix(graph):
    assert [name for name, backbone in BACKBONES.items() if not backbone.uses_graph] == ["mlp"]
    assert BACKBONES["mlp"].propagation(graph[4]) is None


@pytest.mark.parametrize("name", GRAPH_BACKBONES)
def test_propagation_matrix_rows_are_receivers(name, graph):
    adjacency, messages = graph[3], graph[4]
    propagation = BACKBONES[name].propagation(messages)
    assert propagation.matrix.layout == propagation.transpose.layout == torch.sparse_csr
    expected = expected_propagation(name, adjacency)
    # GCN keeps its self-loops apart, as the diagonal; the others have none.
    diagonal = propagation.diagonal
    assert (diagonal is not None) == (name == "gcn")
    loops = np.diag(diagonal.numpy()) if diagonal is not None else 0.0
    np.testing.assert_allclose(propagation.matrix.to_dense().numpy() + loops, expected, atol=1e-6)
    # Exact, or the matrix itself where it is symmetric up to round-off.
    np.testing.assert_allclose(
        propagation.transpose.to_dense().numpy(),
        propagation.matrix.to_dense().numpy().T,
        rtol=1e-6,
        atol=0,
    )


@pytest.mark.parametrize("name", GRAPH_BACKBONES)
def test_propagation_of_symmetric_graph_is_its_own_transpose(name):
    nodes = GraphNodes.from_networkx(nx.karate_club_graph())
    propagation = BACKBONES[name].propagation(MessageGraph.from_adjacency(nodes.adjacency, True))
    # Messages go both ways: only the mean's 1 / in-degree weights break the symmetry.
    shared = not BACKBONES[name].mean_aggregation
    assert (propagation.transpose is propagation.matrix) == shared
    moved = propagation.to("cpu")
    assert (moved.transpose is moved.matrix) == shared


def test_registry_names_its_records():
    assert list(BACKBONES) == ["gcn", "sage", "gat", "gin", "mlp"]
    assert all(backbone.name == name for name, backbone in BACKBONES.items())


@pytest.mark.parametrize("name", list(BACKBONES))
def test_width_check_only_where_heads_split_the_width(name):
    BACKBONES[name].check_widths((64, 32), gat_heads=8)
    if name == "gat":
        with pytest.raises(ValueError, match=r"gat_heads=8 must divide every hidden width"):
            BACKBONES[name].check_widths((64, 36), gat_heads=8)
    else:
        BACKBONES[name].check_widths((64, 36), gat_heads=8)


@pytest.mark.parametrize("name", list(BACKBONES))
def test_classifier_applies_the_records_width_check(name):
    X, y = make_node_classification(60, random_state=0)
    model = GKEDMClassifier(
        backbone=name, hidden_dims=(12,), gat_heads=8, gkedm=False, max_epochs=2
    )
    if BACKBONES[name].heads_split_width:
        with pytest.raises(ValueError, match=r"gat_heads=8 must divide"):
            model.fit(X, y)
    else:
        assert model.fit(X, y).predict(X).shape == (60,)


def test_import_does_not_load_pytorch_geometric():
    code = (
        "import sys\n"
        "import skgkedm, skgkedm.datasets, skgkedm.nn\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch_geometric'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"import skgkedm loaded {done.stdout.strip()}"


@pytest.mark.parametrize(
    ("name", "options", "ignored"),
    [
        ("PrecomputedGCNConv", {"cached": True, "improved": True}, "cached"),
        ("PrecomputedGCNConv", {"normalize": True}, "normalize"),
        ("LinearFirstSAGEConv", {"root_weight": False}, "root_weight"),
        ("LinearFirstSAGEConv", {"aggr": "max"}, "aggr"),
        ("PrecomputedGATConv", {"residual": True}, "residual"),
    ],
)
def test_layers_refuse_the_pyg_options_their_forward_would_ignore(name, options, ignored):
    # They subclass PyG's layers but run forward(x, propagation): options of the PyG
    # class that this forward does not read were accepted and silently ignored.
    from skgkedm.nn import _linear_first

    with pytest.raises(TypeError, match=rf"does not honour .*'{ignored}'"):
        getattr(_linear_first, name)(4, 8, **options)
    with pytest.raises(TypeError, match=r"does not honour \['edge_dim'\] of GINConv"):
        _linear_first.LinearFirstGINConv(nn.Sequential(nn.Linear(4, 8)), edge_dim=3)
