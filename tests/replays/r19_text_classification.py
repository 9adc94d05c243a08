"""Text classification with nn.EmbeddingBag, in the style of the news-classification tutorial, plus data utilities
and learning-rate schedules.

    python tests/replays/r19_text_classification.py [--backend=torch]

Made-up headlines of four topics (numpy picks the words) stand in for the news dataset. A hand-
built vocabulary and a custom ``collate_fn`` turn a batch into one flat token tensor, offsets from
``torch.tensor(offsets[:-1]).cumsum(dim=0)`` and labels; the model is an nn.EmbeddingBag (mean)
and a Linear; training clips gradients with clip_grad_norm_, steps SGD (lr 5) and a StepLR
only when validation accuracy stops improving. The split into training and validation uses
Subset with numpy's permutation (``random_split`` draws from each library's own stream, so its
use below prints only facts that hold for any draw), and ConcatDataset puts the pieces back.
Last, the schedules of StepLR, MultiStepLR, CosineAnnealingLR, OneCycleLR, LambdaLR,
LinearLR+SequentialLR and ReduceLROnPlateau are printed epoch by epoch, and clip_grad_value_.
"""

import sys
from collections import Counter

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
DataLoader = torch.utils.data.DataLoader
Subset = torch.utils.data.Subset
ConcatDataset = torch.utils.data.ConcatDataset
random_split = torch.utils.data.random_split
lr_scheduler = torch.optim.lr_scheduler

rng = np.random.default_rng(11)
topics = {
    1: "world nation leaders summit election minister treaty border embassy vote",
    2: "sports team match season coach league goal player cup final",
    3: "business market shares profit bank stocks trade company deal prices",
    4: "science tech software space research chip robot data launch study",
}
common = "the a of in on to for with after new says over amid".split()


def headline(label):
    words = list(rng.choice(topics[label].split(), 4)) + list(rng.choice(common, 3))
    rng.shuffle(words)
    return " ".join(words).capitalize()


train_iter = [(int(label), headline(label)) for label in rng.integers(1, 5, 128)]
test_iter = [(int(label), headline(label)) for label in rng.integers(1, 5, 48)]
print(train_iter[0])


def tokenizer(text):
    return text.lower().split()


counter = Counter(token for _, text in train_iter for token in tokenizer(text))
itos = ["<unk>"] + sorted(counter, key=lambda t: (-counter[t], t))
vocab = {token: i for i, token in enumerate(itos)}
print(f"vocabulary of {len(vocab)}; 'market' -> {vocab['market']}, 'zebra' -> {vocab.get('zebra', 0)}")

text_pipeline = lambda x: [vocab.get(token, 0) for token in tokenizer(x)]  # noqa: E731 (the tutorial's)
label_pipeline = lambda x: int(x) - 1  # noqa: E731
print(text_pipeline("here is the an example"), label_pipeline("10"))

