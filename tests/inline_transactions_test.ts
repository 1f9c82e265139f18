// Interactive transactions run on the calling thread's own write connection while the writer is
// idle: the same results and failures as on the writer, a fall-back to the writer when another
// process holds the lock, and never with durability "full".

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, type OpenOptions, SqliteError } from "../mod.ts";
import { statSync } from "node:fs";
import { holdLock, settle, sleep, tempPath, within } from "./_helpers.ts";

/** A database whose next transaction (the writer being idle) runs on this thread. */
async function inlineReady(options: OpenOptions = {}): Promise<{ db: Database; path: string }> {
  const path = tempPath();
  const db = await open(path, options);
  await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v UNIQUE)");
  // The connection opens in the background at the first transaction.
  for (let i = 0; i < 200 && db.stats().inlineTransactions === 0; i++) {
    await db.transaction((tx) => tx.get("SELECT 1"));
    await sleep(5);
  }
  assert.ok(db.stats().inlineTransactions > 0, "transactions run on this thread once it opened");
  await db.exec("DELETE FROM t");
  return { db, path };
}

/** As inlineReady, with foreign keys on and a child table whose key is checked at COMMIT. */
async function withDeferredKey(): Promise<Database> {
  const { db } = await inlineReady({ pragmas: { foreign_keys: true } });
  await db.exec(`CREATE TABLE parent(id INTEGER PRIMARY KEY);
    CREATE TABLE child(p REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`);
  return db;
}

/**
 * Runs `fn` in a transaction, after a first statement of the kind inlineReady taught (a kind of
 * transaction is known by its first statement), and says whether it ran on this thread.
 */
async function inline(
  db: Database,
  fn: Parameters<Database["transaction"]>[0],
): Promise<{ value?: unknown; error?: Error; inline: boolean }> {
  const before = db.stats().inlineTransactions;
  const outcome: { value?: unknown; error?: Error } = await db.transaction(async (tx) => {
    await tx.get("SELECT 1");
    return await fn(tx);
  }).then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  return { ...outcome, inline: db.stats().inlineTransactions > before };
}

