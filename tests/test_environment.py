"""torch's surface that scripts touch without computing: backends flags, tritongrad.cuda, AMP entry
points, compile/jit guards, constants, legacy typed constructors, testing.assert_close, and
nn.utils' clipping — each as torch answers it."""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, random_values


def test_backend_flags_are_accepted_and_read_back():
    for lib in (torch, tritongrad):
        lib.backends.cudnn.benchmark = True
        lib.backends.cudnn.deterministic = True
        assert lib.backends.cudnn.benchmark is True and lib.backends.cudnn.deterministic is True
        lib.backends.cudnn.benchmark = False
        lib.backends.cudnn.deterministic = False
        assert lib.backends.mps.is_available() is False
    previous = tritongrad.get_float32_matmul_precision()
    try:
        tritongrad.set_float32_matmul_precision("high")
        assert tritongrad.backends.cuda.matmul.allow_tf32 is True
        tritongrad.set_float32_matmul_precision("highest")
        assert tritongrad.backends.cuda.matmul.allow_tf32 is False
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            tritongrad.set_float32_matmul_precision("fast")  # (torch warns and keeps the setting)
        assert tritongrad.get_float32_matmul_precision() == "highest"
        tritongrad.backends.cudnn.allow_tf32 = False
        assert tritongrad.backends.cudnn.allow_tf32 is False and tritongrad.backends.cudnn.conv.fp32_precision == "none"
        tritongrad.backends.cudnn.allow_tf32 = True
        assert tritongrad.backends.cudnn.allow_tf32 is True
        tritongrad.backends.cuda.matmul.fp32_precision = "tf32"
        assert tritongrad.backends.cuda.matmul.allow_tf32 is True
        tritongrad.backends.cuda.matmul.allow_tf32 = False
        assert tritongrad.backends.cuda.matmul.fp32_precision == "ieee"
    finally:
        tritongrad.set_float32_matmul_precision(previous)


def test_cuda_queries_answer_like_torch_without_a_gpu():
    if tritongrad.cuda.is_available():
        pytest.skip(reason="this checks the answers without a GPU")
    assert tritongrad.cuda.device_count() == 0 and tritongrad.cuda.memory_allocated() == 0
    tritongrad.cuda.empty_cache()
    tritongrad.cuda.manual_seed_all(0)
    assert tritongrad.cuda.is_bf16_supported() is False
    device = tritongrad.device("cuda" if tritongrad.cuda.is_available() else "cpu")
    assert tritongrad.ones(2, device=device).device.type == "cpu"


def test_disabled_amp_is_a_pass_through():
    x = tritongrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    optimizer = tritongrad.optim.SGD([x], lr=0.1)
    scaler = tritongrad.amp.GradScaler("cuda", enabled=False)
    legacy = tritongrad.cuda.amp.GradScaler(enabled=False)
    with tritongrad.autocast(device_type="cuda", dtype=tritongrad.float16, enabled=False):
        loss = (x * x).sum()
    with tritongrad.cuda.amp.autocast(enabled=False):
        assert (x * 2).dtype == tritongrad.float32
    assert scaler.scale(loss) is loss and legacy.get_scale() == 1.0
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    assert x.tolist() == pytest.approx([0.8, -1.6, 2.4])
    assert scaler.state_dict() == {} and not scaler.is_enabled()


def test_cuda_amp_without_a_gpu_warns_and_disables_itself():
    if tritongrad.cuda.is_available():
        pytest.skip(reason="without a GPU GradScaler disables itself")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = tritongrad.amp.GradScaler()
    assert not scaler.is_enabled()
    with pytest.warns(UserWarning, match="CUDA is not available"), tritongrad.autocast("cuda"):
        assert (tritongrad.ones(2, 2) @ tritongrad.ones(2, 2)).dtype == tritongrad.float32


def test_compile_and_jit_return_what_they_are_given():
    model = tritongrad.nn.Linear(3, 2)
    assert tritongrad.compile(model, disable=True) is model
    assert tritongrad.compile(len) is len
    assert tritongrad.compile(mode="reduce-overhead")(len) is len
    assert tritongrad.jit.script(model) is model and tritongrad.jit.trace(model, tritongrad.ones(1, 3)) is model


