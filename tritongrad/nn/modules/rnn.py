"""nn.RNN, nn.LSTM, nn.GRU and their single-step cells, as torch's.

The layers are composed from tritongrad ops, one time step at a time: each layer and direction
projects the whole sequence through ``weight_ih`` in one F.linear, then walks the steps with
F.linear(h, weight_hh, bias_hh) and the gate arithmetic (sigmoid, tanh, relu, mul, add; an LSTM's
in one fused kernel each way, ops/rnn_cell.py), and the
outputs are stacked back into a sequence. Autograd differentiates through the unrolled graph
(chunk and unbind split the gates and the time steps as one node each, whose backward is one
concatenation).

Parameters have torch's names, shapes, registration order and initialisation (all of them
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))), so a torch module's state dict loads as it is.
Gate order: LSTM input, forget, cell, output; GRU reset, update, new with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

A PackedSequence input (nn.utils.rnn) is run padded, with each sequence's state frozen past its
length (one ``where`` per step), so h_n is the state at each sequence's own last step and a reverse
direction starts there; the output is packed again.
"""

from __future__ import annotations

import math
import numbers
import warnings

from tritongrad import creation
from tritongrad.nn import functional as F
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.parameter import Parameter
from tritongrad.nn.utils.rnn import PackedSequence, pad_packed_sequence
from tritongrad.ops import cat, stack, where
from tritongrad.ops.autocast import autocast_op, is_any_autocast_enabled
from tritongrad.ops.rnn_cell import lstm_cell_gates
from tritongrad.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_tensor(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, not {type(input).__name__}")


# ------------------------------------------------------------------------------ one time step
def _rnn_step(activation, gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' = activation(gi + h @ w_hh.T + b_hh), with gi = x @ w_ih.T + b_ih."""
    return activation(F.linear(h, w_hh, b_hh) + gi)


def _lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None):
    """(h', c') from the input gates ``gi``; gate order i, f, g, o; h' projected by w_hr if given."""
    h, c = lstm_cell_gates(gi, F.linear(h, w_hh, b_hh), c)  # (the gate arithmetic: one kernel each way)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' = n + z * (h - n): r, z = sigmoid(gi + gh) (first two thirds), n = tanh(gi_n + r * gh_n)."""
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = F.sigmoid(i_r + h_r)
    z = F.sigmoid(i_z + h_z)
    n = F.tanh(i_n + r * h_n)
    return n + z * (h - n)


# ------------------------------------------------------------------------------ layers
class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters, checks, layers and directions.

    ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". Input is (L, N, H_in) ((N, L, H_in) with
    ``batch_first``, (L, H_in) unbatched); layer k > 0 reads layer k-1's output (both directions
    concatenated), with dropout between layers while training.
    """

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
        device=None, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        _check_sizes(input_size, hidden_size, bias, batch_first)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input_size)), ("weight_hh", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for stem, shape in shapes:
                    setattr(self, stem + suffix, Parameter(creation.empty(*shape, **factory)))
                    names.append(stem + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op: torch packs the weights for cuDNN here; tritongrad's kernels read them as they are."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # ---------------------------------------------------------------- checks (torch's order and words)
    def check_input(self, input: Tensor) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype and not is_any_autocast_enabled():
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )

    def get_expected_hidden_size(self, input: Tensor) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, real_hidden_size)

    def check_hidden_size(
        self, hx: Tensor, expected: tuple[int, int, int], msg: str = "Expected hidden size {}, got {}"
    ):
        if tuple(hx.size()) != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor) -> None:
        self.check_input(input)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input))

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---------------------------------------------------------------- the recurrence
    def _zeros(self, input: Tensor, size: int, batch: int | None = None) -> Tensor:
        num_directions = 2 if self.bidirectional else 1
        if batch is None:
            batch = input.size(0) if self.batch_first else input.size(1)
        return creation.zeros(self.num_layers * num_directions, batch, size, dtype=input.dtype, device=input.device)

    def _run(self, input: Tensor, hx: Tensor, cx: Tensor | None, lengths: Tensor | None = None):
        """input (L, N, H_in) or (N, L, H_in) batched; hx (and cx) (layers * directions, N, H).
        Returns (output, h_n, c_n or None). ``lengths`` (N,): a packed batch, padded and time-major
        whatever ``batch_first`` says; each sequence's state stops changing past its length.
        Under autocast the whole recurrence follows torch's policy for the mode's fused layer."""
        return _RUN_BY_MODE[self.mode](self, input, hx, cx, lengths)

    def _recurrence(self, input: Tensor, hx: Tensor, cx: Tensor | None, lengths: Tensor | None):
        num_directions = 2 if self.bidirectional else 1
        time_major = lengths is not None or not self.batch_first
        layer_input = input if time_major else input.transpose(0, 1)  # (L, N, H_in): a view
        if layer_input.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        active = None
        if lengths is not None:  # (L, N, 1) bools, one (N, 1) mask per step
            steps = creation.arange(layer_input.size(0), device=input.device).view(-1, 1, 1)
            active = (steps < lengths.to(input.device).view(1, -1, 1)).unbind(0)
        h_finals, c_finals = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                weights = dict(zip(("w_ih", "w_hh"), self.all_weights[index][:2], strict=True))
                if self.bias:
                    weights["b_ih"], weights["b_hh"] = self.all_weights[index][2:4]
                w_hr = self.all_weights[index][-1] if self.proj_size > 0 else None
                output, h, c = self._direction(
                    layer_input, hx[index], None if cx is None else cx[index], weights, w_hr, direction == 1, active
                )
                outputs.append(output)
                h_finals.append(h)
                c_finals.append(c)
            layer_output = outputs[0] if num_directions == 1 else cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, training=True)
            layer_input = layer_output
        output = layer_input if time_major else layer_input.transpose(0, 1)
        return output, stack(h_finals, 0), None if cx is None else stack(c_finals, 0)

    def _direction(self, input: Tensor, h: Tensor, c: Tensor | None, weights: dict, w_hr, reverse: bool, active):
        """One layer in one direction over the (L, N, H_in) sequence: ((L, N, H_out), h_L, c_L)."""
        gi = F.linear(input, weights["w_ih"], weights.get("b_ih"))  # every step's input projection at once
        w_hh, b_hh = weights["w_hh"], weights.get("b_hh")
        gi = gi.unbind(0)
        steps = range(input.size(0) - 1, -1, -1) if reverse else range(input.size(0))
        outputs = []
        for t in steps:
            if self.mode == "LSTM":
                stepped, c_stepped = _lstm_step(gi[t], h, c, w_hh, b_hh, w_hr)
                c = c_stepped if active is None else where(active[t], c_stepped, c)
            elif self.mode == "GRU":
                stepped = _gru_step(gi[t], h, w_hh, b_hh)
            else:
                stepped = _rnn_step(F.tanh if self.mode == "RNN_TANH" else F.relu, gi[t], h, w_hh, b_hh)
            h = stepped if active is None else where(active[t], stepped, h)
            outputs.append(h)
        if reverse:
            outputs.reverse()
        return stack(outputs, 0), h, c

    def _run_packed(self, packed: PackedSequence, hx, cx_needed: bool):
        """The layers over a PackedSequence: (packed output, h_n, c_n or None), h_n and c_n in the
        batch order the sequences were given (``hx`` too: a tensor, or (h_0, c_0) for LSTM)."""
        padded, lengths = pad_packed_sequence(PackedSequence(packed.data, packed.batch_sizes))  # sorted order
        if padded.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {padded.dim()}")
        batch = padded.size(1)
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            hx = (self._zeros(padded, real_hidden_size, batch), self._zeros(padded, self.hidden_size, batch))
        elif not cx_needed:
            hx = (hx, None)
        if packed.sorted_indices is not None:  # the states given follow the caller's batch order
            hx = tuple(None if h is None else h.index_select(1, packed.sorted_indices) for h in hx)
        self.check_input(padded)
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch)
        self.check_hidden_size(hx[0], (*expected, real_hidden_size))
        if cx_needed:
            self.check_hidden_size(hx[1], (*expected, self.hidden_size), "Expected hidden[1] size {}, got {}")
        output, h_n, c_n = self._run(padded, hx[0], hx[1] if cx_needed else None, lengths)
        sizes = packed.batch_sizes.tolist()
        data = cat([output[t, :size] for t, size in enumerate(sizes)], 0)
        if packed.unsorted_indices is not None:
            h_n = h_n.index_select(1, packed.unsorted_indices)
            c_n = None if c_n is None else c_n.index_select(1, packed.unsorted_indices)
        return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), h_n, c_n

    def _prepare(self, name: str, input, hx):
        """torch's input handling for RNN and GRU: (batched input, hx, is_batched)."""
        _check_tensor(name, input)
        if input.dim() not in (2, 3):
            # (sic: torch's RNN says "tensor instead", its GRU and LSTM "instead")
            tensor = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tensor} instead")
        is_batched = input.dim() == 3
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                if hx.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        elif hx is not None and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if hx is None:
            hx = self._zeros(input, self.hidden_size)
        self.check_forward_args(input, hx)
        return input, hx, is_batched

    def _finish(self, output: Tensor, hidden: Tensor, is_batched: bool):
        if not is_batched:
            return output.squeeze(0 if self.batch_first else 1), hidden.squeeze(1)
        return output, hidden


