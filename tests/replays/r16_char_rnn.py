"""Classifying names with a character-level RNN, in the style of the "NLP from scratch" tutorial.

    python tests/replays/r16_char_rnn.py [--backend=torch]

Made-up names in three "languages" (built from each language's syllables by numpy) are turned
into one-hot tensors letter by letter (``torch.zeros(1, n_letters)`` and ``tensor[0][i] = 1``),
and for training in batches along dimension 1 with F.one_hot, left-padded with all-zero
letters. The recurrent cell is written by hand as the tutorial does:
``torch.cat((input, hidden), 1)``, an nn.Linear into the hidden state with torch.tanh, an
nn.Linear to the output and nn.LogSoftmax, unrolled in Python over the letters; NLLLoss,
gradient-norm clipping and the tutorial's manual update
``p.data.add_(p.grad.data, alpha=-learning_rate)``. Evaluation builds a normalised confusion
matrix and predicts the top 3 languages of a few names with ``topk``.

tritongrad has no nn.RNN/GRU/LSTM; the tutorial's hand-written cell is what it needs.
"""

import string
import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
rng = np.random.default_rng(31)

syllables = {
    "Italian": ["ro", "ssi", "ni", "la", "ca", "ri", "bel", "lo", "ti"],
    "Japanese": ["ka", "ta", "mo", "to", "yo", "shi", "ku", "na", "mi"],
    "Scottish": ["mac", "gre", "gor", "don", "ald", "son", "kin", "ross", "dh"],
}
all_categories = list(syllables)
n_categories = len(all_categories)


def make_name(category):
    parts = rng.choice(syllables[category], 2)
    return "".join(parts).capitalize()


category_lines = {c: [make_name(c) for _ in range(24)] for c in all_categories}
print(f"{n_categories} categories, {n_letters} letters; e.g. {category_lines['Italian'][:5]}")


def letterToIndex(letter):
    return all_letters.find(letter)


def letterToTensor(letter):
    tensor = torch.zeros(1, n_letters)
    tensor[0][letterToIndex(letter)] = 1
    return tensor


def lineToTensor(line):
    """<line_length x 1 x n_letters>"""
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


print(letterToTensor("J"))
print(lineToTensor("Jones").size())


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.softmax(self.h2o(hidden))
        return output, hidden

    def initHidden(self, batch=1):
        return torch.zeros(batch, self.hidden_size)


n_hidden = 32
rnn = RNN(n_letters, n_hidden, n_categories)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.15, 0.15, tuple(p.shape)).astype(np.float32)))

input = lineToTensor("Albert")
hidden = torch.zeros(1, n_hidden)
output, next_hidden = rnn(input[0], hidden)
print(
    f"first step: output {tuple(output.shape)}, hidden {tuple(next_hidden.shape)}, probs sum {output.exp().sum():.4f}"
)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


print(categoryFromOutput(output))


def batchTensors(lines, categories):
    """<T x B x n_letters> one-hot letters, names left-padded with all-zero rows, and category indices.

    One F.one_hot over the padded index matrix (the pad index is n_letters, its column dropped)
    instead of lineToTensor per name."""
    length = max(len(line) for line in lines)
    indices = [[n_letters] * (length - len(line)) + [letterToIndex(c) for c in line] for line in lines]
    line_tensor = F.one_hot(torch.tensor(indices).t(), n_letters + 1)[..., :n_letters].float()
    category_tensor = torch.tensor([all_categories.index(c) for c in categories], dtype=torch.long)
    return line_tensor, category_tensor


def randomTrainingBatch(size):
    categories = [all_categories[i] for i in rng.integers(0, n_categories, size)]
    lines = [category_lines[c][rng.integers(0, len(category_lines[c]))] for c in categories]
    return categories, lines, *batchTensors(lines, categories)


criterion = nn.NLLLoss()
learning_rate = 0.5  # If you set this too high, it might explode. If too low, it might not learn


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden(line_tensor.size(1))
    rnn.zero_grad()

    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)

    loss = criterion(output, category_tensor)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(rnn.parameters(), 1.0)

    # Add parameters' gradients to their values, multiplied by learning rate
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    return output, loss.item(), norm.item()


n_iters = 8
print_every = 2
current_loss = 0
all_losses = []
for iter in range(1, n_iters + 1):
    categories, lines, line_tensor, category_tensor = randomTrainingBatch(24)
    output, loss, norm = train(category_tensor, line_tensor)
    current_loss += loss

    if iter % print_every == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = "✓" if guess == categories[0] else f"✗ ({categories[0]})"
        print(f"{iter} {iter / n_iters * 100:.0f}% {loss:.4f} (grad norm {norm:.4f}) {lines[0]} / {guess} {correct}")
        all_losses.append(current_loss / print_every)
        current_loss = 0
print("average losses:", [round(v, 4) for v in all_losses])


def evaluate(line_tensor):
    hidden = rnn.initHidden(line_tensor.size(1))
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


confusion = torch.zeros(n_categories, n_categories)
with torch.no_grad():
    lines = [line for c in all_categories for line in category_lines[c]]
    categories = [c for c in all_categories for _ in category_lines[c]]
    line_tensor, category_tensor = batchTensors(lines, categories)
    output = evaluate(line_tensor)
    guesses = output.argmax(1)
    for category_i, guess_i in zip(category_tensor.tolist(), guesses.tolist()):
        confusion[category_i][guess_i] += 1

for i in range(n_categories):
    confusion[i] = confusion[i] / confusion[i].sum()
print(confusion)
print(f"mean diagonal {confusion.diag().mean().item():.4f}")


def predict(input_line, n_predictions=3):
    print(f"\n> {input_line}")
    with torch.no_grad():
        output = evaluate(lineToTensor(input_line))

        # Get top N categories
        topv, topi = output.topk(n_predictions, 1, True)
        predictions = []

        for i in range(n_predictions):
            value = topv[0][i].item()
            category_index = topi[0][i].item()
            print(f"({value:.2f}) {all_categories[category_index]}")
            predictions.append([value, all_categories[category_index]])
    return predictions


predict("Rossini")
predict("Yamamoto")
predict("Macdon")
