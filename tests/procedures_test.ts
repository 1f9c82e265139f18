// Write procedures: functions of a module the writer imports, called by db.call(), each one
// request of a group commit that fails alone.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, SqliteError } from "../mod.ts";
import { settle, tempPath } from "./_helpers.ts";

const procedures = new URL("./_procedures.ts", import.meta.url);

describe("write procedures", () => {
  const opened: Database[] = [];
  after(async () => {
    for (const db of opened) await db.close();
  });
  async function bank(): Promise<Database> {
    const db = await open(tempPath(), { procedures });
    opened.push(db);
    await db.exec(`
      CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
      CREATE TABLE history(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, delta INTEGER NOT NULL);
      INSERT INTO account VALUES (1, 0), (2, 0), (3, 0);
    `);
    return db;
  }

  it("run in the writer, grouped into shared commits, each applied once", async () => {
    const db = await bank();
    const results = await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) => db.call<number>("deposit", { id: 1 + (i % 3), delta: 1 }),
      ),
    );
    assert.deepEqual(results.slice(0, 3), [1, 1, 1]);
    assert.deepEqual(await db.all("SELECT balance FROM account ORDER BY id"), [
      { balance: 100 },
      { balance: 100 },
      { balance: 100 },
    ]);
    assert.deepEqual(await db.get("SELECT count(*) AS n FROM history"), { n: 300 });
    const { commits, committedRequests } = db.stats();
    assert.ok(commits < 300, `300 calls took ${commits} commits`);
    assert.ok(committedRequests >= 300);
  });

  it("one that throws fails alone with its own error, and nothing of it remains", async () => {
    const db = await bank();
    const calls = [
      db.call("deposit", { id: 1, delta: 5 }),
      db.call("writesThenThrows", 2),
      db.call("deposit", { id: 9, delta: 5 }), // RangeError: no account 9
      db.call("deposit", { id: 3, delta: 7 }),
    ];
    const outcomes = await Promise.allSettled(calls);
    assert.deepEqual(outcomes.map((o) => o.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    const [, thrown, range] = outcomes as PromiseRejectedResult[];
    assert.match(thrown.reason.message, /refused after writing for 2/);
    assert.ok(range.reason instanceof RangeError, String(range.reason));
    assert.deepEqual(await db.all("SELECT account, delta FROM history ORDER BY id"), [
      { account: 1, delta: 5 },
      { account: 3, delta: 7 },
    ]);
  });

  it("refuses what cannot work with a clear error, for that call alone", async () => {
    const db = await bank();
    const { errors } = await settle([
      db.call("nope"),
      db.call("notAProcedure"),
      db.call("returnsAFunction"),
      db.call("awaits"),
      db.call("commits"),
    ]);
    assert.equal(errors.length, 5);
    assert.match(errors[0].message, /exports no function named "nope"/);
    assert.match(errors[1].message, /exports no function named "notAProcedure"/);
    assert.match(errors[2].message, /cannot be sent back/);
    assert.match(errors[3].message, /returned a promise/);
    assert.ok(errors[4] instanceof TypeError, String(errors[4]));
    assert.equal(await db.call<number>("deposit", { id: 1, delta: 2 }), 2, "the writer goes on");
    await assert.rejects(db.call(""), TypeError);
  });

  it("a statement that fails inside one rejects it with SqliteError", async () => {
    const db = await bank();
    await db.exec(
      "CREATE TRIGGER no_13 BEFORE INSERT ON history WHEN NEW.delta = 13 BEGIN SELECT RAISE(ABORT, 'thirteen'); END",
    );
    await assert.rejects(
      db.call("deposit", { id: 1, delta: 13 }),
      (e) => e instanceof SqliteError && /thirteen/.test(e.message),
    );
    assert.deepEqual(await db.get("SELECT balance FROM account WHERE id = 1"), { balance: 0 });
  });

  it("without a procedures module, call() rejects; a module that cannot load fails open()", async () => {
    const db = await open(tempPath());
    opened.push(db);
    await assert.rejects(db.call("deposit"), /No procedures module was given/);
    await assert.rejects(
      open(tempPath(), { procedures: new URL("./_missing_procedures.ts", import.meta.url) }),
      /Cannot import the procedures module/,
    );
    await assert.rejects(open(tempPath(), { procedures: "procs.ts" }), TypeError);
  });

  it("a procedure applies nothing after it returned or after SQLite rolled it back", async () => {
    const db = await bank();
    await db.exec(`CREATE TABLE guarded(y);
      CREATE TRIGGER g BEFORE INSERT ON guarded BEGIN SELECT RAISE(ROLLBACK, 'no'); END;`);
    await assert.rejects(db.call("swallowsRollback"), /after SQLite rolled back/);
    await assert.rejects(db.call("writesLater"), /returned a promise/);
    await db.call("deposit", { id: 2, delta: 1 }); // a later request: the late write had its chance
    assert.deepEqual(await db.all("SELECT delta FROM history ORDER BY id"), [{ delta: 1 }]);
  });
});