def _check_sizes(input_size, hidden_size, bias, batch_first=False) -> None:
    if not isinstance(bias, bool):
        raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
    if not isinstance(batch_first, bool):
        raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


def _no_proj_size(kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Elman RNN: h_t = nonlinearity(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), nonlinearity "tanh" or "relu".

    forward(input, h_0=None) -> (output, h_n): output (L, N, D * H) ((N, L, D * H) with batch_first),
    h_n (num_layers * D, N, H), D = 2 if bidirectional else 1; unbatched (L, H_in) input drops N.

    Example::

        >>> rnn = nn.RNN(3, 4, num_layers=2)
        >>> output, h_n = rnn(tritongrad.randn(5, 2, 3))
        >>> output.shape, h_n.shape
        (torch.Size([5, 2, 4]), torch.Size([2, 2, 4]))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh", bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
        **kwargs,
    ) -> None:  # fmt: skip
        _no_proj_size(kwargs)
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            output, hidden, _ = self._run_packed(input, hx, False)
            return output, hidden
        input, hx, is_batched = self._prepare("RNN", input, hx)
        output, hidden, _ = self._run(input, hx, None)
        return self._finish(output, hidden, is_batched)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), gates r, z, n as torch's:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h.

    forward(input, h_0=None) -> (output, h_n), shaped as RNN's.

    Example::

        >>> gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)
        >>> output, h_n = gru(tritongrad.randn(2, 5, 3))
        >>> output.shape, h_n.shape
        (torch.Size([2, 5, 8]), torch.Size([2, 2, 4]))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
        dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None, **kwargs,
    ) -> None:  # fmt: skip
        _no_proj_size(kwargs)
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            output, hidden, _ = self._run_packed(input, hx, False)
            return output, hidden
        input, hx, is_batched = self._prepare("GRU", input, hx)
        output, hidden, _ = self._run(input, hx, None)
        return self._finish(output, hidden, is_batched)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o as torch's:
    c' = f * c + i * g, h' = o * tanh(c'), then h' = h' @ weight_hr.T when ``proj_size`` > 0.

    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)): h_n (num_layers * D, N, proj_size or H),
    c_n (num_layers * D, N, H).

    Example::

        >>> lstm = nn.LSTM(3, 4, num_layers=2)
        >>> output, (h_n, c_n) = lstm(tritongrad.randn(5, 2, 3))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([5, 2, 4]), torch.Size([2, 2, 4]), torch.Size([2, 2, 4]))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
        dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size, device,
            dtype,
        )  # fmt: skip

    def get_expected_cell_size(self, input: Tensor) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden) -> None:  # type: ignore[override]
        self.check_input(input)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input), "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input), "Expected hidden[1] size {}, got {}")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            output, h_n, c_n = self._run_packed(input, hx, True)
            return output, (h_n, c_n)
        _check_tensor("LSTM", input)
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is None:
            real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = (self._zeros(input, real_hidden_size), self._zeros(input, self.hidden_size))
        else:
            rank = 3 if is_batched else 2
            if hx[0].dim() != rank or hx[1].dim() != rank:
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {rank}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
            if not is_batched:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx)
        output, h_n, c_n = self._run(input, hx[0], hx[1])
        if not is_batched:
            return output.squeeze(batch_dim), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)


