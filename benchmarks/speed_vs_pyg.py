"""Training speed of GKEDMClassifier(gkedm=False) against the reference PyG GCN loop.

The reference is PyTorch Geometric's own GCN example (examples/gcn.py): dense
row-normalised features, dropout on the input features, ``GCNConv(cached=True)``,
Adam with weight decay. Both train the same 2-layer architecture for the same epochs
on the same data, alternately, in this one process; the table gives ms per epoch
(fit time / epochs; graph preparation and the copy to ``--device`` count for both), the
ratio, and test accuracy (mean ± std over seeds) on the public split.

    SKGKEDM_DATA=/abs/path/to/data python benchmarks/speed_vs_pyg.py \
        [--datasets cora citeseer] [--seeds 5] [--epochs 200] [--hidden 64] [--device cpu]
"""

import argparse
import time

import numpy as np
import torch
from torch.nn import functional as F
from torch_geometric.nn import GCNConv

from skgkedm import GKEDMClassifier
from skgkedm.datasets import fetch_planetoid


class ReferenceGCN(torch.nn.Module):
    """The two-layer GCN of PyG's examples/gcn.py."""

    def __init__(self, in_dim, hidden, n_classes):
        super().__init__()
        self.conv1 = GCNConv(in_dim, hidden, cached=True)
        self.conv2 = GCNConv(hidden, n_classes, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


def reference_fit(data, seed, epochs, hidden, device):
    """Train the reference loop; return (seconds, test accuracy)."""
    torch.manual_seed(seed)
    started = time.perf_counter()
    x = torch.from_numpy(data.X.features.toarray()).to(device)
    adjacency = data.X.adjacency.tocoo()
    edge_index = torch.from_numpy(np.vstack([adjacency.row, adjacency.col]).astype(np.int64))
    edge_index = edge_index.to(device)
    y = torch.from_numpy(data.y).to(device)
    train = torch.from_numpy(data.train_index).to(device)
    model = ReferenceGCN(x.shape[1], hidden, int(data.y.max()) + 1).to(device)
    optimizer = torch.optim.Adam(
        [
            {"params": model.conv1.parameters(), "weight_decay": 5e-4},
            {"params": model.conv2.parameters(), "weight_decay": 0},
        ],
        lr=0.01,
    )
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train], y[train])
        loss.backward()
        optimizer.step()
    if x.is_cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        predicted = model(x, edge_index).argmax(dim=1).cpu().numpy()
    return seconds, float(np.mean(predicted[data.test_index] == data.y[data.test_index]))


def skgkedm_fit(data, seed, epochs, hidden, device):
    """Train GKEDMClassifier without GKEDM; return (seconds, test accuracy)."""
    model = GKEDMClassifier(
        gkedm=False, hidden_dims=(hidden,), max_epochs=epochs, device=device, random_state=seed
    )
    started = time.perf_counter()
    model.fit(data.X[data.train_index], data.y[data.train_index])
    seconds = time.perf_counter() - started
    return seconds, model.score(data.X[data.test_index], data.y[data.test_index])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--device", default="cpu", help='"cpu" or "cuda"')
    args = parser.parse_args()
    print(
        f"torch threads: {torch.get_num_threads()}, epochs: {args.epochs}, "
        f"hidden: {args.hidden}, seeds: {args.seeds}, device: {args.device}\n"
    )
    print(
        "| dataset | reference PyG ms/epoch | skgkedm ms/epoch | speed-up |"
        " reference accuracy | skgkedm accuracy |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.datasets:
        data = fetch_planetoid(name)
        results = {"reference": [], "skgkedm": []}
        for seed in range(args.seeds):
            for label, fit in (("reference", reference_fit), ("skgkedm", skgkedm_fit)):
                results[label].append(fit(data, seed, args.epochs, args.hidden, args.device))
        ms = {k: 1000 * np.median([s for s, _ in v]) / args.epochs for k, v in results.items()}
        acc = {k: np.array([a for _, a in v]) for k, v in results.items()}
        print(
            f"| {name} | {ms['reference']:.1f} | {ms['skgkedm']:.1f} | "
            f"{ms['reference'] / ms['skgkedm']:.1f}x | "
            f"{acc['reference'].mean():.3f} ± {acc['reference'].std():.3f} | "
            f"{acc['skgkedm'].mean():.3f} ± {acc['skgkedm'].std():.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
