#!/usr/bin/env bash
# The engine on a real GPU through onnxruntime's WebGPU EP, beside PyTorch CUDA on the same shapes.
#
#   bench/gpu.sh [--debs DIR] [--preset small] [--step 8x256] [--decode 1,16,64]
#
# Runs, in order: the WebGPU tests (no CPU node in the hot graphs, parity with the CPU; fp16 against
# fp32: placement, log-probs, generation, a few learner steps, loss scaling), the wired fp16 path's
# parity at the bench shapes (bench/fp16.ts), then the engine's learner update and decode benches
# in fp32 and in fp16 (--precision fp16) beside PyTorch fp32 and bf16.
# Needs: node ≥ 20 with this repository's node_modules (npm ci; no network is used here), an NVIDIA
# driver with its Vulkan ICD (nvidia_icd.json), and the Vulkan loader libvulkan.so.1. Without the
# loader, --debs DIR unpacks Debian .deb files carried along (libvulkan1, and for lavapipe also
# mesa-vulkan-drivers and its dependencies) into a private prefix, no root needed.
# PyTorch with CUDA (python3 -c 'import torch') gives the reference columns; without it only the
# engine's figures print. Whole run: a few minutes on a GPU (the small preset).
set -euo pipefail
cd "$(dirname "$0")/.."

debs=""
preset="small"
step="8x256"
decode="1,16,64"
prompt=128
new=64
repeats=5
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) debs="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --step) step="$2"; shift 2 ;;
    --decode) decode="$2"; shift 2 ;;
    *) echo "bench/gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ -n "$debs" ]; then
  prefix="$(mktemp -d)"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
  export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # The loader finds the driver's ICD in the system paths; lavapipe's, if carried, in the prefix.
  export VK_ADD_DRIVER_FILES="$(ls "$prefix"/usr/share/vulkan/icd.d/*.json 2>/dev/null | paste -sd: || true)"
  [ -z "$VK_ADD_DRIVER_FILES" ] && unset VK_ADD_DRIVER_FILES
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && [ -z "${LD_LIBRARY_PATH:-}" ]; then
  echo "bench/gpu.sh: no Vulkan loader (libvulkan.so.1); install libvulkan1 or pass --debs DIR with its .deb" >&2
  exit 1
fi
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then XDG_RUNTIME_DIR="$(mktemp -d)"; export XDG_RUNTIME_DIR; fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "(no nvidia-smi)"
[ -d node_modules ] || { echo "bench/gpu.sh: run npm ci first (node_modules is missing)" >&2; exit 1; }

# The device checks first: placement (no CPU node in the hot graphs) and parity with the CPU,
# on this GPU's adapter (CI=1: a missing adapter fails instead of skipping).
echo "webgpu tests (placement, parity) …" >&2
CI=1 npx vitest run src/engine/webgpu.test.ts src/engine/fp16-webgpu.test.ts 2>&1 | grep -Ev '^Warning: |dynamic' | grep -E 'generation|learner|PPO|train loop|fp16|✓|×|Tests|FAIL|Error' || true
echo "fp16 vs fp32 …" >&2
fp16=1
for std in 0.02 0.1; do
  npx tsx bench/fp16.ts --device webgpu --preset small --batch 4 --prompt 64 --std "$std" 2>&1 | grep -E '^fp16|Error|shader-f16' || fp16=0
done

out="$(mktemp -d)"
common=(--preset "$preset" --step "$step" --decode "$decode" --prompt "$prompt" --new "$new" --repeats "$repeats" --json)
echo "engine on webgpu …" >&2
npx tsx bench/device.ts --device webgpu "${common[@]}" 2>"$out/webgpu.err" | tail -1 >"$out/webgpu.json" || { cat "$out/webgpu.err" >&2; exit 1; }
if [ "$fp16" = 1 ]; then
  echo "engine on webgpu, --precision fp16 …" >&2
  npx tsx bench/device.ts --device webgpu --precision fp16 "${common[@]}" 2>"$out/webgpu-fp16.err" | tail -1 >"$out/webgpu-fp16.json" || { cat "$out/webgpu-fp16.err" >&2; : >"$out/webgpu-fp16.json"; }
fi

shape="$(npx tsx -e "import { modelPreset } from './src/engine/model/presets.ts'; const c = modelPreset('$preset'); console.log(JSON.stringify({ V: c.vocabSize, C: c.hiddenSize, I: c.intermediateSize, L: c.numHiddenLayers, H: c.numAttentionHeads, KV: c.numKeyValueHeads, D: c.headDim }))")"
B="${step%x*}"; T="${step#*x}"
for dt in fp32 bf16; do
  if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "pytorch cuda $dt …" >&2
    python3 bench/gpu.py "$shape" "$dt" "$B" "$T" "$decode" "$prompt" "$new" "$repeats" >"$out/torch-$dt.json"
  fi
done

node - "$out" <<'EOF'
const fs = require("node:fs");
const dir = process.argv[2];
const read = (f) => (fs.existsSync(`${dir}/${f}`) && fs.statSync(`${dir}/${f}`).size > 0 ? JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")) : undefined);
const w = read("webgpu.json");
const h = read("webgpu-fp16.json");
const refs = ["fp32", "bf16"].map((d) => [d, read(`torch-${d}.json`)]).filter(([, r]) => r);
const ratio = (ours, theirs) => (theirs === undefined ? "" : ` | ${(ours / theirs).toFixed(2)}×`);
// The engine's fp32 against torch fp32, its fp16 (when the adapter has shader-f16) against torch bf16.
const pair = (d) => (d === "bf16" && h !== undefined ? h : w);
console.log(`\npreset ${w.preset}; ratio = engine time / PyTorch time (1.00 = as fast; > 1 slower); torch bf16 is compared with the engine's ${h === undefined ? "fp32 (no fp16 run)" : "fp16"}`);
console.log(`\n| | engine webgpu fp32 |${h === undefined ? "" : " engine webgpu fp16 |"}${refs.map(([d]) => ` torch cuda ${d} | ratio`).join(" |")}`);
console.log(`|---|---|${h === undefined ? "" : "---|"}${refs.map(() => "---|---").join("|")}|`);
console.log(`| step ${w.step.B}×${w.step.T} ms | ${w.step.msPerStep.toFixed(1)} |${h === undefined ? "" : ` ${h.step.msPerStep.toFixed(1)} |`}${refs.map(([d, r]) => ` ${r.step.msPerStep.toFixed(1)}${ratio(pair(d).step.msPerStep, r.step.msPerStep)}`).join(" |")}`);
w.decode.rows.forEach((row, i) => {
  const cells = refs.map(([d, r]) => {
    const t = r.decode.rows.find((x) => x.batch === row.batch);
    return ` ${t.msPerStep.toFixed(2)}${ratio(pair(d).decode.rows[i].msPerStep, t.msPerStep)}`;
  });
  console.log(`| decode batch ${row.batch} ms/step | ${row.msPerStep.toFixed(2)} |${h === undefined ? "" : ` ${h.decode.rows[i].msPerStep.toFixed(2)} |`}${cells.join(" |")}`);
});
if (refs.length > 0) console.log(`\n${refs[0][1].gpu}, torch ${refs[0][1].torch}`);
EOF
