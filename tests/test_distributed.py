"""Data-parallel training: tritongrad.distributed, nn.parallel.DistributedDataParallel and data.py.

The multi-process tests start two worker processes that run this file
(``python -m tests.test_distributed SCENARIO RESULT_PATH``) with the environment
torchrun would give them (RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free
MASTER_PORT), join a gloo process group and train on the CPU interpreter. Each
worker runs its scenarios under the suite's torch-compute audit and bounds
checker (the parent's do not reach into subprocesses) and writes what it saw to a
JSON file that the test reads back.

The oracle for DDP is tritongrad itself, single-process on the full batch: with
a mean loss, averaging the two ranks' half-batch gradients gives the full-batch
gradient, so 20 optimizer steps must land on the same parameters up to float32
rounding (the two sums associate differently).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import numpy as np
import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tritongrad import distributed
from tritongrad.data import DistributedSampler
from tritongrad.nn.parallel import DistributedDataParallel

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORLD_SIZE = 2
STEPS = 20
NO_SYNC_STEPS = 10  # each of them is two forward/backward passes
BATCH = 8
INIT_SEED = 100
# Gradient buckets of 64 bytes put each of the model's 4 parameters into its own bucket, so
# buckets are started one by one while backward is still running.
TINY_BUCKET_MB = 64 / (1 << 20)
# Results differ from the single-process run only by how float32 gradient sums associate.
RTOL, ATOL = 1e-5, 1e-6
# The stuck-peer test: the group's timeout, and how long the stuck rank lingers before exiting.
STUCK_TIMEOUT_SECONDS = 3
STUCK_SECONDS = 30  # long enough that a survivor slowed by a loaded machine still times out first
COLLECTIVE_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64"]


# ---------------------------------------------------------------------------------------------
# The training problem, shared by the workers and the single-process oracle
# ---------------------------------------------------------------------------------------------


def build_model(seed: int) -> nn.Module:
    tritongrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def full_batch(step: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 + step)
    features = rng.standard_normal((BATCH, 8), dtype=np.float32)
    return features, rng.standard_normal((BATCH, 4), dtype=np.float32)


def mean_squared_error(model: nn.Module, features: np.ndarray, targets: np.ndarray) -> tritongrad.Tensor:
    # Lists, not arrays: tritongrad.tensor(ndarray) is reported by the audit (torch.tensor's host copy).
    difference = model(tritongrad.tensor(features.tolist())) - tritongrad.tensor(targets.tolist())
    return (difference * difference).mean()


def make_optimizer(model: nn.Module):
    return tritongrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def parameter_values(model: nn.Module) -> dict[str, list]:
    return {name: p.tolist() for name, p in model.named_parameters()}


def train_single_process() -> dict[str, dict]:
    """The oracle: one process, the full batch of 8 each step; parameters after each number of steps."""
    model = build_model(INIT_SEED)
    optimizer = make_optimizer(model)
    snapshots = {}
    for step in range(STEPS):
        features, targets = full_batch(step)
        optimizer.zero_grad()
        mean_squared_error(model, features, targets).backward()
        optimizer.step()
        if step + 1 in (NO_SYNC_STEPS, STEPS):
            snapshots[str(step + 1)] = parameter_values(model)
    return snapshots


# ---------------------------------------------------------------------------------------------
# Worker side (runs in the subprocesses)
# ---------------------------------------------------------------------------------------------


def local_shard(rank: int) -> list[int]:
    return list(DistributedSampler(BATCH, num_replicas=WORLD_SIZE, rank=rank, shuffle=False))


def scenario_collectives(rank: int) -> dict:
    """all_reduce and broadcast on tritongrad tensors: contiguous, transposed, every dtype."""
    results = {}
    for dtype_name in COLLECTIVE_DTYPES:
        dtype = getattr(torch, dtype_name)
        summed = tritongrad.tensor([[1.0 + rank, 2.0], [3.0, 4.0 * rank]], dtype=dtype)
        distributed.all_reduce(summed)
        transposed = tritongrad.tensor([[1.0, 2.0 + rank, 3.0], [4.0, 5.0, 6.0 * rank]], dtype=dtype).t()
        work = distributed.all_reduce(transposed, async_op=True)
        work.wait()
        broadcast = tritongrad.tensor([10.0 * (rank + 1), 20.0 * (rank + 1)], dtype=dtype)
        distributed.broadcast(broadcast, src=1)
        results[dtype_name] = {
            "summed": summed.float().tolist(),
            "transposed": transposed.float().tolist(),
            "broadcast": broadcast.float().tolist(),
        }
    distributed.barrier()
    return results


def scenario_ddp(rank: int) -> dict:
    """20 steps on each rank's half batch, one bucket per parameter, logging when buckets start."""
    model = build_model(INIT_SEED + rank)  # deliberately different: construction broadcasts rank 0's
    ddp = DistributedDataParallel(model, bucket_cap_mb=TINY_BUCKET_MB)
    start = parameter_values(model)
    events: list[str] = []
    start_all_reduce = distributed.all_reduce

    def logged_all_reduce(*args, **kwargs):
        events.append("all_reduce")
        return start_all_reduce(*args, **kwargs)

    distributed.all_reduce = logged_all_reduce
    for param in model.parameters():  # registered after DDP's hooks, so these run after them
        param.register_hook(lambda grad: events.append("gradient"))
    optimizer = make_optimizer(ddp)
    shard = local_shard(rank)
    gradients_after_first_launch = []
    for step in range(STEPS):
        features, targets = full_batch(step)
        events.clear()
        optimizer.zero_grad()
        mean_squared_error(ddp, features[shard], targets[shard]).backward()
        optimizer.step()
        gradients_after_first_launch.append(events[events.index("all_reduce") :].count("gradient"))
    distributed.all_reduce = start_all_reduce
    return {
        "start": start,
        "final": parameter_values(model),
        "buckets": len(ddp._buckets),
        "gradients_after_first_launch": gradients_after_first_launch,
    }


