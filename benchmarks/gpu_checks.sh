#!/usr/bin/env bash
# The checks that need a GPU, in one run on a machine with CUDA, each under a time limit:
#
# - the device-placement and graph-preparation tests, whose CUDA cases run only there
#   (issue #23: nothing graph-sized goes back to the host);
# - benchmarks/scale.py on the GPU (issue #23's table in docs/performance.rst,
#   "GPU: ... unmeasured");
# - benchmarks/graph_free_students.py --speed on the GPU (issue #24's goal 3: the
#   graph-free student's predict against its teacher's, measured 42x on one CPU thread).
#
# The card, driver and versions go to machine.txt; records and logs to $OUT (default
# benchmarks/results/gpu). Run from the repository root, with a Python whose torch sees
# the GPU and which has torch_geometric, scikit-learn, networkx and scipy:
#
#     bash benchmarks/gpu_checks.sh
set -u
OUT=${OUT:-benchmarks/results/gpu}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    "$PYTHON" -c 'import platform, sklearn, torch, torch_geometric
print("python", platform.python_version(), "torch", torch.__version__,
      "torch_geometric", torch_geometric.__version__, "scikit-learn", sklearn.__version__)
print("cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
} > "$OUT/machine.txt" 2>&1
timeout 150 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_device_placement.py \
    tests/test_graph_preparation.py > "$OUT/pytest-device.log" 2>&1
echo "device tests: exit $?"
timeout 240 "$PYTHON" benchmarks/scale.py --device cuda --nodes 10000 100000 1000000 \
    --epochs 4 --output "$OUT/scale_cuda.json" > "$OUT/scale.log" 2>&1
echo "scale: exit $?"
timeout 150 "$PYTHON" benchmarks/graph_free_students.py --speed --device cuda \
    --output "$OUT/graph_free_students_cuda.json" > "$OUT/speed.log" 2>&1
echo "graph-free predict speed: exit $?"
tail -n 4 "$OUT/pytest-device.log" "$OUT/speed.log"
