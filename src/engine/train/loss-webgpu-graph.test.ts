/**
 * The loss graph recorded for webgpu (shapes and int64 views as inputs, picked ids fed, LogSoftmax
 * written out; docs/device.md) computes the same as the CPU recording, plus the entropy sums a GPU learner reads. Both run here on the CPU
 * execution provider, so this holds on machines without a GPU; webgpu.test.ts runs it on the device.
 */
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createRng } from "../../core/rng.js";
import { evalDim, GraphSession } from "../graph/session.js";
import { randomParams, testConfig } from "../model/test-models.js";
import { buildLossGraph, lossNames } from "./loss.js";
import { scoreIndex } from "./loss-runner.js";

const config = testConfig(false);

describe("loss graph recorded for webgpu", () => {
  it("evaluates symbolic dims as the builder names them", () => {
    const sizes = { B: 3, T: 7, N: 5 };
    expect(evalDim("B*(T-1)", sizes)).toBe(18);
    expect(evalDim("2*T", sizes)).toBe(14);
    expect(evalDim("(B*T)-1", sizes)).toBe(20);
    expect(evalDim("T[1:-1]", sizes)).toBe(5);
    expect(evalDim("N+T-2", sizes)).toBe(10);
    expect(() => evalDim("B*S", sizes)).toThrow('Cannot evaluate the dim "B*S": no size for "S"');
  });

  for (const constrained of [false, true]) {
    it(`ppo${constrained ? ", constrained" : ""}: same loss, log-probs, entropy and gradients as the CPU graph (1e-5 relative)`, async () => {
      const params = randomParams(config, "webgpu-graph");
      const rng = createRng("webgpu-graph-batch");
      const B = 3, T = 6, K = 3;
      const tokens = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(config.vocabSize)));
      const mask = new Float32Array(B * T).fill(1);
      mask[0] = 0; // row 0 left-padded
      mask[2 * T - 1] = 0; // row 1 right-padded
      const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= 3 && mask[i] === 1 ? 1 : 0));
      const idx = scoreIndex(B, T, lossMask);
      const allowed = BigInt64Array.from({ length: B * T * K }, () => BigInt(rng.int(config.vocabSize)));
      for (let i = 0; i < B * T; i++) allowed[i * K] = tokens[i] as bigint; // the drawn token is allowed
      const feeds: Record<string, ort.Tensor> = {
        [lossNames.tokens]: new ort.Tensor("int64", tokens, [B, T]),
        [lossNames.attentionMask]: new ort.Tensor("float32", mask, [B, T]),
        [lossNames.temperature]: new ort.Tensor("float32", Float32Array.of(0.8), []),
        [lossNames.scoreIndex]: new ort.Tensor("int64", idx, [idx.length]),
        [lossNames.lossMask]: new ort.Tensor("float32", lossMask, [B, T]),
        [lossNames.advantages]: new ort.Tensor("float32", Float32Array.of(1, -0.5, 0.25), [B]),
        [lossNames.normalizer]: new ort.Tensor("float32", Float32Array.of(5), []),
        [lossNames.oldLogprobs]: new ort.Tensor("float32", new Float32Array(B * T).fill(-3), [B, T]),
        [lossNames.clipEps]: new ort.Tensor("float32", Float32Array.of(0.2), []),
        [lossNames.entropyCoef]: new ort.Tensor("float32", Float32Array.of(0.1, 0, 0.3), [B]),
      };
      for (const v of params.layout.views) feeds[v.name] = new ort.Tensor("float32", params.view(v.name), v.shape);
      if (constrained) {
        feeds[lossNames.allowedIds] = new ort.Tensor("int64", allowed, [B, T, K]);
        feeds[lossNames.allowedMask] = new ort.Tensor("float32", Float32Array.from({ length: B * T * K }, (_, i) => (i % K === 2 ? 0 : 1)), [B, T, K]);
        feeds[lossNames.constrained] = new ort.Tensor("float32", Float32Array.from({ length: B * T }, (_, i) => i % 2), [B, T]);
      }
      // What the runner feeds on webgpu: the ids at the scored positions.
      const at = (i: number): number => Math.floor(i / (T - 1)) * T + (i % (T - 1)) + 1;
      const gpuFeeds: Record<string, ort.Tensor> = { ...feeds, [lossNames.scoreTokens]: new ort.Tensor("int64", BigInt64Array.from(idx, (i) => tokens[at(Number(i))] as bigint), [idx.length, 1]) };
      if (constrained) {
        const picked = new BigInt64Array(idx.length * K);
        idx.forEach((i, r) => picked.set(allowed.subarray(at(Number(i)) * K, (at(Number(i)) + 1) * K), r * K));
        gpuFeeds[lossNames.scoreAllowedIds] = new ort.Tensor("int64", picked, [idx.length, K]);
        delete gpuFeeds[lossNames.allowedIds];
      }
      const run = async (device: "cpu" | "webgpu", f: Record<string, ort.Tensor>) => {
        const { graph } = buildLossGraph(config, { kind: "ppo", constrained, entropyBonus: true, device });
        const s = await GraphSession.fromGraph(graph, { threads: 1 });
        const out = await s.run(f);
        await s.release();
        return { out, graph };
      };
      const cpu = await run("cpu", feeds);
      const gpu = await run("webgpu", gpuFeeds);
      expect(gpu.graph.nodes.some((n) => n.opType === "Shape" || n.opType === "LogSoftmax" || n.opType === "ConstantOfShape")).toBe(false);
      for (const name of Object.keys(cpu.out)) {
        const a = cpu.out[name]?.data as Float32Array;
        const b = gpu.out[name]?.data as Float32Array;
        const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
        const diff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
        expect(diff / scale, name).toBeLessThan(1e-5);
      }
      // The scalars a GPU learner reads instead of the grids: Σ H and Σ β_b·H_bt over the scored tokens.
      const entropy = cpu.out[lossNames.entropy]?.data as Float32Array;
      const coefs = feeds[lossNames.entropyCoef]?.data as Float32Array;
      const sumH = entropy.reduce((a, h) => a + h, 0);
      const sumBetaH = entropy.reduce((a, h, i) => a + (coefs[Math.floor(i / T)] as number) * h, 0);
      expect(sumBetaH).toBeGreaterThan(0);
      expect(Math.abs(Number(gpu.out[lossNames.entropySum]?.data[0]) - sumH) / sumH).toBeLessThan(1e-5);
      expect(Math.abs(Number(gpu.out[lossNames.entropyBonusSum]?.data[0]) - sumBetaH) / sumBetaH).toBeLessThan(1e-5);
      expect(cpu.out[lossNames.entropySum]).toBeUndefined(); // the CPU recording is unchanged
    });
  }
});