def scenario_no_sync(rank: int) -> dict:
    """10 steps, each accumulating two micro-batches of 2: the first under no_sync()."""
    model = build_model(INIT_SEED + rank)
    ddp = DistributedDataParallel(model)
    optimizer = make_optimizer(ddp)
    shard = local_shard(rank)
    micro_batches = [shard[: len(shard) // 2], shard[len(shard) // 2 :]]
    first_step_gradients = {}
    for step in range(NO_SYNC_STEPS):
        features, targets = full_batch(step)
        optimizer.zero_grad()
        with ddp.no_sync():
            first = micro_batches[0]
            (mean_squared_error(ddp, features[first], targets[first]) * 0.5).backward()
        if step == 0:
            first_step_gradients["accumulated"] = [p.grad.tolist() for p in model.parameters()]
        second = micro_batches[1]
        (mean_squared_error(ddp, features[second], targets[second]) * 0.5).backward()
        if step == 0:
            first_step_gradients["averaged"] = [p.grad.tolist() for p in model.parameters()]
        optimizer.step()
    return {"final": parameter_values(model), "buckets": len(ddp._buckets), **first_step_gradients}


def scenario_failure(rank: int) -> dict:
    """Rank 1 raises after the first step; rank 0 goes on and must fail, not hang."""
    ddp = DistributedDataParallel(build_model(INIT_SEED))
    optimizer = make_optimizer(ddp)
    shard = local_shard(rank)
    for step in range(3):
        if step == 1 and rank == 1:
            raise RuntimeError("rank 1 stops on purpose after step 1")
        features, targets = full_batch(step)
        optimizer.zero_grad()
        mean_squared_error(ddp, features[shard], targets[shard]).backward()
        optimizer.step()
    return {}


def scenario_stuck_peer(rank: int) -> dict:
    """Rank 1 stops taking part without exiting; rank 0 must fail once the group's timeout runs out."""
    ddp = DistributedDataParallel(build_model(INIT_SEED))
    if rank == 1:
        time.sleep(STUCK_SECONDS)
        raise SystemExit(3)
    features, targets = full_batch(0)
    shard = local_shard(rank)
    mean_squared_error(ddp, features[shard], targets[shard]).backward()
    return {}


SCENARIOS = {
    "collectives": scenario_collectives,
    "ddp": scenario_ddp,
    "no_sync": scenario_no_sync,
    "failure": scenario_failure,
    "stuck_peer": scenario_stuck_peer,
}


def worker_main(scenarios: str, result_path: str) -> None:
    from tests.guards import InterpreterBoundsChecker, TorchComputeAudit

    InterpreterBoundsChecker().install()
    rank = int(os.environ["RANK"])
    timeout = timedelta(seconds=float(os.environ.get("TEST_DISTRIBUTED_TIMEOUT_S", "60")))
    audit = TorchComputeAudit()
    results = {}
    with audit:
        distributed.init_process_group("gloo", timeout=timeout)
        for name in scenarios.split(","):
            results[name] = SCENARIOS[name](rank)
        if rank == 0:
            results["oracle"] = train_single_process()
    results["violations"] = sorted(set(audit.violations))
    with open(result_path, "w") as file:
        json.dump(results, file)
    distributed.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# Parent side: launch, collect
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_workers(scenarios: str, directory, timeout_s: float, group_timeout_s: float = 300) -> list[dict]:
    """Runs the scenarios on 2 ranks; returns per rank its exit code, output, exit time and results.

    ``timeout_s`` only catches a hang: it is far above a run's time on a loaded 2-core machine."""
    port = free_port()
    workers = []
    for rank in range(WORLD_SIZE):
        # torchrun's variables; the workers always run on the CPU interpreter, one thread each.
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), TRITONGRAD_DEVICE="cpu",
                   OMP_NUM_THREADS="1", TEST_DISTRIBUTED_TIMEOUT_S=str(group_timeout_s))  # fmt: skip
        env.pop("TRITON_INTERPRET", None)  # tritongrad switches it on itself on the CPU
        result_path = os.path.join(directory, f"rank{rank}.json")
        log_path = os.path.join(directory, f"rank{rank}.log")
        command = [sys.executable, "-m", "tests.test_distributed", scenarios, result_path]
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        workers.append(dict(process=process, result_path=result_path, log_path=log_path, exited_after=None))
    started = time.perf_counter()
    while any(w["exited_after"] is None for w in workers):
        elapsed = time.perf_counter() - started
        if elapsed > timeout_s:
            for worker in workers:
                worker["process"].kill()
                worker["process"].wait()
            pytest.fail(f"distributed workers still running after {timeout_s:.0f} s (a hang)")
        for worker in workers:
            if worker["exited_after"] is None and worker["process"].poll() is not None:
                worker["exited_after"] = elapsed
        time.sleep(0.05)
    reports = []
    for worker in workers:
        with open(worker["log_path"]) as log:
            output = log.read()
        results = None
        if os.path.exists(worker["result_path"]):
            with open(worker["result_path"]) as file:
                results = json.load(file)
        reports.append(dict(returncode=worker["process"].returncode, output=output, results=results,
                            exited_after=worker["exited_after"]))  # fmt: skip
    return reports


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> list[dict]:
    """One 2-rank run of the collective, DDP and no_sync scenarios (process start-up is paid once)."""
    reports = launch_workers("collectives,ddp,no_sync", str(tmp_path_factory.mktemp("ddp")), timeout_s=900)
    for rank, report in enumerate(reports):
        assert report["returncode"] == 0, f"rank {rank} failed:\n{report['output'][-4000:]}"
        assert report["results"]["violations"] == [], f"rank {rank}: tritongrad asked torch to compute"
    return [report["results"] for report in reports]


