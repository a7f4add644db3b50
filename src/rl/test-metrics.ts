/**
 * Test helper: metrics without their wall-clock fields, which legitimately differ between runs,
 * so two runs' metrics can be compared for equality.
 */
const TIMING = new Set(["actSeconds", "learnSeconds", "samplesPerSecond", "generatedTokensPerSecond", "seconds"]);

/** `value` with every timing key removed, at any depth. */
export function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !TIMING.has(k)).map(([k, v]) => [k, withoutTimings(v)]));
  }
  return value;
}

/** The lines of a metrics.jsonl text, parsed, without their timing keys. */
export function metricsLinesWithoutTimings(text: string): unknown[] {
  return text.split("\n").filter((l) => l !== "").map((l) => withoutTimings(JSON.parse(l)));
}

/** The one-layer tiny model the training tests run (a train config's `model`). */
export const TINY_TEST_MODEL = { preset: "tiny", overrides: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 16 } };
