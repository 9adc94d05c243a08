"""Train the digits MLP of examples/mlp_digits.py data-parallel, one process per GPU (or CPU worker).

    torchrun --nproc-per-node 2 examples/ddp_digits.py [--epochs 12] [--accumulate 1]

Every process (rank) holds a replica of the 64-128-10 MLP and trains on its own
shard of each batch (``tritongrad.utils.data.DistributedSampler``);
``tritongrad.nn.parallel.DistributedDataParallel`` averages the gradients in
buckets while backward runs, so the replicas stay identical. ``--accumulate N``
splits each step into N micro-batches and synchronises only the last one
(``no_sync()``). Rank 0 prints the progress and the test accuracy; at the end
every rank checks that its parameters equal the average over all ranks.

torch.distributed carries the gradients (NCCL between GPUs, gloo between CPU
processes); every computation is a tritongrad kernel. Without torchrun
(``python examples/ddp_digits.py``) it runs as a group of one.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import socket
import time
from datetime import timedelta


def pin_gpu_before_tritongrad() -> None:
    """tritongrad picks its GPU when first imported: make it this process's own (LOCAL_RANK) first."""
    import torch as memory_owner  # selecting a device computes nothing

    if memory_owner.cuda.is_available():
        memory_owner.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))


pin_gpu_before_tritongrad()

from mlp_digits import evaluate, load_data  # noqa: E402  (same data and accuracy as the single-process example)
from tqdm import tqdm  # noqa: E402

import tritongrad as torch  # noqa: E402
import tritongrad.nn as nn  # noqa: E402
from tritongrad import distributed  # noqa: E402
from tritongrad.nn.parallel import DistributedDataParallel  # noqa: E402
from tritongrad.utils.data import DistributedSampler  # noqa: E402


def join_process_group(timeout_minutes: float) -> None:
    """torchrun's environment names the group; without it this process is a group of one."""
    timeout = timedelta(minutes=timeout_minutes)
    if "RANK" in os.environ:
        distributed.init_process_group(timeout=timeout)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    distributed.init_process_group(init_method=f"tcp://127.0.0.1:{port}", world_size=1, rank=0, timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, split over the ranks")
    parser.add_argument("--accumulate", type=int, default=1, help="micro-batches per optimizer step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-minutes", type=float, default=5.0, help="how long a rank waits for its peers")
    args = parser.parse_args()

    join_process_group(args.timeout_minutes)
    try:
        train(args)
    finally:
        distributed.destroy_process_group()


def train(args) -> None:
    rank, world_size = distributed.get_rank(), distributed.get_world_size()
    if args.batch_size % (world_size * args.accumulate):
        raise ValueError(f"--batch-size {args.batch_size} must divide into {world_size} ranks x "
                         f"{args.accumulate} micro-batches")  # fmt: skip
    micro_batch = args.batch_size // (world_size * args.accumulate)
    train_x, test_x, train_y, test_y = load_data(args.seed)  # the same split on every rank
    train_x, train_y = torch.tensor(train_x), torch.tensor(train_y)
    test_x, test_y = torch.tensor(test_x), torch.tensor(test_y)

    # A different seed per rank: different dropout masks, and different initial weights that
    # DistributedDataParallel replaces by rank 0's when it wraps the model.
    torch.manual_seed(args.seed + rank)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    model = DistributedDataParallel(model)
    loss_function = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sampler = DistributedSampler(train_x.shape[0], num_replicas=world_size, rank=rank, seed=args.seed)
    if rank == 0:
        print(model)
        print(f"{world_size} ranks on {torch.runtime.device()} x {micro_batch} samples x {args.accumulate} "
              f"micro-batches = global batch {args.batch_size}")  # fmt: skip

    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        shard = list(sampler)  # every rank gets the same number of samples, hence of steps
        step_size = micro_batch * args.accumulate
        loss_sum = 0.0
        steps = tqdm(range(0, len(shard), step_size), desc=f"epoch {epoch:2d}/{args.epochs}", leave=False,
                     unit="step", disable=rank != 0)  # fmt: skip
        for start in steps:
            rows = shard[start : start + step_size]  # the epoch's last step may be short
            part = math.ceil(len(rows) / args.accumulate)
            micro_batches = [rows[i : i + part] for i in range(0, len(rows), part)]
            optimizer.zero_grad()
            for number, micro_rows in enumerate(micro_batches):
                index = torch.tensor(micro_rows)
                last = number == len(micro_batches) - 1  # only the last micro-batch's backward communicates
                with contextlib.nullcontext() if last else model.no_sync():
                    loss = loss_function(model(train_x[index]), train_y[index])
                    (loss * (len(micro_rows) / len(rows))).backward()  # the step's mean over its samples
                loss_sum += loss.item() * len(micro_rows)
            optimizer.step()
        # The epoch's mean loss over all ranks: a sum across processes of (loss sum, sample count).
        totals = torch.tensor([loss_sum, float(len(shard))], dtype=torch.float64)
        distributed.all_reduce(totals)
        if rank == 0:
            mean_loss = (totals[0] / totals[1]).item()
            accuracy = evaluate(model.module, test_x, test_y)
            print(f"epoch {epoch:2d}  loss {mean_loss:.4f}  test acc {accuracy:.3f}")
    elapsed = time.perf_counter() - started
    drift = replica_drift(model)
    if rank == 0:
        accuracy = evaluate(model.module, test_x, test_y)
        print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs ({elapsed:.1f} s on {world_size} ranks)")
        print(f"replicas in sync: max |parameter - mean over ranks| = {drift:.3g}")


def replica_drift(model: DistributedDataParallel) -> float:
    """The largest difference between this rank's parameters and their average over all ranks (0: in sync)."""
    world_size = distributed.get_world_size()
    drift = 0.0
    with torch.no_grad():
        for param in model.parameters():
            mean = param.detach().clone()
            distributed.all_reduce(mean)
            drift = max(drift, (mean / world_size - param).abs().max().item())
    return drift


if __name__ == "__main__":
    main()
