/**
 * Brace-matched LaTeX scanning shared by action extraction (games) and answer grading (math).
 *
 * Invariants:
 * - Every function here runs in time linear in its input and uses no recursion, so a 1 MB reply or
 *   10,000 nested braces costs one pass and cannot overflow the stack.
 * - None of them throws on any string.
 * - Braces follow TeX: `{` opens a group, `}` closes the innermost open group, and a backslash
 *   escapes the next character (`\{` and `\}` are literal braces, `\\` is a line break), so escaped
 *   braces never open or close anything. A `}` with nothing open is ignored; a group still open at
 *   the end of the text is unclosed.
 */

/** One `\boxed{…}` found in a text: its content and where the whole command sits. */
export interface BoxedSpan {
  /** The text between the braces, verbatim. */
  readonly content: string;
  /** Index of the backslash of `\boxed`. */
  readonly start: number;
  /** Index one past the closing brace. */
  readonly end: number;
}

/** Commands that box an answer. `\fbox` is plain TeX's box and some models write it instead. */
const BOX_COMMANDS = ["boxed", "fbox"] as const;

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** Length of the command name starting at `i` (just after a backslash) when it is a box command. */
function boxCommandAt(text: string, i: number): number {
  for (const name of BOX_COMMANDS) {
    if (text.startsWith(name, i) && !isLetter(text.charCodeAt(i + name.length))) return name.length;
  }
  return 0;
}

/**
 * Every closed `\boxed{…}` (or `\fbox{…}`; spaces allowed before the brace) in `text`, ordered by
 * where the command starts. Boxes nested inside boxes are all listed. Unclosed boxes are skipped.
 */
export function findBoxed(text: string): BoxedSpan[] {
  // One pass with a stack of open groups; a group opened by a box command remembers its start.
  const open: { brace: number; boxStart: number }[] = [];
  const found: BoxedSpan[] = [];
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 92 /* \ */) {
      const nameLength = boxCommandAt(text, i + 1);
      if (nameLength === 0) {
        i += 2; // an escaped character, or the first letter of some other command
        continue;
      }
      let j = i + 1 + nameLength;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 123 /* { */) {
        open.push({ brace: j, boxStart: i });
        i = j + 1;
      } else {
        i = j;
      }
      continue;
    }
    if (code === 123 /* { */) {
      open.push({ brace: i, boxStart: -1 });
    } else if (code === 125 /* } */) {
      const group = open.pop();
      if (group !== undefined && group.boxStart >= 0) {
        found.push({ content: text.slice(group.brace + 1, i), start: group.boxStart, end: i + 1 });
      }
    }
    i++;
  }
  // Inner boxes close first; order by start so "last" means the box written last.
  return found.sort((a, b) => a.start - b.start);
}

/**
 * The box written last: among the closed boxes, the one whose `\boxed` starts latest (so in
 * `\boxed{\boxed{4}}` it is the inner `4`). Undefined when there is none.
 */
export function lastBoxedSpan(text: string): BoxedSpan | undefined {
  const all = findBoxed(text);
  return all[all.length - 1];
}

/** The content of the last closed `\boxed{…}` in `text`, or undefined. */
export function lastBoxed(text: string): string | undefined {
  return lastBoxedSpan(text)?.content;
}

/** Font and text wrappers whose content is kept and whose command and braces are dropped. */
export const TEXT_WRAPPERS: readonly string[] = [
  "text",
  "textbf",
  "textit",
  "texttt",
  "textrm",
  "textsf",
  "textnormal",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "mathtt",
  "mathnormal",
  "boldsymbol",
  "mbox",
  "emph",
  "operatorname",
];

/**
 * Removes wrapper commands but keeps their content: `\text{Offer: 3 Wood}` → `Offer: 3 Wood`,
 * `\textbf{\text{bet}}` → `bet`. Spaces between the command and its brace are allowed. Other
 * commands and braces are left as they are. Linear time.
 */
export function unwrapCommands(text: string, wrappers: readonly string[] = TEXT_WRAPPERS): string {
  const names = new Set(wrappers);
  const out: string[] = [];
  const dropClose: boolean[] = []; // per open group: whether its closing brace is dropped too
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 92 /* \ */) {
      let j = i + 1;
      while (j < text.length && isLetter(text.charCodeAt(j))) j++;
      if (j > i + 1 && names.has(text.slice(i + 1, j))) {
        let k = j;
        while (k < text.length && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 123 /* { */) {
          dropClose.push(true);
          i = k + 1;
          continue;
        }
      }
      const end = j > i + 1 ? j : Math.min(i + 2, text.length); // a command name, or an escaped character
      out.push(text.slice(i, end));
      i = end;
      continue;
    }
    if (code === 123 /* { */) {
      dropClose.push(false);
      out.push("{");
    } else if (code === 125 /* } */) {
      if (dropClose.pop() !== true) out.push("}");
    } else {
      out.push(text[i] as string);
    }
    i++;
  }
  return out.join("");
}
