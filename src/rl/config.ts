/**
 * The typed configuration of `spiral train`, with commented defaults (the paper's where it has
 * one; docs/training.md) and named presets.
 *
 * Resolution: preset → then the user's partial config (a JSON file or CLI flags) merged over it,
 * one level deep for the nested groups → validated by `parseTrainConfig`. Unknown keys are errors
 * naming the key; wrong types say what was expected. The resolved config is written to
 * runs/<name>/config.json and is all a resumed run needs.
 */
import { z } from "zod";
import { LORA_TARGETS } from "../engine/model/lora.js";
import { learningRate, type LrSchedule } from "../engine/train/schedule.js";
import { DEVICES, PRECISIONS, SAMPLERS } from "../engine/graph/device.js";

const gameEntry = z.strictObject({
  /** Registry id, e.g. "TicTacToe-v0". */
  id: z.string().min(1),
  /** Relative sampling weight of new games. */
  weight: z.number().positive().default(1),
  /** Entropy bonus β for this game's samples, over `optim.entropyCoef`. */
  entropyCoef: z.number().min(0).optional(),
});

const modelSchema = z.strictObject({
  /**
   * A model preset to initialise from scratch (`engine/model/presets.ts`: tiny, small, qwen3-…), or
   * null when `dir` gives a checkpoint.
   */
  preset: z.string().min(1).nullable().default("tiny"),
  /** Overrides of the preset's shape (e.g. a Qwen3-shaped model with 2 layers for smoke tests). */
  overrides: z.record(z.string(), z.number()).default({}),
  /** An HF-layout checkpoint directory (config.json + model.safetensors + tokenizer); wins over `preset`. */
  dir: z.string().min(1).nullable().default(null),
  /** "byte" for models trained from scratch, "qwen3" for the real Qwen3 vocabulary (offline), "model" for the tokenizer.json in `dir`, or a tokenizer directory. */
  tokenizer: z.string().min(1).default("byte"),
  /** Std of the normal init of a fresh model. */
  initStd: z.number().positive().default(0.02),
});

const optimSchema = z.strictObject({
  /** "ppo": PPO-clip with Dr.GRPO normalisation (the paper). "reinforce": −A·logp, same normalisation. */
  loss: z.enum(["ppo", "reinforce"]).default("ppo"),
  /** Passes over each step's batch; the old log-probs are recomputed once, before the first. */
  ppoEpochs: z.number().int().positive().default(2),
  /** PPO clip ε. */
  clip: z.number().min(0).default(0.2),
  /** Constant learning rate. The paper uses 1e-6 for a 4B model; tiny models from scratch need far more. */
  lr: z.number().positive().default(1e-6),
  /**
   * Learning-rate schedule over the run's steps: "constant" (the paper), or "cosine" / "linear"
   * decay from `lr` at step 1 to `lrMin` at the last step (see `learningRateAt`).
   */
  lrSchedule: z.enum(["constant", "cosine", "linear"]).default("constant"),
  /** The learning rate a decaying schedule ends at. */
  lrMin: z.number().min(0).default(0),
  /** Share of the run held at `lr` before a decaying schedule starts (0: it decays from step 1). */
  lrDecayStart: z.number().min(0).lt(1).default(0),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.95),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0),
  /** Global gradient-norm clip. */
  gradClip: z.number().positive().default(1.0),
  /** Samples per forward/backward; gradients accumulate over the micro-batches of one update. */
  microBatch: z.number().int().positive().default(16),
  /**
   * Entropy bonus β: −β·H is added to every generated token's loss (H the entropy of the next-token
   * distribution, over the allowed set when constrained), normalised like the policy term. The
   * paper has none (0); see docs/training.md for why the from-scratch preset uses one.
   */
  entropyCoef: z.number().min(0).default(0),
  /** Updates per epoch: the batch is split into this many minibatches (1 = one update per epoch). */
  minibatches: z.number().int().positive().default(1),
});

const evalSchema = z.strictObject({
  /** Evaluate every k steps (and after the last); 0 disables. */
  every: z.number().int().min(0).default(10),
  /** Games per matchup (the policy's seat alternates). */
  games: z.number().int().positive().default(100),
  /** Sampling temperature for evaluation games (the paper: 0.6–0.7). */
  temperature: z.number().min(0).default(0.6),
  /** Compute the exact 1-round Kuhn exploitability. */
  kuhn: z.boolean().default(true),
  /**
   * Games the policy never trained on (ConnectFour-v0, Nim-v0, PigDice-v1, …), played against
   * uniform random at step 0 and after the last step only: out-of-distribution transfer.
   */
  finalGames: z.array(z.string().min(1)).optional(),
});

