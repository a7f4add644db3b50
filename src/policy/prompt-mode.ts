/**
 * The two prompt modes (docs/prompting.md) as `PromptMode`s for the actor: the prompt layer (`prompt/`)
 * renders and extracts; this file only says which request each mode sends.
 *
 * - compact: `compactPrompt` text, the reply constrained to the legal action strings (tiny models
 *   trained from scratch); a reply is read by `extractCompact`.
 * - chat: `chatPrompt` messages (rendered by the policy's tokenizer chat template), free
 *   generation up to `maxNewTokens`; the action is the last `\boxed{}` (`extractAction`). With
 *   `constrainAnswer`, text after `\boxed{` is constrained to a legal move (free reasoning before).
 */
import { chatPrompt, compactPrompt, extractAction, extractCompact } from "../prompt/index.js";
import type { GameInfo, Observation } from "../games/game.js";
import type { PolicyRequest } from "./policy.js";

/** How observations become policy requests and replies become the text a game parses. */
export interface PromptMode {
  readonly name: "compact" | "chat" | string;
  request(info: GameInfo, observation: Observation, maxNewTokens: number): PolicyRequest;
  /** The text the game parses, or why the reply holds no action. Never throws. */
  extract(reply: string, observation: Observation): { readonly ok: true; readonly action: string } | { readonly ok: false; readonly reason: string };
}

export type PromptModeName = "compact" | "chat";

export const compactMode: PromptMode = {
  name: "compact",
  request(info, observation, maxNewTokens) {
    const p = compactPrompt(info, observation);
    return { prompt: { kind: "text", text: p.text }, constraint: { choices: p.allowed }, maxNewTokens, legal: observation.legal };
  },
  extract(reply, observation) {
    const r = extractCompact(reply, observation.legal);
    return r.ok ? { ok: true, action: r.action } : r;
  },
};

export function chatMode(options: { constrainAnswer?: boolean } = {}): PromptMode {
  return {
    name: "chat",
    request(info, observation, maxNewTokens) {
      return {
        prompt: { kind: "chat", messages: chatPrompt(info, observation) },
        ...(options.constrainAnswer === true ? { constraint: { choices: observation.legal, trigger: "\\boxed{", suffix: "}" } } : {}),
        maxNewTokens,
        legal: observation.legal,
      };
    },
    extract(reply) {
      const r = extractAction(reply);
      return r.ok ? { ok: true, action: r.action } : r;
    },
  };
}

export function promptMode(name: PromptModeName): PromptMode {
  return name === "compact" ? compactMode : chatMode();
}
