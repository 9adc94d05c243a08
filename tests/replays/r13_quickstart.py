"""The "Learn the Basics" quickstart: a Dataset subclass, DataLoader, nn.Flatten, train/test loops, save/load.

    python tests/replays/r13_quickstart.py [--backend=torch]

A numpy stand-in for the clothing images (1x8x8 "images" of 10 classes, 128 training and 64
test samples) is wrapped in a hand-written Dataset subclass with a transform (scaling to
[0, 1]) and a target_transform (one-hot through scatter_, as in the transforms page). The
model is the tutorial's NeuralNetwork (Flatten + a Linear/ReLU stack) with weights copied in
from numpy; the train and test loops switch model.train()/model.eval(), evaluate under
torch.no_grad() and count ``(pred.argmax(1) == y).type(torch.float).sum().item()``. The
state_dict is saved, loaded into a fresh model (``weights_only=True``) and must predict the same.
"""

import os
import sys
import tempfile

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

from_numpy = torch.from_numpy
nn = torch.nn
Dataset = torch.utils.data.Dataset
DataLoader = torch.utils.data.DataLoader

rng = np.random.default_rng(7)
labels_map = {
    0: "T-Shirt", 1: "Trouser", 2: "Pullover", 3: "Dress", 4: "Coat",
    5: "Sandal", 6: "Shirt", 7: "Sneaker", 8: "Bag", 9: "Ankle Boot",
}  # fmt: skip
prototypes = rng.integers(0, 256, (10, 8, 8))


def make_images(n):
    labels = rng.integers(0, 10, n)
    noise = rng.integers(-90, 91, (n, 8, 8))
    images = np.clip(prototypes[labels] + noise, 0, 255).astype(np.uint8)
    return images, labels


class ToTensor:
    """uint8 HxW in [0, 255] -> float 1xHxW in [0, 1], like the vision ToTensor."""

    def __call__(self, pic):
        return torch.from_numpy(pic).unsqueeze(0).float().div(255)


class CustomImageDataset(Dataset):
    def __init__(self, images, labels, transform=None, target_transform=None):
        self.images = images
        self.img_labels = labels
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        label = int(self.img_labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


training_data = CustomImageDataset(*make_images(128), transform=ToTensor())
test_data = CustomImageDataset(*make_images(64), transform=ToTensor())

img, label = training_data[3]
print(f"sample 3: {labels_map[label]}, image {tuple(img.shape)} {img.dtype}, range [{img.min():.4f}, {img.max():.4f}]")

one_hot = CustomImageDataset(
    *make_images(4),
    transform=ToTensor(),
    target_transform=lambda y: torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1),
)
_, target = one_hot[0]
print(f"one-hot target {target.tolist()}, sums to {target.sum().item()}")

batch_size = 32
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 48),
            nn.ReLU(),
            nn.Linear(48, 48),
            nn.ReLU(),
            nn.Linear(48, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def numpy_init(model):
    """The tutorial's weights are random; here they come from numpy so both backends agree."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            bound = 1 / np.sqrt(param.shape[-1]) if name.endswith("weight") else 0.05
            param.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(param.shape)).astype(np.float32)))


model = NeuralNetwork().to(device)
numpy_init(model)
print(model)

X = torch.from_numpy(rng.uniform(0, 1, (1, 8, 8)).astype(np.float32))
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}, probabilities sum to {pred_probab.sum().item():.4f}")

for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:1, :3].tolist()[0] if param.dim() > 1 else ''}")

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


epochs = 2
for t in range(epochs):
    print(f"Epoch {t + 1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.pth")
    torch.save(model.state_dict(), path)
    print("Saved PyTorch Model State to model.pth")

    model2 = NeuralNetwork().to(device)
    model2.load_state_dict(torch.load(path, weights_only=True))
    print(f"loaded keys: {list(model2.state_dict().keys())}")

classes = [labels_map[i] for i in range(10)]
model2.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model2(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
    same = torch.equal(model(x), pred)
print(f"reloaded model predicts the same: {same}")
