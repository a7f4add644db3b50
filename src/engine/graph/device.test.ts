import { describe, expect, it } from "vitest";
import { checkDevice, deviceError, parseDevice, WEBGPU_HELP } from "./device.js";

describe("device", () => {
  it("parses --device values and names the key in errors", () => {
    expect(parseDevice("cpu")).toBe("cpu");
    expect(parseDevice("webgpu")).toBe("webgpu");
    expect(() => parseDevice("cuda", "config key device")).toThrow('config key device expects one of cpu, webgpu; got "cuda"');
  });

  it("rewords onnxruntime's missing-adapter error with what to install", () => {
    const e = deviceError("webgpu", new Error("/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) adapter_result.status == Success was false. Failed to get a WebGPU adapter: No supported adapters"));
    expect(e.message).toContain("--device webgpu");
    expect(e.message).toContain(WEBGPU_HELP);
    expect(e.message).toContain("Failed to get a WebGPU adapter: No supported adapters");
    const other = new Error("Missing graph input");
    expect(deviceError("webgpu", other)).toBe(other);
  });

  it("the cpu device always opens", async () => {
    await expect(checkDevice("cpu")).resolves.toBeUndefined();
  });
});
