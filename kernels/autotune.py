"""Autotuning keyed on size buckets, with the tuned choice kept on disk across runs.

``triton.autotune`` keys its choice on the exact values of the key arguments,
so every new batch size (a last partial batch, an eval pass) benchmarks every
config again — seconds on a GPU, in the middle of training — and nothing
survives the process. ``bucketed_autotune`` is the same decorator with two
changes:

* Bucketed keys: the arguments named in ``bucketed`` (matrix sizes) enter the
  key rounded up to a power of two (``bucket``), so M = 200 and M = 256 share
  one tuning. The bucket is tuned once, at the first shape seen in it, and the
  choice is reused for every other shape of the bucket.
* A disk cache: the choice is stored per (device name, triton version, torch
  version, kernel, bucketed key, argument dtypes) as one small JSON file under
  ``cache_dir()`` (``$TRITONGRAD_CACHE_DIR``, default ``~/.cache/tritongrad``,
  in ``autotune/``). A later process finds it and launches without tuning. A
  version or device change changes the key, so a stale choice is never read.
  Files are written to a temporary name and renamed into place (atomic on
  POSIX), so a reader never sees half a file; a file that cannot be read or
  parsed, or names a config the kernel no longer has, is ignored with a
  warning and the bucket is tuned again.

With a single config (Triton's interpreter: the runtime's policy gives one)
nothing is tuned, keyed or cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import triton
from triton.runtime.autotuner import Autotuner

__all__ = ["BucketedAutotuner", "bucket", "bucketed_autotune", "cache_dir"]

CACHE_DIR_ENV = "TRITONGRAD_CACHE_DIR"
# Bumped when the file layout changes; part of every key, so old files are simply not found.
_FORMAT = 1


def bucket(size: int) -> int:
    """``size`` rounded up to a power of two (0 stays 0): 1 -> 1, 200 -> 256, 256 -> 256, 257 -> 512."""
    if size <= 1:
        return size
    return 1 << (size - 1).bit_length()


def cache_dir() -> Path:
    """Where tuned choices are kept: ``$TRITONGRAD_CACHE_DIR/autotune`` (default ``~/.cache/tritongrad``)."""
    root = os.environ.get(CACHE_DIR_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "tritongrad")
    return Path(root) / "autotune"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return device.type


def _describe_config(config: triton.Config) -> dict[str, Any]:
    """A config as plain JSON: what identifies it in the kernel's config list."""
    return {
        "kwargs": dict(config.kwargs),
        "num_warps": config.num_warps,
        "num_stages": config.num_stages,
        "num_ctas": config.num_ctas,
        "maxnreg": config.maxnreg,
    }