def assert_parameters_close(actual: dict, expected: dict, what: str) -> None:
    for name in expected:
        got, want = np.array(actual[name]), np.array(expected[name])
        error = np.abs(got - want).max()
        message = f"{what}: {name} {list(want.shape)} max error {error:.3g}"
        assert np.allclose(got, want, rtol=RTOL, atol=ATOL), message


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_collectives_reduce_and_broadcast_every_dtype(trained):
    for rank, results in enumerate(trained):
        for dtype_name, seen in results["collectives"].items():
            # rank 0 + rank 1 of [[1 + r, 2], [3, 4r]] and of the transposed [[1, 2 + r, 3], [4, 5, 6r]].
            assert seen["summed"] == [[3.0, 4.0], [6.0, 4.0]], (rank, dtype_name)
            assert seen["transposed"] == [[2.0, 8.0], [5.0, 10.0], [6.0, 6.0]], (rank, dtype_name)
            assert seen["broadcast"] == [20.0, 40.0], (rank, dtype_name)


def test_ddp_matches_single_process_full_batch(trained):
    oracle = trained[0]["oracle"][str(STEPS)]
    for rank, results in enumerate(trained):
        ddp = results["ddp"]
        assert ddp["buckets"] == 4
        # Rank 1 started from its own seed; construction must have replaced its parameters by rank 0's.
        assert_parameters_close(ddp["start"], trained[0]["ddp"]["start"], f"rank {rank} after construction")
        assert_parameters_close(ddp["final"], oracle, f"rank {rank} after {STEPS} DDP steps")


