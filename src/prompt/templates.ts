/**
 * Prompt templates as data: each names how an observation becomes model input and how the reply
 * becomes an action. Pick one by id (`getPromptTemplate("qwen3-chat")`).
 *
 * - kind "chat": `render` gives chat messages; the engine renders them with the checkpoint's own
 *   chat template (Jinja) or the ChatML default, so Qwen3 sees its usual markup.
 * - kind "raw": `render` gives the whole prompt text, fed to the tokenizer as it is (R1 style).
 * - kind "compact": `render` gives a short text plus the allowed completions for constrained
 *   decoding (tiny models trained from scratch).
 *
 * Invariant: for every template, `extract(reply, observation)` never throws and a reply written
 * in the form the prompt asks for (a box, an answer tag, an allowed string) holding
 * `observation.legal[i]` extracts to exactly `observation.legal[i]`.
 */
import type { GameInfo, Observation } from "../games/game.js";
import { chatPrompt, renderAnswerRequest, renderGameBody, type ChatMessage } from "./chat.js";
import { compactPrompt, extractCompact, type CompactPrompt } from "./compact.js";
import { extractAction, type ExtractResult } from "./extract.js";

interface TemplateBase {
  readonly id: string;
  readonly description: string;
  /** The model's reply → the action text for the game's parser. */
  extract(reply: string, observation: Observation): ExtractResult;
}

export interface ChatPromptTemplate extends TemplateBase {
  readonly kind: "chat";
  render(info: GameInfo, observation: Observation): ChatMessage[];
}

export interface RawPromptTemplate extends TemplateBase {
  readonly kind: "raw";
  render(info: GameInfo, observation: Observation): string;
}

export interface CompactPromptTemplate extends TemplateBase {
  readonly kind: "compact";
  render(info: GameInfo, observation: Observation): CompactPrompt;
}

export type PromptTemplate = ChatPromptTemplate | RawPromptTemplate | CompactPromptTemplate;

/** The R1-style frame, in our own words; `{prompt}` is the game body and answer request. */
export const R1_FRAME =
  "A conversation between a User and an Assistant. The User sets a task; the Assistant first " +
  "reasons about it privately and then gives its final answer. The reasoning goes between <think> " +
  "and </think> and the final answer between <answer> and </answer>, like this: " +
  "<think> reasoning </think> <answer> final answer </answer>.\n" +
  "User: {prompt}\n" +
  "Assistant: <think>";

/** The R1-style raw prompt: the frame around the game body, asking for an `<answer>` tag. */
export function renderR1(info: GameInfo, observation: Observation): string {
  const prompt = `${renderGameBody(info, observation)}\n\n${renderAnswerRequest(observation, "answer-tag")}`;
  return R1_FRAME.replace("{prompt}", () => prompt);
}

export const QWEN3_CHAT_TEMPLATE: ChatPromptTemplate = {
  id: "qwen3-chat",
  kind: "chat",
  description: "SPIRAL's default: one user turn, reason step by step, final action in \\boxed{}",
  render: (info, observation) => chatPrompt(info, observation),
  extract: (reply) => extractAction(reply),
};

export const R1_TEMPLATE: RawPromptTemplate = {
  id: "r1",
  kind: "raw",
  description: "R1-style raw text: <think> reasoning </think> <answer> action </answer>",
  render: renderR1,
  extract: (reply) => extractAction(reply, { format: "answer-tag" }),
};

export const COMPACT_TEMPLATE: CompactPromptTemplate = {
  id: "compact",
  kind: "compact",
  description: "Tiny models: game id, seat, the short view, and a reply constrained to the legal actions",
  render: (info, observation) => compactPrompt(info, observation),
  extract: (reply, observation) => extractCompact(reply, observation.legal),
};

export const PROMPT_TEMPLATES: Readonly<Record<string, PromptTemplate>> = {
  [QWEN3_CHAT_TEMPLATE.id]: QWEN3_CHAT_TEMPLATE,
  [R1_TEMPLATE.id]: R1_TEMPLATE,
  [COMPACT_TEMPLATE.id]: COMPACT_TEMPLATE,
};

export function getPromptTemplate(id: string): PromptTemplate {
  const template = PROMPT_TEMPLATES[id];
  if (template === undefined) {
    throw new Error(`unknown prompt template "${id}"; expected one of: ${Object.keys(PROMPT_TEMPLATES).join(", ")}`);
  }
  return template;
}
