"""tritongrad: a small neural-network framework whose every computation is a Triton kernel.

``import tritongrad as torch`` runs PyTorch-tutorial code on tritongrad's own
Tensor, autograd tape, layers and optimizers. On a machine without a GPU the
kernels run through Triton's CPU interpreter (switched on here, before triton
is imported).
"""

from tritongrad import runtime  # noqa: F401,I001 (first: switches on the interpreter before triton loads)

import sys as _sys

import torch as _torch

from tritongrad import autograd, backends, cuda, dtypes, ops  # noqa: F401
from tritongrad.autograd import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from tritongrad.creation import *  # noqa: F401,F403
from tritongrad.dtypes import get_default_dtype, promote_types, set_default_dtype  # noqa: F401
from tritongrad.formatting import set_printoptions  # noqa: F401
from tritongrad.ops import *  # noqa: F401,F403
from tritongrad.ops.random import bernoulli, multinomial, normal, randperm  # noqa: F401
from tritongrad.ops.random_gamma import _sample_dirichlet, _standard_gamma, _standard_gamma_grad, binomial, poisson  # noqa: F401
from tritongrad.random import (  # noqa: F401
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from tritongrad.tensor import Tensor  # noqa: F401

# dtypes are torch's own objects, so ``x.dtype == tritongrad.float32`` and torch.float32 agree.
float16 = half = _torch.float16
bfloat16 = _torch.bfloat16
float32 = float = _torch.float32  # noqa: A001
float64 = double = _torch.float64
uint8 = _torch.uint8
int8 = _torch.int8
int16 = short = _torch.int16
int32 = int = _torch.int32  # noqa: A001
int64 = long = _torch.int64
bool = _torch.bool  # noqa: A001
complex64 = cfloat = _torch.complex64
complex128 = cdouble = _torch.complex128
complex32 = chalf = _torch.complex32  # (a name only: ops asked to produce it refuse it by name)
dtype = _torch.dtype
device = _torch.device
Size = _torch.Size
# memory formats, torch's own objects too: they name layouts that torch allocates
memory_format = _torch.memory_format
contiguous_format = _torch.contiguous_format
preserve_format = _torch.preserve_format
channels_last = _torch.channels_last
channels_last_3d = _torch.channels_last_3d
# layouts: every tritongrad tensor is strided
layout = _torch.layout
strided = _torch.strided
# torch's exception for a failed allocation: tritongrad's memory is torch's, so torch raises it
OutOfMemoryError = _torch.OutOfMemoryError

from tritongrad import (  # noqa: E402,F401
    accelerator,
    amp,
    data,
    distributed,
    distributions,
    fft,
    func,
    hub,
    linalg,
    multiprocessing,
    nn,
    onnx,
    optim,
    profiler,
    random,
    signal,
    special,
    testing,
    utils,
    version,
)
from tritongrad.amp import GradScaler, autocast  # noqa: E402,F401

vmap = func.vmap
globals().update(amp.STATE_FUNCTIONS)  # torch.is_autocast_enabled, get_autocast_dtype, ...

# autograd.functional (jacobian, hessian, ...) and autograd.forward_ad are built on the ops, above the
# autograd core.
from tritongrad import (  # noqa: E402,F401 (_tensor_str: torch._tensor_str, the print options)
    _dynamo,
    _tensor_str,
)
from tritongrad import environment as _environment  # noqa: E402
from tritongrad._dynamo import compile  # noqa: E402,F401,A004
from tritongrad.autograd import forward_ad as _autograd_forward_ad  # noqa: E402,F401
from tritongrad.autograd import functional as _autograd_functional  # noqa: E402,F401
from tritongrad.backends import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402,F401

# extras: torch functions outside the op families (ops/extras.py, ops/linalg_lu.py, dtypes.can_cast)
from tritongrad.dtypes import can_cast  # noqa: E402,F401
from tritongrad.environment import *  # noqa: E402,F401,F403
from tritongrad.foreach import *  # noqa: E402,F401,F403
from tritongrad.legacy_types import *  # noqa: E402,F401,F403
from tritongrad.namespace_aliases import *  # noqa: E402,F401,F403
from tritongrad.ops import return_types  # noqa: E402,F401 (torch.return_types: the named result tuples)
from tritongrad.ops.copies import *  # noqa: E402,F401,F403
from tritongrad.ops.extras import frexp, ldexp, ldexp_, pdist, renorm  # noqa: E402,F401
from tritongrad.ops.linalg_composed import matrix_exp, pca_lowrank, svd_lowrank  # noqa: E402,F401
from tritongrad.ops.linalg_lu import lu, lu_solve, lu_unpack  # noqa: E402,F401
from tritongrad.ops.numerical_gradient import gradient  # noqa: E402,F401
from tritongrad.serialization import load, save  # noqa: E402,F401
from tritongrad.spectral import *  # noqa: E402,F401,F403

__version__ = version.__version__

# torch's submodules that tritongrad keeps as namespaces of flags and functions rather than files:
# importable by name as well (``import torch.backends.cudnn as cudnn``, ``from torch.cuda.amp import
# GradScaler`` with tritongrad in torch's place).
for _name, _namespace in {
    "backends.cudnn": backends.cudnn, "backends.cuda": backends.cuda, "backends.mps": backends.mps,
    "backends.mkldnn": backends.mkldnn, "backends.openmp": backends.openmp, "cuda.amp": cuda.amp,
    "cpu": _environment.cpu, "cpu.amp": _environment.cpu.amp, "mps": _environment.mps, "xpu": _environment.xpu,
    "jit": _environment.jit,
    "compiler": _environment.compiler,
    "nn.parallel.distributed": nn.parallel,
}.items():  # fmt: skip
    _sys.modules.setdefault(f"{__name__}.{_name}", _namespace)

# torch's deprecated number-first signatures (``p.data.add_(-lr, grad)``), once every method is attached
from tritongrad import deprecated_signatures as _deprecated_signatures  # noqa: E402

_deprecated_signatures.install(_sys.modules[__name__])

# torch's TypeError for a number where a Tensor is taken (torch.allclose(x, 1)), once every method is attached
from tritongrad import tensor_arguments as _tensor_arguments  # noqa: E402

_tensor_arguments.install(_sys.modules[__name__], nn.functional)

# complex tensors through the real-only data movement and predicates, by their parts, once every method is attached
from tritongrad import complex_parts as _complex_parts  # noqa: E402

_complex_parts.install([Tensor, ops, _sys.modules[__name__]])

# numpy's axis=/keepdims= wherever torch's argument parser takes them: last, once every method is attached
from tritongrad import numpy_aliases as _numpy_aliases  # noqa: E402

_numpy_aliases.install(
    [
        (Tensor, _torch.Tensor),
        (ops, _torch),
        (_sys.modules[__name__], _torch),
        (nn.functional, _torch.nn.functional),
        (linalg, _torch.linalg),
    ]
)
