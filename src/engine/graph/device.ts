/**
 * Where the engine's graphs run: "cpu" (onnxruntime's CPU kernels) or "webgpu" (onnxruntime's
 * WebGPU execution provider, bundled in onnxruntime-node: Dawn over Vulkan on Linux, Metal on
 * macOS, D3D12 on Windows). See docs/device.md for what lives where and when bytes cross.
 *
 * On webgpu, onnxruntime still places a node on the CPU when the EP has no kernel for it (every such
 * node is a device↔host copy); `cpuPlacedNodes` lists them from a session's profile, and the hot
 * graphs are built so that the list is empty (device.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";

export const DEVICES = ["cpu", "webgpu"] as const;
export type Device = (typeof DEVICES)[number];

/** `value` if it is one of `choices`; otherwise an error naming `what` (a flag or config key) and the choices. */
function parseChoice<T extends string>(choices: readonly T[], value: string, what: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`${what} expects one of ${choices.join(", ")}; got "${value}"`);
}

/** Parses a `--device` value or a config's `device` key (`what` names it in the error). */
export function parseDevice(value: string, what = "--device"): Device {
  return parseChoice(DEVICES, value, what);
}

export const PRECISIONS = ["fp32", "fp16"] as const;
/**
 * The float type of the engine's inference and training graphs: "fp32" everywhere (default), or
 * "fp16" on webgpu (half-precision.ts rewrites the graphs; fp32 master weights, moments and
 * reductions stay; docs/device.md "Precision").
 */
export type Precision = (typeof PRECISIONS)[number];

/** Parses a `--precision` value or a config's `precision` key (`what` names it in the error). */
export function parsePrecision(value: string, what = "--precision"): Precision {
  return parseChoice(PRECISIONS, value, what);
}

/** Throws unless `precision` runs on `device` (fp16 is a webgpu option). */
export function checkPrecisionDevice(device: Device, precision: Precision | undefined, what = "--precision"): void {
  if (precision === "fp16" && device !== "webgpu") {
    throw new Error(`${what} fp16 is a webgpu option (--device webgpu): onnxruntime's CPU kernels lack float16 for most of the engine's ops; on the CPU use fp32`);
  }
}

export const SAMPLERS = ["device", "host"] as const;
/**
 * Where tokens are drawn on webgpu: "device" (infer/device-sampler.ts: only ids and log-probs cross) or "host"
 * (the logits cross and sampling.ts draws in float64, as on the CPU: a seed names the same
 * completion on both devices). The CPU device always draws on the host.
 */
export type SamplerPlace = (typeof SAMPLERS)[number];

/** Parses a `--sampler` value or a config's `sampler` key (`what` names it in the error). */
export function parseSampler(value: string, what = "--sampler"): SamplerPlace {
  return parseChoice(SAMPLERS, value, what);
}

/** Throws unless `sampler` can run on `device` (the device sampler needs webgpu). */
export function checkSamplerDevice(device: Device, sampler: SamplerPlace | undefined, what = "--sampler"): void {
  if (sampler === "device" && device === "cpu") {
    throw new Error(`${what} device draws on the GPU (--device webgpu); on the CPU the logits are already on the host: use ${what} host or leave it out`);
  }
}

/** The sampler used when none is named: the device's own on webgpu, the host on the CPU. */
export function defaultSampler(device: Device): SamplerPlace {
  return device === "cpu" ? "host" : "device";
}

/** The execution providers of a session on `device` (ORT adds its CPU EP for what a GPU EP lacks). */
export function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  return device === "webgpu" ? [{ name: "webgpu" }] : ["cpu"];
}

/** What to do when no WebGPU adapter is found, per platform. */
export const WEBGPU_HELP =
  "onnxruntime-node's WebGPU execution provider found no GPU adapter. " +
  "Linux: it needs a Vulkan driver and loader (libvulkan1; NVIDIA: the proprietary driver's Vulkan ICD; AMD/Intel: mesa-vulkan-drivers; " +
  "no GPU: Mesa ≥ 25's lavapipe, on Debian bookworm `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`) and XDG_RUNTIME_DIR set; " +
  "macOS: Metal (any Apple-silicon or recent Intel Mac); Windows: a D3D12 GPU driver. Or use --device cpu.";

/** Rewords onnxruntime's adapter failure; other errors pass through. */
export function deviceError(device: Device, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (device === "webgpu" && /adapter|WebGpuContext|webgpu/i.test(message)) {
    return new Error(`--device webgpu: ${WEBGPU_HELP} (onnxruntime: ${message.split("\n")[0]?.replace(/^.*?\) /, "")})`, { cause: e });
  }
  return e instanceof Error ? e : new Error(message);
}

