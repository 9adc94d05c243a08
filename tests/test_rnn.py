"""nn.RNN, nn.LSTM, nn.GRU and their cells against torch's.

Each test builds the torch module, loads its state dict into tritongrad's (so parameter names,
shapes and order must be torch's), runs both on the same fresh random input and initial states and
compares the outputs, the final states and, after backward of a randomly weighted sum of every
output, the gradients of the input, the initial states and every parameter. Sizes stay tiny: the
kernels run in Triton's CPU interpreter, one step at a time.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tests.utils import assert_close, from_torch

INPUT, HIDDEN, BATCH = 3, 4, 2
LAYERS = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")


def pair(name: str, *args, **kwargs):
    """(torch module, tritongrad module with torch's weights)."""
    reference = getattr(torch.nn, name)(*args, **kwargs)
    mine = getattr(nn, name)(*args, **kwargs)
    state = {key: from_torch(value) for key, value in reference.state_dict().items()}
    assert list(mine.state_dict()) == list(state), "parameter names and order as torch's"
    mine.load_state_dict(state)
    return reference, mine


def leaves(*tensors, dtype=torch.float32):
    """Each tensor (or None) as a torch leaf and a tritongrad leaf over a copy, both requiring grad."""
    theirs, mine = [], []
    for tensor in tensors:
        if tensor is None:
            theirs.append(None)
            mine.append(None)
            continue
        tensor = tensor.to(dtype).requires_grad_(True)
        theirs.append(tensor)
        mine.append(from_torch(tensor, requires_grad=True))
    return theirs, mine


def run_both(reference, mine, inputs: tuple, dtype, what: str) -> None:
    """Both modules on (x, h, c) as leaves of ``dtype`` (no state when h is None, (h, c) for an
    LSTM, where c is given, else h), then ``compare`` on the results and gradients."""
    (x, h, c), (tx, th, tc) = leaves(*inputs, dtype=dtype)
    if h is None:
        their_result, my_result = reference(x), mine(tx)
    elif c is not None:
        their_result, my_result = reference(x, (h, c)), mine(tx, (th, tc))
    else:
        their_result, my_result = reference(x, h), mine(tx, th)
    compare(reference, mine, their_result, my_result, (x, h, c), (tx, th, tc), what)


def flat(result) -> list:
    """The tensors of (output, h_n), (output, (h_n, c_n)), h' or (h', c'), in order."""
    if isinstance(result, tuple):
        return [t for part in result for t in flat(part)]
    return [result]


def structure(result):
    """(output, (h, c)) -> ("tuple", ["tensor", ("tuple", ...)]): the nesting, with tensors as leaves."""
    if isinstance(result, tuple):
        return ("tuple", [structure(part) for part in result])
    assert isinstance(result, (torch.Tensor, tritongrad.Tensor)), type(result)
    return "tensor"


def compare(reference, mine, their_result, my_result, their_inputs, my_inputs, what: str) -> None:
    """Forward results, then the gradients of inputs, states and parameters of sum(w_i * result_i)."""
    their_flat, my_flat = flat(their_result), flat(my_result)
    assert structure(my_result) == structure(their_result), f"{what}: result structure"
    dtype = their_flat[0].dtype
    for i, (got, want) in enumerate(zip(my_flat, their_flat)):
        assert_close(got, want, kind="autograd", what=f"{what}: result {i}")
    weights = [torch.randn(t.shape, dtype=dtype) for t in their_flat]
    sum(((t * w).sum() for t, w in zip(their_flat, weights))).backward()
    total = None
    for t, w in zip(my_flat, weights):
        term = (t * from_torch(w)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, (got, want) in enumerate(zip(my_inputs, their_inputs)):
        if want is not None:
            assert got.grad is not None, f"{what}: no gradient for input {i}"
            assert_close(got.grad, want.grad, kind="autograd", what=f"{what}: grad of input {i}")
    mine_params = dict(mine.named_parameters())
    for name, parameter in reference.named_parameters():
        assert mine_params[name].grad is not None, f"{what}: no gradient for {name}"
        assert_close(mine_params[name].grad, parameter.grad, kind="autograd", what=f"{what}: grad of {name}")


def run_layer(name, *, num_layers=1, bidirectional=False, batch_first=False, bias=True, given_state=True,
              seq_len=5, batched=True, dtype=torch.float32, proj_size=0, **kwargs):  # fmt: skip
    options = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias, **kwargs)
    if proj_size:
        options["proj_size"] = proj_size
    reference, mine = pair(name, INPUT, HIDDEN, dtype=dtype, **options)
    directions = 2 if bidirectional else 1
    shape = (BATCH, seq_len, INPUT) if batch_first else (seq_len, BATCH, INPUT)
    state_shape = (num_layers * directions, BATCH)
    if not batched:
        shape = (seq_len, INPUT)
        state_shape = state_shape[:1]
    x = torch.randn(shape)
    h0 = torch.randn(*state_shape, proj_size or HIDDEN) if given_state else None
    c0 = torch.randn(*state_shape, HIDDEN) if given_state and name == "LSTM" else None
    what = f"{name} {options} seq_len={seq_len} batched={batched} given_state={given_state} {dtype}"
    run_both(reference, mine, (x, h0, c0), dtype, what)


# ------------------------------------------------------------------------------ layers
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["1layer", "2layers"])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_structure(name, num_layers, bidirectional):
    # batch_first takes both values for each class and each of num_layers and bidirectional (a Latin
    # square rather than the full product, which the interpreter makes slow).
    batch_first = bidirectional != (num_layers == 2)
    run_layer(name, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, seq_len=3)