def test_ddp_starts_all_reduce_before_backward_ends(trained):
    for rank, results in enumerate(trained):
        # One bucket per parameter: the last layer's bucket is on the wire while backward still
        # computes the other layers' gradients. (Today all 4 arrive after the first launch; a
        # single bucket, started by the last gradient, would give 1.)
        counts = results["ddp"]["gradients_after_first_launch"]
        assert len(counts) == STEPS and min(counts) >= 2, f"rank {rank}: {counts}"


def test_no_sync_accumulation_matches_single_process(trained):
    oracle = trained[0]["oracle"][str(NO_SYNC_STEPS)]
    for rank, results in enumerate(trained):
        assert results["no_sync"]["buckets"] == 1
        what = f"rank {rank} after {NO_SYNC_STEPS} no_sync steps"
        assert_parameters_close(results["no_sync"]["final"], oracle, what)
    # Inside no_sync() each rank kept its own gradient; the next backward made them equal.
    rank0, rank1 = trained[0]["no_sync"], trained[1]["no_sync"]
    assert rank0["accumulated"] != rank1["accumulated"], "no_sync() communicated"
    assert rank0["averaged"] == rank1["averaged"], "the backward after no_sync() did not average"


def test_failing_rank_stops_the_group(tmp_path):
    survivor, failing = launch_workers("failure", str(tmp_path), timeout_s=600, group_timeout_s=120)
    assert failing["returncode"] != 0, failing["output"][-3000:]
    assert "rank 1 stops on purpose" in failing["output"], failing["output"][-3000:]
    assert survivor["returncode"] != 0, survivor["output"][-3000:]
    for clear_message in ("DistributedDataParallel: averaging gradient bucket 1 of 1", "Another rank most"):
        assert clear_message in survivor["output"], survivor["output"][-3000:]
    # The survivor learnt of the failure from the closed connection, well before its 120 s timeout.
    delay = survivor["exited_after"] - failing["exited_after"]
    assert delay < 60, f"the surviving rank stopped {delay:.1f} s after the failing one"


def test_stuck_peer_times_out_with_a_clear_error(tmp_path):
    timeout = STUCK_TIMEOUT_SECONDS
    survivor, stuck = launch_workers("stuck_peer", str(tmp_path), timeout_s=600, group_timeout_s=timeout)
    assert survivor["returncode"] != 0, survivor["output"][-3000:]
    assert "Another rank most likely" in survivor["output"], survivor["output"][-3000:]
    # The survivor gave up on its own (the timeout), not because the stuck rank went away.
    assert survivor["exited_after"] < stuck["exited_after"], (survivor["exited_after"], stuck["exited_after"])
    assert stuck["returncode"] == 3, stuck["output"][-3000:]


# ---- single-process checks (no workers) ----


