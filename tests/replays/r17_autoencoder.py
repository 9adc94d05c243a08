"""A denoising autoencoder and a variational autoencoder on tiny images, in the style of the classic examples.

    python tests/replays/r17_autoencoder.py [--backend=torch]

8x8 "strokes" images in [0, 1] (numpy) are flattened with ``.view(-1, 64)``. The autoencoder is
an encoder/decoder pair of nn.Sequential stacks (``nn.ReLU(True)``, a final nn.Sigmoid) trained
with nn.BCELoss and Adam with weight decay on inputs corrupted by noise and ``torch.clamp``; its
weights are loaded from numpy through ``load_state_dict``. The VAE is the well-known
fc1/fc21/fc22/fc3/fc4 model with the reparameterisation trick (its noise from numpy instead of
``randn_like``), F.binary_cross_entropy(reduction='sum') plus the KL term, and a sample decoded
from the latent grid.
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
rng = np.random.default_rng(99)


def make_images(n):
    """Horizontal or vertical bars at random positions, blurred a little."""
    images = np.zeros((n, 8, 8))
    for img in images:
        for _ in range(2):
            k = rng.integers(0, 8)
            if rng.random() < 0.5:
                img[k, :] = 1.0
            else:
                img[:, k] = 1.0
    images = 0.1 + 0.8 * images + rng.uniform(0, 0.1, images.shape)
    return images.astype(np.float32)


train_x = torch.from_numpy(make_images(96)).unsqueeze(1)  # N x 1 x 8 x 8
test_x = torch.from_numpy(make_images(32)).unsqueeze(1)
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_x), batch_size=32)
print(f"train {tuple(train_x.shape)}, mean pixel {train_x.mean().item():.4f}")


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(True), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU(True), nn.Linear(32, 64), nn.Sigmoid())

    def forward(self, x):
        x = self.encoder(x)
        x = self.decoder(x)
        return x


def numpy_state(model, scale):
    return {
        name: torch.from_numpy((rng.uniform(-1, 1, tuple(t.shape)) * scale / np.sqrt(t.shape[-1])).astype(np.float32))
        for name, t in model.state_dict().items()
    }


model = Autoencoder()
print(model.load_state_dict(numpy_state(model, 1.0)))
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)

noise = rng.normal(0, 1, (2, 3, 32, 64)).astype(np.float32)
for epoch in range(2):
    for i, (img,) in enumerate(train_loader):
        img = img.view(img.size(0), -1)
        noisy = torch.clamp(img + 0.3 * torch.from_numpy(noise[epoch, i]), 0.0, 1.0)
        # ===================forward=====================
        output = model(noisy)
        loss = criterion(output, img)
        # ===================backward====================
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # ===================log========================
    print(f"epoch [{epoch + 1}/2], loss:{loss.item():.4f}")

model.eval()
with torch.no_grad():
    flat = test_x.view(-1, 64)
    codes = model.encoder(flat)
    recon = model.decoder(codes)
    err = ((recon - flat) ** 2).mean(dim=1)
    print(f"codes {tuple(codes.shape)}, per-dim mean {[round(v, 3) for v in codes.mean(0).tolist()]}")
    print(f"reconstruction MSE mean {err.mean().item():.5f}, worst {err.max().item():.5f}")
    print(f"test BCE {F.binary_cross_entropy(recon, flat).item():.4f}")
    pic = recon.view(recon.size(0), 1, 8, 8)
    print(f"reconstructed images {tuple(pic.shape)}, in (0, 1): {bool(((pic > 0) & (pic < 1)).all())}")


class VAE(nn.Module):
    def __init__(self):
        super().__init__()

        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std  # eps would be torch.randn_like(std); numpy's here

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


vae = VAE()
vae.load_state_dict(numpy_state(vae, 1.0))
optimizer = torch.optim.Adam(vae.parameters(), lr=1e-2)
eps = rng.normal(0, 1, (2, 3, 32, 4)).astype(np.float32)


def train(epoch):
    vae.train()
    train_loss = 0
    for batch_idx, (data,) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = vae(data, torch.from_numpy(eps[epoch - 1, batch_idx]))
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % 2 == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item() / len(data):.6f}"
            )
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")


def test(epoch):
    vae.eval()
    test_loss = 0
    with torch.no_grad():
        mu, logvar = vae.encode(test_x.view(-1, 64))
        recon = vae.decode(mu)
        test_loss += loss_function(recon, test_x, mu, logvar).item()
        comparison = torch.cat([test_x[:4], recon.view(32, 1, 8, 8)[:4]])
    test_loss /= len(test_x)
    print(f"====> Test set loss: {test_loss:.4f}, comparison {tuple(comparison.shape)}")


for epoch in range(1, 3):
    train(epoch)
    test(epoch)
    with torch.no_grad():
        grid = torch.linspace(-2, 2, 5)
        z = torch.stack([grid, grid.flip(0), torch.zeros(5), torch.ones(5)], dim=1)
        sample = vae.decode(z).cpu()
        print(f"decoded latent grid: {tuple(sample.view(5, 1, 8, 8).shape)}, mean {sample.mean().item():.4f}")
