// Interactive transactions over the writer's channel, and their group commit: transactions run
// back to back share one COMMIT; one that fails, rolls back, or makes SQLite roll everything
// back fails alone; the ones released before it are replayed, never reported done when not.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, SqliteError, TransactionError } from "../mod.ts";
import { holdLock, settle, tempPath, waitFor } from "./_helpers.ts";

describe("interactive transactions", () => {
  const opened: Database[] = [];
  after(async () => {
    for (const db of opened) await db.close();
  });
  // On the writer: these test its group commit of transactions (tests/inline_transactions_test.ts
  // has those run on the calling thread).
  async function bank(accounts = 10): Promise<Database> {
    const db = await open(tempPath(), { routeTransactions: "writer" });
    opened.push(db);
    await db.exec(`
      CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
      CREATE TABLE history(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, delta INTEGER NOT NULL);
      CREATE TRIGGER no_13 BEFORE INSERT ON history WHEN NEW.delta = 13
        BEGIN SELECT RAISE(ROLLBACK, 'unlucky'); END;
    `);
    await db.batch(
      Array.from({ length: accounts }, (_, i) => ({
        sql: "INSERT INTO account(id, balance) VALUES (?, 0)",
        params: [i + 1],
      })),
    );
    return db;
  }
  const deposit = (db: Database, id: number, delta: number) =>
    db.transaction(async (tx) => {
      const row = await tx.get<{ balance: number }>("SELECT balance FROM account WHERE id = ?", [
        id,
      ]);
      await tx.run("UPDATE account SET balance = ? WHERE id = ?", [row!.balance + delta, id]);
      await tx.run("INSERT INTO history(account, delta) VALUES (?, ?)", [id, delta]);
      return row!.balance + delta;
    });
  const totals = (db: Database) =>
    db.get<{ balance: number; history: number; n: number }>(
      `SELECT (SELECT sum(balance) FROM account) AS balance,
              (SELECT coalesce(sum(delta), 0) FROM history) AS history,
              (SELECT count(*) FROM history) AS n`,
    );

  it("transactions run back to back share commits, and every one is applied once", async () => {
    const db = await bank();
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) => deposit(db, 1 + (i % 10), 1)),
    );
    assert.equal(results.length, 400);
    assert.deepEqual(await totals(db), { balance: 400, history: 400, n: 400 });
    const { transactions, transactionCommits: commits } = db.stats();
    assert.equal(transactions, 400);
    assert.ok(commits >= 1 && commits < 400, `400 transactions took ${commits} commits`);
  });

  it("one that SQLite rolls back entirely fails alone; those before it in the group commit", async () => {
    const db = await bank();
    const calls = Array.from(
      { length: 60 },
      (_, i) => deposit(db, 1 + (i % 10), i === 30 ? 13 : 1),
    );
    const { values, errors } = await settle(calls);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SqliteError, String(errors[0]));
    assert.match(errors[0].message, /unlucky/);
    assert.equal(values.length, 59);
    assert.deepEqual(await totals(db), { balance: 59, history: 59, n: 59 });
    assert.equal((await db.get<{ n: number }>("PRAGMA integrity_check")) !== undefined, true);
  });

  it("a statement that fails without a rollback can be caught, and the rest commits", async () => {
    const db = await bank();
    const value = await db.transaction(async (tx) => {
      await tx.run("UPDATE account SET balance = 5 WHERE id = 1");
      await assert.rejects(tx.run("INSERT INTO account(id, balance) VALUES (1, 0)"), SqliteError);
      return (await tx.get<{ balance: number }>("SELECT balance FROM account WHERE id = 1"))!;
    });
    assert.deepEqual(value, { balance: 5 });
    assert.deepEqual(await db.get("SELECT balance FROM account WHERE id = 1"), { balance: 5 });
  });

  it("a callback that throws rolls back only its own transaction, even inside a group", async () => {
    const db = await bank();
    const calls = Array.from({ length: 40 }, (_, i) =>
      db.transaction(async (tx) => {
        await tx.run("UPDATE account SET balance = balance + 1 WHERE id = ?", [1 + (i % 10)]);
        if (i % 7 === 3) throw new Error(`no ${i}`);
      }));
    const { errors } = await settle(calls);
    assert.equal(errors.length, 6);
    assert.deepEqual(await db.get("SELECT sum(balance) AS s FROM account"), { s: 34 });
  });

  it("a commit that fails (a deferred foreign key) fails that transaction alone", async () => {
    const db = await open(tempPath(), { pragmas: { foreign_keys: true } });
    opened.push(db);
    await db.exec(`
      CREATE TABLE parent(id INTEGER PRIMARY KEY);
      CREATE TABLE child(id INTEGER PRIMARY KEY,
        p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
    `);
    const calls = Array.from({ length: 30 }, (_, i) =>
      db.transaction(async (tx) => {
        if (i !== 15) await tx.run("INSERT INTO parent(id) VALUES (?)", [i]);
        await tx.run("INSERT INTO child(id, p) VALUES (?, ?)", [i, i]);
      }));
    const { values, errors } = await settle(calls);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as SqliteError).code, "SQLITE_CONSTRAINT_FOREIGNKEY");
    assert.equal(values.length, 29);
    assert.deepEqual(await db.get("SELECT count(*) AS n FROM child"), { n: 29 });
    assert.deepEqual(await db.get("SELECT count(*) AS n FROM child WHERE id = 15"), { n: 0 });
  });

  it("a replayed transaction whose statements give other results fails, and applies nothing", async () => {
    const db = await bank();
    // random() gives another result when replayed after the neighbour's RAISE(ROLLBACK).
    const random = Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        await tx.get("SELECT random() AS r");
        await tx.run("UPDATE account SET balance = balance + 1 WHERE id = 2");
      }));
    const unlucky = deposit(db, 1, 13);
    const { values, errors } = await settle<unknown>([...random, unlucky]);
    assert.ok(errors.some((e) => /unlucky/.test(e.message)), "the RAISE(ROLLBACK) one fails");
    const replayFailures = errors.filter((e) =>
      /replaying this one gave different results/.test(e.message)
    );
    for (const e of replayFailures) assert.equal((e as SqliteError).code, "SQLITE_ABORT_ROLLBACK");
    // Whatever was grouped with it: the balance counts exactly the ones reported done.
    assert.deepEqual(await db.get("SELECT balance FROM account WHERE id = 2"), {
      balance: values.length,
    });
  });

  it("close() commits released transactions before it resolves", async () => {
    const path = tempPath();
    const db = await open(path);
    await db.exec("CREATE TABLE t(v)");
    const calls = Array.from(
      { length: 50 },
      (_, i) => db.transaction((tx) => tx.run("INSERT INTO t(v) VALUES (?)", [i])),
    );
    await db.close();
    await Promise.all(calls);
    const again = await open(path);
    assert.deepEqual(await again.get("SELECT count(*) AS n FROM t"), { n: 50 });
    await again.close();
  });

  it("a statement after the transaction ended rejects with TransactionError", async () => {
    const db = await bank();
    let kept: { run(sql: string): Promise<unknown> } | undefined;
    await db.transaction((tx) => {
      kept = tx;
    });
    await assert.rejects(
      kept!.run("SELECT 1"),
      (e) => e instanceof TransactionError && e.reason === "ended",
    );
  });

  it("a transaction that times out while its callback finishes is rolled back, and the next is whole", async () => {
    const db = await open(tempPath(), { readers: 0 });
    opened.push(db);
    await db.exec("CREATE TABLE t(x)");
    // The timeout fires while this slow statement runs in the writer.
    const slow =
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000000) SELECT count(*) AS n FROM c";
    const first = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t VALUES ('first')");
      await tx.get(slow);
      return "resolved";
    }, { timeout: 20 });
    const second = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t VALUES ('second a')");
      await new Promise((r) => setTimeout(r, 30));
      await tx.run("INSERT INTO t VALUES ('second b')");
      throw new Error("second throws");
    });
    await assert.rejects(first, (e) => e instanceof Error && e.name === "TimeoutError");
    await assert.rejects(second, /second throws/);
    assert.deepEqual(await db.all("SELECT x FROM t"), [], "neither left anything");
  });

  it("a transaction that awaits one committed just before it does not wait for its timeout", async () => {
    const db = await open(tempPath(), { readers: 0, transactionTimeout: 2000 });
    opened.push(db);
    await db.exec("CREATE TABLE t(v)");
    for (let i = 0; i < 10; i++) {
      const a = db.transaction((tx) => tx.run("INSERT INTO t VALUES ('a')"));
      const b = db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('b')");
        await a; // resolves once a's group committed, which must not wait for b
      });
      await b;
    }
    assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n: 20 });
  });

  it("bigints in statements stay integers even under a BigInt toJSON polyfill", async () => {
    const db = await bank();
    const proto = BigInt.prototype as unknown as { toJSON?: () => string };
    proto.toJSON = function () {
      return String(this);
    };
    try {
      const big = 1152921504606846977n;
      await db.exec("CREATE TABLE untyped(v)"); // no affinity: a string would stay text
      await db.transaction((tx) => tx.run("INSERT INTO untyped VALUES (?)", [big]));
      assert.deepEqual(await db.get("SELECT typeof(v) AS type FROM untyped"), { type: "integer" });
    } finally {
      delete proto.toJSON;
    }
  });

  it("a transaction whose BEGIN waits for another process's lock is counted in lockWaits", async () => {
    const path = tempPath();
    const db = await open(path, { busyTimeout: 10_000 });
    opened.push(db);
    await db.exec("CREATE TABLE t(v)");
    await db.run("INSERT INTO t VALUES (0)"); // a grouped write first: its answer resets the tally
    const { exited } = await holdLock(path, 300);
    const before = db.stats().lockWaits;
    await db.transaction((tx) => tx.run("INSERT INTO t VALUES (1)"));
    assert.match(await exited, /released/);
    await waitFor(() => db.stats().lockWaits === before + 1, 2000, "the BEGIN's wait in stats()");
    assert.ok(db.stats().lockWaitMs >= 100, `lockWaitMs ${db.stats().lockWaitMs}`);
  });
});

describe("when a transaction's callback starts", () => {
  for (const routeTransactions of ["adaptive", "writer"] as const) {
    it(`inside the call when its turn has come, after the writes made before it otherwise (${routeTransactions})`, async () => {
      const db = await open(tempPath(), { routeTransactions });
      try {
        await db.exec("CREATE TABLE t(v INTEGER)");
        let started = false;
        const first = db.transaction(async (tx) => {
          started = true;
          await tx.run("INSERT INTO t VALUES (1)");
        });
        assert.equal(started, true, "the writer was idle: the callback ran inside the call");
        await first;

        started = false;
        const write = db.run("INSERT INTO t VALUES (2)");
        let seen: unknown;
        const second = db.transaction(async (tx) => {
          started = true;
          seen = await tx.get("SELECT count(*) AS n FROM t");
        });
        assert.equal(started, false, "a write made before it: the callback waits for its turn");
        await Promise.all([write, second]);
        assert.equal(started, true);
        assert.deepEqual(seen, { n: 2 }, "the write made before it was applied first");
      } finally {
        await db.close();
      }
    });
  }
});