describe("transactions on the calling thread", () => {
  it("commit what they wrote, roll back on a throw, and reads see the commit", async () => {
    const { db } = await inlineReady();
    try {
      const committed = await inline(db, async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('a')");
        return (await tx.get<{ n: number }>("SELECT count(*) AS n FROM t"))!.n;
      });
      assert.deepEqual(committed, { value: 1, inline: true });
      assert.deepEqual(await db.values("SELECT v FROM t"), [["a"]]);
      const thrown = await inline(db, async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('b')");
        throw new Error("no");
      });
      assert.equal(thrown.inline, true);
      assert.match(String(thrown.error), /no/);
      assert.deepEqual(await db.values("SELECT v FROM t"), [["a"]]);
    } finally {
      await db.close();
    }
  });

  it("fail a statement alone, or all that follows once SQLite rolled the transaction back", async () => {
    const { db } = await inlineReady();
    try {
      const alone = await inline(db, async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('x')");
        await assert.rejects(tx.run("INSERT INTO t(v) VALUES ('x')"), /UNIQUE/);
        await tx.run("INSERT INTO t(v) VALUES ('y')");
      });
      assert.equal(alone.inline, true);
      assert.deepEqual(await db.values("SELECT v FROM t ORDER BY id"), [["x"], ["y"]]);

      const lost = await inline(db, async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('gone')");
        await assert.rejects(tx.run("INSERT OR ROLLBACK INTO t(v) VALUES ('x')"), /UNIQUE/);
        await assert.rejects(
          tx.run("INSERT INTO t(v) VALUES ('after')"),
          (e) => e instanceof SqliteError && e.code === "SQLITE_ABORT_ROLLBACK",
        );
      });
      assert.equal(lost.inline, true);
      assert.ok(lost.error instanceof SqliteError, String(lost.error));
      assert.deepEqual(await db.values("SELECT v FROM t ORDER BY id"), [["x"], ["y"]]);
    } finally {
      await db.close();
    }
  });

  it("reject a COMMIT that fails (a deferred foreign key), applying nothing; the next one works", async () => {
    const db = await withDeferredKey();
    try {
      const failed = await inline(db, (tx) => tx.run("INSERT INTO child VALUES (42)"));
      assert.equal(failed.inline, true);
      assert.ok(failed.error instanceof SqliteError, String(failed.error));
      assert.match((failed.error as SqliteError).code, /^SQLITE_CONSTRAINT/);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM child"), { n: 0 });
      const next = await inline(db, async (tx) => {
        await tx.run("INSERT INTO parent VALUES (42)");
        await tx.run("INSERT INTO child VALUES (42)");
      });
      assert.equal(next.error, undefined);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM child"), { n: 1 });
    } finally {
      await db.close();
    }
  });

  it("go to the writer when another process holds the lock, without blocking the event loop", async () => {
    const { db, path } = await inlineReady();
    try {
      const holder = await holdLock(path, 400);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = performance.now();
      const outcome = await inline(db, (tx) => tx.run("INSERT INTO t(v) VALUES ('waited')"));
      clearInterval(timer);
      await holder.exited;
      assert.equal(outcome.error, undefined);
      assert.equal(outcome.inline, false, "the writer took it");
      assert.ok(performance.now() - started > 200, "it waited for the lock");
      assert.ok(ticks >= 10, `the event loop turned ${ticks} times meanwhile`);
      assert.deepEqual(await db.values("SELECT v FROM t WHERE v = 'waited'"), [["waited"]]);
    } finally {
      await db.close();
    }
  });

  it("run back to back in one task, still let the event loop turn every few milliseconds", async () => {
    const { db } = await inlineReady();
    try {
      const before = db.stats().inlineTransactions;
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const started = performance.now();
      let n = 0;
      // Each transaction is answered at once: without a limit, this loop never yields.
      while (performance.now() - started < 300) {
        await inline(db, (tx) => tx.run("INSERT INTO t(v) VALUES (?)", [n++]));
      }
      clearInterval(timer);
      assert.ok(
        db.stats().inlineTransactions - before > n / 2,
        "they ran on this thread",
      );
      assert.ok(ticks >= 20, `the event loop turned ${ticks} times in ${n} transactions`);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n });
    } finally {
      await db.close();
    }
  });

  it("keep the WAL bounded: the writer checkpoints behind them, this thread's checkpoint restarts it", async () => {
    const { db, path } = await inlineReady();
    try {
      await db.exec("CREATE TABLE big(b BLOB)");
      const before = db.stats();
      // 6000 commits of an 8000-byte row: about 18 000 WAL pages (72 MB) if nothing checkpointed.
      const n = 6000;
      const blob = new Uint8Array(8000).fill(7);
      for (let i = 0; i < n; i++) {
        const { error } = await inline(db, (tx) => tx.run("INSERT INTO big(b) VALUES (?)", [blob]));
        assert.equal(error, undefined);
      }
      const here = db.stats().inlineTransactions - before.inlineTransactions;
      // (A busy machine sends some to the writer: their kind then costs more than 1 ms there.)
      assert.ok(here > n / 2, `${here} of ${n} ran on this thread`);
      // The WAL file keeps its largest size. This thread's automatic checkpoint restarts it past
      // 4000 pages (16 MiB), once the writer's background checkpoint, if one is running, has let
      // go of the checkpoint lock: up to some hundreds of commits later (the WAL reached 23.4 MiB
      // on a machine that commits fast and syncs slowly). Half of what 6000 commits write means
      // it restarted.
      const walBytes = statSync(`${path}-wal`).size;
      assert.ok(walBytes < 36 * 2 ** 20, `the WAL grew to ${walBytes} bytes`);
      // The writer ran checkpoints behind them (one per 64 commits at most, and it leaves the
      // lock free at least half the time), and reports them once idle (50 ms).
      await sleep(200);
      const checkpoints = db.stats().checkpoints - before.checkpoints;
      assert.ok(checkpoints >= 10, `the writer ran ${checkpoints} checkpoints`);
      assert.deepEqual(await db.get("SELECT count(*) AS n, sum(length(b)) AS bytes FROM big"), {
        n,
        bytes: n * blob.length,
      });
    } finally {
      await db.close();
    }
  });

  it("share their connection with reads until they change something, which reads never see", async () => {
    const { db } = await inlineReady();
    try {
      // This thread's write connection changes a row.
      assert.equal(
        (await inline(db, (tx) => tx.run("INSERT INTO t(v) VALUES ('before')"))).inline,
        true,
      );
      // total_changes() is the connection's own count: 0 on a read-only connection.
      const connection = async () =>
        (await db.get<{ n: number }>("SELECT total_changes() AS n", [], { route: "inline" }))!.n > 0
          ? "write"
          : "read-only";
      const count = async (v: string) =>
        (await db.get<{ n: number }>("SELECT count(*) AS n FROM t WHERE v = ?", [v], {
          route: "inline",
        }))!.n;
      const seen: unknown[] = [];
      const outcome = await inline(db, async (tx) => {
        seen.push(await connection(), await count("before"));
        await tx.run("INSERT INTO t(v) VALUES ('during')");
        seen.push(await connection(), await count("during"));
      });
      assert.equal(outcome.error, undefined);
      assert.equal(outcome.inline, true);
      assert.deepEqual(seen, ["write", 1, "read-only", 0]);
      assert.equal(await count("during"), 1);
    } finally {
      await db.close();
    }
  });

  it("keep concurrent transactions and grouped writes in order and whole", async () => {
    const { db } = await inlineReady();
    try {
      await db.exec(
        "CREATE TABLE acct(id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO acct VALUES (1, 0)",
      );
      await Promise.all(
        Array.from(
          { length: 300 },
          (_, i) =>
            i % 3
              ? db.run("INSERT INTO t(v) VALUES (?)", [`w${i}`])
              : db.transaction(async (tx) => {
                const { n } = (await tx.get<{ n: number }>("SELECT n FROM acct WHERE id = 1"))!;
                await tx.run("UPDATE acct SET n = ? WHERE id = 1", [n + 1]);
              }),
        ),
      );
      assert.deepEqual(await db.get("SELECT n FROM acct"), { n: 100 });
      assert.deepEqual(await db.get("SELECT count(*) AS c FROM t"), { c: 200 });
    } finally {
      await db.close();
    }
  });

  it('never run on this thread with durability: "full"', async () => {
    const db = await open(tempPath(), { durability: "full" });
    try {
      await db.exec("CREATE TABLE t(v)");
      for (let i = 0; i < 20; i++) {
        await db.transaction((tx) => tx.run("INSERT INTO t VALUES (?)", [i]));
        await sleep(2);
      }
      assert.equal(db.stats().inlineTransactions, 0);
      assert.equal(db.stats().transactions, 20);
    } finally {
      await db.close();
    }
  });

  it("see each other's schema changes: the writer's after one here, and this thread's after the writer's", async () => {
    const { db } = await inlineReady();
    try {
      await db.exec("CREATE TABLE s(a); CREATE INDEX s_a ON s(a)"); // on the writer
      const dropped = await inline(db, (tx) => tx.exec("DROP INDEX s_a"));
      assert.equal(dropped.inline, true);
      await db.exec("CREATE INDEX s_a ON s(a)"); // the writer must not think it still exists
      await db.exec("DROP INDEX s_a");
      const created = await inline(db, (tx) => tx.exec("CREATE INDEX s_a ON s(a)"));
      assert.equal(created.inline, true);
      assert.equal(created.error, undefined, String(created.error));
      assert.deepEqual(
        await db.get("SELECT count(*) AS n FROM sqlite_schema WHERE name = 's_a'"),
        { n: 1 },
      );
    } finally {
      await db.close();
    }
  });

  it("keep call order: a lone write made before a transaction in the same tick commits first", async () => {
    const { db } = await inlineReady();
    try {
      for (let i = 0; i < 20; i++) await db.run("INSERT INTO t(v) VALUES (?)", [`warm${i}`]);
      assert.ok(db.stats().inlineWrites > 0, "writes of this text run alone on this thread");
      for (let i = 0; i < 20; i++) {
        const write = db.run("INSERT INTO t(v) VALUES (?)", [`w${i}`]); // not awaited
        const seen = await db.transaction((tx) =>
          tx.get<{ n: number }>("SELECT count(*) AS n FROM t WHERE v = ?", [`w${i}`])
        );
        assert.deepEqual(seen, { n: 1 }, `the transaction after write ${i} sees it`);
        await write;
      }
    } finally {
      await db.close();
    }
  });

  it("leave writes that change the connection itself (TEMP tables, pragmas) to the writer", async () => {
    const { db } = await inlineReady();
    try {
      await db.exec("CREATE TEMP TABLE scratch(x)"); // on the writer's connection only
      for (let i = 0; i < 30; i++) await db.run("INSERT INTO temp.scratch VALUES (?)", [i]);
      // Each would fail with "no such table" on this thread's connection, which has no TEMP table.
      assert.equal(db.stats().failures, 0);
      const n = await db.transaction((tx) => tx.get("SELECT count(*) AS n FROM temp.scratch"));
      assert.deepEqual(n, { n: 30 }); // a kind of transaction not seen yet: on the writer
    } finally {
      await db.close();
    }
  });
});

