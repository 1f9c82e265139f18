// The npm package as users get it: built and packed with `npm pack`, installed into a fresh app
// (`npm install <tarball>` on Node, `bun add <path>` on Bun) and imported by its name — Node
// loads the JavaScript in dist/, Bun the TypeScript.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { runtime, tempPath } from "./_helpers.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

/** Runs a command to completion; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { cwd, timeout: 300_000, maxBuffer: 16 << 20 },
      (error, out, err) =>
        error
          ? reject(new Error(`${cmd} ${args.join(" ")}: ${error.message}\n${out}\n${err}`))
          : resolve(out),
    )
  );
}

// What an app does with the installed package: every entry point, the workers, a transaction.
const APP = `
import { ident, open } from "walpool";
import { WalpoolDialect } from "walpool/kysely";
import { walpoolProxy } from "walpool/drizzle";

const db = await open(process.argv[2], {
  readers: 1,
  migrations: ["CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"],
});
await Promise.all(Array.from({ length: 100 }, (_, i) => db.run("INSERT INTO t(v) VALUES (?)", ["v" + i])));
const { n } = await db.sql.get\`SELECT count(*) AS n FROM \${ident("t")}\`;
const tx = await db.transaction(async (tx) => (await tx.run("INSERT INTO t(v) VALUES ('tx')")).lastInsertRowid);
const { largestCommit } = db.stats();
await db.close();
console.log(JSON.stringify({
  n, tx, largestCommit,
  kysely: typeof WalpoolDialect,
  drizzle: typeof walpoolProxy,
  resolved: import.meta.resolve("walpool"),
}));
`;

// A TypeScript app of a Node user (with @types/node): strict, NodeNext, type-checked against the
// installed package, its declarations included.
const TYPED_APP = `
import { type Database, ident, MigrationError, open, type RunResult, type Stats } from "walpool";
import { WalpoolDialect } from "walpool/kysely";
import { walpoolProxy } from "walpool/drizzle";

const db: Database = await open("typed.db", { readers: 2, migrations: ["CREATE TABLE t(v)"] });
const r: RunResult = await db.run("INSERT INTO t(v) VALUES (?)", [1]);
const row = await db.sql.get<{ v: number }>\`SELECT v FROM \${ident("t")}\`;
const v: number | undefined = row?.v;
const s: Stats = db.stats();
const p99: number = s.writeLatency.p99Ms;
// @ts-expect-error: a function is not a value that can be bound
await db.run("INSERT INTO t(v) VALUES (?)", [() => 1]);
console.log(r, v, p99, MigrationError, WalpoolDialect, walpoolProxy);
`;

describe("npm package", {
  skip: runtime === "deno"
    ? "Deno users import walpool from JSR or a URL (url_import_test.ts)"
    : false,
}, () => {
  it(`installs from its tarball and works imported by name on ${runtime}`, async () => {
    const dir = dirname(tempPath());
    const pkg = join(dir, "pkg");
    const app = join(dir, "app");
    await run(process.execPath, [join(root, "scripts/build_npm.ts"), pkg], root);

    const [packed] = JSON.parse(
      await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], pkg),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed.files.map((f) => f.path);
    for (
      const f of [
        "mod.ts",
        "lib/writer_worker.ts",
        "dist/mod.js",
        "dist/mod.d.ts",
        "dist/lib/writer_worker.js",
      ]
    ) {
      assert.ok(files.includes(f), `the tarball holds ${f}`);
    }
    assert.deepEqual(files.filter((f) => /^(tests|bench|scripts|examples)\//.test(f)), []);

    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
    const tarball = join(dir, packed.filename);
    // Bun: `bun add` from a path (the package's folder); Node: npm from the tarball.
    if (runtime === "bun") await run(process.execPath, ["add", pkg], app);
    else await run("npm", ["install", "--no-audit", "--no-fund", tarball], app);
    writeFileSync(join(app, "app.mjs"), APP);

    // Its declarations type-check a strict TypeScript app (tsc from walpool's devDependencies).
    writeFileSync(join(app, "typed.ts"), TYPED_APP);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          target: "es2022",
          lib: ["es2022"], // AsyncDisposable comes from @types/node
          noEmit: true,
          skipLibCheck: false, // walpool's declarations are checked too
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")], // @types/node of walpool's devDependencies
        },
        files: ["typed.ts"],
      }),
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    await run(process.execPath, [tsc, "-p", "tsconfig.json"], app);

    const out = await run(process.execPath, ["app.mjs", join(dir, "app.db")], app);
    const result = JSON.parse(out.trim().split("\n").pop()!);
    assert.equal(result.n, 100);
    assert.equal(result.tx, 101);
    assert.ok(result.largestCommit > 1, "the 100 concurrent writes were grouped");
    assert.equal(result.kysely, "function");
    assert.equal(result.drizzle, "function");
    // Node runs the built JavaScript; Bun the TypeScript sources, as package.json says.
    assert.match(
      result.resolved,
      runtime === "bun"
        ? /node_modules\/walpool\/mod\.ts$/
        : /node_modules\/walpool\/dist\/mod\.js$/,
    );
  });
});
