// Lint runs as part of `npm test`. The project's rules beyond the recommended sets: no hidden
// randomness — every stochastic function takes a seeded RNG (see src/core/rng.ts); and imports
// follow the layer order of src/ (lint/layers.js, ARCHITECTURE.md).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { layersPlugin } from "./lint/layers.js";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "runs/", "coverage/", "bench/out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Use a seeded RNG (src/core/rng.ts): no hidden randomness." },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { spiral: layersPlugin },
    rules: { "spiral/layers": "error" },
  },
);