device = "cpu"


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(label_pipeline(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list.to(device), text_list.to(device), offsets.to(device)


dataloader = DataLoader(train_iter, batch_size=8, shuffle=False, collate_fn=collate_batch)
label, text, offsets = next(iter(dataloader))
print(f"a batch: labels {label.tolist()}, {text.numel()} tokens, offsets {offsets.tolist()}")


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5  # uniform_(-initrange, initrange) in the tutorial; numpy's draw here
        self.embedding.weight.data.copy_(
            torch.from_numpy(rng.uniform(-initrange, initrange, self.embedding.weight.shape).astype(np.float32))
        )
        self.fc.weight.data.copy_(
            torch.from_numpy(rng.uniform(-initrange, initrange, self.fc.weight.shape).astype(np.float32))
        )
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


num_class = len(set([label for (label, text) in train_iter]))
vocab_size = len(vocab)
emsize = 16
model = TextClassificationModel(vocab_size, emsize, num_class).to(device)
print(model)


def train(dataloader):
    model.train()
    total_acc, total_count = 0, 0
    log_interval = 4

    for idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
        if idx % log_interval == 0 and idx > 0:
            print(
                f"| epoch {epoch:3d} | {idx:5d}/{len(dataloader):5d} batches | accuracy {total_acc / total_count:8.3f}"
            )
            total_acc, total_count = 0, 0


def evaluate(dataloader):
    model.eval()
    total_acc, total_count = 0, 0

    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):  # noqa: B007 (the tutorial's loop)
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count, loss.item()


# Hyperparameters
EPOCHS = 3  # epoch
LR = 5  # learning rate
BATCH_SIZE = 16  # batch size for training

criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
total_accu = None
num_train = int(len(train_iter) * 0.75)
order = rng.permutation(len(train_iter)).tolist()  # random_split(...) in the tutorial
split_train_, split_valid_ = Subset(train_iter, order[:num_train]), Subset(train_iter, order[num_train:])
print(f"split: {len(split_train_)} + {len(split_valid_)}, first valid index {split_valid_.indices[0]}")

train_dataloader = DataLoader(split_train_, batch_size=BATCH_SIZE, shuffle=False, collate_fn=collate_batch)
valid_dataloader = DataLoader(split_valid_, batch_size=BATCH_SIZE, shuffle=False, collate_fn=collate_batch)
test_dataloader = DataLoader(test_iter, batch_size=BATCH_SIZE, shuffle=False, collate_fn=collate_batch)

for epoch in range(1, EPOCHS + 1):
    train(train_dataloader)
    accu_val, last_loss = evaluate(valid_dataloader)
    if total_accu is not None and total_accu > accu_val:
        scheduler.step()
    else:
        total_accu = accu_val
    print("-" * 59)
    print(f"| end of epoch {epoch:3d} | valid accuracy {accu_val:8.3f} | last loss {last_loss:.4f} ")
    print(f"| lr now {scheduler.get_last_lr()[0]}")
    print("-" * 59)

print("Checking the results of test dataset.")
accu_test, _ = evaluate(test_dataloader)
print(f"test accuracy {accu_test:8.3f}")

news_label = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tec"}


def predict(text, text_pipeline):
    with torch.no_grad():
        text = torch.tensor(text_pipeline(text))
        output = model(text, torch.tensor([0]))
        return output.argmax(1).item() + 1


ex_text_str = "The coach says the team won the league final after a new goal"
print(f"This is a {news_label[predict(ex_text_str, text_pipeline)]} news")

# --- data utilities ---------------------------------------------------------------------------
parts = random_split(train_iter, [0.5, 0.25, 0.25], generator=torch.Generator().manual_seed(42))
print(f"random_split by fractions: {[len(p) for p in parts]}")
indices = sorted(i for p in parts for i in p.indices)
print(f"the parts cover every sample once: {indices == list(range(len(train_iter)))}")
whole = ConcatDataset([split_train_, split_valid_])
print(f"ConcatDataset: {len(whole)} samples, cumulative sizes {whole.cumulative_sizes}")
print(f"sample 96 comes from the validation part: {whole[96] == split_valid_[0]}")
bags = DataLoader(whole, batch_size=40, collate_fn=collate_batch, drop_last=True)
print(f"drop_last: {len(bags)} batches of {[b[0].numel() for b in bags]}")

# --- learning-rate schedules ------------------------------------------------------------------
param = nn.Parameter(torch.zeros(3))


def schedule(make, epochs=8, metrics=None):
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    scheduler = make(optimizer)
    lrs = []
    for epoch in range(epochs):
        lrs.append(round(optimizer.param_groups[0]["lr"], 6))
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
    return lrs


print("StepLR", schedule(lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)))
print("MultiStepLR", schedule(lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[2, 5], gamma=0.1)))
print("CosineAnnealingLR", schedule(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.001)))
print("OneCycleLR", schedule(lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=8)))
print("LambdaLR", schedule(lambda opt: lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 0.95**epoch)))
print(
    "warmup + cosine",
    schedule(
        lambda opt: lr_scheduler.SequentialLR(
            opt,
            schedulers=[
                lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3),
                lr_scheduler.CosineAnnealingLR(opt, T_max=5),
            ],
            milestones=[3],
        )
    ),
)
losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8]
print("ReduceLROnPlateau", schedule(lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=1), metrics=losses))

param.grad = torch.tensor([-3.0, 0.5, 2.0])
nn.utils.clip_grad_value_([param], clip_value=1.0)
print(f"clip_grad_value_: {param.grad.tolist()}")
param.grad = torch.tensor([3.0, 4.0, 0.0])
total = nn.utils.clip_grad_norm_([param], max_norm=1.0)
print(f"clip_grad_norm_: total {total.item():.4f}, clipped {[round(g, 4) for g in param.grad.tolist()]}")