# ------------------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """weight_ih (chunks * H, H_in), weight_hh (chunks * H, H), bias_ih and bias_hh (chunks * H), as torch's."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None
    ) -> None:  # fmt: skip
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, **factory))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batch(self, name: str, input, hidden: tuple, hidden_word: str):
        """torch's cell checks; returns (input, [states]) batched, and whether the input was."""
        _check_tensor(name, input)
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for i, value in enumerate(hidden):
            if value is not None and value.dim() not in (1, 2):
                word = hidden_word if len(hidden) == 1 else f"hx[{i}]"
                raise ValueError(f"{name}: Expected {word} to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hidden[0] is None:
            zeros = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hidden = tuple(zeros for _ in hidden)
        elif not is_batched:
            hidden = tuple(value.unsqueeze(0) for value in hidden)
        if input.size(1) != self.weight_ih.size(1):
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.size(1)} expected {self.weight_ih.size(1)}"
            )
        for i, value in enumerate(hidden):
            if input.size(0) != value.size(0):
                raise RuntimeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {value.size(0)}"
                )
            if value.size(1) != self.hidden_size:
                raise RuntimeError(
                    f"hidden{i} has inconsistent hidden_size: got {value.size(1)}, expected {self.hidden_size}"
                )
        return input, hidden, is_batched


