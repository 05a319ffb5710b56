"""The PyTorch Geometric reference loop the molecule benchmarks compare skgkedm with.

skgkedm's default graph network without GKEDM, written the PyG way: GIN layers (GINE
when the graphs carry edge attributes), a sum readout, an MLP head, Adam on mini-batches
from PyG's ``DataLoader``. Imported by ``molecules.py`` and ``edge_features.py``.
"""

import time
from itertools import pairwise

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GINConv, GINEConv, global_add_pool

HIDDEN, LAYERS, BATCH_SIZE, LEARNING_RATE = 64, 3, 64, 0.005
PREDICT_BATCH = 1024


class ReferenceGIN(nn.Module):
    """GIN layers (GINE with ``edge_dim``), a sum readout and an MLP head."""

    def __init__(self, in_dim, n_outputs, edge_dim=None):
        super().__init__()
        widths = [in_dim] + [HIDDEN] * LAYERS
        self.edge_dim = edge_dim
        self.convs = nn.ModuleList()
        for a, b in pairwise(widths):
            mlp = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, b))
            self.convs.append(
                GINConv(mlp) if edge_dim is None else GINEConv(mlp, edge_dim=edge_dim)
            )
        self.head = nn.Sequential(
            nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_outputs)
        )

    def forward(self, batch):
        x = batch.x
        for conv in self.convs:
            if self.edge_dim is None:
                x = conv(x, batch.edge_index).relu()
            else:
                x = conv(x, batch.edge_index, batch.edge_attr).relu()
        return self.head(global_add_pool(x, batch.batch))


def standardiser(y):
    """Standardised ``y`` and the function that maps predictions back."""
    mean, scale = y.mean(), y.std()
    return (y - mean) / scale, lambda z: z * scale + mean


def score(metric, y_true, y_pred):
    """Accuracy or RMSE."""
    if metric == "accuracy":
        return float(np.mean(y_true == y_pred))
    return float(np.sqrt(np.mean((np.asarray(y_true, float) - y_pred) ** 2)))


def fit_reference_gin(graphs, train, test, y, classification, seed, epochs, edge_dim=None):
    """Train on ``graphs[train]`` (PyG ``Data``), predict ``graphs[test]``.

    Returns ``(predictions, fit seconds, predict seconds)``. With ``edge_dim`` the
    graphs' ``edge_attr`` feed GINE layers; without, they are not used.
    """
    started = time.perf_counter()
    torch.manual_seed(seed)
    if classification:
        classes, codes = np.unique(y, return_inverse=True)
        targets, n_outputs, loss_function = torch.as_tensor(codes), len(classes), F.cross_entropy
    else:
        scaled, back = standardiser(y)
        targets, n_outputs = torch.as_tensor(scaled, dtype=torch.float32)[:, None], 1
        loss_function = F.mse_loss

    def data(i, **extra):
        edge_attr = graphs[i].edge_attr if edge_dim else None
        return Data(x=graphs[i].x, edge_index=graphs[i].edge_index, edge_attr=edge_attr, **extra)

    dataset = [data(i, y=targets[k : k + 1]) for k, i in enumerate(train)]
    model = ReferenceGIN(graphs[0].x.shape[1], n_outputs, edge_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
    model.train()
    for _ in range(epochs):
        for batch in loader:
            optimizer.zero_grad()
            loss_function(model(batch), batch.y).backward()
            optimizer.step()
    fitted = time.perf_counter()
    model.eval()
    with torch.no_grad():
        loader = DataLoader([data(i) for i in test], batch_size=PREDICT_BATCH)
        outputs = torch.cat([model(batch) for batch in loader]).numpy()
    predicted = classes[outputs.argmax(axis=1)] if classification else back(outputs[:, 0])
    return predicted, fitted - started, time.perf_counter() - fitted
