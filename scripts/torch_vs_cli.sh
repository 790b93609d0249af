#!/usr/bin/env bash
# The comparison of docs/python.md, "A full-size run of the torch example": one 784-128-10 K = 5
# qat base (`spinsc train`, 10 epochs) fine-tuned 3 epochs with the SC noise of the reference
# s-MTJ at L = 8 (a) in PyTorch with spinsc.torch.ScNoise (examples/torch_sc_finetune.py
# --model) and (b) by `spinsc train --mode sc --init`; all evaluated bit by bit with the
# reference s-MTJ at L = 4, 8, 16, 32 over the 10 000 test images, 5 repeats.
#
#   scripts/torch_vs_cli.sh OUT          # about 6 min on 2 cores
#   /usr/bin/python3 scripts/torch_table.py OUT --write docs/python.md
#
# Writes OUT/example/ (the example's results.json, models and plot), OUT/cli/ (models and
# eval.json), OUT/cpu.txt and OUT/time.txt. Needs the release build and the data (scripts/setup.sh).
set -euo pipefail
out=${1:?usage: scripts/torch_vs_cli.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$out
spinsc=$root/build/release/spinsc
export PYTHONPATH=$root/build/release/python${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$out/cli"
cd "$out"  # the files name each other relative to OUT
out=.
lengths=4,8,16,32
start=$(date +%s)

/usr/bin/time -f "%e %U %S" -o "$out/cli-qat.time" "$spinsc" train --arch 784,128,10 -K 5 --mode qat --epochs 10 \
  --quiet --out "$out/cli/qat.safetensors"
/usr/bin/time -f "%e %U %S" -o "$out/example.time" /usr/bin/python3 "$root/examples/torch_sc_finetune.py" \
  --model "$out/cli/qat.safetensors" --sc-epochs 3 --sc-length 8 --lengths $lengths --repeats 5 \
  --exact-bits --out "$out/example"
/usr/bin/time -f "%e %U %S" -o "$out/cli-sc.time" "$spinsc" train --arch 784,128,10 -K 5 --mode sc --sc-length 8 \
  --source smtj --init "$out/cli/qat.safetensors" --epochs 3 --quiet --out "$out/cli/sc.safetensors"
/usr/bin/time -f "%e %U %S" -o "$out/cli-eval.time" "$spinsc" eval --model "$out/cli/sc.safetensors" \
  --sc-length $lengths --source smtj --repeats 5 --exact-bits --quiet --json > "$out/cli/eval.json.tmp"
mv "$out/cli/eval.json.tmp" "$out/cli/eval.json"

/usr/bin/python3 - "$out" <<'EOF'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
wall = cpu = 0.0
for f in ("example", "cli-qat", "cli-sc", "cli-eval"):
    e, u, s = (float(v) for v in (out / f"{f}.time").read_text().split())
    wall, cpu = wall + e, cpu + u + s
(out / "time.txt").write_text(f"wall_s {wall:.0f}\ncpu_s {cpu:.0f}\n")
EOF
/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/scripts'); import readme_results; print(readme_results.cpu_name())" \
  > "$out/cpu.txt"
echo "$(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/load.txt"
echo "wrote $dest (wall $(( $(date +%s) - start )) s)"
