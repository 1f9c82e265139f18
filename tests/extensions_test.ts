// Opt-in extensions and SQL functions on every connection: sqlite-vec (from npm) loaded by the
// writer and the readers, vectors group-committed and KNN queries on reader workers; functions
// from a module; clear errors where loading fails; refused on a remote database.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { open, SqliteError } from "../mod.ts";
import { tempPath } from "./_helpers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const suffix = process.platform === "darwin"
  ? "dylib"
  : process.platform === "win32"
  ? "dll"
  : "so";
const platform = process.platform === "win32" ? "windows" : process.platform;
const vec0 = join(root, "node_modules", `sqlite-vec-${platform}-${process.arch}`, `vec0.${suffix}`);
const noVec = existsSync(vec0)
  ? false
  : `no sqlite-vec library at ${vec0}: run npm ci --ignore-scripts (sqlite-vec@0.1.9 ships one for this platform?)`;

/** A vector of 4 floats as sqlite-vec takes it (a blob of float32). */
const vector = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe("extensions", () => {
  it("loads sqlite-vec on every connection: vectors group-committed, KNN on reader workers", {
    skip: noVec,
  }, async () => {
    const db = await open(tempPath(), { extensions: [vec0], readers: 2, routeReads: "workers" });
    try {
      assert.deepEqual(await db.get("SELECT vec_version() AS v", [], { route: "workers" }), {
        v: "v0.1.9",
      });
      await db.exec("CREATE VIRTUAL TABLE items USING vec0(embedding float[4])");
      await Promise.all(
        Array.from(
          { length: 200 },
          (_, i) =>
            db.run("INSERT INTO items(rowid, embedding) VALUES (?, ?)", [
              i + 1,
              vector(i, i, i, i),
            ]),
        ),
      );
      assert.ok(db.stats().commits < 50, `200 inserts took ${db.stats().commits} commits`);
      const knn = await db.all<{ rowid: number }>(
        "SELECT rowid FROM items WHERE embedding MATCH ? ORDER BY distance LIMIT 3",
        [vector(41.2, 41.2, 41.2, 41.2)],
      );
      assert.deepEqual(knn.map((r) => r.rowid), [42, 43, 41]);
      assert.ok(db.stats().reads - db.stats().inlineReads >= 2, "the reads ran on reader workers");
    } finally {
      await db.close();
    }
  });

  it("loads it on the calling thread's connection too (readers: 0)", { skip: noVec }, async () => {
    const db = await open(tempPath(), { extensions: [vec0], readers: 0 });
    try {
      assert.deepEqual(await db.get("SELECT vec_version() AS v"), { v: "v0.1.9" });
    } finally {
      await db.close();
    }
  });

  it("is off by default, and a file that does not load makes open() reject naming it", async () => {
    const db = await open(tempPath());
    try {
      await assert.rejects(db.get("SELECT vec_version()"), SqliteError); // no such function
    } finally {
      await db.close();
    }
    const missing = join(tmpdir(), "no-such-extension.so");
    await assert.rejects(
      open(tempPath(), { extensions: [missing] }),
      (e: Error) => e.message.includes(`Cannot load the SQLite extension ${missing}`),
    );
    await assert.rejects(open(tempPath(), { extensions: "x" as never }), TypeError);
  });
});

describe("functions", () => {
  const module = join(mkdtempSync(join(tmpdir(), "walpool-fns-")), "fns.js");
  writeFileSync(
    module,
    `export function twice(x) { return x * 2; }
     export function joined(...parts) { return parts.join("-"); }
     export function fails() { throw new Error("no good"); }
     export const notAFunction = 1;`,
  );
  const url = pathToFileURL(module);

  for (const readers of [2, 0]) {
    it(`makes a module's functions SQL functions on every connection (readers: ${readers})`, async () => {
      const db = await open(tempPath(), { functions: url, readers });
      try {
        await db.exec("CREATE TABLE t(x)");
        await db.run("INSERT INTO t VALUES (twice(?))", [21]); // the writer
        assert.deepEqual(await db.get("SELECT x FROM t"), { x: 42 });
        assert.deepEqual(await db.get("SELECT twice(x) AS y FROM t", [], { route: "inline" }), {
          y: 84,
        });
        if (readers) {
          assert.deepEqual(await db.get("SELECT twice(x) AS y FROM t", [], { route: "workers" }), {
            y: 84,
          });
        }
        assert.deepEqual(await db.get("SELECT joined('a', 'b', 'c') AS j"), { j: "a-b-c" });
        await assert.rejects(db.get("SELECT fails()"), /no good/);
        await assert.rejects(db.get("SELECT notAFunction()"), /no such function/);
        await db.transaction(async (tx) => {
          assert.deepEqual(await tx.get("SELECT twice(2) AS v"), { v: 4 });
        });
      } finally {
        await db.close();
      }
    });
  }

  it("refuses a functions option that is not a module URL, and one that cannot be imported", async () => {
    await assert.rejects(open(tempPath(), { functions: "./fns.js" }), TypeError);
    await assert.rejects(
      open(tempPath(), { functions: pathToFileURL(join(tmpdir(), "no-such-fns.js")) }),
      /Cannot import the functions module/,
    );
  });
});
