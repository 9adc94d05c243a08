"""Variable-length sequences for the recurrent layers, as torch.nn.utils.rnn: padding a list of
sequences into one tensor, and packing a padded batch (``PackedSequence``) so that nn.RNN, nn.LSTM
and nn.GRU run each sequence only for its own length.

A PackedSequence holds the batch time step by time step: ``data`` is every sequence's step 0, then
every step 1 of the sequences that have one, and so on (the sequences sorted longest first), and
``batch_sizes[t]`` says how many sequences step ``t`` has. Packing and unpacking are views and one
concatenation or stack, so gradients flow through them; the lengths live on the host, as torch's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch

from tritongrad import creation
from tritongrad.ops import cat, stack
from tritongrad.tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "pack_sequence", "unpad_sequence", "unpack_sequence",
]  # fmt: skip


class PackedSequence_(NamedTuple):
    """PackedSequence's fields (torch's base class of it)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (``result[permutation[i]] = i``); None stays None."""
    if permutation is None:
        return None
    output = creation.empty_like(permutation, memory_format=torch.contiguous_format)
    output.scatter_(0, permutation, creation.arange(0, permutation.numel(), device=permutation.device))
    return output


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """A batch of sequences packed time step by time step (see the module docstring).

    ``sorted_indices[i]``: the batch position of the i-th longest sequence; ``unsorted_indices``: its
    inverse, computed from ``sorted_indices`` when not given (None when packing kept the batch order).
    As torch's, ``batch_sizes`` may be omitted when ``data`` is the pair (data, batch_sizes)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            # (torch reads .device here, so a list of sizes is its AttributeError)
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                    "manually. They should be instantiated by functions like pack_sequence and pack_padded_sequences "
                    "in nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence"
                )
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise AssertionError
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def pin_memory(self) -> PackedSequence:
        return type(self)(
            self.data.pin_memory(),
            self.batch_sizes,
            _bind(self.sorted_indices, lambda t: t.pin_memory()),
            _bind(self.unsorted_indices, lambda t: t.pin_memory()),
        )

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data`` moved or converted (the index tensors follow ``data``'s device, not its dtype)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        kwargs = {key: value for key, value in kwargs.items() if key not in ("device", "dtype")}
        sorted_indices = _bind(self.sorted_indices, lambda t: t.to(data.device, **kwargs))
        unsorted_indices = _bind(self.unsorted_indices, lambda t: t.to(data.device, **kwargs))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        # (where the arguments would put data, read off an empty tensor like it, as torch's)
        example = creation.empty(0, dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if example.is_cuda:
            return self.to(*args, **kwargs)
        kwargs["device"] = "cuda"
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        example = creation.empty(0, dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if example.device.type == "cpu":
            return self.to(*args, **kwargs)
        kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=torch.double)

    def float(self) -> PackedSequence:
        return self.to(dtype=torch.float)

    def half(self) -> PackedSequence:
        return self.to(dtype=torch.half)

    def long(self) -> PackedSequence:
        return self.to(dtype=torch.long)

    def int(self) -> PackedSequence:
        return self.to(dtype=torch.int)

    def short(self) -> PackedSequence:
        return self.to(dtype=torch.short)

    def char(self) -> PackedSequence:
        return self.to(dtype=torch.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=torch.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return self.data.is_pinned()

    def lengths(self) -> list[int]:
        """Each packed sequence's length, longest first (the sorted order)."""
        sizes = self.batch_sizes.tolist()
        return [sum(1 for size in sizes if size > row) for row in range(sizes[0] if sizes else 0)]


def _lengths_list(lengths) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D tensor, but got a {lengths.dim()}D tensor")
        return [int(length) for length in lengths.tolist()]
    return [int(length) for length in lengths]


def _as_index(order: list[int], device) -> Tensor:
    return creation.tensor(order, dtype=torch.int64, device=device)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Packs a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of sequences of the given
    ``lengths``; with ``enforce_sorted`` the lengths must already decrease."""
    lengths = _lengths_list(lengths)
    batch = input.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} (batch_size={batch})"
        )
    if any(length <= 0 for length in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if any(later > earlier for earlier, later in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order = list(range(batch))
    else:
        order = sorted(range(batch), key=lambda row: -lengths[row])  # (stable: ties keep their order)
        inverse = [0] * batch
        for position, row in enumerate(order):
            inverse[row] = position
        sorted_indices, unsorted_indices = _as_index(order, input.device), _as_index(inverse, input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    steps = input.transpose(0, 1) if batch_first else input  # (T, B, *): a view
    longest = lengths[order[0]] if batch else 0
    if longest > steps.shape[0]:
        raise RuntimeError(
            f"Expected sequence length to be smaller than or equal to {steps.shape[0]}, but got {longest}"
        )
    sizes = [sum(1 for row in order if lengths[row] > t) for t in range(longest)]
    data = cat([steps[t, :size] for t, size in enumerate(sizes)], 0)
    return PackedSequence(
        data, creation.tensor(sizes, dtype=torch.int64, device="cpu"), sorted_indices, unsorted_indices
    )


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The padded batch (T, B, *) ((B, T, *) with ``batch_first``) of a PackedSequence, in the order
    the sequences were given, and their lengths (int64 on the host)."""
    data, sizes = sequence.data, sequence.batch_sizes.tolist()
    batch = sizes[0] if sizes else 0
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    rows, start = [], 0
    feature_shape = tuple(data.shape[1:])
    for size in sizes:
        piece = data[start : start + size]
        start += size
        if size < batch:
            filler = creation.full((batch - size, *feature_shape), padding_value, dtype=data.dtype, device=data.device)
            piece = cat([piece, filler], 0)
        rows.append(piece)
    for _ in range(steps - len(sizes)):
        rows.append(creation.full((batch, *feature_shape), padding_value, dtype=data.dtype, device=data.device))
    padded = stack(rows, 0)  # (T, B, *) in the sorted order
    lengths = sequence.lengths()
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = [lengths[position] for position in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, creation.tensor(lengths, dtype=torch.int64, device="cpu")


def pad_sequence(sequences: Sequence[Tensor] | Tensor, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:  # fmt: skip
    """Sequences of shapes (L_i, *) padded with ``padding_value`` to the longest and stacked: (L, B, *)
    ((B, L, *) with ``batch_first``); ``padding_side="left"`` pads before each sequence.

    As torch's, the result takes the first sequence's dtype and trailing shape: it is filled with
    ``padding_value`` and each sequence is copied (cast, broadcast) into its slot, so a float
    sequence after an integer one is truncated, and gradients flow through the copies (CopySlices).
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    _check_pad_arguments(sequences, batch_first, padding_value, padding_side)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    if first.dim() == 0:
        # torch slices the first sequence's sizes past the length: the message of its ArrayRef.
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    longest = max(sequence.size(0) for sequence in sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    trailing = tuple(first.shape[1:])
    shape = (len(sequences), longest, *trailing) if batch_first else (longest, len(sequences), *trailing)
    if isinstance(padding_value, Tensor):
        padding_value = padding_value.item()  # torch's parser reads a one-element tensor as a float
    padded = creation.full(shape, padding_value, dtype=first.dtype, device=first.device)
    for row, sequence in enumerate(sequences):
        length = sequence.size(0)
        start = longest - length if padding_side == "left" else 0
        slot = padded[row] if batch_first else padded[:, row]
        slot[start : start + length].copy_(sequence)
    return padded


def _check_pad_arguments(sequences: tuple, batch_first, padding_value, padding_side) -> None:
    """torch's argument parser's TypeErrors for pad_sequence."""
    for position, sequence in enumerate(sequences):
        if not isinstance(sequence, Tensor):
            raise TypeError(f"expected Tensor as element {position} in argument 0, but got {type(sequence).__name__}")
    if not isinstance(batch_first, bool):
        raise TypeError(
            f"pad_sequence(): argument 'batch_first' (position 2) must be bool, not {type(batch_first).__name__}"
        )
    if not isinstance(padding_value, (int, float, Tensor)):
        raise TypeError(
            f"pad_sequence(): argument 'padding_value' (position 3) must be float, not {type(padding_value).__name__}"
        )
    if not isinstance(padding_side, str):
        raise TypeError(
            f"pad_sequence(): argument 'padding_side' (position 4) must be str, not {type(padding_side).__name__}"
        )


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length (views)."""
    batch_major = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch_major[row, :length] for row, length in enumerate(_lengths_list(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence, in the order they were given."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