/**
 * Runs rounds of concurrent transactions until the calling thread commits them in groups (it
 * starts grouping once a probe finds others joining): resolves then, with the database grouping.
 */
async function grouping(db: Database): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const before = db.stats();
    await Promise.all(
      Array.from({ length: 32 }, () => db.transaction((tx) => tx.get("SELECT 1"))),
    );
    const after = db.stats();
    const commits = after.transactionCommits - before.transactionCommits;
    if (commits < after.inlineTransactions - before.inlineTransactions) return;
  }
  assert.fail("the transactions of one turn were never committed together");
}

/** `n` concurrent transactions in one turn, the i-th running `fn(tx, i)` after "SELECT 1". */
function concurrent(
  db: Database,
  n: number,
  fn: (tx: Parameters<Parameters<Database["transaction"]>[0]>[0], i: number) => Promise<unknown>,
) {
  return Array.from({ length: n }, (_, i) =>
    db.transaction(async (tx) => {
      await tx.get("SELECT 1");
      return await fn(tx, i);
    }));
}

/**
 * Runs `round`, which starts `n` transactions, until every one of them ran on this thread (a slow
 * moment on a busy machine can send a kind of transaction to the writer for a while), with the
 * table emptied and grouping on before each try; resolves with what the last round gave.
 */
