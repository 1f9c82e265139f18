// Group commit in-process: lib/group_commit.ts over a real connection on this thread, no worker.
// Failure isolation, a whole-transaction rollback and its replay, a failed COMMIT, savepoints
// around multi-statement requests, and the asynchronous form giving the same answers.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Connection } from "../lib/_connection.ts";
import {
  type Attempt,
  attemptLocally,
  commitGroup,
  commitGroupAsync,
  newTally,
  type Tally,
} from "../lib/group_commit.ts";
import type { Answer, WriteRequest } from "../lib/protocol.ts";
import { defaultDriver as driver } from "../lib/_runtime.ts";
import { tempPath } from "./_helpers.ts";

async function connect(setup: string, pragmas: string[] = []): Promise<Connection> {
  const conn = await Connection.open({
    driver,
    path: tempPath(),
    readonly: false,
    safeIntegers: false,
    busyTimeout: 1000,
    durability: "normal",
    pragmas,
  });
  conn.exec(setup);
  return conn;
}

let nextId = 1;
const insert = (sql: string, ...params: (number | string)[]): WriteRequest => ({
  id: nextId++,
  kind: "run",
  sql,
  params,
});
const ids = (rows: unknown) => (rows as { id: number }[]).map((r) => r.id);
const outcome = (a: Answer): string => a.error?.code ?? (a.error ? "error" : "ok");

