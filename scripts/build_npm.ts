// Builds the npm package. Node does not strip types under node_modules, so the package carries
// dist/: the same modules as JavaScript (types removed, nothing else changed) and their type
// declarations, beside the TypeScript sources that Bun and Deno import directly.
//
//   node scripts/build_npm.ts            writes dist/ here (npm runs it before packing)
//   node scripts/build_npm.ts OUT_DIR    writes a whole package (package.json, sources, dist/)
//                                        into OUT_DIR, for tests
//
// Uses TypeScript (a devDependency); runs on Node 22.18+, Bun and Deno.

import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2];
const dist = join(out ?? root, "dist");

/** The TypeScript modules of the package: mod.ts and everything under lib/. */
function sources(dir = join(root, "lib")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

// A relative specifier of a `.ts` module in quotes: imports, import(), new URL(…) of a worker.
const RELATIVE_TS = /(["'])(\.\.?\/[^"'\n]*)\.ts\1/g;

const files = [join(root, "mod.ts"), ...sources()];
if (out) {
  rmSync(out, { recursive: true, force: true });
  for (
    const file of [
      ...files,
      ...["package.json", "README.md", "LICENSE"].map((f) => join(root, f)),
    ]
  ) {
    const target = join(out, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}
rmSync(dist, { recursive: true, force: true });
const program = ts.createProgram(files, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  declaration: true,
  noCheck: true, // checked by deno check; runtime-specific globals (Deno, Bun) need no types here
  skipLibCheck: true,
  removeComments: false,
  rootDir: root,
  outDir: dist,
});
const { emitSkipped, diagnostics } = program.emit(undefined, (path, text) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text.replace(RELATIVE_TS, "$1$2.js$1"));
});
if (emitSkipped || diagnostics.length) {
  console.error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})));
  process.exit(1);
}
console.error(`built ${files.length} modules into ${dist}`);