async function onThisThread<T>(db: Database, n: number, round: () => Promise<T>): Promise<T> {
  for (let tries = 0; tries < 20; tries++) {
    await db.exec("DELETE FROM t");
    await grouping(db);
    const before = db.stats().inlineTransactions;
    const result = await round();
    if (db.stats().inlineTransactions - before === n) return result;
  }
  assert.fail(`${n} transactions never all ran on this thread`);
}

describe("transactions on the calling thread, committed together", () => {
  it("share one COMMIT per turn, each resolving only after it", async () => {
    const { db } = await inlineReady();
    try {
      const { before, after, commitsSeen } = await onThisThread(db, 20, async () => {
        const before = db.stats();
        const commitsSeen: number[] = [];
        await Promise.all(
          concurrent(db, 20, (tx, i) => tx.run("INSERT INTO t(v) VALUES (?)", [i])).map((p) =>
            p.then(() => commitsSeen.push(db.stats().transactionCommits))
          ),
        );
        return { before, after: db.stats(), commitsSeen };
      });
      assert.ok(
        after.transactionCommits - before.transactionCommits < 20,
        `${after.transactionCommits - before.transactionCommits} commits for 20 transactions`,
      );
      // Each resolved after a COMMIT that came after every one before it in its group.
      assert.ok(commitsSeen.every((n) => n > before.transactionCommits), String(commitsSeen));
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n: 20 });
    } finally {
      await db.close();
    }
  });

  it("roll back a member that throws alone; the rest of its group commits", async () => {
    const { db } = await inlineReady();
    try {
      await grouping(db);
      const { values, errors } = await settle(concurrent(db, 10, async (tx, i) => {
        await tx.run("INSERT INTO t(v) VALUES (?)", [i]);
        if (i === 4) throw new Error("member 4 gives up");
        return i;
      }));
      assert.deepEqual(values, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
      assert.deepEqual(errors.map((e) => e.message), ["member 4 gives up"]);
      assert.deepEqual(
        (await db.values("SELECT v FROM t ORDER BY v")).flat(),
        [0, 1, 2, 3, 5, 6, 7, 8, 9],
      );
    } finally {
      await db.close();
    }
  });

  it("replay the members before one that made SQLite roll everything back", async () => {
    const { db } = await inlineReady();
    try {
      await db.exec("INSERT INTO t(v) VALUES ('taken')");
      await grouping(db);
      const { values, errors } = await settle(concurrent(db, 10, async (tx, i) => {
        if (i === 2) await tx.get("SELECT hex(randomblob(8)) AS r"); // another answer replayed
        if (i === 5) await tx.run("INSERT OR ROLLBACK INTO t(v) VALUES ('taken')");
        // Its own rowid: one that fails its replay would change the next ones' implicit rowids
        // (an answer they gave), and they would fail too.
        await tx.run("INSERT INTO t(id, v) VALUES (?, ?)", [100 + i, i]);
        return i;
      }));
      assert.deepEqual(values, [0, 1, 3, 4, 6, 7, 8, 9]);
      assert.equal(errors.length, 2);
      assert.ok(
        errors.some((e) => e instanceof SqliteError && /UNIQUE/.test(e.message)),
        errors.join("; "),
      );
      assert.ok(
        errors.some((e) => e instanceof SqliteError && e.code === "SQLITE_ABORT_ROLLBACK"),
        errors.join("; "),
      );
      assert.deepEqual(
        (await db.values("SELECT v FROM t WHERE v != 'taken' ORDER BY v")).flat(),
        [0, 1, 3, 4, 6, 7, 8, 9],
      );
    } finally {
      await db.close();
    }
  });

  it("fail only the member whose deferred foreign key fails the group's COMMIT", async () => {
    const db = await withDeferredKey();
    try {
      await grouping(db);
      const { values, errors } = await settle(concurrent(db, 8, async (tx, i) => {
        if (i !== 3) await tx.run("INSERT INTO parent VALUES (?)", [i]);
        await tx.run("INSERT INTO child(rowid, p) VALUES (?, ?)", [100 + i, i]);
        return i;
      }));
      assert.deepEqual(values, [0, 1, 2, 4, 5, 6, 7]);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof SqliteError, String(errors[0]));
      assert.match((errors[0] as SqliteError).code, /^SQLITE_CONSTRAINT/);
      assert.deepEqual(
        (await db.values("SELECT p FROM child ORDER BY p")).flat(),
        [0, 1, 2, 4, 5, 6, 7],
      );
    } finally {
      await db.close();
    }
  });

  it("answer a read made between the group's transactions once they are committed", async () => {
    const { db } = await inlineReady();
    try {
      const { row, before, seen } = await onThisThread(db, 3, async () => {
        const before = db.stats().transactionCommits;
        const txs = concurrent(db, 3, (tx, i) => tx.run("INSERT INTO t(v) VALUES (?)", [i]));
        // The three callbacks end within this task; the read comes after them, in the same turn.
        for (let i = 0; i < 50; i++) await Promise.resolve();
        let seen = -1; // the COMMITs counted when the read answered
        const row = await db.get<{ n: number }>("SELECT count(*) AS n FROM t", [], {
          route: "inline",
        }).then((row) => {
          seen = db.stats().transactionCommits;
          return row;
        });
        await Promise.all(txs);
        return { row, before, seen };
      });
      assert.deepEqual(row, { n: 3 });
      assert.ok(seen > before, `answered after ${seen - before} COMMITs`);
    } finally {
      await db.close();
    }
  });

  it("answer such a read with what was committed when the group's COMMIT failed", async () => {
    const db = await withDeferredKey();
    try {
      const { row, errors } = await onThisThread(db, 2, async () => {
        await db.exec("DELETE FROM child; DELETE FROM parent");
        const txs = settle(concurrent(db, 2, async (tx, i) => {
          if (i === 0) await tx.run("INSERT INTO parent VALUES (1)");
          await tx.run("INSERT INTO child(rowid, p) VALUES (?, ?)", [10 + i, i === 0 ? 1 : 99]);
        }));
        for (let i = 0; i < 50; i++) await Promise.resolve();
        // It sees both children before the COMMIT; only the first is ever committed.
        const row = await db.get("SELECT count(*) AS n FROM child", [], { route: "inline" });
        return { row, errors: (await txs).errors };
      });
      assert.deepEqual(row, { n: 1 });
      assert.equal(errors.length, 1);
      assert.match((errors[0] as SqliteError).code, /^SQLITE_CONSTRAINT/);
    } finally {
      await db.close();
    }
  });

  it("commit the members before one that awaits them, which goes on after them", async () => {
    const { db } = await inlineReady({ transactionTimeout: 2000 });
    try {
      await grouping(db);
      const [a] = concurrent(db, 1, (tx) => tx.run("INSERT INTO t(v) VALUES ('a')"));
      const [b] = concurrent(db, 1, async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('b')");
        await a; // resolves once a's group committed, which must not wait for b
        await tx.run("INSERT INTO t(v) VALUES ('b2')");
      });
      // A member whose replay answers differently fails alone, nothing of it applied.
      const [c] = concurrent(db, 1, (tx) => tx.run("INSERT INTO t(v) VALUES ('c')"));
      const [d] = concurrent(db, 1, async (tx) => {
        await tx.get("SELECT hex(randomblob(8)) AS r");
        await c;
        await tx.run("INSERT INTO t(v) VALUES ('d')");
      });
      await within(Promise.all([a, b, c]), 1500, "the transactions before their timeout");
      await assert.rejects(
        d,
        (e) => e instanceof SqliteError && e.code === "SQLITE_ABORT_ROLLBACK",
      );
      assert.deepEqual((await db.values("SELECT v FROM t ORDER BY v")).flat(), [
        "a",
        "b",
        "b2",
        "c",
      ]);
    } finally {
      await db.close();
    }
  });

  it("commit the group before the writer needs the lock, and at close", async () => {
    const { db, path } = await inlineReady();
    const txs = concurrent(db, 10, (tx, i) => tx.run("INSERT INTO t(v) VALUES (?)", [i]));
    try {
      await grouping(db);
      // A batch goes to the writer, in the same turn as a group of this thread's transactions.
      const more = concurrent(db, 10, (tx, i) => tx.run("INSERT INTO t(v) VALUES (?)", [10 + i]));
      const batch = db.batch([{ sql: "INSERT INTO t(v) VALUES ('batch')" }]);
      await within(Promise.all([...txs, ...more, batch]), 10_000, "the group and the batch");
      // Closed with a group of transactions released and not yet committed.
      const last = concurrent(db, 10, (tx, i) => tx.run("INSERT INTO t(v) VALUES (?)", [20 + i]));
      await Promise.resolve();
      await db.close();
      await Promise.all(last);
    } finally {
      await db.close();
    }
    const again = await open(path);
    try {
      assert.deepEqual(await again.get("SELECT count(*) AS n FROM t"), { n: 31 });
    } finally {
      await again.close();
    }
  });
});