describe("group commit, in-process", () => {
  it("a request that fails fails alone; the rest commit in one transaction", async () => {
    const conn = await connect("CREATE TABLE t(id INTEGER PRIMARY KEY, u UNIQUE)");
    const sql = "INSERT INTO t(id, u) VALUES (?, ?)";
    const reqs = [
      insert(sql, 1, "a"),
      insert(sql, 2, "b"),
      insert(sql, 3, "a"),
      insert(sql, 4, "c"),
    ];
    const tally = newTally();
    const answers = commitGroup(conn, reqs, tally);
    assert.deepEqual(answers.map((a) => a.id), reqs.map((r) => r.id));
    assert.deepEqual(answers.map(outcome), ["ok", "ok", "SQLITE_CONSTRAINT_UNIQUE", "ok"]);
    assert.deepEqual(answers[3].value, { changes: 1, lastInsertRowid: 4 });
    assert.deepEqual(tally.commits, [3], "one commit carrying the three that succeeded");
    assert.deepEqual(ids(conn.all("SELECT id FROM t ORDER BY id", [])), [1, 2, 4]);
    assert.equal(conn.inTransaction(), false);
    conn.close();
  });

  it("when SQLite rolls the whole transaction back, the ones before are replayed once", async () => {
    const conn = await connect(`
      CREATE TABLE t(id INTEGER PRIMARY KEY, v);
      CREATE TRIGGER no_13 BEFORE INSERT ON t WHEN NEW.v = 13
        BEGIN SELECT RAISE(ROLLBACK, 'no 13'); END;
    `);
    const sql = "INSERT INTO t(id, v) VALUES (?, ?)";
    const reqs = [1, 2, 13, 4, 13, 6].map((v, i) => insert(sql, i + 1, v));
    // Count what each request ran, to show none ran more than twice.
    const runs = new Map<number, number>();
    const counted = countingRuns(conn, runs);
    const tally = newTally();
    const answers = commitGroup(counted, reqs, tally);
    assert.deepEqual(answers.map((a) => a.id), reqs.map((r) => r.id));
    assert.deepEqual(answers.map(outcome), [
      "ok",
      "ok",
      "SQLITE_CONSTRAINT_TRIGGER",
      "ok",
      "SQLITE_CONSTRAINT_TRIGGER",
      "ok",
    ]);
    assert.match(answers[2].error!.message, /no 13/);
    assert.deepEqual(ids(conn.all("SELECT id FROM t ORDER BY id", [])), [1, 2, 4, 6]);
    assert.ok([...runs.values()].every((n) => n <= 2), `runs per request: ${[...runs]}`);
    assert.equal(runs.get(1), 2, "the first request was replayed after the rollback");
    assert.equal(runs.get(6), 1, "the last one ran once");
    assert.deepEqual(tally.commits, [2, 1, 1], "replayed prefix, then each segment after");
    conn.close();
  });

  it("a failed COMMIT retries each request alone; only the culprit fails", async () => {
    const conn = await connect(
      `CREATE TABLE parent(id INTEGER PRIMARY KEY);
       CREATE TABLE child(id INTEGER PRIMARY KEY,
         p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);`,
      ["foreign_keys = ON"],
    );
    const reqs = [
      insert("INSERT INTO parent(id) VALUES (?)", 1),
      insert("INSERT INTO child(id, p) VALUES (?, ?)", 10, 999), // fails only at COMMIT
      insert("INSERT INTO child(id, p) VALUES (?, ?)", 11, 1),
    ];
    const tally = newTally();
    const answers = commitGroup(conn, reqs, tally);
    assert.deepEqual(answers.map(outcome), ["ok", "SQLITE_CONSTRAINT_FOREIGNKEY", "ok"]);
    assert.deepEqual(ids(conn.all("SELECT id FROM child", [])), [11]);
    assert.deepEqual(ids(conn.all("SELECT id FROM parent", [])), [1]);
    assert.deepEqual(tally.commits, [1, 1], "two commits of one: the culprit committed nothing");
    assert.equal(conn.inTransaction(), false);
    conn.close();
  });

  it("exec and batch requests are atomic inside the group (a savepoint each)", async () => {
    const conn = await connect("CREATE TABLE t(id INTEGER PRIMARY KEY)");
    const reqs: WriteRequest[] = [
      insert("INSERT INTO t(id) VALUES (?)", 1),
      {
        id: nextId++,
        kind: "exec",
        sql: "INSERT INTO t(id) VALUES (2); INSERT INTO t(id) VALUES (1)",
      },
      {
        id: nextId++,
        kind: "batch",
        stmts: [
          { sql: "INSERT INTO t(id) VALUES (?)", params: [3] },
          { sql: "INSERT INTO t(id) VALUES (?)", params: [3] },
        ],
      },
      {
        id: nextId++,
        kind: "batch",
        stmts: [
          { sql: "INSERT INTO t(id) VALUES (?)", params: [4] },
          { sql: "INSERT INTO t(id) VALUES (?)", params: [5] },
        ],
      },
    ];
    const answers = commitGroup(conn, reqs, newTally());
    // (the exact constraint code of exec() differs between bindings)
    const kind = (a: Answer) => outcome(a).replace(/^SQLITE_CONSTRAINT_.*/, "constraint");
    assert.deepEqual(answers.map(kind), ["ok", "constraint", "constraint", "ok"]);
    assert.deepEqual(ids(conn.all("SELECT id FROM t ORDER BY id", [])), [1, 4, 5]);
    conn.close();
  });

  it("a BEGIN that fails fails every request of the group, and nothing is applied", async () => {
    const conn = await connect("CREATE TABLE t(id INTEGER PRIMARY KEY)");
    conn.exec("BEGIN"); // a transaction already open: BEGIN IMMEDIATE is refused
    const answers = commitGroup(conn, [insert("INSERT INTO t(id) VALUES (?)", 1)], newTally());
    assert.equal(answers.length, 1);
    assert.match(answers[0].error!.message, /transaction/);
    conn.exec("ROLLBACK");
    assert.deepEqual(conn.all("SELECT id FROM t", []), []);
    conn.close();
  });

  it("the asynchronous form makes the same attempts and gives the same answers", async () => {
    const setup = `
      CREATE TABLE t(id INTEGER PRIMARY KEY, v UNIQUE);
      CREATE TRIGGER no_13 BEFORE INSERT ON t WHEN NEW.v = 13
        BEGIN SELECT RAISE(ROLLBACK, 'no 13'); END;`;
    const sql = "INSERT INTO t(id, v) VALUES (?, ?)";
    const values = [1, 13, 3, 3, 13, 6, 7];
    const sync = await connect(setup);
    const viaAsync = await connect(setup);
    const expected = commitGroup(sync, values.map((v, i) => insert(sql, i + 1, v)), newTally());
    // The asynchronous engine here is the same local connection behind a promise, as a remote
    // engine would answer: the algorithm must not care.
    const tally: Tally = newTally();
    const tries: number[] = [];
    const answers = await commitGroupAsync(
      values.map((v, i) => insert(sql, i + 1, v)),
      async (reqs): Promise<Attempt> => {
        tries.push(reqs.length);
        await Promise.resolve();
        return attemptLocally(viaAsync, reqs, tally);
      },
    );
    const strip = (as: Answer[]) => as.map((a) => ({ value: a.value, code: a.error?.code }));
    assert.deepEqual(strip(answers), strip(expected));
    assert.deepEqual(tries, [7, 1, 5, 2, 2], "whole group; prefix; rest; its prefix; its rest");
    assert.deepEqual(
      viaAsync.all("SELECT id, v FROM t ORDER BY id", []),
      sync.all("SELECT id, v FROM t ORDER BY id", []),
    );
    sync.close();
    viaAsync.close();
  });
});

/** `conn` with each run() counted by its first parameter (the request's row id). */
function countingRuns(conn: Connection, runs: Map<number, number>): Connection {
  return new Proxy(conn, {
    get(target, key) {
      if (key === "run") {
        return (sql: string, params: (number | string)[]) => {
          runs.set(params[0] as number, (runs.get(params[0] as number) ?? 0) + 1);
          return target.run(sql, params);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