class RNNCell(RNNCellBase):
    """One Elman step: h' = nonlinearity(x W_ih^T + b_ih + h W_hh^T + b_hh); (N, H_in) or (H_in,) input.

    Example::

        >>> cell = nn.RNNCell(3, 4)
        >>> cell(tritongrad.randn(2, 3)).shape
        torch.Size([2, 4])
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None,
        dtype=None,
    ) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._batch("RNNCell", input, (hx,), "hidden")
        if self.nonlinearity == "tanh":
            activation = F.tanh
        elif self.nonlinearity == "relu":
            activation = F.relu
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        h = _rnn_step(activation, gi, hx, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from input (N, H_in) or (H_in,) and (h, c) (zeros by default).

    Example::

        >>> cell = nn.LSTMCell(3, 4)
        >>> h, c = cell(tritongrad.randn(2, 3))
        >>> h.shape, c.shape
        (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and isinstance(input, Tensor) and input.dim() in (1, 2):
            if input.dim() == 1:  # (torch unsqueezes the first two of an unbatched input's hx)
                hx = (hx[0], hx[1])
            elif isinstance(hx, Tensor):  # (torch's lstm_cell takes the states as a sequence)
                raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor")
            elif len(hx) != 2:
                raise RuntimeError("lstm_cell expects two hidden states")
        hidden = (None, None) if hx is None else tuple(hx)
        input, (h, c), is_batched = self._batch("LSTMCell", input, hidden, "hx")
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        h, c = _lstm_step(gi, h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' from input (N, H_in) or (H_in,) and h (zeros by default), gates as nn.GRU's.

    Example::

        >>> cell = nn.GRUCell(3, 4)
        >>> cell(tritongrad.randn(3)).shape
        torch.Size([4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._batch("GRUCell", input, (hx,), "hidden")
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        h = _gru_step(gi, hx, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)


# torch's fused recurrent layers (cuDNN's on CUDA, oneDNN's LSTM and tanh/ReLU RNN on the CPU) run in
# autocast's dtype; a CPU GRU runs its cells' ops, each by its own policy.
_RUN_BY_MODE = {
    mode: autocast_op(name)(RNNBase._recurrence)
    for mode, name in (("LSTM", "lstm"), ("GRU", "gru"), ("RNN_TANH", "rnn_tanh"), ("RNN_RELU", "rnn_relu"))
}
