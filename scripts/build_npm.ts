// Builds the npm package: Node does not strip types under node_modules, so the package carries
// JavaScript in dist/ for Node (the same modules, types stripped, `.ts` imports renamed `.js`)
// beside the TypeScript sources that Bun and Deno import directly.
//
//   node scripts/build_npm.ts            writes dist/ here (npm runs it before packing)
//   node scripts/build_npm.ts OUT_DIR    writes a whole package (package.json, sources, dist/)
//                                        into OUT_DIR, for tests
//
// Runs on Node 22.18+ and Deno (module.stripTypeScriptTypes) and on Bun (its transpiler); no
// dependency.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import module from "node:module";
import process from "node:process";

type Strip = (code: string, options: { mode: "strip" }) => string;
declare const Bun: {
  Transpiler: new (o: { loader: "ts" }) => { transformSync(c: string): string };
};
const strip: Strip = (module as unknown as { stripTypeScriptTypes?: Strip }).stripTypeScriptTypes ??
  ((code) => new Bun.Transpiler({ loader: "ts" }).transformSync(code));

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2];
const pkg = out ?? root;

/** The TypeScript modules of the package: mod.ts and everything under lib/. */
function sources(dir = join(root, "lib")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

// A relative specifier of a `.ts` module in quotes: import/export froms, import(), new URL().
const RELATIVE_TS = /(["'])(\.\.?\/[^"'\n]*)\.ts\1/g;

const files = [join(root, "mod.ts"), ...sources()];
if (out) {
  rmSync(out, { recursive: true, force: true });
  for (const name of ["package.json", "README.md", "LICENSE"]) {
    mkdirSync(out, { recursive: true });
    copyFileSync(join(root, name), join(out, name));
  }
  for (const file of files) {
    const target = join(out, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}
rmSync(join(pkg, "dist"), { recursive: true, force: true });
for (const file of files) {
  const js = strip(readFileSync(file, "utf8"), { mode: "strip" })
    .replace(RELATIVE_TS, "$1$2.js$1");
  const target = join(pkg, "dist", relative(root, file)).replace(/\.ts$/, ".js");
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, js);
}
console.error(`built ${files.length} modules into ${join(pkg, "dist")}`);
