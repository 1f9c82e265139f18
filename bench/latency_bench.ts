// Latency of one call, one at a time: walpool against the raw node:sqlite binding (the
// baseline of each group), both in WAL mode with synchronous = NORMAL on temporary files.
//
//   deno bench -A bench/latency_bench.ts
//
// These numbers are the cost of a round trip to a worker (walpool) versus a synchronous call on
// the calling thread (raw); bench/throughput.ts measures what concurrency buys back.

import { DatabaseSync } from "node:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "walpool-latency-"));
globalThis.addEventListener("unload", () => rmSync(dir, { recursive: true, force: true }));

const SCHEMA = "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
const INSERT = "INSERT INTO t(body) VALUES (?)";
const POINT = "SELECT id, body FROM t WHERE id = ?";
const ROWS = 10_000;
const text = (i: number) => `row ${i} lorem ipsum dolor sit amet consectetur adipiscing elit`;

// The raw baseline: one connection on this thread.
const raw = new DatabaseSync(join(dir, "raw.db"));
raw.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
raw.exec(SCHEMA);
const rawInsert = raw.prepare(INSERT);
const rawPoint = raw.prepare(POINT);

// walpool, with reader workers and with an inline reader, each on a file of its own.
const withReader = await open(join(dir, "walpool-1.db"), { readers: 1 });
const inline = await open(join(dir, "walpool-0.db"), { readers: 0 });

// The same rows in every database, for the point reads.
raw.exec("BEGIN");
for (let i = 0; i < ROWS; i++) rawInsert.run(text(i));
raw.exec("COMMIT");
for (const db of [withReader, inline]) {
  await db.exec(SCHEMA);
  await db.batch(Array.from({ length: ROWS }, (_, i) => ({ sql: INSERT, params: [text(i)] })));
}

let n = 0;
const nextId = () => (n = (n * 7919 + 1) % ROWS) + 1;

Deno.bench("raw: INSERT in its own transaction", {
  group: "write round trip",
  baseline: true,
}, () => {
  rawInsert.run(text(n++));
});

Deno.bench("walpool: run(INSERT)", { group: "write round trip" }, async () => {
  await withReader.run(INSERT, [text(n++)]);
});

Deno.bench("raw: get by primary key", { group: "point read", baseline: true }, () => {
  rawPoint.get(nextId());
});

Deno.bench("walpool readers:1: get by primary key", { group: "point read" }, async () => {
  await withReader.get(POINT, [nextId()]);
});

Deno.bench("walpool readers:0: get by primary key", { group: "point read" }, async () => {
  await inline.get(POINT, [nextId()]);
});

Deno.bench("raw: transaction of 10 INSERTs", { group: "batch of 10", baseline: true }, () => {
  raw.exec("BEGIN");
  for (let i = 0; i < 10; i++) rawInsert.run(text(n++));
  raw.exec("COMMIT");
});

Deno.bench("walpool: batch() of 10 INSERTs", { group: "batch of 10" }, async () => {
  await withReader.batch(
    Array.from({ length: 10 }, () => ({ sql: INSERT, params: [text(n++)] })),
  );
});
