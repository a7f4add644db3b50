#!/usr/bin/env node
// The `spiral` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from "../dist/cli/main.js";

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
