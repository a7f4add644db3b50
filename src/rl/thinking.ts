/**
 * Thinking length: how much of a chat reply is reasoning before its answer. SPIRAL reports it over
 * training because a policy whose advantages are not centred (no RAE baseline) learns to drop its
 * reasoning ("thinking collapse"): replies shrink to a bare answer while the outcomes stall.
 *
 * The reasoning of a reply is the text before its last `\boxed{…}` (the answer chat prompts ask
 * for); without a box, the text before the last `</think>`; without either, the whole reply, which
 * then holds no answer at all. Compact replies have no reasoning (constrained to a move).
 */
import { lastBoxedSpan } from "../prompt/boxed.js";
import type { Sample } from "./types.js";

/** The reasoning part of a chat reply (see the file comment). */
export function thinkingText(reply: string): string {
  const box = lastBoxedSpan(reply);
  if (box !== undefined) return reply.slice(0, box.start);
  const think = reply.lastIndexOf("</think>");
  return think >= 0 ? reply.slice(0, think) : reply;
}

/** Mean tokens of reasoning per reply (`encode`: the policy's tokenizer); 0 for no samples. */
export function meanThinkingTokens(samples: readonly Pick<Sample, "text">[], encode: (text: string) => readonly number[]): number {
  if (samples.length === 0) return 0;
  return samples.reduce((n, s) => n + encode(thinkingText(s.text)).length, 0) / samples.length;
}
