/**
 * Learning-rate schedules: pure functions of the 0-based step index (the step about to be taken).
 *
 *   constant:        lr
 *   linear-warmup:   lr · min(1, (step + 1) / warmupSteps)         (the first step is not 0)
 *   cosine:          linear warm-up as above, then
 *                    minLr + ½(lr − minLr)(1 + cos(π · progress))
 *   linear:          linear warm-up as above, then minLr + (lr − minLr)(1 − progress)
 *
 *   progress = (f − decayStart) / (1 − decayStart), clamped to [0, 1], where
 *   f = (step − warmupSteps) / (totalSteps − warmupSteps) is the share of the post-warm-up span
 *   done; `decayStart` (default 0) holds lr for that share of the span before decaying.
 *
 * SPIRAL uses a constant LR; the others are for training tiny models from scratch.
 */
import { z } from "zod";

const nonNegInt = z.number().int().nonnegative();
const rate = z.number().nonnegative().finite();

export const lrScheduleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("constant"), lr: rate }),
  z.strictObject({ kind: z.literal("linear-warmup"), lr: rate, warmupSteps: nonNegInt }),
  z.strictObject({ kind: z.literal("cosine"), lr: rate, warmupSteps: nonNegInt, totalSteps: z.number().int().positive(), minLr: rate, decayStart: z.number().min(0).lt(1).optional() }),
  z.strictObject({ kind: z.literal("linear"), lr: rate, warmupSteps: nonNegInt, totalSteps: z.number().int().positive(), minLr: rate, decayStart: z.number().min(0).lt(1).optional() }),
]);

export type LrSchedule = z.infer<typeof lrScheduleSchema>;

function warmupFactor(step: number, warmupSteps: number): number {
  return warmupSteps > 0 ? Math.min(1, (step + 1) / warmupSteps) : 1;
}

/** The learning rate for 0-based `step`. */
export function learningRate(schedule: LrSchedule, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`learningRate: step must be a non-negative integer; got ${step}`);
  switch (schedule.kind) {
    case "constant":
      return schedule.lr;
    case "linear-warmup":
      return schedule.lr * warmupFactor(step, schedule.warmupSteps);
    case "cosine":
    case "linear": {
      const { lr, minLr, warmupSteps, totalSteps } = schedule;
      if (step < warmupSteps) return lr * warmupFactor(step, warmupSteps);
      const span = Math.max(1, totalSteps - warmupSteps);
      const start = schedule.decayStart ?? 0;
      const progress = Math.min(1, Math.max(0, ((step - warmupSteps) / span - start) / (1 - start)));
      if (schedule.kind === "linear") return minLr + (lr - minLr) * (1 - progress);
      return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
    }
  }
}

/** Parses a schedule from untyped input (a config file); errors name the key and the expectation. */
export function parseLrSchedule(json: unknown, source = "lr schedule"): LrSchedule {
  const r = lrScheduleSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`Invalid ${source}: ${issues}`);
  }
  if ((r.data.kind === "cosine" || r.data.kind === "linear") && r.data.totalSteps < r.data.warmupSteps) {
    throw new Error(`Invalid ${source}: totalSteps (${r.data.totalSteps}) must be ≥ warmupSteps (${r.data.warmupSteps})`);
  }
  return r.data;
}
