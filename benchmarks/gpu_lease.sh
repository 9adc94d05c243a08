#!/usr/bin/env bash
# One prepared call on a lent GPU: the probe (benchmarks/gpu_probe.py: host vs kernel time per
# op, the MLP agreement check), the GPU tests, then the benchmark suite family by family, inside
# a fixed time budget. Everything comes back under $OUT (the device tool's folder; a plain
# ./gpu-lease-out elsewhere): session.log, probe.log, tests.log, results.tgz (benchmarks/results/).
#
#   bash benchmarks/gpu_lease.sh [BUDGET_S] [TEST_CAP_S] [BENCH,...]
#
# Families run in the order given, each in its own process under the time still left (at most
# PER_BENCH_S), so a slow family costs its own rows only; results.tgz is rewritten after each.
set -u
BUDGET_S=${1:-520}
TEST_CAP_S=${2:-150}
# The first lease (2026-12-04) ran elementwise..gpt_step, attention and pool; matmul, training,
# fused_ce and conv are the ones still missing, so they come first by default.
FAMILIES=${3:-training,matmul,fused_ce,conv,elementwise,softmax,fused,reduction,norm,host_overhead,gpt_step,attention,pool}
PER_BENCH_S=${PER_BENCH_S:-150}
PROBE_CAP_S=${PROBE_CAP_S:-90}
OUT=${OUT:-./gpu-lease-out}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
# The source tree keeps kernels/ beside the package (the wheel maps it to tritongrad.kernels).
[ -e tritongrad/kernels ] || ln -s "$PWD/kernels" tritongrad/kernels
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
start=$(date +%s)
left() { echo $((BUDGET_S - ($(date +%s) - start))); }
exec > >(tee -a "$OUT/session.log") 2>&1

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
$PYTHON -c "import sys, torch, triton; print(sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name(), torch.cuda.get_device_capability())"
git log -1 --format='commit %H %s' 2>/dev/null || echo "commit: (no git here)"
git status --short 2>/dev/null | head -20

echo "== probe (cap ${PROBE_CAP_S}s)"
timeout "$PROBE_CAP_S" $PYTHON -m benchmarks.gpu_probe >"$OUT/probe.log" 2>&1
echo "probe rc=$?"
cat "$OUT/probe.log"

echo "== tests (cap ${TEST_CAP_S}s): GPU-marked first, then the kernel families on the GPU"
tests_start=$(date +%s)
timeout "$TEST_CAP_S" $PYTHON -m pytest -q -p no:cacheprovider -n 16 -m gpu tests/ --maxfail=30 >"$OUT/tests.log" 2>&1
echo "gpu-marked rc=$? ($(tail -1 "$OUT/tests.log"))"
cap=$((TEST_CAP_S - ($(date +%s) - tests_start)))
if [ "$cap" -gt 20 ]; then
    timeout "$cap" $PYTHON -m pytest -q -p no:cacheprovider -n 16 --maxfail=60 -m "not slow" \
        tests/test_elementwise.py tests/test_matmul.py tests/test_softmax.py tests/test_loss.py \
        tests/test_reduce.py tests/test_optim_kernels.py tests/test_cuda_graphs.py tests/test_launch_count.py \
        >>"$OUT/tests.log" 2>&1
    echo "kernel families rc=$? ($(tail -1 "$OUT/tests.log"))"
fi
grep -E "^(FAILED|ERROR)" "$OUT/tests.log" | head -40

echo "== benchmarks (${FAMILIES}), $(left)s left"
for family in ${FAMILIES//,/ }; do
    remaining=$(left)
    if [ "$remaining" -lt 25 ]; then
        echo "-- $family: skipped, ${remaining}s left"
        continue
    fi
    cap=$((remaining - 10 < PER_BENCH_S ? remaining - 10 : PER_BENCH_S))
    echo "-- $family (cap ${cap}s)"
    timeout "$cap" $PYTHON -m benchmarks run --only "$family" --output default
    echo "-- $family rc=$?"
    tar czf "$OUT/results.tgz" benchmarks/results 2>/dev/null
done
echo "== done in $(($(date +%s) - start))s"
