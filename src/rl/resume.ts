/**
 * Which checkpoint a resumed run continues from, loaded and checked.
 *
 * `--resume DIR` takes the run's latest step-N directory; `--resume-from step-N` names one. The
 * chosen checkpoint must load whole: manifest sizes and SHA-256 when it has a manifest, the
 * structural checks when it has none (said once: "unverified (no manifest)"), optimiser state and
 * trainer state of that step. If it does not, the run stops before anything is changed and says
 * which checkpoint is damaged, why, and how to pick another — it never falls back silently to an
 * older one. Only after a checkpoint has loaded does the caller set aside later lines and
 * checkpoints (run-dir.ts `setAsideAfter`).
 */
import { join } from "node:path";
import { loadCheckpoint, type LoadedCheckpoint } from "../engine/weights/checkpoint.js";
import { unverifiedNote } from "../engine/weights/model-dir.js";
import type { TrainerState } from "./run-setup.js";
import { checkpointName, listCheckpointDirs, parseCheckpointName } from "./run-dir.js";

export interface ResumePoint {
  readonly step: number;
  readonly checkpoint: LoadedCheckpoint & { optimizer: NonNullable<LoadedCheckpoint["optimizer"]> };
  /** Its RAE state is checked by the caller (`checkRaeState`). */
  readonly trainerState: TrainerState;
}

function others(steps: readonly number[], step: number): string {
  const rest = steps.filter((s) => s !== step).map(checkpointName);
  return rest.length === 0 ? "it has no other checkpoint" : `its other checkpoints: ${rest.join(", ")}`;
}

/** The step `from` names ("step-N" or "N"; it must exist), else the latest; undefined when there is none. */
function chooseStep(runDir: string, steps: readonly number[], from: string | undefined): number | undefined {
  if (from === undefined) return steps.at(-1);
  const step = parseCheckpointName(from);
  if (!steps.includes(step)) {
    throw new Error(`--resume-from ${from}: ${runDir} has no ${checkpointName(step)}; ${steps.length === 0 ? "it has no checkpoint" : `its checkpoints: ${steps.map(checkpointName).join(", ")}`}`);
  }
  return step;
}

/** The step a resumed run continues from, without loading it (a LoRA run opens its adapter checkpoint itself). */
export async function resumeStep(runDir: string, from: string | undefined): Promise<number | undefined> {
  return chooseStep(runDir, await listCheckpointDirs(runDir), from);
}

/**
 * The checkpoint to resume `runDir` from (`from`: "step-N" or "N"; default the latest), loaded
 * and checked; undefined when the run has no checkpoint at all (it starts from step 0).
 */
export async function openResumePoint(runDir: string, from: string | undefined, log: (message: string) => void): Promise<ResumePoint | undefined> {
  const steps = await listCheckpointDirs(runDir);
  const step = chooseStep(runDir, steps, from);
  if (step === undefined) return undefined;
  const name = checkpointName(step);
  const dir = join(runDir, name);
  const damaged = (why: string): Error => {
    const earlier = steps.filter((s) => s < step).at(-1);
    const how = earlier === undefined
      ? `${others(steps, step)}; to start the run over, move ${dir} out of the run directory and resume again`
      : `to resume from an earlier one: spiral train --resume ${runDir} --resume-from ${checkpointName(earlier)} (${others(steps, step)}); the later lines and checkpoints are then set aside, not deleted`;
    return new Error(`checkpoint ${name} of ${runDir} is damaged: ${why}. Nothing was changed; ${how}`);
  };
  let checkpoint: LoadedCheckpoint;
  try {
    checkpoint = await loadCheckpoint(dir);
  } catch (e) {
    throw damaged((e as Error).message);
  }
  if (checkpoint.optimizer === undefined) throw damaged("it has no optimizer.safetensors, so the run cannot continue exactly");
  const state = checkpoint.trainerState as Partial<TrainerState> | undefined;
  if (state?.format !== "spiral.trainer/1" || state.step !== step) throw damaged(`its trainer_state.json is not spiral's trainer state for step ${step}`);
  if (checkpoint.verification === "structure") log(`resume: ${unverifiedNote(dir)}`);
  return { step, checkpoint: checkpoint as ResumePoint["checkpoint"], trainerState: state as TrainerState };
}
