// Migrations at open: tracked by PRAGMA user_version, all pending ones in one transaction.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Migration, MigrationError, open, SqliteError } from "../mod.ts";
import { faultDriver } from "./_fault_driver.ts";
import { tempPath } from "./_helpers.ts";

const v1: Migration[] = [
  "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
  "CREATE INDEX notes_body ON notes(body); CREATE TABLE tags(note INTEGER, tag TEXT)",
];

/** The database's user_version and table names, read by a fresh connection. */
async function schema(path: string): Promise<{ version: number; tables: string[] }> {
  const db = await open(path, { readers: 0 });
  try {
    const { user_version } = (await db.get<{ user_version: number }>("PRAGMA user_version"))!;
    const tables = await db.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    return { version: user_version, tables: tables.map((t) => t.name) };
  } finally {
    await db.close();
  }
}

describe("migrations", () => {
  it("applies every migration to a new database and sets user_version", async () => {
    const path = tempPath();
    const db = await open(path, { migrations: v1 });
    await db.run("INSERT INTO notes(body) VALUES (?)", ["hello"]);
    assert.deepEqual(await db.all("SELECT body FROM notes"), [{ body: "hello" }]);
    await db.close();
    assert.deepEqual(await schema(path), { version: 2, tables: ["notes", "tags"] });
  });

  it("applies only the migrations past user_version when the app adds one", async () => {
    const path = tempPath();
    await (await open(path, { migrations: v1 })).close();
    // Run again, the first two would fail (their tables exist): they must be skipped.
    const db = await open(path, {
      migrations: [...v1, "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0"],
    });
    await db.run("INSERT INTO notes(body, pinned) VALUES ('x', 1)");
    assert.deepEqual(await db.get("SELECT body, pinned FROM notes"), { body: "x", pinned: 1 });
    await db.close();
    assert.equal((await schema(path)).version, 3);
  });

  it("runs function migrations with the transaction, e.g. to move data", async () => {
    const path = tempPath();
    const db1 = await open(path, { migrations: ["CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT)"] });
    await db1.batch([
      { sql: "INSERT INTO kv VALUES ('a', '1')" },
      { sql: "INSERT INTO kv VALUES ('b', '22')" },
    ]);
    await db1.close();
    const db = await open(path, {
      migrations: [
        "CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT)",
        async (tx) => {
          await tx.exec("ALTER TABLE kv ADD COLUMN len INTEGER");
          for (const row of await tx.all<{ k: string; v: string }>("SELECT k, v FROM kv")) {
            await tx.run("UPDATE kv SET len = ? WHERE k = ?", [row.v.length, row.k]);
          }
        },
      ],
    });
    assert.deepEqual(await db.all("SELECT k, len FROM kv ORDER BY k"), [
      { k: "a", len: 1 },
      { k: "b", len: 2 },
    ]);
    await db.close();
  });

  it("rejects with MigrationError naming the failed one and leaves the database as it was", async () => {
    const path = tempPath();
    await (await open(path, { migrations: [v1[0]] })).close();
    const bad: Migration[] = [
      v1[0],
      "CREATE TABLE a(x)",
      "INSERT INTO a VALUES (1); INSERT INTO nowhere VALUES (2)",
      "CREATE TABLE c(x)",
    ];
    await assert.rejects(open(path, { migrations: bad }), (e: unknown) => {
      assert.ok(e instanceof MigrationError);
      assert.equal(e.index, 2);
      assert.ok(e.cause instanceof SqliteError);
      assert.match(
        e.message,
        /Migration 2 failed.*user_version is still 1.*no such table: nowhere/,
      );
      return true;
    });
    // Migration 1 ran in the same transaction as the failed one: it is gone too.
    assert.deepEqual(await schema(path), { version: 1, tables: ["notes"] });
    // Fixed, the same list applies.
    bad[2] = "INSERT INTO a VALUES (1)";
    const db = await open(path, { migrations: bad });
    assert.deepEqual(await db.all("SELECT x FROM a"), [{ x: 1 }]);
    await db.close();
    assert.deepEqual(await schema(path), { version: 4, tables: ["a", "c", "notes"] });
  });

  it("rejects a migration that throws, or that tries to manage the transaction itself", async () => {
    const path = tempPath();
    await assert.rejects(
      open(path, {
        migrations: [
          "CREATE TABLE t(x)",
          () => {
            throw new Error("data check failed");
          },
        ],
      }),
      (e: unknown) =>
        e instanceof MigrationError && e.index === 1 && /data check failed/.test(e.message),
    );
    await assert.rejects(
      open(path, { migrations: ["BEGIN; CREATE TABLE t(x); COMMIT"] }),
      (e: unknown) =>
        e instanceof MigrationError && e.index === 0 && e.cause instanceof TypeError &&
        /BEGIN is not allowed/.test(e.message),
    );
    assert.deepEqual(await schema(path), { version: 0, tables: [] });
  });

  it("rejects a database migrated beyond the migrations given, changing nothing", async () => {
    const path = tempPath();
    await (await open(path, { migrations: v1 })).close();
    await assert.rejects(
      open(path, { migrations: [v1[0]] }),
      (e: unknown) =>
        e instanceof MigrationError && e.index === -1 &&
        /at version 2.*beyond the 1/.test(e.message),
    );
    assert.deepEqual(await schema(path), { version: 2, tables: ["notes", "tags"] });
  });

  it("rejects with index -1 when the COMMIT of the migrations fails, applying none", async () => {
    const path = tempPath();
    const migrations: Migration[] = [
      "CREATE TABLE a(id INTEGER PRIMARY KEY)",
      `CREATE TABLE b(a INTEGER REFERENCES a(id) DEFERRABLE INITIALLY DEFERRED);
       INSERT INTO b VALUES (42)`, // checked at COMMIT: no a.id 42
    ];
    await assert.rejects(
      open(path, { migrations, pragmas: { foreign_keys: true } }),
      (e: unknown) => {
        assert.ok(e instanceof MigrationError);
        assert.equal(e.index, -1);
        assert.ok(e.cause instanceof SqliteError);
        assert.match(e.message, /Committing migrations 0 to 1 failed.*user_version is still 0/);
        return true;
      },
    );
    assert.deepEqual(await schema(path), { version: 0, tables: [] });
  });

  it("rejects with index -1 when the migrations' transaction cannot begin", async () => {
    const path = tempPath();
    // The writer's second BEGIN (the first checks at open that the file is writable) fails.
    const driver = faultDriver({ op: "begin", nth: 2, code: "SQLITE_BUSY" });
    await assert.rejects(
      open(path, { migrations: v1, driver }),
      (e: unknown) =>
        e instanceof MigrationError && e.index === -1 &&
        /^The migrations could not begin, so none was applied: /.test(e.message),
    );
    assert.deepEqual(await schema(path), { version: 0, tables: [] });
  });

  it("applies each migration once when two opens race on the same file", async () => {
    const path = tempPath();
    const migrations: Migration[] = [
      "CREATE TABLE log(what TEXT)",
      "INSERT INTO log VALUES ('migration 1 ran')",
    ];
    const dbs = await Promise.all([open(path, { migrations }), open(path, { migrations })]);
    assert.deepEqual(await dbs[0].all("SELECT what FROM log"), [{ what: "migration 1 ran" }]);
    for (const db of dbs) await db.close();
    assert.equal((await schema(path)).version, 2);
  });

  it("rejects a migrations option that is not an array of strings and functions", async () => {
    await assert.rejects(
      open(tempPath(), { migrations: "CREATE TABLE t(x)" as unknown as Migration[] }),
      { name: "TypeError", message: /migrations must be an array/ },
    );
    await assert.rejects(
      open(tempPath(), { migrations: ["CREATE TABLE t(x)", 42 as unknown as Migration] }),
      { name: "TypeError", message: /Migration 1 must be a SQL string or a function/ },
    );
  });
});
