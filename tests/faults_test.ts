// A fault-injection driver (wrapping the real one, given to open() by module URL: see
// _fault_driver.ts) fails the Nth prepare, step, BEGIN or COMMIT of the writer with SQLITE_IOERR,
// SQLITE_FULL, SQLITE_BUSY or SQLITE_NOMEM, once or from then on. For every case: each call
// settles with success or a typed error, nothing acknowledged is missing afterwards, batches are
// whole, and nothing hangs. The set-up and the checks use a connection on this thread, so that
// each of the 192 cases starts only the worker under test.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open, SqliteError } from "../mod.ts";
import { faultDriver, type FaultPlan } from "./_fault_driver.ts";
import { tempPath } from "./_helpers.ts";
import { Connection } from "../lib/_connection.ts";
import { defaultDriver } from "../lib/_runtime.ts";

const OPS: FaultPlan["op"][] = ["prepare", "step", "begin", "commit"];
const CODES: FaultPlan["code"][] = ["SQLITE_IOERR", "SQLITE_FULL", "SQLITE_BUSY", "SQLITE_NOMEM"];
const K = 6;

/** Rejects if `promise` has not settled within `ms` (a hang fails the test, not the run). */
function noHang<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** A connection on this thread (no worker): the set-up and the checks need no walpool. */
function connect(path: string): Promise<Connection> {
  return Connection.open({
    driver: defaultDriver,
    path,
    readonly: false,
    safeIntegers: false,
    busyTimeout: 1000,
    durability: "normal",
    pragmas: [],
  });
}

async function scenario(plan: FaultPlan): Promise<{ acknowledged: number }> {
  const path = tempPath();
  const setup = await connect(path);
  setup.exec("CREATE TABLE t(id INTEGER PRIMARY KEY); CREATE TABLE parts(g INTEGER, p INTEGER)");
  setup.close();
  let db;
  try {
    db = await noHang(open(path, { readers: 0, driver: faultDriver(plan) }), 10_000, "open()");
  } catch (error) {
    assert.ok(error instanceof SqliteError, `open() failed untyped: ${error}`);
    return { acknowledged: 0 };
  }
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    calls.push(
      i % 8 === 0
        ? db.batch(
          [0, 1, 2].map((p) => ({ sql: "INSERT INTO parts VALUES (?, ?)", params: [i, p] })),
        )
        : db.run("INSERT INTO t(id) VALUES (?)", [i]),
    );
  }
  calls.push(db.transaction(async (tx) => {
    await tx.run("INSERT INTO t(id) VALUES (1000)");
    await tx.run("INSERT INTO t(id) VALUES (1001)");
  }));
  const results = await noHang(Promise.allSettled(calls), 10_000, "the writes");
  for (const r of results) {
    if (r.status === "rejected") assert.ok(r.reason instanceof SqliteError, `untyped: ${r.reason}`);
  }
  await noHang(db.close(), 10_000, "close()");
  const check = await connect(path);
  try {
    assert.deepEqual(check.get("PRAGMA integrity_check", []), { integrity_check: "ok" });
    const ids = new Set((check.all("SELECT id FROM t", []) as { id: number }[]).map((r) => r.id));
    const counts = check.all("SELECT g, count(*) AS n FROM parts GROUP BY g", []);
    const parts = new Map((counts as { g: number; n: number }[]).map((r) => [r.g, r.n]));
    for (const n of parts.values()) assert.equal(n, 3, "a batch is whole or absent");
    let acknowledged = 0;
    results.forEach((r, i) => {
      if (r.status !== "fulfilled") return;
      acknowledged++;
      if (i === 40) assert.ok(ids.has(1000) && ids.has(1001), "committed transaction");
      else if (i % 8 === 0) assert.ok(parts.has(i), `acknowledged batch ${i} missing`);
      else assert.ok(ids.has(i), `acknowledged write ${i} missing`);
    });
    if (results[40].status === "rejected") assert.ok(!ids.has(1000) && !ids.has(1001));
    return { acknowledged };
  } finally {
    check.close();
  }
}

describe("fault injection", () => {
  for (const op of OPS) {
    it(`survives failures of the writer's ${op} (4 codes × N = 1…${K} × once/persistent)`, async () => {
      let cases = 0, acknowledged = 0;
      for (const code of CODES) {
        for (const persistent of [false, true]) {
          for (let nth = 1; nth <= K; nth++) {
            const r = await scenario({ op, nth, code, persistent });
            cases++;
            acknowledged += r.acknowledged;
          }
        }
      }
      console.log(`# faults ${op}: ${cases} cases, ${acknowledged} acknowledged writes, 0 lost`);
    });
  }
});