/** LoRA training (engine/model/lora.ts): the base stays frozen, only the adapter learns. */
const loraSchema = z.strictObject({
  /** Rank r of every adapter. */
  r: z.number().int().positive(),
  /** Scaling numerator; the adapter's output is multiplied by alpha / r (default alpha = r: scale 1). */
  alpha: z.number().positive().optional(),
  /** Projections that get an adapter (default all seven). */
  targets: z.array(z.enum(LORA_TARGETS)).min(1).default([...LORA_TARGETS]),
  /** rsLoRA scaling alpha / √r. */
  rslora: z.boolean().default(false),
  /**
   * How the frozen base is held (engine/weights/half.ts): fp32, or bf16/fp16 (projections in 16
   * bits, widened per Gemm); auto chooses by the checkpoint's stored dtype and the machine's memory
   * (lora-run.ts `chooseBaseDtype`).
   */
  baseDtype: z.enum(["auto", "fp32", "bf16", "fp16"]).default("auto"),
});

export const trainConfigSchema = z.strictObject({
  /** Run name: the directory under `out`. */
  name: z.string().min(1).default("spiral"),
  /** Parent directory of run directories. */
  out: z.string().min(1).default("runs"),
  seed: z.number().int().min(0).default(0),
  /** Policy steps (learner updates). The paper: 400. */
  steps: z.number().int().positive().default(400),
  /** Training games with sampling weights. */
  games: z.array(gameEntry).min(1).default([{ id: "TicTacToe-v0", weight: 1 }, { id: "KuhnPoker-v1", weight: 1 }, { id: "SimpleNegotiation-v1", weight: 1 }]),
  /**
   * "self" (self-play, both seats trained) or a fixed opponent, any policy spec but an endpoint:
   * "random", "minimax", "heuristic", "nash", "optimal", or a frozen checkpoint directory; in a LoRA
   * run also "pool:K", one of the last K adapter snapshots per step (rl/adapter-pool.ts).
   */
  opponent: z.string().min(1).default("self"),
  /**
   * Per training game id, that game's opponent instead of `opponent` (the same specs, "self"
   * included; not pool:K): e.g. { "TicTacToe-v0": "minimax", "KuhnPoker-v1-1round": "nash",
   * "SimpleNegotiation-v1": "heuristic" } trains every game against its strongest reference player.
   */
  opponentByGame: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** "compact": short prompts, replies constrained to legal moves. "chat": chat template, free replies, boxed answers. */
  promptMode: z.enum(["compact", "chat"]).default("compact"),
  /** Samples per policy step (docs/training.md, "One policy step" 1). */
  rolloutBatch: z.number().int().positive().default(128),
  /** Live games per actor (the batch of one generation call). */
  envs: z.number().int().positive().default(32),
  /**
   * In-process actors: 1 runs the actor in the learner's thread, K > 1 in K worker threads. With
   * endpoint actors they play beside the servers, each counting as weight 1 in the split of a
   * step's samples (docs/scale-out.md); 0 leaves all acting to the servers. Default: 1, or 0 when
   * `endpoints` are given.
   */
  actors: z.number().int().min(0).optional(),
  /** Longest reply in tokens; also the Dr.GRPO normaliser. The paper: 4096. */
  maxNewTokens: z.number().int().positive().default(4096),
  /** Sampling temperature during training (the paper: 1.0). */
  temperature: z.number().positive().default(1.0),
  topP: z.number().gt(0).max(1).default(1.0),
  /** Extra turn cap (draw when reached) below each game's own; null keeps the games' caps. */
  turnCap: z.number().int().positive().nullable().default(null),
  rae: z.strictObject({
    /** false: the `--no-rae` ablation (baseline fixed at 0). */
    enabled: z.boolean().default(true),
    alpha: z.number().min(0).lt(1).default(0.95),
  }).default({ enabled: true, alpha: 0.95 }),
  model: modelSchema.default(modelSchema.parse({})),
  optim: optimSchema.default(optimSchema.parse({})),
  eval: evalSchema.default(evalSchema.parse({})),
  /** Train a LoRA adapter on the frozen model instead of every weight; null: full training. */
  lora: loraSchema.nullable().default(null),
  /** Checkpoint every n steps (and after the last). */
  checkpointEvery: z.number().int().positive().default(25),
  /** Sample games written as transcripts per step. */
  transcripts: z.number().int().min(0).default(2),
  /** ORT intra-op threads per session; 0 lets the trainer choose from the core count. */
  threads: z.number().int().min(0).default(0),
  /**
   * With worker-thread actors on the CPU (actors > 1), the learner runs each minibatch's
   * micro-batches on them, several at once, one thread each; the update is the same bits as on
   * the learner's own session (docs/training.md, "Learner threads"). Each worker then also holds
   * a learner session's activations: false keeps the learning in the learner's thread.
   */
  learnerWorkers: z.boolean().default(true),
  /** Where the engine's graphs run: "cpu" or "webgpu" (onnxruntime's WebGPU EP; docs/device.md). */
  device: z.enum(DEVICES).default("cpu"),
  /**
   * "fp16" (webgpu only): forward and backward in half precision, fp32 master weights and AdamW
   * moments, dynamic loss scaling (docs/device.md "Precision"). Absent: fp32.
   */
  precision: z.enum(PRECISIONS).optional(),
  /**
   * webgpu: where the actor draws tokens. "device" (the default there): a sampler graph on the GPU,
   * only ids and log-probs come back; "host": the logits come back and the float64 host sampler
   * draws, so a seed names the same games as on the CPU (docs/device.md "The sampler"). Absent:
   * the device's default; the CPU always draws on the host.
   */
  sampler: z.enum(SAMPLERS).optional(),
  /**
   * No longer used; accepted so that run configs saved before still load. Every run is
   * reproducible at any thread count: same seed ⇒ same run, bit for bit (the learner once needed
   * one thread for that; docs/training.md, "Learner threads").
   */
  deterministic: z.boolean().optional(),
  /**
   * Endpoint actors (docs/scale-out.md): OpenAI-compatible servers (vLLM, SGLang, `spiral serve`)
   * that sample the training games' replies instead of the in-process actors; empty: none.
   */
  endpoints: z.array(z.strictObject({
    /** Base URL, with or without /v1. */
    url: z.string().min(1),
    /** Relative share of the requests. */
    weight: z.number().positive().default(1),
    /** Requests in flight at once at most. */
    concurrency: z.number().int().positive().default(16),
  })).default([]),
  /**
   * Endpoint actors: how many versions behind the learner a sample may be. 0 is the synchronous,
   * on-policy loop; K > 0 lets the actors play up to K steps ahead while the learner trains, drops
   * samples more than K versions old, and takes PPO's old log-probs from the sampler.
   */
  maxStaleness: z.number().int().min(0).default(0),
  /** Endpoint actors: seconds one request may take before the server counts as down. */
  endpointTimeout: z.number().positive().default(120),
  /**
   * Endpoint actors: seconds with no server live (or with every turn failing) before the endpoint
   * actors count as lost: the in-process actors then play on alone, and a run without any stops.
   */
  endpointGiveUp: z.number().positive().default(30),
}).transform((c) => ({ ...c, actors: c.actors ?? (c.endpoints.length > 0 ? 0 : 1) }));

