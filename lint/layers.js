// The layer order of src/ (see ARCHITECTURE.md), enforced by `npm run lint` (and so by `npm test`):
// a module imports from its own folder and from the layers below it, never from a layer above it
// nor from a sibling on its own level. Test files (*.test.ts) are exempt: a test may drive its
// layer through the real components above it (a real `spiral serve`, the CLI).
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = resolve(ROOT, "src");

/** Bottom to top; folders on one level (serve, dashboard, sweep) may not import each other. */
export const LAYERS = [["core"], ["games"], ["engine"], ["prompt"], ["policy"], ["eval"], ["rl"], ["serve", "dashboard", "sweep"], ["cli"]];

/** The package entry (src/index.ts) sits above everything: it re-exports every layer. */
const ENTRY_RANK = LAYERS.length;

/** Kept on purpose, each with its reason. */
export const EXCEPTIONS = {
  // Public API: `spiral/eval` has exported the OpenAI-compatible server since it was written;
  // a `spiral/serve` entry should take it over at the next breaking release.
  "eval/index.ts": ["serve/server.js"],
};

/** The layer rank of a folder under src/; undefined for a folder the order does not know. */
function rankOf(folder) {
  const i = LAYERS.findIndex((level) => level.includes(folder));
  return i < 0 ? undefined : i;
}

/** "eval/arena.ts" → "eval"; a file directly in src/ → "" (the entry). */
function folderOf(pathInSrc) {
  const parts = pathInSrc.split("/");
  return parts.length === 1 ? "" : parts[0];
}

const ORDER = LAYERS.map((level) => level.join("|")).join(" → ");

/** @type {import("eslint").Rule.RuleModule} */
const layersRule = {
  meta: {
    type: "problem",
    docs: { description: "imports follow the layer order of src/ (ARCHITECTURE.md)" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const fromPath = relative(SRC, file).split(sep).join("/");
    if (fromPath.startsWith("..") || fromPath.endsWith(".test.ts")) return {};
    const fromFolder = folderOf(fromPath);
    const fromRank = fromFolder === "" ? ENTRY_RANK : rankOf(fromFolder);
    const allowed = EXCEPTIONS[fromPath] ?? [];

    function check(node, source) {
      const spec = source?.value;
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const toPath = relative(SRC, resolve(dirname(file), spec)).split(sep).join("/");
      if (toPath.startsWith("..")) return;
      const toFolder = folderOf(toPath);
      if (toFolder === fromFolder || allowed.includes(toPath)) return;
      if (fromRank === undefined) {
        context.report({ node, message: `src/${fromFolder}/ has no place in the layer order (${ORDER}): add it to LAYERS in lint/layers.js and to ARCHITECTURE.md` });
        return;
      }
      const toRank = toFolder === "" ? ENTRY_RANK : rankOf(toFolder);
      if (toRank !== undefined && toRank < fromRank) return;
      const where = toRank === fromRank ? "a sibling on the same level" : "a layer above it";
      context.report({
        node,
        message: `src/${fromPath} (layer ${fromFolder}) imports src/${toPath} (${toFolder === "" ? "the package entry" : `layer ${toFolder}`}, ${where}); layers import only downward: ${ORDER} (ARCHITECTURE.md)`,
      });
    }

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export const layersPlugin = { rules: { layers: layersRule } };
