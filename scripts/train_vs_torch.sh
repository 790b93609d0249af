#!/usr/bin/env bash
# Training speed against PyTorch, side by side (docs/training.md, "Speed"): for each network of
# the training benchmark (784-128-10, 784-256-128-64-10, LeNet-5), on one thread, spinsc's
# `TrainEpoch` benchmark (float and qat) and then bench/torch_train_epoch.py (the same network,
# batch, optimizer and synthetic images in PyTorch), each the best of 3, one network after
# the other, so that both see the same machine.
#
#   scripts/train_vs_torch.sh OUT        # about 3 min on an idle core
#   /usr/bin/python3 scripts/train_speed_table.py OUT --write docs/training.md
#
# Writes OUT/spinsc-NAME.json (Google Benchmark's JSON), OUT/torch-NAME.json, OUT/cpu.txt and
# OUT/load.txt (the load average before and after). Needs the release build with its benchmarks
# and Debian's python3-torch.
set -euo pipefail
out=${1:?usage: scripts/train_vs_torch.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/build/release/spinsc_bench
[[ -x $bench ]] || { echo "train_vs_torch.sh: no $bench (cmake --build --preset release)" >&2; exit 2; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "train_vs_torch.sh: /usr/bin/python3 has no torch (python3-torch)" >&2; exit 2; }
mkdir -p "$out"
cut -d' ' -f1-3 /proc/loadavg > "$out/load.txt"
for net in mlp128:784,128,10 mlp256_128_64:784,256,128,64,10 lenet5:lenet5; do
  name=${net%%:*} arch=${net#*:}
  "$bench" --benchmark_filter="TrainEpoch/${name}_(float|qat)/1/" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=false --benchmark_format=json >"$out/spinsc-$name.json.tmp"
  # The benchmark names itself by its absolute path: kept relative to the repository instead.
  /usr/bin/python3 - "$out/spinsc-$name.json.tmp" "$root" <<'PY'
import json, os, sys
path, root = sys.argv[1], sys.argv[2]
run = json.load(open(path))
run["context"]["executable"] = os.path.relpath(run["context"]["executable"], root)
with open(path, "w") as f:
    json.dump(run, f, indent=2)
    f.write("\n")
PY
  mv "$out/spinsc-$name.json.tmp" "$out/spinsc-$name.json"
  /usr/bin/python3 "$root/bench/torch_train_epoch.py" --arch "$arch" --threads 1 --repeats 3 --json >"$out/torch-$name.json.tmp"
  mv "$out/torch-$name.json.tmp" "$out/torch-$name.json"
done
cut -d' ' -f1-3 /proc/loadavg >>"$out/load.txt"
/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/scripts'); import readme_results; print(readme_results.cpu_name())" >"$out/cpu.txt"
echo "train_vs_torch.sh: wrote $out"
