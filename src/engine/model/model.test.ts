import { describe, expect, it } from "vitest";
import ort from "onnxruntime-node";
import { createRng } from "../../core/rng.js";
import type { ModelConfig } from "./config.js";
import { randomParams, testConfig } from "./test-models.js";
import { Graph } from "../graph/builder.js";
import { GraphSession, i64 } from "../graph/session.js";
import { causalPaddingBias, declareParams, lmHead, qwen3Hidden } from "./model.js";
import type { Params } from "../weights/params.js";
import { referenceForward } from "./reference.js";

async function logitsSession(config: ModelConfig): Promise<GraphSession> {
  const g = new Graph("logits");
  const params = declareParams(g, config);
  const tokens = g.input("tokens", "int64", ["B", "T"]);
  const positions = g.input("positions", "int64", ["B", "T"]);
  const mask = g.input("attention_mask", "float32", ["B", "T"]);
  const { hidden } = qwen3Hidden(g, config, params, { tokens, positions, bias: causalPaddingBias(g, mask) });
  g.output(lmHead(g, config, params, hidden), "logits");
  return GraphSession.fromGraph(g, { threads: 1 });
}

function paramFeeds(p: Params): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of p.layout.views) feeds[v.name] = new ort.Tensor("float32", p.data.subarray(v.offset, v.offset + v.size), v.shape);
  return feeds;
}

/** Left-pads sequences to one length: returns tokens, positions and mask rows [B, T]. */
function leftPad(seqs: number[][]): { tokens: number[]; positions: number[]; mask: number[]; T: number } {
  const T = Math.max(...seqs.map((s) => s.length));
  const tokens: number[] = [];
  const positions: number[] = [];
  const mask: number[] = [];
  for (const s of seqs) {
    const pad = T - s.length;
    for (let t = 0; t < T; t++) {
      tokens.push(t < pad ? 0 : (s[t - pad] as number));
      positions.push(Math.max(0, t - pad));
      mask.push(t < pad ? 0 : 1);
    }
  }
  return { tokens, positions, mask, T };
}

describe("Qwen3 graph forward equals the reference forward", () => {
  for (const tie of [true, false]) {
    it(`matches referenceForward to 1e-4 relative (tied head: ${tie}), several lengths, left padding`, async () => {
      const config = testConfig(tie);
      const params = randomParams(config, `model-${tie}`);
      const session = await logitsSession(config);
      const rng = createRng(`tokens-${tie}`);
      const seqs = [1, 4, 7, 9].map((n) => Array.from({ length: n }, () => rng.int(config.vocabSize)));
      const { tokens, positions, mask, T } = leftPad(seqs);
      const B = seqs.length;
      const out = await session.run({
        ...paramFeeds(params),
        tokens: i64(tokens, [B, T]),
        positions: i64(positions, [B, T]),
        attention_mask: new ort.Tensor("float32", Float32Array.from(mask), [B, T]),
      });
      const logits = (out.logits as ort.Tensor).data as Float32Array; // [B, T, V]
      const V = config.vocabSize;
      let worst = 0;
      seqs.forEach((s, b) => {
        const ref = referenceForward(config, params, s); // [n, V]
        const scale = Math.max(...Array.from(ref, Math.abs));
        const pad = T - s.length;
        for (let t = 0; t < s.length; t++) {
          for (let j = 0; j < V; j++) {
            const got = logits[(b * T + pad + t) * V + j] as number;
            worst = Math.max(worst, Math.abs(got - (ref[t * V + j] as number)) / scale);
          }
        }
      });
      expect(worst).toBeLessThan(1e-4);
      // Logits are far from zero, so the comparison above is not vacuous.
      expect(Math.max(...Array.from(logits, Math.abs))).toBeGreaterThan(0.5);
      await session.release();
    });
  }
});

