// Failure paths with real workers and a real second process.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { open, SqliteError, WorkerError } from "../mod.ts";
import { internals } from "../lib/database.ts";
import { holdLock, runtime, runtimeCommand, settle, tempPath } from "./_helpers.ts";

const count = async (db: { get<T>(sql: string): Promise<T | undefined> }) =>
  (await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))!.n;

describe("failures", () => {
  it("an open database does not keep the process alive; what was written is there", {
    skip: runtime === "deno" ? "Deno's Web Workers cannot be unreferenced (README, Limits)" : false,
  }, async () => {
    const path = tempPath();
    const script = fileURLToPath(new URL("./_no_close.ts", import.meta.url));
    const [cmd, args] = runtimeCommand(script, path);
    const child = spawn(cmd, [...args], { stdio: ["ignore", "pipe", "inherit"], timeout: 20_000 });
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 0, "the child exited by itself");
    assert.match(out, /wrote/);
    const db = await open(path);
    assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: 1 }]);
    await db.close();
  });

  it("a writer terminated mid-burst rejects what it held with WorkerError; queued writes go on", async () => {
    const db = await open(tempPath(), { maxQueue: 1000, maxBatch: 250 });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    const calls = Array.from(
      { length: 3000 },
      (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]),
    );
    // The first 1000 (maxQueue) are with the writer's client: the full chunks already posted to
    // the worker, which works on them meanwhile, the rest about to be. No answer can have come
    // back yet: this is the same task. The other 2000 wait on this thread.
    assert.equal(db.stats().inFlight, 1000);
    assert.equal(db.stats().queued, 2000);
    const stopped = performance.now();
    internals.get(db)!.writer.client.terminate();
    await settle(calls.slice(0, 1000));
    const ms = performance.now() - stopped;
    const { values, errors } = await settle(calls);
    console.log(`# writer terminated: the 1000 calls it held settled in ${ms.toFixed(1)} ms`);
    assert.equal(errors.length, 1000);
    for (const e of errors) {
      assert.ok(e instanceof WorkerError, String(e));
      assert.match(e.message, /writer worker stopped/);
    }
    // Those posted (the first, in call order) may have been applied; the others were not.
    const posted = errors.findIndex((e) => !(e as WorkerError).mayHaveApplied);
    const held = posted < 0 ? 1000 : posted;
    assert.ok(held > 0, "the writer held some of them");
    for (const [i, e] of errors.entries()) {
      assert.equal((e as WorkerError).mayHaveApplied, i < held, `call ${i}: ${e.message}`);
      assert.match(e.message, i < held ? /may have been applied/ : /it was not applied/);
    }
    assert.equal(values.length, 2000);
    // What the dead writer committed is a prefix of the calls it held (whole commits, in order),
    // and every call that was still queued went to its successor: nothing twice, no gaps.
    const rows = await db.all<{ v: number }>("SELECT v FROM t ORDER BY id");
    const committed = rows.filter((r) => r.v < 1000).map((r) => r.v);
    assert.deepEqual(committed, committed.map((_, i) => i));
    assert.ok(committed.length <= held, "nothing that was never sent was applied");
    assert.deepEqual(rows.slice(committed.length).map((r) => r.v), values.map((_, i) => 1000 + i));
    await db.run("INSERT INTO t(v) VALUES ('after')");
    assert.equal(db.stats().workerRestarts, 1);
    await db.close();
  });

  it("a writer terminated during a transaction fails it with WorkerError, applying none of it", async () => {
    const db = await open(tempPath());
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    const tx = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t(v) VALUES ('in tx')");
      internals.get(db)!.writer.client.terminate();
      await tx.run("INSERT INTO t(v) VALUES ('after the crash')");
    });
    const waiting = db.run("INSERT INTO t(v) VALUES ('queued behind it')");
    await assert.rejects(tx, WorkerError);
    await waiting;
    assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "queued behind it" }]);
    await db.close();
  });

  it("close() resolves after the writer died, and every call made before it settles", async () => {
    const db = await open(tempPath());
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    const calls = Array.from({ length: 500 }, (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]));
    await Promise.resolve();
    internals.get(db)!.writer.client.terminate();
    const settled = settle(calls);
    await db.close();
    const { values, errors } = await settled;
    assert.equal(values.length + errors.length, 500);
    for (const e of errors) assert.ok(e instanceof WorkerError);
  });

  it("a reader terminated with reads pending rejects them with WorkerError and is replaced", async () => {
    const db = await open(tempPath(), { readers: 2 });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t(v) VALUES (1)");
    const reads = Array.from({ length: 200 }, () => db.all("SELECT * FROM t"));
    const reader = internals.get(db)!.readers.workers[0]!;
    const held = reader.outstanding; // none answered yet: this is the same task
    assert.ok(held > 0 && held < 200, `the first reader holds ${held} of the 200 reads`);
    reader.terminate();
    const { values, errors } = await settle(reads);
    assert.equal(errors.length, held, "the reads it held failed, the others' succeeded");
    for (const e of errors) assert.ok(e instanceof WorkerError && !e.mayHaveApplied);
    for (const v of values) assert.deepEqual(v, [{ id: 1, v: 1 }]);
    for (let i = 0; i < 10; i++) assert.equal(await count(db), 1);
    assert.equal(db.stats().workerRestarts, 1);
    await db.close();
  });

  it("writes wait for a lock another process holds for 2 s, then succeed; reads go on", async () => {
    const path = tempPath();
    const db = await open(path, { busyTimeout: 10_000 });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    const { exited } = await holdLock(path, 2000);
    const before = db.stats();
    const called = performance.now();
    const write = db.run("INSERT INTO t(v) VALUES ('mine')");
    assert.equal(await count(db), 0, "reads are not blocked by the other process's lock");
    const result = await write;
    const callMs = performance.now() - called;
    assert.equal(result.changes, 1);
    assert.match(await exited, /released/);
    const after = db.stats();
    assert.equal(after.lockWaits - before.lockWaits, 1, "stats() counts the BEGIN that waited");
    // The wait is part of the call, and most of it: the rest is a round trip and a commit.
    const waited = after.lockWaitMs - before.lockWaitMs;
    assert.ok(
      waited >= callMs / 2 && waited <= callMs + 1,
      `the call took ${callMs.toFixed(0)} ms, stats() says its BEGIN waited ${waited} ms`,
    );
    assert.equal(after.busyFailures, 0);
    assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [
      { v: "from another process" },
      { v: "mine" },
    ]);
    await db.close();
  });

  it("a lock held past busyTimeout fails the waiting writes with SQLITE_BUSY, applying nothing", async () => {
    const path = tempPath();
    const db = await open(path, { busyTimeout: 100 });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    const { exited } = await holdLock(path, 1500);
    const { errors } = await settle([
      db.run("INSERT INTO t(v) VALUES (1)"),
      db.run("INSERT INTO t(v) VALUES (2)"),
    ]);
    assert.equal(errors.length, 2);
    for (const e of errors) {
      assert.ok(e instanceof SqliteError);
      assert.match(e.code, /^SQLITE_BUSY/);
    }
    assert.equal(db.stats().busyFailures, 2);
    await exited;
    await db.run("INSERT INTO t(v) VALUES ('retried')");
    assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [
      { v: "from another process" },
      { v: "retried" },
    ]);
    await db.close();
  });
});
