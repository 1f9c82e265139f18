// Errors point at the caller: a failed call's stack names the function and file that awaited it
// (not a MessagePort handler), keeps the worker-side stack, and a caller's own error thrown in a
// transaction callback keeps its own stack.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, SqliteError } from "../mod.ts";
import { tempPath } from "./_helpers.ts";

/** The caller's frame: this file, a line number, and the function name given. */
const callerFrame = (name: string) => new RegExp(`at (async )?${name} \\(.*stacks_test\\.ts:\\d+`);

describe("error stacks", () => {
  let db: Database;
  before(async () => {
    // On the writer: these are about errors made in a worker (a write known to be cheap would
    // otherwise run alone on this thread; see the last test).
    db = await open(tempPath(), { readers: 1, routeTransactions: "writer" });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, u UNIQUE)");
    await db.run("INSERT INTO t(u) VALUES (1)");
  });
  after(() => db.close());

  it("a failed run() names the caller's function and file, then the writer's stack", async () => {
    async function insertTwice() {
      await db.run("INSERT INTO t(u) VALUES (1)");
    }
    const error = await insertTwice().then(() => assert.fail("resolved"), (e: Error) => e);
    assert.ok(error instanceof SqliteError);
    assert.match(error.stack!, callerFrame("insertTwice"));
    assert.doesNotMatch(error.stack!.split("-- thrown in")[0], /MessagePort|onmessage/);
    assert.match(error.stack!, /-- thrown in a walpool worker --\n\s+at .*/);
  });

  it("a failed read names the caller on a reader worker and on the calling thread", async () => {
    async function readOnWorker() {
      await db.get("SELECT nope FROM t", [], { route: "workers" });
    }
    async function readInline() {
      await db.get("SELECT nope FROM t", [], { route: "inline" });
    }
    for (
      const [fn, name] of [[readOnWorker, "readOnWorker"], [readInline, "readInline"]] as const
    ) {
      const error = await fn().then(() => assert.fail("resolved"), (e: Error) => e);
      assert.equal(error.name, "SqliteError");
      assert.match(error.stack!, callerFrame(name), name);
    }
  });

  // V8 follows the promise chain by itself; Bun's stack needs callerStack (it fails without).
  it("a read that failed after waiting for the event loop to turn names the caller", async () => {
    const adaptive = await open(tempPath(), { readers: 1 });
    const READ = "SELECT v FROM big WHERE id = ?";
    async function readPastTheBurst() {
      let turned = false;
      setTimeout(() => (turned = true), 0);
      while (!turned) await adaptive.get(READ, [1]);
      // The turn has come: the burst limit is counting again. Fill it without awaiting, then
      // read the row that fails, after the next turn.
      const began = performance.now();
      while (performance.now() - began < 20) adaptive.get(READ, [1]);
      await adaptive.get(READ, [2]);
    }
    try {
      await adaptive.exec("CREATE TABLE big(id INTEGER PRIMARY KEY, v)");
      await adaptive.batch([
        { sql: "INSERT INTO big(id, v) VALUES (1, 1)" },
        { sql: "INSERT INTO big(id, v) VALUES (2, ?)", params: [2n ** 60n] },
      ]);
      // Known to be cheap first: it then runs on this thread.
      for (let i = 0; i < 100 && adaptive.stats().inlineReads === 0; i++) {
        await adaptive.get(READ, [1]);
      }
      assert.ok(adaptive.stats().inlineReads > 0, "the point read never ran on this thread");
      const error = await readPastTheBurst().then(() => assert.fail("resolved"), (e: Error) => e);
      assert.equal(error.name, "RangeError", String(error));
      assert.match(error.stack!, callerFrame("readPastTheBurst"));
    } finally {
      await adaptive.close();
    }
  });

  it("a failed statement in a transaction names the callback's caller", async () => {
    async function moveInTransaction() {
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(u) VALUES (1)");
      });
    }
    const error = await moveInTransaction().then(() => assert.fail("resolved"), (e: Error) => e);
    assert.ok(error instanceof SqliteError);
    assert.match(error.stack!, callerFrame("moveInTransaction"));
  });

  it("the caller's own error thrown in a transaction callback keeps its own stack", async () => {
    function failsHere(): never {
      throw new Error("mine");
    }
    const error = await db.transaction(() => failsHere()).then(
      () => assert.fail("resolved"),
      (e: Error) => e,
    );
    assert.equal(error.message, "mine");
    assert.match(error.stack!, /at failsHere \(.*stacks_test\.ts:\d+/);
    assert.doesNotMatch(error.stack!, /thrown in a walpool worker/);
  });

  it("a bad parameter's TypeError names the caller at once", async () => {
    async function bindsAFunction() {
      await db.run("INSERT INTO t(u) VALUES (?)", [(() => 1) as never]);
    }
    const error = await bindsAFunction().then(() => assert.fail("resolved"), (e: Error) => e);
    assert.ok(error instanceof TypeError);
    assert.match(error.stack!, callerFrame("bindsAFunction"));
  });

  it("a write failed on the calling thread names its caller too", async () => {
    const here = await open(tempPath());
    const insert = "INSERT OR ROLLBACK INTO t(u) VALUES (?)";
    async function insertAgain() {
      await here.run(insert, [1]);
    }
    try {
      await here.exec("CREATE TABLE t(u UNIQUE)");
      await here.run("INSERT INTO t(u) VALUES (1)");
      // Where a write runs depends on what its SQL cost lately (a busy machine may keep it on
      // the writer a while; a failing one costs the writer more than one that succeeds, so it
      // alone may never get under the limit): a new value teaches the cost where it runs, then
      // the failing one is tried, until it failed here (for up to 30 s: a full CI run on two
      // cores kept it on the writer for all of 200 tries once).
      let error: Error | undefined;
      const until = performance.now() + 30_000;
      for (let i = 0; performance.now() < until && !error; i++) {
        await here.run(insert, [i + 2]);
        const before = here.stats().inlineWrites;
        const e = await insertAgain().then(() => assert.fail("resolved"), (e: Error) => e);
        if (here.stats().inlineWrites > before) error = e;
        else await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(error instanceof SqliteError, "a failed write ran on this thread");
      assert.match(error.stack!, callerFrame("insertAgain"));
    } finally {
      await here.close();
    }
  });
});
