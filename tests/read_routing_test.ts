// Where reads run (routeReads: "adaptive", the default): a cheap SQL text on the calling thread,
// a dear or unknown one on a reader worker, and reads past the burst limit after the event loop
// turns.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open } from "../mod.ts";
import { internals } from "../lib/database.ts";
import { learnCost } from "../lib/_costs.ts";
import { INLINE_MAX_MS } from "../lib/readers.ts";
import { tempPath } from "./_helpers.ts";

const POINT = "SELECT v FROM t WHERE id = ?";

const opened: Database[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});

async function seeded(): Promise<Database> {
  const db = await open(tempPath(), { readers: 2 });
  opened.push(db);
  await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  await db.batch(Array.from({ length: 100 }, (_, i) => ({
    sql: "INSERT INTO t(id, v) VALUES (?, ?)",
    params: [i + 1, `v${i + 1}`],
  })));
  return db;
}

/** How many of the reads `fn` makes run on the calling thread, and how many on workers. */
async function placed(db: Database, fn: () => Promise<unknown>) {
  const before = db.stats();
  await fn();
  const after = db.stats();
  const inline = after.inlineReads - before.inlineReads;
  return { inline, workers: after.reads - before.reads - inline };
}

/**
 * Reads POINT until one runs on the calling thread: its cost, a moving average of what the
 * workers measured (the first read of a text includes preparing it), falls below 0.1 ms. Then 40
 * more (one read in eight is timed: five samples of the calling thread's cost), so that the
 * average is well below the limit, not just under it: one timed read that a busy machine preempts
 * must not send the next ones to a worker (it did, once, with the whole suite running in parallel).
 */
async function warm(db: Database): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await placed(db, () => db.get(POINT, [1]))).inline === 1) {
      for (let j = 0; j < 40; j++) await db.get(POINT, [1]);
      return;
    }
  }
  assert.fail("100 reads of a point read, and none ran on the calling thread");
}

describe("where reads run (routeReads: adaptive)", () => {
  it("a SQL text not seen yet goes to a worker; once known to be cheap, it runs inline", async () => {
    const db = await seeded();
    assert.deepEqual(await placed(db, () => db.get(POINT, [1])), { inline: 0, workers: 1 });
    // The workers' answers carry what the reads cost there.
    await warm(db);
    assert.deepEqual(
      await placed(db, async () => {
        for (let id = 1; id <= 20; id++) {
          assert.deepEqual(await db.get(POINT, [id]), { v: `v${id}` });
        }
      }),
      { inline: 20, workers: 0 },
    );
  });

  it("a read that costs more than a worker round trip stays on the workers", async () => {
    const db = await seeded();
    // A recursive count to 300 000: milliseconds per read on any machine.
    const DEAR =
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) " +
      "SELECT count(*) AS n FROM c";
    assert.deepEqual(
      await placed(db, async () => {
        for (let i = 0; i < 3; i++) assert.deepEqual(await db.get(DEAR), { n: 300000 });
      }),
      { inline: 0, workers: 3 },
    );
  });

  it("route forces a side for one call", async () => {
    const db = await seeded();
    await warm(db);
    assert.deepEqual(
      await placed(db, () => db.get(POINT, [2], { route: "workers" })),
      { inline: 0, workers: 1 },
    );
    assert.deepEqual(
      await placed(db, () => db.get("SELECT count(*) AS n FROM t", [], { route: "inline" })),
      { inline: 1, workers: 0 },
    );
  });

  it("reads that keep the event loop from turning wait for it past 5 ms, then run inline", async () => {
    const db = await seeded();
    await warm(db);
    const { readers } = internals.get(db)!;
    let turned = false;
    setTimeout(() => (turned = true), 0);
    let reads = 0;
    let last = { inline: 0, workers: 0 };
    const began = performance.now();
    // Awaited inline reads alone never let a timer run: only the burst limit does.
    while (!turned && performance.now() - began < 2000) {
      const inline = readers.inlineReads, all = readers.reads;
      await db.get(POINT, [1 + (reads++ % 100)]);
      last = {
        inline: readers.inlineReads - inline,
        workers: readers.reads - all - (readers.inlineReads - inline),
      };
    }
    assert.ok(turned, `the event loop never turned in ${reads} reads`);
    assert.ok(reads > 100, `${reads} reads before the loop turned: the limit is 5 ms, not a read`);
    assert.deepEqual(last, { inline: 1, workers: 0 }, "the read that waited for the turn ran here");
  });

  it("close() lets reads waiting for the event loop to turn finish", async () => {
    const db = await seeded();
    await warm(db);
    // Keep reading inline without yielding until the burst limit sends reads to the next turn.
    const pending: Promise<unknown>[] = [];
    const began = performance.now();
    while (performance.now() - began < 20) {
      pending.push(db.get(POINT, [1 + (pending.length % 100)]));
    }
    const closed = db.close();
    const rows = await Promise.all(pending);
    await closed;
    assert.equal(rows.length, pending.length);
    for (const [i, row] of rows.entries()) assert.deepEqual(row, { v: `v${1 + (i % 100)}` });
  });

  it("one slow sample does not make a cheap text dear; a text dear run after run soon is", () => {
    const costs = new Map<string, number>();
    for (let i = 0; i < 50; i++) learnCost(costs, "cheap", 0.002);
    learnCost(costs, "cheap", 5); // a 5 ms collection inside one timed read
    assert.ok(costs.get("cheap")! < INLINE_MAX_MS, `${costs.get("cheap")} ms after one pause`);
    for (const start of [0.002, 0]) { // 0: a read too quick for the clock
      costs.set("grows", start);
      let samples = 0;
      while (costs.get("grows")! <= INLINE_MAX_MS && samples < 100) {
        learnCost(costs, "grows", 5);
        samples++;
      }
      assert.ok(samples <= 10, `${samples} samples of 5 ms to pass 0.1 ms from ${start} ms`);
    }
  });
});
