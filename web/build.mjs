// Bundles the dashboard's front end (web/app.ts, uPlot and the CSS) into dist/web/app.js and
// dist/web/app.css with esbuild: no CDN at run time, and `npm run build` (run by `npm ci`) does it.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Writes app.js and app.css into `outdir` (default dist/web). */
export async function buildWeb(outdir = join(here, "..", "dist", "web")) {
  await build({
    entryPoints: { app: join(here, "app.ts") },
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2022",
    outdir,
    logLevel: "warning",
  });
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb(process.argv[2]);
