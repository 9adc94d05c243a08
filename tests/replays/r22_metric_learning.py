"""Metric learning, in the style of the siamese/triplet and SimCLR tutorials: embeddings trained
with TripletMarginLoss, then with an NT-Xent contrastive loss, evaluated by nearest neighbours.

    python tests/replays/r22_metric_learning.py [--backend=torch]

Points from six numpy clusters in 16 dimensions are embedded by a small MLP. Triplets (anchor,
positive of the same cluster, negative of another) come from numpy and train it with
nn.TripletMarginLoss and SGD with momentum; then two noisy "views" of a batch train it with the SimCLR loss
(``F.normalize``, a similarity matrix ``z @ z.T / tau`` whose diagonal is masked with
``masked_fill(torch.eye(...).bool(), float('-inf'))``, cross-entropy against the other view).
Retrieval accuracy uses distances from broadcasting and ``topk(largest=False)``; the pairwise
cosine matrix comes from F.cosine_similarity on broadcast shapes; CosineEmbeddingLoss,
MarginRankingLoss, HingeEmbeddingLoss and nn.PairwiseDistance score pairs, and an nn.Unflatten
head reshapes the embedding into a 2x4 "map".
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
rng = np.random.default_rng(404)

centres = rng.normal(0, 1.5, (6, 16))
labels_np = rng.integers(0, 6, 96)
points = torch.from_numpy((centres[labels_np] + rng.normal(0, 1.0, (96, 16))).astype(np.float32))
labels = torch.from_numpy(labels_np)


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8))

    def forward(self, x):
        return self.fc(x)


model = EmbeddingNet()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))


def retrieval_accuracy(emb, labels, k=3):
    """Fraction of the k nearest neighbours (itself excluded) that share the point's label."""
    dist = (emb.unsqueeze(1) - emb.unsqueeze(0)).norm(dim=-1)
    dist = dist + torch.eye(len(emb)) * 1e6
    _, idx = dist.topk(k, dim=1, largest=False)
    return (labels[idx] == labels.unsqueeze(1)).float().mean().item()


with torch.no_grad():
    print(f"raw points: 3-NN accuracy {retrieval_accuracy(points, labels):.4f}")
    print(f"untrained embedding: 3-NN accuracy {retrieval_accuracy(model(points), labels):.4f}")


def make_triplets(n):
    anchors = rng.integers(0, len(labels_np), n)
    positives = np.array([rng.choice(np.flatnonzero(labels_np == labels_np[a])) for a in anchors])
    negatives = np.array([rng.choice(np.flatnonzero(labels_np != labels_np[a])) for a in anchors])
    return [torch.from_numpy(ix) for ix in (anchors, positives, negatives)]


criterion = nn.TripletMarginLoss(margin=1.0, p=2)
# Not Adam: the distances ignore the last layer's bias, whose gradient is pure rounding noise that
# Adam's normalised step would turn into full-size updates of a backend-dependent sign.
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(6):
    a, p, n = make_triplets(32)
    loss = criterion(model(points[a]), model(points[p]), model(points[n]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 2 == 0:
        print(f"triplet step {step}: loss {loss.item():.4f}")
with torch.no_grad():
    print(f"after triplet training: 3-NN accuracy {retrieval_accuracy(model(points), labels):.4f}")


def nt_xent(z1, z2, tau=0.5):
    """SimCLR's normalized-temperature cross-entropy over 2N views."""
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / tau
    sim = sim.masked_fill(torch.eye(2 * n).bool(), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


for step in range(3):
    batch = torch.from_numpy(rng.choice(96, 24, replace=False))
    x = points[batch]
    view1 = x + torch.from_numpy(rng.normal(0, 0.3, (24, 16)).astype(np.float32))
    view2 = x * torch.from_numpy(rng.uniform(0.8, 1.2, (24, 16)).astype(np.float32))
    loss = nt_xent(model(view1), model(view2))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"contrastive step {step}: loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    emb = model(points)
    print(f"after contrastive training: 3-NN accuracy {retrieval_accuracy(emb, labels):.4f}")
    z = F.normalize(emb, dim=1)
    print(f"normalized rows have unit norm: {torch.allclose(z.norm(dim=1), torch.ones(96), atol=1e-5)}")
    cos = F.cosine_similarity(emb[:5, None, :], emb[None, :5, :], dim=-1)
    print(f"cosine matrix {tuple(cos.shape)}, diagonal ones {torch.allclose(cos.diagonal(), torch.ones(5), atol=1e-5)}")
    print("first row:", [round(v, 3) for v in cos[0].tolist()])
    same = labels[:20] == labels[20:40]
    y = same.float() * 2 - 1
    print(f"CosineEmbeddingLoss {nn.CosineEmbeddingLoss(margin=0.2)(emb[:20], emb[20:40], y).item():.4f}")
    d = nn.PairwiseDistance()(emb[:20], emb[20:40])
    print(f"HingeEmbeddingLoss {nn.HingeEmbeddingLoss(margin=2.0)(d, y).item():.4f}, mean distance {d.mean():.4f}")
    score_same = -d[same].mean().expand(3)
    score_diff = -d[~same].mean().expand(3)
    rank = nn.MarginRankingLoss(margin=0.5)(score_same, score_diff, torch.ones(3))
    print(f"MarginRankingLoss {rank.item():.4f}")

head = nn.Sequential(nn.Linear(8, 8), nn.Unflatten(1, (2, 4)))
print(head)
print(f"unflattened head output: {tuple(head(emb[:3]).shape)}")