@pytest.mark.parametrize(
    "size, replicas, drop_last",
    [
        (0, 2, False),  # empty dataset
        (1, 3, False),  # fewer samples than ranks: padded by repetition
        (7, 2, False),  # prime: one padding index
        (7, 3, True),  # prime, tail dropped
        (12, 4, False),  # divides evenly
    ],
)
def test_sampler_matches_torch_without_shuffle(size, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for rank in range(replicas):
        options = dict(num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(size, **options)
        theirs = TorchSampler(range(size), **options)
        assert list(ours) == list(theirs), (size, replicas, rank, drop_last)
        assert len(ours) == len(theirs)


def test_sampler_shuffles_per_epoch_and_partitions():
    size, replicas = 20, 4
    samplers = [DistributedSampler(size, num_replicas=replicas, rank=r, seed=3) for r in range(replicas)]
    epochs = []
    for epoch in range(2):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shards = [list(s) for s in samplers]
        assert sorted(i for shard in shards for i in shard) == list(range(size)), f"epoch {epoch}"
        assert all(len(shard) == size // replicas for shard in shards)
        epochs.append(shards)
    assert epochs[0] != epochs[1], "set_epoch did not change the order"
    again = DistributedSampler(size, num_replicas=replicas, rank=2, seed=3)
    again.set_epoch(1)
    assert list(again) == epochs[1][2], "the same seed and epoch must give the same shard"


def test_sampler_rejects_bad_rank():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(10, num_replicas=2, rank=2)


def test_ddp_without_process_group_raises():
    if distributed.is_initialized():
        pytest.skip(reason="a process group is already initialised in this process")
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))


@contextlib.contextmanager
def single_rank_group(tmp_path, backend: str):
    """A process group of one in the test process itself (a file store: no port to pick)."""
    if distributed.is_initialized():
        pytest.skip(reason="a process group is already initialised in this process")
    distributed.init_process_group(backend, init_method=f"file://{tmp_path}/store", world_size=1, rank=0,
                                   timeout=timedelta(seconds=30))  # fmt: skip
    try:
        yield
    finally:
        distributed.destroy_process_group()


def assert_same_gradients_as_plain_model(ddp: DistributedDataParallel) -> None:
    """One rank: the average is the rank's own gradient, bit for bit (a sum of one, times 1.0)."""
    features, targets = full_batch(0)
    ddp.module.zero_grad()
    mean_squared_error(ddp, features, targets).backward()
    reference = build_model(INIT_SEED)
    mean_squared_error(reference, features, targets).backward()
    for (name, p), q in zip(ddp.module.named_parameters(), reference.parameters()):
        assert p.grad.tolist() == q.grad.tolist(), name


def test_ddp_reports_parameters_without_gradient(tmp_path):
    """A parameter left out of the loss is named at the next forward, which then starts afresh."""
    with single_rank_group(tmp_path, "gloo"):
        ddp = DistributedDataParallel(build_model(INIT_SEED))
        features, _ = full_batch(0)
        inputs = tritongrad.tensor(features.tolist())
        ddp(inputs)  # arms the hooks for the next backward
        hidden = ddp.module[0](inputs)  # skips layer 2: its parameters get no gradient
        (hidden * hidden).mean().backward()
        with pytest.raises(RuntimeError, match=r"received none: 2\.weight, 2\.bias"):
            ddp(inputs)
        assert_same_gradients_as_plain_model(ddp)


@pytest.mark.gpu
def test_ddp_on_gpu_with_nccl(tmp_path):
    """The GPU path: buckets in device memory, kernels and NCCL ordered on the current stream."""
    with single_rank_group(tmp_path, "nccl"):
        ddp = DistributedDataParallel(build_model(INIT_SEED), bucket_cap_mb=TINY_BUCKET_MB)
        assert ddp._buckets[0].flat.device.type == "cuda"
        for _ in range(2):  # the second round checks the state was reset after the first
            assert_same_gradients_as_plain_model(ddp)


if __name__ == "__main__":
    worker_main(sys.argv[1], sys.argv[2])
