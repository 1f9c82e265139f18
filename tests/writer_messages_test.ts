// The writer's answers messages, when many wait at once, are not all handled in one go: once they
// (and the callers they resume) have kept the calling thread busy for a few milliseconds, the
// rest wait for the event loop to turn, so timers and I/O run in between (lib/_worker_client.ts).
// And the other way: request messages that wait together at the writer join one commit.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { sleep, tempPath } from "./_helpers.ts";

/** Keeps this thread busy for `ms`, as a heavy request handler would. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

describe("the writer's answers", () => {
  it("waiting together, let a timer run before the last of them is handled, and all arrive in order", async () => {
    // Every write goes to the writer (none runs on this thread), one message each way per write.
    const db = await open(tempPath(), { routeTransactions: "writer" });
    try {
      await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");
      const events: string[] = [];
      const writes: Promise<unknown>[] = [];
      // 30 writes, each sent alone (the microtask between them sends it) and answered while this
      // thread spins without returning to its event loop: 30 answers messages wait together.
      for (let i = 1; i <= 30; i++) {
        writes.push(
          db.run("INSERT INTO t(id) VALUES (?)", [i]).then(() => {
            events.push(`write ${i}`);
            spin(1); // what resuming the caller costs
          }),
        );
        await Promise.resolve();
        await Promise.resolve();
        spin(15);
      }
      const timer = new Promise<void>((resolve) =>
        setTimeout(() => {
          events.push("timer");
          resolve();
        }, 0)
      );
      await Promise.all([...writes, timer]);
      const writesOnly = events.filter((e) => e !== "timer");
      assert.deepEqual(writesOnly, Array.from({ length: 30 }, (_, i) => `write ${i + 1}`));
      assert.ok(
        events.indexOf("timer") < events.length - 1,
        `the timer ran after every answer was handled: ${events.join(", ")}`,
      );
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n: 30 });
    } finally {
      await db.close();
    }
  });
});

describe("the writer's requests", () => {
  it("sent in several messages while the writer was busy, are committed together", async () => {
    const db = await open(tempPath(), { readers: 0, routeTransactions: "writer" });
    try {
      await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
      // A slow write holds the writer (a few hundred milliseconds of SQL); the writes made
      // meanwhile are posted at once, 1 024 requests in eight messages of 128, and wait in its
      // port. The writer, handed the first, must take the others in before it commits (each
      // alone: 128 a commit at most). (A transaction holding the writer instead keeps the writes
      // on this thread until it ends; the writer may then be handed the first message before the
      // others are posted, which a busy machine made happen.)
      const slow = db.run(
        `INSERT INTO t(v) SELECT count(*) FROM (WITH RECURSIVE c(i) AS
          (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000000) SELECT i FROM c)`,
      );
      await sleep(20); // the slow write is in the writer's hands
      const writes = Array.from(
        { length: 1024 },
        (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]),
      );
      const { commits } = db.stats();
      await slow;
      assert.equal(db.stats().commits, commits + 1, "the slow write outlasted the 20 ms");
      await Promise.all(writes);
      const { largestCommit } = db.stats();
      assert.ok(largestCommit > 128, `largest commit ${largestCommit}: one message's worth`);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n: 1025 });
    } finally {
      await db.close();
    }
  });
});