# Each value of bias and of the initial state meets both sequence lengths (a Latin square).
OPTIONS = [(True, True, 5), (False, False, 5), (True, False, 1), (False, True, 1)]


@pytest.mark.parametrize("bias,given_state,seq_len", OPTIONS, ids=[f"bias={b}-h0={h}-len{n}" for b, h, n in OPTIONS])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_options(name, bias, given_state, seq_len):
    # One step runs both directions (the reverse one with its own initial state); five steps run
    # one (test_layer_structure stacks layers and directions over three).
    run_layer(name, bidirectional=seq_len == 1, bias=bias, given_state=given_state, seq_len=seq_len)


@pytest.mark.parametrize("given_state", [True, False], ids=["h0", "zeros"])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_unbatched(name, given_state):
    # Given (2-D) states with a bidirectional seq-first layer, zeros with a batch_first one.
    run_layer(name, bidirectional=given_state, batched=False, given_state=given_state, batch_first=not given_state,
              seq_len=3)  # fmt: skip


def test_rnn_relu():
    run_layer("RNN", num_layers=2, bidirectional=True, nonlinearity="relu", seq_len=3)
    run_layer("RNN", nonlinearity="relu", batched=False, bias=False)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_float64(name):
    run_layer(name, bidirectional=True, batch_first=True, dtype=torch.float64, seq_len=3)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_lstm_proj_size(bidirectional, batched):
    run_layer("LSTM", num_layers=2, bidirectional=bidirectional, proj_size=2, batched=batched, seq_len=2)


def test_lstm_proj_size_default_state():
    run_layer("LSTM", num_layers=2, proj_size=3, given_state=False, batch_first=True, seq_len=2)


@pytest.mark.parametrize("name", LAYERS)
def test_dropout_eval_matches_torch(name):
    reference, mine = pair(name, INPUT, HIDDEN, num_layers=2, dropout=0.5)
    reference.eval()
    mine.eval()
    x = torch.randn(3, BATCH, INPUT)
    (x,), (tx,) = leaves(x)
    compare(reference, mine, reference(x), mine(tx), (x,), (tx,), f"{name} dropout eval")


@pytest.mark.parametrize("name", LAYERS)
def test_dropout_training_shapes(name):
    module = getattr(nn, name)(INPUT, HIDDEN, num_layers=2, dropout=0.5, batch_first=True, bidirectional=True)
    assert module.training
    x = from_torch(torch.randn(BATCH, 1, INPUT), requires_grad=True)
    output, hidden = module(x)
    assert tuple(output.shape) == (BATCH, 1, 2 * HIDDEN)
    for state in hidden if name == "LSTM" else (hidden,):
        assert tuple(state.shape) == (4, BATCH, HIDDEN)
    output.sum().backward()
    assert tuple(x.grad.shape) == (BATCH, 1, INPUT)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        getattr(nn, name)(INPUT, HIDDEN, dropout=0.3)


@pytest.mark.parametrize("name", LAYERS)
def test_inference_under_no_grad(name):
    reference, mine = pair(name, INPUT, HIDDEN, bidirectional=True)
    x = torch.randn(3, BATCH, INPUT)
    with tritongrad.no_grad():
        got = flat(mine(from_torch(x)))
    for g, want in zip(got, flat(reference(x))):
        assert g.grad_fn is None
        assert_close(g, want, kind="autograd", what=f"{name} under no_grad")