def _entry_path(cache_key: dict[str, Any]) -> Path:
    text = json.dumps(cache_key, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return cache_dir() / f"{cache_key['kernel'].rsplit('.', 1)[-1]}-{digest}.json"


def read_choice(cache_key: dict[str, Any]) -> dict[str, Any] | None:
    """The stored config description for ``cache_key``, or None (not stored, or unreadable: warned)."""
    path = _entry_path(cache_key)
    try:
        with open(path) as file:
            entry = json.load(file)
        if not isinstance(entry, dict) or entry.get("key") != json.loads(json.dumps(cache_key)):
            raise ValueError("its key does not match the file name's")
        config = entry["config"]
        if not isinstance(config, dict):
            raise ValueError("no config in it")
        return config
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as error:
        warnings.warn(f"tritongrad: ignoring unreadable autotune cache file {path}: {error}", stacklevel=3)
        return None


def write_choice(cache_key: dict[str, Any], config: dict[str, Any]) -> None:
    """Stores ``config`` for ``cache_key`` atomically; a cache that cannot be written only warns."""
    path = _entry_path(cache_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as file:
            json.dump({"key": cache_key, "config": config}, file, sort_keys=True)
        os.replace(file.name, path)
    except OSError as error:
        warnings.warn(f"tritongrad: could not write the autotune cache file {path}: {error}", stacklevel=3)


class BucketedAutotuner(Autotuner):
    """``triton``'s Autotuner with bucketed keys and the disk cache (see the module docstring).

    Tuning itself (pruning, benchmarking each config) is the base class's, at the
    first exact shape of a bucket; this class only decides when it is needed.
    """

    def __init__(
        self,
        fn: Any,
        configs: list[triton.Config],
        key: Sequence[str],
        bucketed: Sequence[str],
        prune_configs_by: dict[str, Callable] | None = None,
        do_bench: Callable | None = None,
        variant: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        super().__init__(fn, fn.arg_names, configs, list(key), None, None, prune_configs_by=prune_configs_by,
                         do_bench=do_bench)  # fmt: skip
        unknown = [name for name in bucketed if name not in key]
        if unknown:
            raise ValueError(f"bucketed names {unknown} are not in the autotune key {list(key)}")
        self.bucketed = frozenset(bucketed)
        self.kernel_name = f"{self.base_fn.__module__}.{self.base_fn.__name__}"
        self.chosen: dict[tuple, triton.Config] = {}  # bucketed key -> config, this process
        self.variant = variant

    def tuning_key(self, named_args: dict[str, Any]) -> tuple[tuple, tuple[str, ...]]:
        """(key values with the bucketed ones rounded up, dtypes of the tensor arguments)."""
        values = tuple(bucket(named_args[k]) if k in self.bucketed else named_args[k] for k in self.keys)
        if self.variant is not None:
            values += (self.variant(named_args),)
        dtypes = tuple(str(v.dtype) for k, v in named_args.items() if k in self.arg_names and hasattr(v, "dtype"))
        return values, dtypes

    def cache_key(self, values: tuple, dtypes: tuple[str, ...], device: torch.device) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "device": _device_name(device),
            "triton": triton.__version__,
            "torch": torch.__version__,
            "kernel": self.kernel_name,
            "key": dict(zip([*self.keys, "variant"], values)),
            "dtypes": list(dtypes),
        }

    def _stored_config(self, cache_key: dict[str, Any]) -> triton.Config | None:
        described = read_choice(cache_key)
        if described is None:
            return None
        for config in self.configs:
            if _describe_config(config) == described:
                return config
        warnings.warn(
            f"tritongrad: the autotune cache names a config {self.kernel_name} no longer has ({described}); retuning",
            stacklevel=3,
        )
        return None

    def run(self, *args: Any, **kwargs: Any) -> Any:
        if len(self.configs) <= 1:
            return super().run(*args, **kwargs)
        named_args = {**dict(zip(self.arg_names, args)), **kwargs}
        values, dtypes = self.tuning_key(named_args)
        config = self.chosen.get((values, dtypes))
        if config is None:
            device = next((v.device for v in named_args.values() if isinstance(v, torch.Tensor)), torch.device("cpu"))
            cache_key = self.cache_key(values, dtypes, device)
            config = self._stored_config(cache_key)
            if config is None:
                # Tunes at this exact shape (the base class), launches, and leaves the choice in best_config.
                result = super().run(*args, **kwargs)
                self.chosen[(values, dtypes)] = self.best_config
                write_choice(cache_key, _describe_config(self.best_config))
                return result
            self.chosen[(values, dtypes)] = config
        self.best_config = config
        if config.pre_hook is not None:
            config.pre_hook({**named_args, **config.all_kwargs()})
        return self.fn.run(*args, **kwargs, **config.all_kwargs())


def bucketed_autotune(
    configs: list[triton.Config],
    key: Sequence[str],
    bucketed: Sequence[str] = (),
    prune_configs_by: dict[str, Callable] | None = None,
    do_bench: Callable | None = None,
    variant: Callable[[dict[str, Any]], Any] | None = None,
) -> Callable[[Any], BucketedAutotuner]:
    """``@triton.autotune(configs, key, prune_configs_by=...)`` with the ``key`` names listed in
    ``bucketed`` rounded up to powers of two and the choice cached on disk.

    ``do_bench`` (``fn(kernel_call, quantiles) -> [median, p20, p80]``) replaces the timer: tests use it.
    ``variant`` (``fn(named_args) -> hashable``) joins the key: launches in one bucket that the pruning
    hook treats differently (matmul: operands aligned or not) must not share a tuned config.
    """
    return lambda fn: BucketedAutotuner(fn, configs, key, bucketed, prune_configs_by, do_bench, variant)
