/**
 * Dynamic loss scaling for half-precision training (docs/device.md "Precision").
 *
 * fp16's smallest normal value is 6.1e-5: small gradients of the backward pass flush to zero
 * unless the loss is scaled up first. Each micro-batch's backward is seeded with S (the loss graph's
 * `loss_scale` input), so the fp16 gradients are S·∂loss/∂θ; they are cast to float32 and S is
 * divided out in float32 when they are summed (the summing weight w/S), before the clip and AdamW
 * see them. A gradient that overflowed fp16 makes the summed gradient's norm non-finite: the
 * update is skipped (parameters and moments untouched, as for any non-finite norm) and S halves.
 * After `growthInterval` clean updates in a row S doubles. This is the rule of PyTorch's GradScaler
 * (init 2¹⁶, factor 2, interval 2000); the interval here defaults lower because a run has far
 * fewer updates.
 *
 * Deterministic: S depends only on which updates overflowed.
 */

export interface LossScaleOptions {
  /** Starting S (default 2¹⁶). */
  readonly initial?: number;
  /** Clean updates in a row before S doubles (default 200). */
  readonly growthInterval?: number;
  /** S never goes below this (default 1) or above `max` (default 2²⁴). */
  readonly min?: number;
  readonly max?: number;
}

/** What a checkpoint keeps of the scaler (trainer_state.json), so a resumed run scales as the uninterrupted one. */
export interface LossScaleState {
  readonly scale: number;
  /** Clean updates in a row since the scale last changed. */
  readonly clean: number;
  readonly skipped: number;
}

export class DynamicLossScale {
  scale: number;
  /** Updates skipped because the scaled gradient overflowed (over the scaler's life). */
  skipped = 0;
  private clean = 0;
  private readonly growthInterval: number;
  private readonly min: number;
  private readonly max: number;

  constructor(options: LossScaleOptions = {}) {
    this.scale = options.initial ?? 2 ** 16;
    this.growthInterval = options.growthInterval ?? 200;
    this.min = options.min ?? 1;
    this.max = options.max ?? 2 ** 24;
    if (!(this.scale > 0 && Number.isFinite(this.scale))) throw new Error(`loss scale: initial must be a finite number > 0; got ${this.scale}`);
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval >= 1)) throw new Error(`loss scale: growthInterval must be an integer ≥ 1; got ${this.growthInterval}`);
  }

  /** A scaler that continues from a checkpoint's state; `where` names it in errors. */
  static resume(state: unknown, where: string, options: LossScaleOptions = {}): DynamicLossScale {
    const s = state as Partial<Record<keyof LossScaleState, unknown>> | null;
    const count = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
    if (typeof s !== "object" || s === null || typeof s.scale !== "number" || !(s.scale > 0 && Number.isFinite(s.scale)) || !count(s.clean) || !count(s.skipped)) {
      throw new Error(`${where}: expected a loss scale state {scale > 0, clean ≥ 0, skipped ≥ 0}; got ${JSON.stringify(state)}`);
    }
    const scaler = new DynamicLossScale({ ...options, initial: s.scale });
    scaler.clean = s.clean as number;
    scaler.skipped = s.skipped as number;
    return scaler;
  }

  state(): LossScaleState {
    return { scale: this.scale, clean: this.clean, skipped: this.skipped };
  }

  /** After an update: `finite` = its gradient norm was finite (the update was taken). */
  update(finite: boolean): void {
    if (!finite) {
      this.skipped++;
      this.clean = 0;
      this.scale = Math.max(this.min, this.scale / 2);
      return;
    }
    if (++this.clean >= this.growthInterval) {
      this.clean = 0;
      this.scale = Math.min(this.max, this.scale * 2);
    }
  }
}
