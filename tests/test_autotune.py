"""kernels/autotune.py: bucketed autotune keys and the on-disk cache of tuned choices.

On the CPU the matmul kernels carry one config and never tune, so the tuning path is tested here
on a tiny kernel with two configs and a stand-in timer (``do_bench``), in Triton's interpreter.
"""

from __future__ import annotations

import json

import pytest
import torch
import triton
import triton.language as tl

from tritongrad.kernels import autotune, matmul
from tritongrad.kernels.autotune import BucketedAutotuner, bucket, cache_dir, read_choice, write_choice


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets an empty cache directory of its own."""
    monkeypatch.setenv(autotune.CACHE_DIR_ENV, str(tmp_path))
    return tmp_path / "autotune"


@pytest.mark.parametrize(
    "size, want", [(0, 0), (1, 1), (2, 2), (3, 4), (10, 16), (200, 256), (256, 256), (257, 512), (8193, 16384)]
)
def test_bucket_rounds_up_to_a_power_of_two(size, want):
    assert bucket(size) == want, f"bucket({size}) = {bucket(size)}, expected {want}"


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    assert cache_dir() == tmp_path / "autotune"
    monkeypatch.delenv(autotune.CACHE_DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "tritongrad" / "autotune"


KEY = {"format": 1, "device": "NVIDIA H100", "triton": "3.9.0", "torch": "2.9.0", "kernel": "m.k",
       "key": {"M": 256}, "dtypes": ["torch.float32"]}  # fmt: skip
CONFIG = {"kwargs": {"BLOCK": 64}, "num_warps": 4, "num_stages": 3, "num_ctas": 1, "maxnreg": None}


def test_write_then_read(private_cache):
    assert read_choice(KEY) is None, "an empty cache answered"
    write_choice(KEY, CONFIG)
    assert read_choice(KEY) == CONFIG
    files = list(private_cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".json", f"expected one JSON file, found {files}"


@pytest.mark.parametrize("field, value", [("triton", "3.6.0"), ("torch", "2.8.0"), ("device", "NVIDIA A100"),
                                          ("key", {"M": 512}), ("dtypes", ["torch.float16"])])  # fmt: skip
def test_any_key_change_misses(field, value):
    write_choice(KEY, CONFIG)
    assert read_choice({**KEY, field: value}) is None, f"a different {field} found the stored choice"


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]", '{"key": {}, "config": {}}', '{"key": null}'])
def test_corrupt_file_is_ignored_with_a_warning(private_cache, content):
    write_choice(KEY, CONFIG)
    (path,) = private_cache.iterdir()
    path.write_text(content)
    with pytest.warns(UserWarning, match="ignoring unreadable autotune cache file"):
        assert read_choice(KEY) is None


def test_unwritable_cache_warns_and_goes_on(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(autotune.CACHE_DIR_ENV, str(blocker))  # a file where the directory should be
    with pytest.warns(UserWarning, match="could not write the autotune cache file"):
        write_choice(KEY, CONFIG)


# ----------------------------------------------------------------------------- the tuner


@triton.jit
def _copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class Timer:
    """A stand-in for do_bench: runs the call, and says BLOCK=64 is the faster config."""

    def __init__(self):
        self.calls = 0

    def __call__(self, kernel_call, quantiles):
        self.calls += 1
        kernel_call()
        return [1.0, 1.0, 1.0] if self.block == 64 else [2.0, 2.0, 2.0]


def make_tuner(timer: Timer) -> BucketedAutotuner:
    configs = [triton.Config({"BLOCK": 32}), triton.Config({"BLOCK": 64})]
    tuner = BucketedAutotuner(_copy_kernel, configs, key=["n"], bucketed=["n"], do_bench=timer)
    # The timer learns which config it is timing from the tuner's launch of each one.
    run = tuner.fn.run

    def recording_run(*args, **kwargs):
        timer.block = kwargs["BLOCK"]
        return run(*args, **kwargs)

    tuner.fn = type("Wrapped", (), {"run": staticmethod(recording_run)})()
    return tuner


def copy(tuner: BucketedAutotuner, n: int) -> None:
    x = torch.randn(n)
    y = torch.empty(n)
    tuner[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n)
    assert torch.equal(x, y), f"the tuned kernel did not copy {n} elements"


def test_tunes_once_per_bucket_and_stores_the_choice(private_cache):
    timer = Timer()
    tuner = make_tuner(timer)
    copy(tuner, 200)
    assert timer.calls == 2 and tuner.best_config.kwargs == {"BLOCK": 64}, "both configs should be timed once"
    copy(tuner, 256)  # same bucket (256): no new tuning
    copy(tuner, 130)
    assert timer.calls == 2, f"a size in the same bucket retuned ({timer.calls} timings)"
    copy(tuner, 300)  # bucket 512: tunes again
    assert timer.calls == 4
    stored = [json.loads(path.read_text()) for path in private_cache.iterdir()]
    assert sorted(entry["key"]["key"]["n"] for entry in stored) == [256, 512]
    assert all(entry["config"]["kwargs"] == {"BLOCK": 64} for entry in stored)
    assert all(entry["key"]["triton"] == triton.__version__ and entry["key"]["torch"] == torch.__version__
               for entry in stored)  # fmt: skip


def test_a_new_process_reads_the_disk_cache():
    copy(make_tuner(Timer()), 200)
    timer = Timer()
    fresh = make_tuner(timer)  # as a later process would build it: nothing in memory
    copy(fresh, 250)
    assert timer.calls == 0 and fresh.best_config.kwargs == {"BLOCK": 64}, "the stored choice was not used"


def test_a_version_change_retunes(monkeypatch):
    copy(make_tuner(Timer()), 200)
    monkeypatch.setattr(triton, "__version__", "0.0.1")
    timer = Timer()
    copy(make_tuner(timer), 200)
    assert timer.calls == 2, "a choice stored by another triton version was reused"


def test_a_corrupt_entry_retunes_with_a_warning(private_cache):
    copy(make_tuner(Timer()), 200)
    (path,) = private_cache.iterdir()
    path.write_text("garbage")
    timer = Timer()
    with pytest.warns(UserWarning, match="ignoring unreadable"):
        copy(make_tuner(timer), 200)
    assert timer.calls == 2
    assert json.loads(path.read_text())["config"]["kwargs"] == {"BLOCK": 64}, "the retuned choice was not rewritten"


def test_a_stale_config_retunes_with_a_warning(private_cache):
    copy(make_tuner(Timer()), 200)
    (path,) = private_cache.iterdir()
    entry = json.loads(path.read_text())
    entry["config"]["kwargs"] = {"BLOCK": 16}  # a config the kernel no longer lists
    path.write_text(json.dumps(entry))
    timer = Timer()
    with pytest.warns(UserWarning, match="no longer has"):
        copy(make_tuner(timer), 200)
    assert timer.calls == 2


def test_bucketed_names_must_be_in_the_key():
    with pytest.raises(ValueError, match="not in the autotune key"):
        BucketedAutotuner(_copy_kernel, [triton.Config({"BLOCK": 32})] * 2, key=["n"], bucketed=["m"])


def test_matmul_kernels_bucket_their_sizes():
    assert matmul.matmul_kernel.bucketed == {"M", "N", "K"}
    assert matmul.linear_backward_kernel.bucketed == {"rows", "in_features", "out_features"}
