#!/usr/bin/env node
// The `spiral` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { runCli } from "../dist/cli/main.js";

await runCli(process.argv);