export type TrainConfig = z.infer<typeof trainConfigSchema>;
/** What a user may give: any subset, nested groups partial too. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length === 0 ? "config" : issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        const where = issue.path.length === 0 ? "" : ` in ${path}`;
        return `unknown key${issue.keys.length > 1 ? "s" : ""}${where}: ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
      }
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

/** Validates a full or partial config; throws one message listing every problem. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid train config: ${formatIssues(result.error)}`);
  return result.data;
}

const NESTED = ["rae", "model", "optim", "eval", "lora"] as const;

/** `over` on top of `base`, merging the nested groups key by key. Neither is validated here. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...over };
  for (const key of NESTED) {
    const b = base[key];
    const o = over[key];
    if (isPlainObject(b) && isPlainObject(o)) out[key] = { ...b, ...o };
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The chat pipeline end to end on a Qwen3-shaped random model (the `chat-smoke` preset). */
const CHAT_SMOKE: TrainConfigInput = {
  name: "chat-smoke",
  steps: 1,
  games: [{ id: "TicTacToe-v0", weight: 1 }, { id: "KuhnPoker-v1", weight: 1 }],
  promptMode: "chat",
  rolloutBatch: 4,
  envs: 4,
  maxNewTokens: 48,
  // Qwen3's real vocabulary (V = 151,936) on 2 thin layers: logits of a 400-token row are
  // 240 MB, so the learner takes one row per micro-batch.
  model: { preset: "qwen3-0.6b", overrides: { hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 32 }, tokenizer: "qwen3" },
  optim: { lr: 1e-4, microBatch: 1 },
  eval: { every: 0, games: 4, kuhn: false },
  checkpointEvery: 1,
};

/**
 * Named presets (partial configs over the defaults).
 * - `default`: the README's main command — the micro byte-level model from scratch, compact
 *   prompts, all three training games together, sized for ≤ 15 minutes on 2 cores.
 * - `chat-smoke`: the chat path end to end in CI — a Qwen3-shaped random model (real vocabulary,
 *   2 thin layers) with the real Qwen3 tokenizer, chat prompts, long free replies, boxed answers,
 *   a few steps, a checkpoint.
 * - `chat-lora`: the same model and prompts trained as a LoRA adapter on the frozen random base.
 * - `paper`: the paper's settings (Qwen3-4B-Base from `model.dir`), for a GPU machine later.
 */
