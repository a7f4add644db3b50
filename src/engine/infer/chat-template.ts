/**
 * Chat templates: a conversation → the prompt text a chat model was trained on.
 *
 * Checkpoints carry their own Jinja template (`chat_template` in tokenizer_config.json, or a
 * `chat_template.jinja` file); we render it with @huggingface/jinja, passing the same variables
 * transformers does (`messages`, `add_generation_prompt`, `bos_token`, `eos_token`, and
 * `enable_thinking` only when set, so `enable_thinking is defined` behaves as in Python).
 * Models without one (our byte-level models) use `CHATML_TEMPLATE`, the Qwen/ChatML format with
 * Qwen3's empty-think switch, so a tiny model and Qwen3 see the same markup.
 */
import { Template } from "@huggingface/jinja";
import type { ChatMessage, ChatTemplateOptions } from "../tokenizer/tokenizer.js";

export const CHATML_TEMPLATE =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}" +
  "{{- '<|im_start|>assistant\\n' }}" +
  "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}" +
  "{%- endif %}";

export interface ChatTemplateTokens {
  bosToken?: string;
  eosToken?: string;
}

/** A compiled template; compile once per tokenizer, render per prompt. */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly tokens: ChatTemplateTokens = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new Error(`could not parse the chat template (Jinja): ${(error as Error).message}`, { cause: error });
    }
  }

  render(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (messages.length === 0) throw new Error("applyChatTemplate needs at least one message");
    for (const [i, m] of messages.entries()) {
      if (typeof m.content !== "string") throw new Error(`message ${i} (${m.role}) must have string content`);
    }
    const context: Record<string, unknown> = {
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: this.tokens.bosToken ?? "",
      eos_token: this.tokens.eosToken ?? "",
    };
    if (options.enableThinking !== undefined) context.enable_thinking = options.enableThinking;
    return this.template.render(context);
  }
}
