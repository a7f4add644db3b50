/** Prompting: observations → model input (chat, raw R1, compact) and model replies → actions. */
export { findBoxed, lastBoxed, lastBoxedSpan, unwrapCommands, type BoxedSpan } from "./boxed.js";
export {
  cleanBoxedContent,
  extractAction,
  lastAnswerTag,
  stripReasoning,
  type ExtractOptions,
  type ExtractResult,
  type ExtractSource,
} from "./extract.js";
export {
  CHAT_WORDING,
  MAX_LISTED_ACTIONS,
  chatPrompt,
  chatPromptText,
  playerName,
  renderAnswerRequest,
  renderGameBody,
  renderMessage,
  type AnswerStyle,
  type ChatMessage,
  type ChatPromptOptions,
} from "./chat.js";
export { COMPACT_CUE, compactPrompt, extractCompact, normaliseView, type CompactPrompt } from "./compact.js";
export { R1_FRAME, renderR1 } from "./r1.js";
export { MATH_INSTRUCTION, MATH_INSTRUCTION_R1, mathPrompt, mathPromptR1 } from "./math.js";