/** A one-node model (y = x + x over float32 [1]) to check that a device opens. */
function probeModel(): Uint8Array {
  const { onnx } = onnxProto;
  const vt = { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 18 }],
    graph: { name: "probe", node: [{ opType: "Add", input: ["x", "x"], output: ["y"] }], input: [{ name: "x", type: vt }], output: [{ name: "y", type: vt }] },
  }).finish();
}

const checked = new Map<Device, Promise<void>>();

/**
 * Resolves when a session opens on `device` and computes 1 + 1 there; rejects with what is missing
 * (no adapter: the Vulkan/Metal/D3D12 driver) otherwise. Cached per process.
 */
export function checkDevice(device: Device): Promise<void> {
  let p = checked.get(device);
  if (p === undefined) {
    p = (async () => {
      try {
        const s = await ort.InferenceSession.create(probeModel(), { executionProviders: executionProviders(device) });
        const out = await s.run({ x: new ort.Tensor("float32", Float32Array.of(1), [1]) });
        const y = (out.y as ort.Tensor).data[0];
        await s.release();
        if (y !== 2) throw new Error(`the ${device} device computed 1 + 1 = ${String(y)}`);
      } catch (e) {
        throw deviceError(device, e);
      }
    })();
    checked.set(device, p);
  }
  return p;
}

/** A one-node float16 MatMul ([1, 2] · [2, 1]) to check that the device runs half precision. */
function halfProbeModel(): Uint8Array {
  const { onnx } = onnxProto;
  const vt = (a: number, b: number) => ({ tensorType: { elemType: onnx.TensorProto.DataType.FLOAT16, shape: { dim: [{ dimValue: a }, { dimValue: b }] } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 18 }],
    graph: { name: "probe-f16", node: [{ name: "mm", opType: "MatMul", input: ["a", "b"], output: ["y"] }], input: [{ name: "a", type: vt(1, 2) }, { name: "b", type: vt(2, 1) }], output: [{ name: "y", type: vt(1, 1) }] },
  }).finish();
}

const halfChecked = new Map<Device, Promise<void>>();

/**
 * Resolves when `device` runs a float16 MatMul on itself (WebGPU: the adapter has WGSL's
 * `shader-f16` feature); rejects naming the feature otherwise. Checks `precision` against the
 * device first; fp32 needs nothing. Cached per process.
 */
export function checkPrecision(device: Device, precision: Precision | undefined): Promise<void> {
  if (precision !== "fp16") return Promise.resolve();
  try {
    checkPrecisionDevice(device, precision);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  let p = halfChecked.get(device);
  if (p === undefined) {
    p = (async () => {
      await checkDevice(device);
      const one = new ort.Tensor("float16", Uint16Array.of(0x3c00, 0x3c00), [1, 2]); // 1, 1
      let placement: NodePlacement[];
      try {
        placement = await profilePlacement(halfProbeModel(), device, { a: one, b: new ort.Tensor("float16", Uint16Array.of(0x3c00, 0x4000), [2, 1]) });
      } catch (e) {
        throw new Error(`--precision fp16: the ${device} device could not run a float16 MatMul (onnxruntime: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}); the adapter needs WGSL's "shader-f16" feature. Use --precision fp32.`, { cause: e });
      }
      const off = placement.filter((n) => n.provider !== "WebGpuExecutionProvider");
      if (placement.length === 0 || off.length > 0) {
        throw new Error(`--precision fp16: the ${device} adapter does not run float16 kernels (its MatMul ran on ${off[0]?.provider ?? "no provider"}); it needs WGSL's "shader-f16" feature. Use --precision fp32.`);
      }
    })();
    halfChecked.set(device, p);
  }
  return p;
}

export interface NodePlacement {
  /** Node name (the builder names nodes after their op and a counter) and op type. */
  readonly node: string;
  readonly op: string;
  readonly provider: string;
}

/**
 * Runs `model` once on `device` with profiling on and returns where each executed node ran
 * (onnxruntime's profile: one "kernel_time" event per node, with its execution provider).
 */
export async function profilePlacement(model: Uint8Array, device: Device, feeds: Record<string, ort.Tensor>): Promise<NodePlacement[]> {
  const dir = mkdtempSync(join(tmpdir(), "spiral-profile-"));
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: executionProviders(device),
      enableProfiling: true,
      profileFilePrefix: join(dir, "profile"),
    });
    await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith(".json"));
    if (file === undefined) throw new Error("onnxruntime wrote no profile");
    const events = JSON.parse(readFileSync(join(dir, file), "utf8")) as { cat?: string; name?: string; args?: { op_name?: string; provider?: string } }[];
    const seen = new Map<string, NodePlacement>();
    for (const e of events) {
      if (e.cat !== "Node" || e.args?.provider === undefined || e.name === undefined || !e.name.endsWith("_kernel_time")) continue;
      const node = e.name.slice(0, -"_kernel_time".length);
      seen.set(node, { node, op: e.args.op_name ?? "?", provider: e.args.provider });
    }
    return [...seen.values()];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
