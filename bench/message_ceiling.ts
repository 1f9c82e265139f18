// What message passing alone allows: 256 concurrent callers, each awaiting one request at a
// time, sent to a worker in one message per tick and answered in one message per batch, as
// walpool does, but with no other bookkeeping. Two wire shapes, each without and with SQLite
// doing the inserts in one transaction per message (a minimal group-commit writer).
//
//   deno run -A bench/message_ceiling.ts | bun bench/message_ceiling.ts | node bench/message_ceiling.ts
//
// The last row is walpool itself, driven the same way, for comparison within one run.
//
// "objects": one object per request carrying its SQL text, one object per answer (walpool's
// current protocol). "compact": the SQL texts once per message and the parameters in one array;
// the answers as numbers in one transferred Float64Array. With a chunk size, the worker commits a
// message in transactions of at most that many requests and answers after each, so that both
// threads work at the same time (what maxBatch does in walpool).
// Reported in requests per second.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { body, runtimeVersion } from "./_raw.ts";
import { startWorker } from "./_workers.ts";
import { open } from "../mod.ts";
import type { CompactRequests, ObjectRequests } from "./message_ceiling_worker.ts";

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const quick = args.includes("--quick") || process.env.WALPOOL_BENCH_QUICK === "1";
const ROWS = quick ? 30_000 : 300_000;
const CALLERS = 256;
const SQL = "INSERT INTO t(body) VALUES (?)";
const dir = mkdtempSync(join(tmpdir(), "walpool-ceiling-"));
let files = 0;

async function measure(
  shape: "objects" | "compact",
  sqlite: boolean,
  chunk = Infinity,
  callers = CALLERS,
  rows = ROWS,
): Promise<number> {
  const worker = await startWorker(new URL("./message_ceiling_worker.ts", import.meta.url));
  const pending = new Map<number, (value: unknown) => void>();
  let opened: () => void = () => {};
  worker.onMessage((message) => {
    const m = message as
      | { t: "opened" }
      | { t: "answers"; answers: { id: number; value: unknown }[] }
      | { t: "results"; first: number; results: Float64Array };
    if (m.t === "opened") return opened();
    if (m.t === "answers") {
      for (const a of m.answers) {
        const resolve = pending.get(a.id)!;
        pending.delete(a.id);
        resolve(a.value);
      }
    } else {
      for (let i = 0; i < m.results.length / 2; i++) {
        const resolve = pending.get(m.first + i)!;
        pending.delete(m.first + i);
        resolve({ changes: m.results[2 * i], lastInsertRowid: m.results[2 * i + 1] });
      }
    }
  });
  if (sqlite) {
    await new Promise<void>((resolve) => {
      opened = resolve;
      worker.post({ t: "open", path: join(dir, `${files++}.db`) });
    });
  }
  let outbox: { id: number; sql: string; params: unknown[] }[] = [];
  let scheduled = false;
  let nextId = 0;
  const flush = () => {
    scheduled = false;
    const reqs = outbox;
    outbox = [];
    if (shape === "objects") {
      worker.post(
        {
          t: "objects",
          reqs: reqs.map((r) => ({ id: r.id, kind: "run", sql: r.sql, params: r.params })),
        } satisfies ObjectRequests,
      );
    } else {
      const sqls: string[] = [];
      const index = new Map<string, number>();
      const sql = reqs.map((r) => {
        let i = index.get(r.sql);
        if (i === undefined) index.set(r.sql, i = sqls.push(r.sql) - 1);
        return i;
      });
      const params = reqs.map((r) => r.params);
      worker.post(
        { t: "compact", first: reqs[0].id, sqls, sql, params, chunk } satisfies CompactRequests,
      );
    }
  };
  const run = (sql: string, params: unknown[]) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      outbox.push({ id, sql, params });
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    for (let i = next++; i < rows; i = next++) await run(SQL, [body(i)]);
  }));
  const rate = rows / ((performance.now() - started) / 1000);
  worker.terminate();
  return rate;
}

console.log(
  `### ${runtimeVersion()}: message passing ceiling, ${CALLERS} callers, ${ROWS} requests`,
);
console.log("");
console.log("| wire shape | worker work | requests/s |");
console.log("| --- | --- | --- |");
const variants = [
  ["objects", false, Infinity, "none (answers at once)"],
  ["compact", false, Infinity, "none (answers at once)"],
  ["objects", true, Infinity, "INSERT each, one transaction per message"],
  ["compact", true, Infinity, "INSERT each, one transaction per message"],
  ["compact", true, 128, "INSERT each, transactions of at most 128, each answered at once"],
  ["compact", true, 64, "INSERT each, transactions of at most 64, each answered at once"],
] as const;
for (const [shape, sqlite, chunk, work] of variants) {
  await measure(shape, sqlite, chunk); // warm-up
  const rate = await measure(shape, sqlite, chunk);
  console.log(`| ${shape} | ${work} | ${Math.round(rate).toLocaleString("en-US")} |`);
}
// walpool itself, the same way, for comparison within this run.
async function walpool(): Promise<number> {
  const db = await open(join(dir, `${files++}.db`), { readers: 0 });
  await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    for (let i = next++; i < ROWS; i = next++) await db.run(SQL, [body(i)]);
  }));
  const rate = ROWS / ((performance.now() - started) / 1000);
  await db.close();
  return rate;
}
await walpool(); // warm-up
console.log(
  `| walpool (for comparison) | run() through the library, group commit up to maxBatch 1000 | ${
    Math.round(await walpool()).toLocaleString("en-US")
  } |`,
);

// One caller: the round trip of one request to an idle worker and back (thread wake-ups).
await measure("objects", false, Infinity, 1, 2_000);
const single = await measure("objects", false, Infinity, 1, quick ? 2_000 : 10_000);
console.log("");
console.log(`One caller, one request at a time: ${(1e6 / single).toFixed(1)} µs per round trip.`);
rmSync(dir, { recursive: true, force: true });
