#!/usr/bin/env bash
# `spinsc bench`: the JSON keys of the speed report, on a small synthetic run.
spinsc=${1:?usage: eval_bench.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
out=$("$spinsc" bench --synthetic --images 40 --json)
python3 -c "
import json, sys
d = json.load(sys.stdin)
for k in ['synapse_bit_ops_per_s', 'roofline_bit_ops_per_s', 'ratio', 'images_per_s', 'seconds', 'threads']:
    assert k in d, k
assert d['images'] == 40 and d['length'] == 500 and d['data'] == 'synthetic', d
assert d['synapse_bit_ops_per_s'] > 0 and d['roofline_bit_ops_per_s'] > 0, d
assert abs(d['ratio'] - d['synapse_bit_ops_per_s'] / d['roofline_bit_ops_per_s']) < 1e-9 * d['ratio'] + 1e-15, d
assert abs(d['synapse_bit_ops_per_s'] - d['images_per_s'] * 242304 * 500) < 1e-6 * d['synapse_bit_ops_per_s'], d
assert d['ns_per_weight_stream'] > 0, d
assert d['conv_synapses_per_image'] == 406656 and d['conv_images_per_s'] > 0 and d['conv_per_tap_images_per_s'] > 0, d
assert abs(d['conv_synapse_bit_ops_per_s'] - d['conv_images_per_s'] * 406656 * 500) < 1e-6 * d['conv_synapse_bit_ops_per_s'], d
assert abs(d['ns_per_weight_stream_at_quarter_peak'] - d['ns_per_weight_stream'] * d['ratio'] / 0.25) < 1e-9 * d['ns_per_weight_stream'], d
assert d['random_bits_per_s'] > 0 and d['floor_ns_per_weight_stream'] > 0, d
assert abs(d['floor_ns_per_weight_stream'] - (1000 / (d['random_bits_per_s'] / d['threads']) + 500 / (d['roofline_bit_ops_per_s'] / d['threads'])) * 1e9) < 1e-9 * d['floor_ns_per_weight_stream'], d
assert abs(d['weight_stream_floor_ratio'] - d['ns_per_weight_stream'] / d['floor_ns_per_weight_stream']) < 1e-9 * d['weight_stream_floor_ratio'], d
# The PyTorch shortcut peer runs where /usr/bin/python3 has torch; its ratio is to the faster form.
assert 'torch_shortcut_peer' in d, d
if 'torch_shortcut_images_per_s' in d:
    best = max(d['torch_shortcut_images_per_s'], d['torch_shortcut_folded_images_per_s'])
    assert best > 0 and abs(d['shortcut_vs_torch_ratio'] - d['shortcut_images_per_s'] / best) < 1e-9 * d['shortcut_vs_torch_ratio'], d
    assert 'synthetic' in d['torch_shortcut_peer'], d
" <<<"$out" || fail "bench JSON: $out"
out=$("$spinsc" bench --synthetic --images 20 --no-torch)
grep -q "ratio" <<<"$out" || fail "bench text: $out"
# A missing peer script is reported, not an error.
out=$("$spinsc" bench --synthetic --images 20 --torch-script "$tmp/none.py")
grep -q "PyTorch shortcut peer: .*none.py not found" <<<"$out" || fail "bench without its peer script: $out"
echo "eval_bench: ok"
