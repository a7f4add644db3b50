import { describe, expect, it } from "vitest";
import ort from "onnxruntime-node";
import { createRng } from "../games/rng.js";
import type { ModelConfig } from "./config.js";
import { randomParams, testConfig } from "./test-models.js";
import { Graph } from "./graph/builder.js";
import { GraphSession, i64 } from "./graph/session.js";
import { causalPaddingBias, declareParams, lmHead, qwen3Hidden } from "./model.js";
import type { Params } from "./params.js";
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
