import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// Lints fixture text as if it were a file at `path` under the repository, with the project's own
// eslint.config.js, and returns the layer rule's messages.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const eslint = new ESLint({ cwd: root });

async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "spiral/layers").map((m) => m.message);
}

describe("the layer rule (lint/layers.js)", () => {
  it("fails an import from a layer above", async () => {
    const errors = await layerErrors("src/games/layer-fixture.ts", 'import { train } from "../rl/loop.js";\nexport const t = train;\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/src\/games\/layer-fixture\.ts \(layer games\) imports src\/rl\/loop\.js \(layer rl, a layer above it\)/);
  });

  it("fails re-exports and imports between siblings on one level", async () => {
    expect(await layerErrors("src/engine/layer-fixture.ts", 'export * from "../prompt/compact.js";\n')).toHaveLength(1);
    const sibling = await layerErrors("src/sweep/layer-fixture.ts", 'export { startServer } from "../serve/server.js";\n');
    expect(sibling[0]).toMatch(/a sibling on the same level/);
  });

  it("passes imports downward and within a folder", async () => {
    const code = 'import { createRng } from "../core/rng.js";\nimport { getGame } from "../games/registry.js";\nimport { train } from "./loop.js";\nexport const x = [createRng, getGame, train];\n';
    expect(await layerErrors("src/rl/layer-fixture.ts", code)).toEqual([]);
    expect(await layerErrors("src/cli/layer-fixture.ts", 'import { train } from "../rl/loop.js";\nexport const t = train;\n')).toEqual([]);
  });

  it("holds an exception to the file it names", async () => {
    // The one kept exception: spiral/eval's export of the server.
    const code = 'export { serveModel } from "../serve/server.js";\n';
    expect(await layerErrors("src/eval/index.ts", code)).toEqual([]);
    expect(await layerErrors("src/eval/layer-fixture.ts", code)).toHaveLength(1);
  });

  it("lets a test drive its layer through the layers above it", async () => {
    expect(await layerErrors("src/games/layer-fixture.test.ts", 'import { train } from "../rl/loop.js";\nexport const t = train;\n')).toEqual([]);
  });

  it("asks for a place in the order for a folder it does not know", async () => {
    const errors = await layerErrors("src/widgets/layer-fixture.ts", 'import { createRng } from "../core/rng.js";\nexport const r = createRng;\n');
    expect(errors[0]).toMatch(/src\/widgets\/ has no place in the layer order/);
  });
});