describe("decoderLayer with a KV cache", () => {
  it("prefix forward + cached continuation equals one full forward (1e-5)", async () => {
    const config = testConfig(true);
    const params = randomParams(config, "kv-cache");
    const L = config.numHiddenLayers;
    const full = new Graph("full");
    const pf = declareParams(full, config);
    const fTokens = full.input("tokens", "int64", ["B", "T"]);
    const fPos = full.input("positions", "int64", ["B", "T"]);
    const fMask = full.input("attention_mask", "float32", ["B", "T"]);
    const f = qwen3Hidden(full, config, pf, { tokens: fTokens, positions: fPos, bias: causalPaddingBias(full, fMask) });
    full.output(f.hidden, "hidden");
    f.present.forEach((p, n) => {
      full.output(p.k, `k${n}`);
      full.output(p.v, `v${n}`);
    });

    const step = new Graph("step");
    const ps = declareParams(step, config);
    const sTokens = step.input("tokens", "int64", ["B", "T"]);
    const sPos = step.input("positions", "int64", ["B", "T"]);
    const bias = step.input("bias", "float32", ["B", 1, 1, "T", "P+T"]);
    const KV = config.numKeyValueHeads;
    const D = config.headDim;
    const past = Array.from({ length: L }, (_, n) => ({
      k: step.input(`past_k${n}`, "float32", ["B", KV, "P", D]),
      v: step.input(`past_v${n}`, "float32", ["B", KV, "P", D]),
    }));
    step.output(qwen3Hidden(step, config, ps, { tokens: sTokens, positions: sPos, bias, past }).hidden, "hidden");

    const fullS = await GraphSession.fromGraph(full, { threads: 1 });
    const stepS = await GraphSession.fromGraph(step, { threads: 1 });
    const rng = createRng("kv-tokens");
    const B = 2;
    const P = 5;
    const T2 = 3;
    const T = P + T2;
    const tokens = Array.from({ length: B * T }, () => rng.int(config.vocabSize));
    const positions = Array.from({ length: B * T }, (_, i) => i % T);
    const whole = await fullS.run({
      ...paramFeeds(params),
      tokens: i64(tokens, [B, T]),
      positions: i64(positions, [B, T]),
      attention_mask: new ort.Tensor("float32", new Float32Array(B * T).fill(1), [B, T]),
    });
    const rows = (flat: number[], from: number, to: number): number[] => Array.from({ length: B }, (_, b) => flat.slice(b * T + from, b * T + to)).flat();
    const prefix = await fullS.run({
      ...paramFeeds(params),
      tokens: i64(rows(tokens, 0, P), [B, P]),
      positions: i64(rows(positions, 0, P), [B, P]),
      attention_mask: new ort.Tensor("float32", new Float32Array(B * P).fill(1), [B, P]),
    });
    // New query t (absolute P + t) sees every cached key and new keys up to itself.
    const biasData = new Float32Array(B * T2 * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T2; t++) for (let s = 0; s < T; s++) biasData[(b * T2 + t) * T + s] = s <= P + t ? 0 : -1e9;
    const feeds: Record<string, ort.Tensor> = {
      ...paramFeeds(params),
      tokens: i64(rows(tokens, P, T), [B, T2]),
      positions: i64(rows(positions, P, T), [B, T2]),
      bias: new ort.Tensor("float32", biasData, [B, 1, 1, T2, T]),
    };
    for (let n = 0; n < L; n++) {
      feeds[`past_k${n}`] = prefix[`k${n}`] as ort.Tensor;
      feeds[`past_v${n}`] = prefix[`v${n}`] as ort.Tensor;
    }
    const cont = (await stepS.run(feeds)).hidden as ort.Tensor;
    const want = (whole.hidden as ort.Tensor).data as Float32Array; // [B, T, C]
    const got = cont.data as Float32Array; // [B, T2, C]
    const C = config.hiddenSize;
    let worst = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T2; t++) {
        for (let c = 0; c < C; c++) {
          worst = Math.max(worst, Math.abs((got[(b * T2 + t) * C + c] as number) - (want[(b * T + P + t) * C + c] as number)));
        }
      }
    }
    expect(worst).toBeLessThan(1e-5);
    await fullS.release();
    await stepS.release();
  });
});
