"""Training a small image classifier, in the style of the CIFAR-10 tutorial (at a tiny size).

    python tests/replays/r15_cifar_cnn.py [--backend=torch]

Ten classes of 3x12x12 numpy "photos" (coloured blobs on noise, 160 training and 80 test
images) go through hand-written transforms (Compose, ToTensor from HWC uint8, Normalize with
per-channel mean and std), a Dataset, and DataLoaders whose shuffled order comes from numpy
through ``sampler=``. The net is the tutorial's LeNet shape: Conv2d -> ReLU -> MaxPool2d twice,
``torch.flatten(x, 1)``, three Linear layers; CrossEntropyLoss, SGD with momentum, a running
loss every few mini-batches, overall accuracy with ``torch.max(outputs.data, 1)`` and accuracy
per class counted with ``zip(labels, predictions)``.
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
optim = torch.optim

rng = np.random.default_rng(1234)
classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
palette = rng.choice([0, 255], (10, 3))
centres = rng.integers(3, 9, (10, 2))


def make_photos(n):
    labels = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:12, 0:12]
    photos = rng.integers(60, 190, (n, 12, 12, 3))
    for i, c in enumerate(labels):
        blob = (yy - centres[c, 0]) ** 2 + (xx - centres[c, 1]) ** 2 <= 6
        photos[i][blob] = palette[c]
    return photos.astype(np.uint8), labels


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class ToTensor:
    """HxWxC uint8 in [0, 255] -> CxHxW float in [0, 1]."""

    def __call__(self, pic):
        return torch.from_numpy(pic).permute(2, 0, 1).to(dtype=torch.float32).div(255)


class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, tensor):
        return tensor.sub(self.mean).div(self.std)


class Photos(torch.utils.data.Dataset):
    def __init__(self, n, transform):
        self.data, self.targets = make_photos(n)
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self.transform(self.data[index]), int(self.targets[index])


transform = Compose([ToTensor(), Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
batch_size = 8
trainset = Photos(48, transform)
testset = Photos(24, transform)
train_order = rng.permutation(len(trainset)).tolist()  # shuffle=True, with numpy's order
trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, sampler=train_order, num_workers=2)
testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=2)

dataiter = iter(trainloader)
images, labels = next(dataiter)
img = images[0] / 2 + 0.5  # unnormalize
npimg = img.numpy()
print(f"one batch: {tuple(images.shape)}, as an image {np.transpose(npimg, (1, 2, 0)).shape}")
print(f"pixel range after unnormalize [{npimg.min():.4f}, {npimg.max():.4f}]")
print(" ".join(f"{classes[labels[j]]:5s}" for j in range(batch_size)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 2)
        self.fc1 = nn.Linear(16 * 2 * 2, 48)
        self.fc2 = nn.Linear(48, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
with torch.no_grad():  # the tutorial's default init is random; numpy's numbers here
    for p in net.parameters():
        fan_in = p[0].numel() if p.dim() > 1 else p.shape[0]
        p.copy_(torch.tensor(rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(fan_in), dtype=torch.float32))
print(net)
print(f"parameters: {sum(p.numel() for p in net.parameters() if p.requires_grad)}")

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

for epoch in range(3):  # loop over the dataset multiple times
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 3 == 2:  # print every 3 mini-batches
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 3:.3f}")
            running_loss = 0.0

print("Finished Training")

dataiter = iter(testloader)
images, labels = next(dataiter)
print("GroundTruth: ", " ".join(f"{classes[labels[j]]:5s}" for j in range(4)))
outputs = net(images)
_, predicted = torch.max(outputs, 1)
print("Predicted: ", " ".join(f"{classes[predicted[j]]:5s}" for j in range(4)))

correct = 0
total = 0
# since we're not training, we don't need to calculate the gradients for our outputs
with torch.no_grad():
    for data in testloader:
        images, labels = data
        # calculate outputs by running images through the network
        outputs = net(images)
        # the class with the highest energy is what we choose as prediction
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}

# again no gradients needed
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predictions = torch.max(outputs, 1)
        # collect the correct predictions for each class
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1

# print accuracy for each class
for classname, correct_count in correct_pred.items():
    if total_pred[classname]:
        accuracy = 100 * float(correct_count) / total_pred[classname]
        print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print(device)