def test_constants_limits_and_threads_are_torchs():
    assert (tritongrad.pi, tritongrad.e, tritongrad.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(tritongrad.nan)
    assert tritongrad.finfo(tritongrad.float16).eps == torch.finfo(torch.float16).eps
    assert tritongrad.iinfo(tritongrad.int32).max == 2**31 - 1
    assert tritongrad.get_num_threads() == torch.get_num_threads()
    tritongrad.use_deterministic_algorithms(True)
    assert tritongrad.are_deterministic_algorithms_enabled()
    tritongrad.use_deterministic_algorithms(False)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"])
def test_legacy_typed_constructors(name):
    ours, theirs = getattr(tritongrad, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
    assert ours.dtype == theirs.dtype and ours.tolist() == theirs.tolist()
    assert isinstance(ours, getattr(tritongrad, name)) and isinstance(ours, tritongrad.Tensor)
    assert not isinstance(ours, tritongrad.HalfTensor)
    assert getattr(tritongrad, name)(2, 3).shape == (2, 3)


def test_testing_assert_close_passes_and_fails_like_torch():
    a = tritongrad.tensor([1.0, 2.0, 3.0])
    tritongrad.testing.assert_close(a, tritongrad.tensor([1.0, 2.0, 3.0 + 1e-6]))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
        tritongrad.testing.assert_close(a, tritongrad.tensor([1.0, 2.5, 3.0]))
    with pytest.raises(AssertionError, match="dtype"):
        tritongrad.testing.assert_close(a, a.double())
    with pytest.raises(AssertionError, match="shape"):
        tritongrad.testing.assert_close(a, a[:2])
    nan = tritongrad.tensor([float("nan"), 1.0])
    tritongrad.testing.assert_close(nan, nan, equal_nan=True)
    with pytest.raises(AssertionError):
        tritongrad.testing.assert_close(nan, nan)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    shapes = [(4, 3), (5,), (2, 2, 2)]
    grads = [random_values(shape, torch.float32) for shape in shapes]
    theirs = [torch.nn.Parameter(torch.zeros(shape)) for shape in shapes]
    ours = [tritongrad.nn.Parameter(tritongrad.zeros(shape)) for shape in shapes]
    for mine, reference, grad in zip(ours, theirs, grads):
        reference.grad = grad.clone()
        mine.grad = from_torch(grad)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    assert_close(total, expected)
    for mine, reference in zip(ours, theirs):
        assert_close(mine.grad, reference.grad)


def test_clip_grad_value_and_vector_round_trip_match_torch():
    grad = random_values((3, 4), torch.float32)
    theirs, ours = torch.nn.Parameter(torch.zeros(3, 4)), tritongrad.nn.Parameter(tritongrad.zeros(3, 4))
    theirs.grad, ours.grad = grad.clone(), from_torch(grad)
    torch.nn.utils.clip_grad_value_([theirs], 0.5)
    tritongrad.nn.utils.clip_grad_value_([ours], 0.5)
    assert_close(ours.grad, theirs.grad)
    parameters = [tritongrad.nn.Parameter(from_torch(random_values(s, torch.float32))) for s in [(2, 3), (4,)]]
    vector = tritongrad.nn.utils.parameters_to_vector(parameters)
    assert vector.shape == (10,)
    tritongrad.nn.utils.vector_to_parameters(vector * 2, parameters)
    assert_close(tritongrad.nn.utils.parameters_to_vector(parameters), torch.tensor(vector.tolist()) * 2)


def _compiled_module_surface(lib):
    """What scripts reach through torch.compile's module wrapper (nanoGPT: _orig_mod, the key prefix)."""
    torch.manual_seed(0)
    plain = torch.nn.Linear(3, 2)
    model = lib.nn.Linear(3, 2)
    if lib is tritongrad:
        model.load_state_dict({key: from_torch(value) for key, value in plain.state_dict().items()})
    else:
        model = plain
    compiled = lib.compile(model)
    compiled.eval()
    compiled.note = "set through the wrapper"
    unprefixed = {key.removeprefix("_orig_mod."): value for key, value in compiled.state_dict().items()}
    fresh = lib.nn.Linear(3, 2)
    fresh.load_state_dict(unprefixed)
    return [
        type(compiled).__name__,
        repr(compiled),
        list(compiled.state_dict()),
        [name for name, _ in compiled.named_parameters()],
        compiled._orig_mod is model,
        compiled.weight is model.weight,
        compiled.in_features,
        (model.training, compiled.training),
        model.note,
        compiled(lib.ones(2, 3)),
        fresh(lib.ones(1, 3)),
        model.compile(),
    ]


def test_compile_wraps_a_module_as_torch():
    agree("torch.compile(module)", _compiled_module_surface, [], message=True)


def test_loading_unprefixed_keys_into_a_compiled_module_fails_as_torch():
    agree(
        "compiled.load_state_dict(plain keys)",
        lambda lib: lib.compile(lib.nn.Linear(2, 2)).load_state_dict(lib.nn.Linear(2, 2).state_dict()),
        [],
    )
