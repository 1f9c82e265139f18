// Tagged templates: values always bound, identifiers only through ident().

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, ident, Identifier, open } from "../mod.ts";
import { tempPath } from "./_helpers.ts";

describe("db.sql tagged templates", () => {
  let db: Database;
  before(async () => {
    db = await open(tempPath(), {
      migrations: ["CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, data BLOB)"],
    });
  });
  after(() => db.close());

  it("binds every value: a hostile string is stored as text, never run as SQL", async () => {
    const hostile = "x'); DROP TABLE notes; --";
    const { changes, lastInsertRowid } = await db.sql
      .run`INSERT INTO notes(body, data) VALUES (${hostile}, ${new Uint8Array([1, 2])})`;
    assert.equal(changes, 1);
    const rows = await db.sql<{ body: string; data: Uint8Array }>`
      SELECT body, data FROM notes WHERE id = ${lastInsertRowid}`;
    assert.deepEqual(rows, [{ body: hostile, data: new Uint8Array([1, 2]) }]);
    assert.deepEqual(await db.sql.get`SELECT count(*) AS n FROM notes`, { n: 1 });
  });

  it("routes like all(): a read to a reader, a write with RETURNING to the writer", async () => {
    const before = db.stats();
    const [row] = await db.sql<
      { id: number }
    >`INSERT INTO notes(body) VALUES (${"r"}) RETURNING id`;
    assert.equal(typeof row.id, "number");
    await db.sql`SELECT * FROM notes WHERE id = ${row.id}`;
    const now = db.stats();
    assert.equal(now.committedRequests, before.committedRequests + 1);
    assert.equal(now.reads, before.reads + 1);
  });

  it("get, values and run take templates too", async () => {
    const id = 1;
    assert.equal(
      (await db.sql.get<{ body: string }>`SELECT body FROM notes WHERE id = ${id}`)?.body,
      "x'); DROP TABLE notes; --",
    );
    assert.equal(await db.sql.get`SELECT * FROM notes WHERE id = ${-5}`, undefined);
    assert.deepEqual(await db.sql.values`SELECT ${1} + ${2}, ${"a"} || ${"b"}`, [[3, "ab"]]);
  });

  it("puts names in only through ident(), quoted", async () => {
    await db.exec('CREATE TABLE "odd ""name"""(v)');
    await db.sql.run`INSERT INTO ${ident('odd "name"')}(v) VALUES (${7})`;
    assert.deepEqual(await db.sql`SELECT v FROM ${ident("main", 'odd "name"')}`, [{ v: 7 }]);
    // A name that is SQL stays a name.
    await assert.rejects(
      db.sql`SELECT * FROM ${ident("notes; DROP TABLE notes")}`,
      /no such table: notes; DROP TABLE notes/,
    );
    // Only ident() makes identifiers: one made with new (raw SQL) is refused.
    const forged = new Identifier("1 = 1 OR 1");
    await assert.rejects(db.sql`DELETE FROM notes WHERE ${forged} = ${1}`, {
      name: "TypeError",
      message: /made with ident\(\)/,
    });
    assert.ok((await db.sql.get<{ n: number }>`SELECT count(*) AS n FROM notes`)!.n > 0);
    assert.throws(() => ident(""), TypeError);
    assert.throws(() => ident("a\0b"), TypeError);
    assert.throws(() => ident(), TypeError);
  });

  it("rejects values it cannot bind, and values written inside quotes, for that call alone", async () => {
    const id = 1;
    await assert.rejects(
      db.sql`SELECT * FROM notes WHERE id = ${{ id } as never}`,
      { name: "TypeError", message: /parameter 1: an object/ },
    );
    await assert.rejects(
      db.sql`SELECT * FROM notes WHERE body = '${"x"}'`,
      { name: "RangeError", message: /write \$\{x\}, not '\$\{x\}'/ },
    );
    // A parameter written in the template's text is refused, even beside a value in quotes
    // that would otherwise make the counts match.
    await assert.rejects(db.sql`SELECT * FROM notes WHERE body = ? OR body = '${"x"}'`, {
      name: "TypeError",
      message: /not as \?/,
    });
    const template = (...parts: string[]) =>
      Object.assign(parts, { raw: parts }) as unknown as TemplateStringsArray;
    for (const param of ["?1", ":v", "@v", "$v"]) {
      await assert.rejects(
        db.sql(template(`SELECT * FROM notes WHERE body = ${param} OR id = `, ""), 1),
        { name: "TypeError", message: /not as \?/ },
        param,
      );
    }
    await assert.rejects(
      (db.sql as unknown as (s: string) => Promise<unknown>)("SELECT 1"),
      { name: "TypeError", message: /template tag/ },
    );
    assert.deepEqual(await db.sql.get`SELECT ${id} AS one`, { one: 1 });
  });

  it("the same template binds each call's own values", async () => {
    const bodies = ["a", "b", "c"];
    const find = (body: string) => db.sql.get<{ n: number }>`SELECT ${body} AS n`;
    for (const b of bodies) assert.deepEqual(await find(b), { n: b });
  });

  it("works inside a transaction through tx.sql, and rolls back with it", async () => {
    const count = async () => (await db.sql.get<{ n: number }>`SELECT count(*) AS n FROM notes`)!.n;
    const n = await count();
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.sql.run`INSERT INTO notes(body) VALUES (${"in tx"})`;
        const [{ c }] = await tx.sql<{ c: number }>`SELECT count(*) AS c FROM notes`;
        assert.equal(c, n + 1);
        throw new Error("undo");
      }),
      /undo/,
    );
    assert.equal(await count(), n);
    await db.transaction((tx) => tx.sql.run`INSERT INTO notes(body) VALUES (${"kept"})`);
    assert.equal(await count(), n + 1);
  });
});