export const trainPresets: Readonly<Record<string, TrainConfigInput>> = {
  default: {
    name: "default",
    // The micro model (0.33 M) on the three games' terse compact prompts, two worker-thread
    // actors (bench/train: one ORT thread per actor beats two threads on one batch of a model
    // this small): ≈ 0.7 s per step of 128 samples with a one-thread learner, so
    // 1000 steps and 11 evaluations take ≈ 12–13 minutes. lr 1e-4: at 2e-4 and above TicTacToe settles
    // on a board-blind favourite move before it learns to read the board. Cosine decay and an
    // entropy bonus of 0.3 on Kuhn and negotiation: without them self-play circles Kuhn's mixed
    // equilibrium and forgets negotiation's off-path skill (accepting a good offer). TicTacToe,
    // whose equilibrium is pure, has none (0.3 keeps it near uniform; 0.05 slowed it too). The
    // rate is held for the first half, where TicTacToe does most of its learning, and decays
    // over the second, where Kuhn settles. TicTacToe is weighted up (4 : 2 : 1, about 70% of the
    // samples): it needs the most.
    // Each choice measured in docs/training.md.
    steps: 1000,
    games: [
      { id: "TicTacToe-v0", weight: 4 },
      { id: "KuhnPoker-v1-1round", weight: 2, entropyCoef: 0.3 },
      { id: "SimpleNegotiation-v1", weight: 1, entropyCoef: 0.3 },
    ],
    promptMode: "compact",
    rolloutBatch: 128,
    envs: 64,
    actors: 2,
    maxNewTokens: 32,
    model: { preset: "micro", tokenizer: "byte" },
    optim: { lr: 1e-4, lrSchedule: "cosine", lrDecayStart: 0.5, microBatch: 32 },
    eval: { every: 100, games: 100, temperature: 0.6, kuhn: true },
    checkpointEvery: 100,
  },
  "chat-smoke": CHAT_SMOKE,
  // chat-smoke's model and prompts, trained as a LoRA adapter (rank 8 on all seven projections)
  // on the frozen random base: two steps, so the second samples from the updated adapter.
  "chat-lora": {
    ...CHAT_SMOKE,
    name: "chat-lora",
    steps: 2,
    optim: { lr: 1e-3, microBatch: 1 },
    lora: { r: 8, alpha: 16 },
  },
  paper: {
    name: "paper",
    steps: 400,
    rolloutBatch: 128,
    maxNewTokens: 4096,
    promptMode: "chat",
    model: { preset: null, tokenizer: "model" },
    optim: { lr: 1e-6 },
  },
};

/**
 * The learning rate of policy step `step` (1-based) of `steps`: `lr` throughout for "constant";
 * for "cosine" and "linear", `lr` up to the share `lrDecayStart` of the run, then falling to
 * `lrMin` at step `steps` (the engine's schedules, `engine/train/schedule.ts`, without warm-up).
 */
export function learningRateAt(optim: Pick<TrainConfig["optim"], "lr" | "lrSchedule" | "lrMin"> & { readonly lrDecayStart?: number }, step: number, steps: number): number {
  if (optim.lrSchedule === "constant" || steps <= 1) return optim.lr;
  const schedule: LrSchedule = {
    kind: optim.lrSchedule, lr: optim.lr, minLr: optim.lrMin, warmupSteps: 0, totalSteps: steps - 1, decayStart: optim.lrDecayStart ?? 0,
  };
  return learningRate(schedule, step - 1);
}

/**
 * Resolves a preset plus user overrides into a validated config. A preset's `actors` is its count
 * of in-process actors for in-process training: overrides that bring endpoint actors without
 * naming `actors` leave the acting to the servers (actors 0), as a config file would.
 */
export function resolveTrainConfig(preset: string, overrides: Record<string, unknown> = {}): TrainConfig {
  const base = trainPresets[preset];
  if (base === undefined) {
    throw new Error(`unknown train preset "${preset}"; expected one of: ${Object.keys(trainPresets).join(", ")}`);
  }
  const merged = mergeConfig(base as Record<string, unknown>, overrides);
  if (Array.isArray(overrides.endpoints) && overrides.endpoints.length > 0 && overrides.actors === undefined) delete merged.actors;
  return parseTrainConfig(merged);
}

/** A `--games` list, "TicTacToe-v0,KuhnPoker-v1:2" → [{ id, weight }] (the CLI's flag and the sweep's grids). */
export function parseGamesFlag(text: string): { id: string; weight: number }[] {
  return text.split(",").map((part) => {
    const [id, weight] = part.trim().split(":");
    if (id === undefined || id === "") throw new Error(`--games expects ids separated by commas, each optionally with :weight; got "${text}"`);
    const w = weight === undefined ? 1 : Number(weight);
    if (!(w > 0)) throw new Error(`--games: the weight of ${id} must be a positive number; got "${weight}"`);
    return { id, weight: w };
  });
}
