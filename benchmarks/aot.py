"""Ahead-of-time compilation of recorded kernel launches for sm_80 and sm_90, without a GPU.

``python -m benchmarks.aot SPEC.json RESULTS.json [--jobs N]`` reads launches
recorded by ``benchmarks.aot_capture`` and compiles each one with
``triton.compile(ASTSource(...), target=GPUTarget("cuda", cc, 32))`` exactly as
a real launch on that GPU would: the kernel's own JIT binder turns the recorded
arguments into the signature, the constexprs and the specialisation hints (a
pointer or an int divisible by 16 gets ``tt.divisibility=16``, an int equal to
1 becomes a constant), so what is compiled is what a GPU would run.

It must run in a process where Triton's interpreter is off, which on a machine
without a GPU also means tritongrad must be told it has one: ``torch.cuda`` is
made to report a device before tritongrad is imported. tritongrad then takes
its GPU paths: ``@triton.autotune`` kernels carry their GPU config lists, and
each config is compiled. Nothing is ever launched.

For every compiled kernel the result holds registers and spill bytes (the
``ptxas -v`` log of the compile itself, which Triton runs with ``-v``), shared
memory (Triton's metadata) and the static instruction mix of the PTX: tensor
core instructions (``wgmma``, ``mma.sync``), ``ldmatrix``, ``cp.async`` and the
global loads and stores by access width (128-bit = ``ld.global.v4.b32``,
``ld.global.v2.b64``, ...).
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import dataclasses
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from typing import Any

# ----------------------------------------------------------------------------------------------
# The GPUs the report compiles for
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GpuModel:
    """What a launcher or the compiler may ask about a device, for one representative GPU per arch."""

    capability: int
    name: str
    sm_count: int
    max_shared_bytes: int  # per-block opt-in limit: a kernel needing more fails to load
    total_memory: int
    l2_cache_bytes: int

    def device_properties(self) -> Any:
        """A stand-in for ``torch.cuda.get_device_properties`` (the fields launchers read)."""
        major, minor = divmod(self.capability, 10)
        return _FakeDeviceProperties(
            name=self.name,
            major=major,
            minor=minor,
            multi_processor_count=self.sm_count,
            total_memory=self.total_memory,
            L2_cache_size=self.l2_cache_bytes,
            shared_memory_per_block_optin=self.max_shared_bytes,
            max_threads_per_multi_processor=2048,
            regs_per_multiprocessor=65536,
            warp_size=32,
        )


@dataclasses.dataclass(frozen=True)
class _FakeDeviceProperties:
    name: str
    major: int
    minor: int
    multi_processor_count: int
    total_memory: int
    L2_cache_size: int
    shared_memory_per_block_optin: int
    max_threads_per_multi_processor: int
    regs_per_multiprocessor: int
    warp_size: int


GPU_MODELS: dict[int, GpuModel] = {
    80: GpuModel(80, "NVIDIA A100-SXM4-80GB", 108, 166912, 80 << 30, 40 << 20),
    90: GpuModel(90, "NVIDIA H100 80GB HBM3", 132, 232448, 80 << 30, 50 << 20),
}

# ----------------------------------------------------------------------------------------------
# Reading ptxas -v and the PTX
# ----------------------------------------------------------------------------------------------

_PTXAS_REGISTERS = re.compile(r"Used (\d+) registers")
_PTXAS_SPILLS = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")

# One PTX instruction per line, maybe predicated (`@%p1 ld.global.v4.b32 ...`).
_PTX_OPCODE = re.compile(r"^\s*(?:@!?%\w+\s+)?([a-z][\w.:]*)", re.MULTILINE)  # `:` in `L1::evict_last`
_TYPE_BITS = re.compile(r"^[bfsu](8|16|32|64|128)$")

# Instruction families counted in the report, by opcode prefix.
_FAMILIES = {
    "wgmma": ("wgmma.mma_async",),  # Hopper warpgroup tensor-core MMA
    "mma.sync": ("mma.sync",),  # Ampere warp-level tensor-core MMA
    "ldmatrix": ("ldmatrix",),
    "cp.async": ("cp.async.ca", "cp.async.cg", "cp.async.bulk.tensor"),
    "tma": ("cp.async.bulk.tensor",),  # Hopper's tensor memory accelerator: tile loads and stores
    "atom": ("atom.global", "red.global"),
}


def parse_ptxas_log(log: str) -> dict[str, int | None]:
    """Registers, stack frame and spill bytes from a ``ptxas -v`` log (None where absent)."""
    registers = _PTXAS_REGISTERS.search(log)
    spills = _PTXAS_SPILLS.search(log)
    return {
        "registers": int(registers.group(1)) if registers else None,
        "stack_bytes": int(spills.group(1)) if spills else None,
        "spill_store_bytes": int(spills.group(2)) if spills else None,
        "spill_load_bytes": int(spills.group(3)) if spills else None,
    }


def _access_bits(opcode: str) -> int | None:
    """Bits moved by one `ld.global...`/`st.global...` instruction per thread: vector width x type."""
    lanes, type_bits = 1, None
    for part in opcode.split(".")[2:]:
        if part in ("v2", "v4", "v8"):
            lanes = int(part[1:])
        elif match := _TYPE_BITS.match(part):
            type_bits = int(match.group(1))
    return None if type_bits is None else lanes * type_bits


def instruction_mix(ptx: str) -> dict[str, int]:
    """Static counts of the instructions that say how a kernel uses the hardware.

    ``ld.global.128`` counts 128-bit global loads (``ld.global.v4.b32``,
    ``ld.global.nc.v2.b64``, ...), ``ld.global.64``/``.32`` narrower ones and
    ``ld.global.narrow`` anything below 32 bits; stores likewise.
    """
    counts: collections.Counter = collections.Counter()
    for match in _PTX_OPCODE.finditer(ptx):
        opcode = match.group(1)
        for family, prefixes in _FAMILIES.items():
            if opcode.startswith(prefixes):
                counts[family] += 1
        if opcode.startswith(("ld.global", "st.global")):
            bits = _access_bits(opcode)
            width = "narrow" if bits is not None and bits < 32 else str(bits)
            counts[f"{opcode[:2]}.global.{width}"] += 1
    return dict(counts)


# ----------------------------------------------------------------------------------------------
# A process that compiles for a GPU it does not have
# ----------------------------------------------------------------------------------------------


def pretend_gpu_present(model: GpuModel = GPU_MODELS[90]) -> None:
    """Makes torch (and so tritongrad, imported after this) believe a CUDA device exists.

    Only what tritongrad's runtime and launch policies read is faked; nothing can
    run on this "device", and nothing here tries to.
    """
    if os.environ.get("TRITON_INTERPRET") == "1" or "triton" in sys.modules:
        raise RuntimeError(
            "AOT compilation needs a fresh process with TRITON_INTERPRET unset and triton not yet imported"
        )
    import torch

    torch.cuda.is_available = lambda: True
    torch.cuda.current_device = lambda: 0
    torch.cuda.device_count = lambda: 1
    torch.cuda.get_device_properties = lambda device=None: model.device_properties()
    torch.cuda.get_device_capability = lambda device=None: divmod(model.capability, 10)
    os.environ["TRITONGRAD_DEVICE"] = "cuda"
    warnings.filterwarnings("ignore", message="TRITON_DEFAULT_FP_FUSION")
    import tritongrad  # noqa: F401  (now takes its GPU paths)


class _PointerArgument:
    """What a JIT binder (and an autotuner's pruning hook) needs from a tensor argument:
    its dtype, address (for alignment) and device."""

    def __init__(self, dtype, address: int) -> None:
        import torch

        self.dtype = dtype
        self.device = torch.device("cuda", 0)
        self._address = address

    def data_ptr(self) -> int:
        return self._address

    def element_size(self) -> int:
        return self.dtype.itemsize


class _DeviceQueries:
    """Stands in for Triton's active CUDA driver where autotune pruning hooks ask about the device."""

    def __init__(self, model: GpuModel) -> None:
        self.model = model
        self.utils = self

    def get_current_device(self) -> int:
        return 0

    def get_current_target(self) -> Any:
        from triton.backends.compiler import GPUTarget

        return GPUTarget("cuda", self.model.capability, 32)

    def get_device_properties(self, device: int) -> dict[str, int]:
        return {
            "max_shared_mem": self.model.max_shared_bytes,
            "max_num_regs": 65536,
            "multiprocessor_count": self.model.sm_count,
            "warpSize": 32,
        }


def decode(value: Any) -> Any:
    """The inverse of ``aot_capture.encode``: tensors become pointer stand-ins with their alignment."""
    import torch
    import triton.language as tl

    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        # A GPU allocation is 256-byte aligned; a view keeps its offset from that, as on the CPU.
        return _PointerArgument(getattr(torch, value["tensor"]), 256 + value["address_mod_16"])
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    if "tl_dtype" in value:
        return tl.dtype(value["tl_dtype"])
    if "jit" in value:
        return resolve_kernel(*value["jit"])
    raise ValueError(f"cannot decode recorded argument {value!r}")


def resolve_kernel(module_name: str, name: str) -> Any:
    """The module-level object (JITFunction, Autotuner, Heuristics) named ``name``."""
    import importlib

    return getattr(importlib.import_module(module_name), name)


def _jit_function(kernel: Any) -> Any:
    from triton.runtime.jit import JITFunction

    while not isinstance(kernel, JITFunction):
        kernel = kernel.fn  # Autotuner / Heuristics wrap the JITFunction
    return kernel


def _autotuner(kernel: Any) -> Any:
    """The Autotuner wrapping ``kernel`` (None when it is not autotuned)."""
    from triton.runtime.autotuner import Autotuner

    while not isinstance(kernel, Autotuner):
        if not hasattr(kernel, "fn"):
            return None
        kernel = kernel.fn
    return kernel


def _configs_for(autotuner: Any, model: GpuModel, args: list[Any], kwargs: dict[str, Any]) -> list[int]:
    """Indices of the autotuner's GPU configs that survive its own pruning hook on ``model``.

    The hook (``prune_configs_by={"early_config_prune": ...}``) typically drops
    configs whose shared memory exceeds the device's; it asks Triton's driver
    about the device, so the driver is stood in for while it runs.
    """
    from triton.runtime import driver

    configs = list(autotuner.configs)
    if not autotuner.early_config_prune:
        return list(range(len(configs)))
    config_keys = {key for config in configs for key in config.all_kwargs()}
    launch_kwargs = {k: v for k, v in kwargs.items() if k not in config_keys}
    named_args = dict(zip(autotuner.arg_names, args))
    saved = driver._active
    driver.set_active(_DeviceQueries(model))
    try:
        kept = autotuner.early_config_prune(configs, named_args, **launch_kwargs)
    finally:
        driver.set_active(saved)
    return [i for i, config in enumerate(configs) if any(config is k for k in kept)]


# ----------------------------------------------------------------------------------------------
# Compiling one launch
# ----------------------------------------------------------------------------------------------


def _describe(value: Any) -> Any:
    """A JSON-friendly rendering of a constexpr or signature entry."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return [_describe(v) for v in value]
    return str(value)


def _specialise(kernel: Any, target: Any, args: list[Any], kwargs: dict[str, Any]):
    """What ``JITFunction.run`` computes before compiling: (options, signature, constexprs, attrs)."""
    from triton.compiler import make_backend
    from triton.runtime.jit import create_function_from_signature

    backend = make_backend(target)
    binder = create_function_from_signature(kernel.signature, kernel.params, backend)
    bound_args, specialization, options = binder(*args, **kwargs)
    return kernel._pack_args(backend, kwargs, bound_args, specialization, options)


def plan_launch(launch: dict[str, Any], config_choice: str = "all") -> list[dict[str, Any]]:
    """What compiling one recorded launch for its arch means: one result skeleton per autotune config.

    ``config_choice`` is ``"all"`` (every GPU config of an autotuned kernel that its
    pruning hook keeps on this arch) or ``"default"`` (the first of those: the
    author lists the preferred configs first). Each skeleton carries the
    specialisation (signature, constexprs, options) and its ``key``: two launches
    with the same key compile to the same binary, so ``compile_all`` compiles
    each key once. A launch that cannot be specialised gets its ``error`` here.
    """
    from triton.backends.compiler import GPUTarget

    model = GPU_MODELS[launch["arch"]]
    target = GPUTarget("cuda", model.capability, 32)
    kernel_object = resolve_kernel(launch["module"], launch["kernel"])
    kernel = _jit_function(kernel_object)
    args = decode(launch["args"])
    recorded_kwargs = {name: decode(value) for name, value in launch["kwargs"].items()}
    autotuner = _autotuner(kernel_object)
    variants: list[tuple[int | None, dict[str, Any]]] = [(None, recorded_kwargs)]
    pruned: list[int] = []
    if autotuner is not None:
        kept = _configs_for(autotuner, model, args, recorded_kwargs)
        pruned = [i for i in range(len(autotuner.configs)) if i not in kept]
        chosen = kept if config_choice == "all" else kept[:1]
        variants = [(i, {**recorded_kwargs, **autotuner.configs[i].all_kwargs()}) for i in chosen]
    default_index = variants[0][0]

    plans = []
    for config_index, kwargs in variants:
        plan: dict[str, Any] = {
            "case": launch["case"],
            "launch": launch.get("index"),  # the capture's index of this launch (its grid lives there)
            "module": launch["module"],
            "kernel": launch["kernel"],
            "arch": f"sm_{model.capability}",
            "autotune_config": config_index,  # index in the kernel's GPU config list
            "pruned_autotune_configs": pruned,  # dropped by the kernel's pruning hook on this arch
            "default_config": config_index == default_index,  # the first config that survives pruning
            "error": None,
        }
        try:
            options, signature, constexprs, attrs = _specialise(kernel, target, args, kwargs)
            names = kernel.arg_names
            plan["constexprs"] = {
                names[path[0]] + "".join(f"[{i}]" for i in path[1:]): _describe(value)
                for path, value in constexprs.items()
            }
            plan["signature"] = {name: _describe(ty) for name, ty in signature.items() if ty != "constexpr"}
            plan["num_warps"] = options.num_warps
            plan["num_stages"] = options.num_stages
            plan["key"] = json.dumps(
                [plan["arch"], launch["module"], launch["kernel"], repr(signature), repr(constexprs),
                 repr(attrs), repr(sorted(options.__dict__.items()))]
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001  (a failure is a finding of the report)
            plan["error"] = _error_text(error)
        plans.append(plan)
    return plans


def _error_text(error: Exception) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()[-2000:]


# `tt.dot %a, %b, %c ... : tensor<64x32xf16, ...> * tensor<...> -> tensor<...>`: the A operand's element type.
_TTIR_DOT = re.compile(r"tt\.dot(?:_scaled)?\b[^\n]*?:\s*tensor<(?:\d+x)+(\w+)")


def dot_input_types(ttir: str) -> list[str]:
    """Element types of the ``tt.dot`` operands in a kernel's Triton IR (``f16``, ``bf16``, ``f32``, ...):
    after inlining, so a dot in a helper function counts. Empty when the kernel has no dot."""
    return sorted(set(_TTIR_DOT.findall(ttir)))


def compile_variant(launch: dict[str, Any], config_index: int | None) -> dict[str, Any]:
    """Compiles one planned variant (a launch at one autotune config) and measures it.

    Returns the measurements (registers, spills, shared memory, instruction mix,
    dot operand types) or ``{"error": ...}``.
    """
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    model = GPU_MODELS[launch["arch"]]
    target = GPUTarget("cuda", model.capability, 32)
    kernel_object = resolve_kernel(launch["module"], launch["kernel"])
    kernel = _jit_function(kernel_object)
    args = decode(launch["args"])
    kwargs = {name: decode(value) for name, value in launch["kwargs"].items()}
    if config_index is not None:
        kwargs.update(_autotuner(kernel_object).configs[config_index].all_kwargs())
    try:
        options, signature, constexprs, attrs = _specialise(kernel, target, args, kwargs)
        log = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(log):
            compiled = triton.compile(
                ASTSource(kernel, signature, constexprs, attrs), target=target, options=options.__dict__
            )
        measured: dict[str, Any] = {"compile_s": round(time.perf_counter() - start, 3)}
        measured.update(parse_ptxas_log(log.getvalue()))
        if measured["registers"] is None:
            raise RuntimeError(f"no `ptxas -v` report in the compile log: {log.getvalue()[-500:]!r}")
        measured["shared_bytes"] = compiled.metadata.shared
        measured["fits_shared_memory"] = compiled.metadata.shared <= model.max_shared_bytes
        measured["instructions"] = instruction_mix(compiled.asm["ptx"])
        measured["dot_types"] = dot_input_types(compiled.asm["ttir"])
        return measured
    except Exception as error:  # noqa: BLE001  (a failure is a finding of the report)
        return {"error": _error_text(error)}


def _worker_init() -> None:
    _prepare_environment()
    pretend_gpu_present()


def _prepare_environment() -> None:
    """A private, always-cold Triton cache: every compile runs ptxas (whose -v log is read) and
    the user's cache gets no sm_80/sm_90 artifacts."""
    os.environ.pop("TRITON_INTERPRET", None)
    cache = tempfile.mkdtemp(prefix="tritongrad-aot-")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["TRITON_CACHE_DIR"] = cache
    os.environ["TRITON_ALWAYS_COMPILE"] = "1"
    os.environ["TRITON_DUMP_PTXAS_LOG"] = "1"


def _compile_job(job: tuple[dict[str, Any], int | None]) -> dict[str, Any]:
    return compile_variant(*job)


def compile_all(launches: list[dict[str, Any]], config_choice: str, jobs: int) -> list[dict[str, Any]]:
    """Plans every launch, compiles each distinct specialisation once (in this process, or in
    ``jobs`` worker processes) and gives every planned variant its measurements."""
    _worker_init()
    plans = [(launch, plan) for launch in launches for plan in plan_launch(launch, config_choice)]
    unique: dict[str, tuple[dict[str, Any], int | None]] = {}
    for launch, plan in plans:
        if plan["error"] is None and plan["key"] not in unique:
            unique[plan["key"]] = (launch, plan["autotune_config"])
    if jobs <= 1:
        measured = [_compile_job(job) for job in unique.values()]
    else:
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init) as pool:
            measured = list(pool.map(_compile_job, unique.values()))
    by_key = dict(zip(unique, measured))
    return [{**plan, **by_key[plan["key"]]} if plan["error"] is None else plan for _, plan in plans]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.aot", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="JSON file: {'launches': [...], 'configs': 'all'|'default'}")
    parser.add_argument("results", help="JSON file to write the results to")
    parser.add_argument("--jobs", type=int, default=1, help="compile in this many processes")
    args = parser.parse_args(argv)
    with open(args.spec) as file:
        spec = json.load(file)
    results = compile_all(spec["launches"], spec.get("configs", "all"), args.jobs)
    with open(args.results, "w") as file:
        json.dump(results, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