# ------------------------------------------------------------------------------ cells
CELL_CASES = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


def run_cell(name, kwargs, *, bias=True, given_state=True, batched=True, dtype=torch.float32):
    reference, mine = pair(name, INPUT, HIDDEN, bias=bias, dtype=dtype, **kwargs)
    lead = (BATCH,) if batched else ()
    x = torch.randn(*lead, INPUT)
    h = torch.randn(*lead, HIDDEN) if given_state else None
    c = torch.randn(*lead, HIDDEN) if given_state and name == "LSTMCell" else None
    what = f"{name} {kwargs} bias={bias} given_state={given_state} batched={batched} {dtype}"
    run_both(reference, mine, (x, h, c), dtype, what)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("given_state", [True, False], ids=["h0", "zeros"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", range(len(CELL_CASES)), ids=[f"{n}{k.get('nonlinearity', '')}" for n, k in CELL_CASES])
def test_cell(case, bias, given_state, batched):
    name, kwargs = CELL_CASES[case]
    run_cell(name, kwargs, bias=bias, given_state=given_state, batched=batched)


@pytest.mark.parametrize("name", CELLS)
def test_cell_float64(name):
    run_cell(name, {}, dtype=torch.float64)


@pytest.mark.parametrize("name", CELLS)
def test_cell_unrolled_equals_layer(name):
    """A cell stepped by hand over a sequence gives the layer's output with the same weights."""
    layer_name = name.removesuffix("Cell")
    layer = getattr(nn, layer_name)(INPUT, HIDDEN)
    cell = getattr(nn, name)(INPUT, HIDDEN)
    cell.load_state_dict({key.removesuffix("_l0"): value for key, value in layer.state_dict().items()})
    x = from_torch(torch.randn(4, BATCH, INPUT))
    output, _ = layer(x)
    state = None
    for t in range(4):
        state = cell(x[t], state)
        h = state[0] if name == "LSTMCell" else state
        assert_close(h, to_torch_view(output[t]), kind="autograd", what=f"{name} step {t}")


def to_torch_view(tensor):
    return tensor._data.detach().cpu()


# ------------------------------------------------------------------------------ API: names, init, repr
LAYER_CONFIGS = [
    ("RNN", {}),
    ("RNN", {"num_layers": 2, "nonlinearity": "relu", "bias": False, "batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "dropout": 0.25}),
    ("LSTM", {"num_layers": 3, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "proj_size": 2, "bias": False, "bidirectional": True}),
    ("RNNCell", {"bias": False, "nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("case", range(len(LAYER_CONFIGS)), ids=[n for n, _ in LAYER_CONFIGS])
def test_parameters_init_and_repr_as_torch(case):
    name, kwargs = LAYER_CONFIGS[case]
    reference = getattr(torch.nn, name)(INPUT, HIDDEN, **kwargs)
    mine = getattr(nn, name)(INPUT, HIDDEN, **kwargs)
    theirs = [(n, tuple(p.shape)) for n, p in reference.named_parameters()]
    assert [(n, tuple(p.shape)) for n, p in mine.named_parameters()] == theirs
    assert repr(mine) == repr(reference)
    bound = 1 / math.sqrt(HIDDEN)
    for n, parameter in mine.named_parameters():
        values = to_torch_view(parameter)
        assert values.abs().max() <= bound, n
        assert values.std() > bound / 4, f"{n} looks uninitialised"
    if hasattr(reference, "all_weights"):
        assert [[tuple(p.shape) for p in ws] for ws in mine.all_weights] == [
            [tuple(p.shape) for p in ws] for ws in reference.all_weights
        ]
        assert mine.flatten_parameters() is None


def test_dtype_kwarg_and_module_double():
    module = nn.GRU(INPUT, HIDDEN, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    cell = nn.LSTMCell(INPUT, HIDDEN).double()
    assert all(p.dtype == torch.float64 for p in cell.parameters())
    h, c = cell(from_torch(torch.randn(BATCH, INPUT, dtype=torch.float64)))
    assert h.dtype == torch.float64 and tuple(c.shape) == (BATCH, HIDDEN)


def test_attributes_as_torch():
    for reference, mine in (
        (torch.nn.RNN(3, 4, nonlinearity="relu"), nn.RNN(3, 4, nonlinearity="relu")),
        (torch.nn.LSTM(3, 4, 2, dropout=1), nn.LSTM(3, 4, 2, dropout=1)),
        (torch.nn.GRU(3, 4, batch_first=True), nn.GRU(3, 4, batch_first=True)),
    ):
        for attribute in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                          "bidirectional", "proj_size", "_flat_weights_names", "_all_weights"):  # fmt: skip
            assert getattr(mine, attribute) == getattr(reference, attribute), attribute
    assert nn.RNN(3, 4, 1, "relu").nonlinearity == "relu"


# ------------------------------------------------------------------------------ errors
def raises_like(their_call, my_call, match_message: bool = True):
    """Both calls raise, the same exception type (and message)."""
    with pytest.raises(Exception) as theirs:
        their_call()
    with pytest.raises(Exception) as mine:
        my_call()
    assert type(mine.value) is type(theirs.value), f"{type(mine.value)} {mine.value} vs {type(theirs.value)}"
    if match_message:
        assert str(mine.value) == str(theirs.value)


CONSTRUCTION_ERRORS = {
    "nonlinearity": ("RNN", (3, 4), {"nonlinearity": "sigmoid"}),
    "dropout range": ("GRU", (3, 4), {"dropout": 1.5}),
    "dropout bool": ("LSTM", (3, 4), {"dropout": True}),
    "hidden zero": ("LSTM", (3, 0), {}),
    "input zero": ("RNN", (0, 4), {}),
    "layers zero": ("GRU", (3, 4), {"num_layers": 0}),
    "hidden float": ("GRU", (3, 4.0), {}),
    "bias type": ("RNN", (3, 4), {"bias": 1}),
    "batch_first type": ("LSTM", (3, 4), {"batch_first": None}),
    "proj_size on GRU": ("GRU", (3, 4), {"proj_size": 2}),
    "proj_size on RNN": ("RNN", (3, 4), {"proj_size": 2}),
    "proj_size too big": ("LSTM", (3, 4), {"proj_size": 4}),
    "proj_size negative": ("LSTM", (3, 4), {"proj_size": -1}),
}


@pytest.mark.parametrize("case", list(CONSTRUCTION_ERRORS))
def test_construction_errors(case):
    name, args, kwargs = CONSTRUCTION_ERRORS[case]
    raises_like(lambda: getattr(torch.nn, name)(*args, **kwargs), lambda: getattr(nn, name)(*args, **kwargs))


def _randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


FORWARD_ERRORS = {
    "4-D input": ("GRU", {}, lambda: (_randn(5, 2, 3, 1),)),
    "4-D input RNN": ("RNN", {}, lambda: (_randn(5, 2, 3, 1),)),
    "4-D input LSTM": ("LSTM", {}, lambda: (_randn(5, 2, 3, 1),)),
    "input size": ("RNN", {}, lambda: (_randn(5, 2, 2),)),
    "input size unbatched": ("LSTM", {"batch_first": True}, lambda: (_randn(5, 4),)),
    "dtype": ("GRU", {}, lambda: (_randn(5, 2, 3, dtype=torch.float64),)),
    "hidden shape": ("GRU", {"num_layers": 2}, lambda: (_randn(5, 2, 3), _randn(1, 2, 4))),
    "hidden batch": ("RNN", {"batch_first": True}, lambda: (_randn(2, 5, 3), _randn(1, 5, 4))),
    "hidden 2-D for batched": ("RNN", {}, lambda: (_randn(5, 2, 3), _randn(2, 4))),
    "hidden 3-D for unbatched": ("GRU", {}, lambda: (_randn(5, 3), _randn(1, 1, 4))),
    "lstm cell state shape": ("LSTM", {"num_layers": 2}, lambda: (_randn(5, 2, 3), (_randn(2, 2, 4), _randn(1, 2, 4)))),
    "lstm h shape": ("LSTM", {"bidirectional": True}, lambda: (_randn(5, 2, 3), (_randn(1, 2, 4), _randn(2, 2, 4)))),
    "lstm proj h shape": ("LSTM", {"proj_size": 2}, lambda: (_randn(5, 2, 3), (_randn(1, 2, 4), _randn(1, 2, 4)))),
    "lstm state dims": ("LSTM", {}, lambda: (_randn(5, 2, 3), (_randn(2, 4), _randn(2, 4)))),
    "lstm unbatched state dims": ("LSTM", {}, lambda: (_randn(5, 3), (_randn(1, 1, 4), _randn(1, 4)))),
    "empty sequence": ("LSTM", {}, lambda: (_randn(0, 2, 3),)),
    "empty sequence batch_first": ("GRU", {"batch_first": True}, lambda: (_randn(2, 0, 3),)),
    "cell 3-D input": ("RNNCell", {}, lambda: (_randn(1, 2, 3),)),
    "cell 3-D hidden": ("GRUCell", {}, lambda: (_randn(2, 3), _randn(1, 2, 4))),
    "lstm cell 3-D hx[1]": ("LSTMCell", {}, lambda: (_randn(2, 3), (_randn(2, 4), _randn(1, 2, 4)))),
    "cell input size": ("RNNCell", {}, lambda: (_randn(2, 5),)),
    "cell batch": ("GRUCell", {}, lambda: (_randn(2, 3), _randn(3, 4))),
    "cell hidden size": ("RNNCell", {}, lambda: (_randn(2, 3), _randn(2, 5))),
    "cell unbatched hidden size": ("GRUCell", {}, lambda: (_randn(3), _randn(2, 4))),
    "lstm cell c size": ("LSTMCell", {}, lambda: (_randn(2, 3), (_randn(2, 4), _randn(2, 5)))),
    "lstm cell c batch": ("LSTMCell", {}, lambda: (_randn(2, 3), (_randn(2, 4), _randn(3, 4)))),
    "cell dtype": ("GRUCell", {}, lambda: (_randn(2, 3, dtype=torch.float64),)),
    "cell nonlinearity": ("RNNCell", {"nonlinearity": "gelu"}, lambda: (_randn(2, 3),)),
}


def _to_tg(value):
    if isinstance(value, tuple):
        return tuple(_to_tg(v) for v in value)
    return from_torch(value)


@pytest.mark.parametrize("case", list(FORWARD_ERRORS))
def test_forward_errors(case):
    name, kwargs, make_args = FORWARD_ERRORS[case]
    args = make_args()
    reference, mine = pair(name, INPUT, HIDDEN, **kwargs)
    raises_like(lambda: reference(*args), lambda: mine(*_to_tg(args)))


def test_a_non_tensor_input_is_refused():
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.GRU(INPUT, HIDDEN)([[1.0, 2.0, 3.0]])


PACKED_CASES = {
    "LSTM, 2 layers, bidirectional, unsorted, batch_first": ("LSTM", {"num_layers": 2, "bidirectional": True,
                                                                      "batch_first": True}, False, True),
    "GRU, sorted, with h_0": ("GRU", {}, True, True),
    "RNN, bidirectional, unsorted, with h_0": ("RNN", {"bidirectional": True}, False, True),
    "LSTM, unsorted, no state": ("LSTM", {}, False, False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PACKED_CASES))
def test_packed_sequences_match_torch(case):
    """A packed batch of sequences of lengths 5, 2, 4 (each state frozen past its length, reverse
    directions starting at each sequence's end): packed output, h_n (c_n), and every gradient."""
    name, options, enforce_sorted, with_state = PACKED_CASES[case]
    reference, mine = pair(name, INPUT, HIDDEN, **options)
    lengths = [5, 4, 2] if enforce_sorted else [5, 2, 4]
    batch_first = options.get("batch_first", False)
    x = torch.randn((3, 5, INPUT) if batch_first else (5, 3, INPUT))
    directions, layers = (2 if options.get("bidirectional") else 1), options.get("num_layers", 1)
    h = torch.randn(directions * layers, 3, HIDDEN) if with_state else None
    (tx, th), (mx, mh) = leaves(x, h)
    utils, my_utils = torch.nn.utils.rnn, nn.utils.rnn
    packed = utils.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    my_packed = my_utils.pack_padded_sequence(mx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert_close(my_packed.data, packed.data, rtol=0, atol=0, what=f"{case}: packed data")
    assert my_packed.batch_sizes.tolist() == packed.batch_sizes.tolist()
    state = None if h is None else ((th, th * 0.5) if name == "LSTM" else th)
    my_state = None if h is None else ((mh, mh * 0.5) if name == "LSTM" else mh)
    out, hidden = reference(packed, state) if state is not None else reference(packed)
    my_out, my_hidden = mine(my_packed, my_state) if my_state is not None else mine(my_packed)
    assert isinstance(my_out, my_utils.PackedSequence)
    padded, their_lengths = utils.pad_packed_sequence(out, batch_first=batch_first)
    my_padded, my_lengths = my_utils.pad_packed_sequence(my_out, batch_first=batch_first)
    assert my_lengths.tolist() == their_lengths.tolist() == lengths
    assert_close(my_padded, padded, rtol=1e-5, atol=1e-6, what=f"{case}: output")
    hiddens = hidden if name == "LSTM" else (hidden,)
    my_hiddens = my_hidden if name == "LSTM" else (my_hidden,)
    for their_state, my_final in zip(hiddens, my_hiddens):
        assert_close(my_final, their_state, rtol=1e-5, atol=1e-6, what=f"{case}: final state")
    weights = torch.randn(padded.shape)
    (padded * weights).sum().backward()
    (my_padded * from_torch(weights)).sum().backward()
    assert_close(mx.grad, tx.grad, rtol=1e-5, atol=1e-6, what=f"{case}: input gradient")
    if h is not None:
        assert_close(mh.grad, th.grad, rtol=1e-5, atol=1e-6, what=f"{case}: h_0 gradient")
    mine_parameters = dict(mine.named_parameters())
    for parameter_name, parameter in reference.named_parameters():
        assert_close(mine_parameters[parameter_name].grad, parameter.grad, rtol=1e-5, atol=1e-6,
                     what=f"{case}: gradient of {parameter_name}")  # fmt: skip


def test_pad_sequence_and_packing_helpers_match_torch():
    sequences = [torch.randn(length, 2) for length in (3, 1, 4)]
    mine = [from_torch(sequence) for sequence in sequences]
    utils, my_utils = torch.nn.utils.rnn, nn.utils.rnn
    for options in ({}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}):
        assert_close(my_utils.pad_sequence(mine, **options), utils.pad_sequence(sequences, **options), rtol=0, atol=0)
    packed, my_packed = utils.pack_sequence(sequences, enforce_sorted=False), my_utils.pack_sequence(mine, False)
    assert_close(my_packed.data, packed.data, rtol=0, atol=0)
    assert my_packed.sorted_indices.tolist() == packed.sorted_indices.tolist()
    for mine_piece, their_piece in zip(my_utils.unpack_sequence(my_packed), utils.unpack_sequence(packed)):
        assert_close(mine_piece, their_piece, rtol=0, atol=0)
    padded, lengths = utils.pad_packed_sequence(packed, total_length=6)
    my_padded, my_lengths = my_utils.pad_packed_sequence(my_packed, total_length=6)
    assert_close(my_padded, padded, rtol=0, atol=0)
    assert my_lengths.tolist() == lengths.tolist()
    for bad in (
        lambda u, s: u.pack_sequence(s),  # not sorted
        lambda u, s: u.pack_padded_sequence(u.pad_sequence(s), [3, 0, 4], enforce_sorted=False),
        lambda u, s: u.pad_packed_sequence(u.pack_sequence(s, enforce_sorted=False), total_length=2),
    ):
        with pytest.raises(Exception) as expected:
            bad(utils, sequences)
        with pytest.raises(type(expected.value)):
            bad(my_utils, mine)


# ------------------------------------------------------------------------------ a tutorial
def char_model(lib, cell: str):
    """A char-level language model written once for torch and for tritongrad (``import ... as torch``)."""

    class CharModel(lib.nn.Module):
        def __init__(self, vocab: int, embed: int, hidden: int) -> None:
            super().__init__()
            self.embed = lib.nn.Embedding(vocab, embed)
            self.rnn = getattr(lib.nn, cell)(embed, hidden, batch_first=True)
            self.head = lib.nn.Linear(hidden, vocab)

        def forward(self, tokens):
            output, _ = self.rnn(self.embed(tokens))
            return self.head(output)

    return CharModel


@pytest.mark.parametrize("cell", ["GRU"])
def test_char_model_trains_like_torch(cell):
    text = "hello tritongrad"
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(ch) for ch in text])
    tokens = torch.stack([ids[0:5], ids[7:12]])  # (2, 5)
    targets = torch.stack([ids[1:6], ids[8:13]])
    reference = char_model(torch, cell)(len(vocab), 4, HIDDEN)
    mine = char_model(tritongrad, cell)(len(vocab), 4, HIDDEN)
    mine.load_state_dict({key: from_torch(value) for key, value in reference.state_dict().items()})
    runs = []
    for lib, model, batch in ((torch, reference, (tokens, targets)), (tritongrad, mine, _to_tg((tokens, targets)))):
        optimizer = lib.optim.Adam(model.parameters(), lr=0.05)
        losses = []
        for _ in range(3):
            logits = model(batch[0])
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), batch[1].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        runs.append(losses)
    assert runs[0][-1] < runs[0][0], f"torch's loss must drop: {runs[0]}"
    assert_close(torch.tensor(runs[1]), torch.tensor(runs[0]), kind="autograd", what="loss curve")
