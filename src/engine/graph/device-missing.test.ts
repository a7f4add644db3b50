/**
 * No WebGPU adapter (the Vulkan loader pointed at no driver, as on a machine without one): the
 * device check and every session creation say what is missing. Linux only (Vulkan); its own file,
 * because the loader's variables must be set before this process first opens the device.
 */
import { describe, expect, it } from "vitest";

process.env.VK_ICD_FILENAMES = "/nonexistent/spiral-no-driver.json";
process.env.VK_DRIVER_FILES = "/nonexistent/spiral-no-driver.json";

const { checkDevice, WEBGPU_HELP } = await import("./device.js");
const { Graph } = await import("./builder.js");
const { GraphSession } = await import("./session.js");

describe.skipIf(process.platform !== "linux")("webgpu without an adapter", () => {
  it("checkDevice rejects, naming the driver to install", async () => {
    const e = await checkDevice("webgpu").then(() => undefined, (err: unknown) => err as Error);
    expect(e?.message).toContain("--device webgpu");
    expect(e?.message).toContain(WEBGPU_HELP);
    expect(e?.message).toContain("No supported adapters");
  });

  it("a session on webgpu fails the same way; the cpu device still works", async () => {
    const g = new Graph("t");
    const x = g.input("x", "float32", [2]);
    g.output(g.op1("Add", [x, x], {}, { dtype: "float32", shape: [2] }), "y");
    await expect(GraphSession.fromGraph(g, { device: "webgpu" })).rejects.toThrow(/--device webgpu: onnxruntime-node's WebGPU execution provider found no GPU adapter/);
    await expect(checkDevice("cpu")).resolves.toBeUndefined();
  });
});
