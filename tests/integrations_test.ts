// Kysely (through walpool/kysely) and Drizzle ORM (through its sqlite-proxy driver and
// walpool/drizzle), with the real packages from npm (devDependencies in package.json): real
// queries, joins, transactions that commit and roll back, and concurrent inserts.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as kysely from "kysely";
import { type Generated, Kysely, sql } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { drizzle } from "drizzle-orm/sqlite-proxy";
import { eq, relations } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { type Database, open, SqliteError } from "../mod.ts";
import { type WalpoolConnection, WalpoolDialect } from "../lib/kysely.ts";
import { type DrizzleResult, walpoolProxy } from "../lib/drizzle.ts";
import { runtime, runtimeCommand, tempPath } from "./_helpers.ts";

const SCHEMA = `
  CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                     title TEXT NOT NULL);
`;

// Databases a test opened, closed after it (Node 22 has no `await using`).
const opened: Database[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});

/** A new database with the users and posts tables, made through walpool itself. */
async function fresh(): Promise<Database> {
  const db = await open(tempPath());
  opened.push(db);
  await db.exec(SCHEMA);
  return db;
}

/** A promise and the function that resolves it. */
function signal(): [Promise<void>, () => void] {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return [promise, resolve];
}

const count = async (db: Database, where = "1") =>
  (await db.get<{ n: number }>(`SELECT count(*) AS n FROM users WHERE ${where}`))!.n;

describe("Kysely through WalpoolDialect", () => {
  interface DB {
    users: { id: Generated<number>; name: string };
    posts: { id: Generated<number>; user_id: number; title: string };
  }
  const orm = (db: Database) =>
    new Kysely<DB>({
      dialect: new WalpoolDialect(db, {
        SqliteAdapter: kysely.SqliteAdapter,
        SqliteIntrospector: kysely.SqliteIntrospector,
        SqliteQueryCompiler: kysely.SqliteQueryCompiler,
      }),
    });

  it("inserts, selects with where, joins tables that both have id, updates and deletes", async () => {
    const db = await fresh();
    const k = orm(db);

    const ada = await k.insertInto("users").values({ name: "ada" }).executeTakeFirstOrThrow();
    assert.equal(ada.insertId, 1n);
    assert.equal(ada.numInsertedOrUpdatedRows, 1n);
    const bob = await k.insertInto("users").values({ name: "bob" }).returning(["id", "name"])
      .executeTakeFirstOrThrow();
    assert.deepEqual(bob, { id: 2, name: "bob" });
    const posts = await k.insertInto("posts").values([
      { id: 10, user_id: 1, title: "a1" },
      { id: 11, user_id: 2, title: "b1" },
      { id: 12, user_id: 1, title: "a2" },
    ]).returning("id").execute();
    assert.deepEqual(posts, [{ id: 10 }, { id: 11 }, { id: 12 }]);

    assert.deepEqual(
      await k.selectFrom("users").selectAll().where("name", "=", "bob").execute(),
      [{ id: 2, name: "bob" }],
    );
    assert.equal(
      await k.selectFrom("users").selectAll().where("name", "=", "nobody").executeTakeFirst(),
      undefined,
    );

    const joined = await k.selectFrom("posts")
      .innerJoin("users", "users.id", "posts.user_id")
      .select(["posts.id as postId", "users.id as userId", "posts.title", "users.name"])
      .where("users.name", "=", "ada")
      .orderBy("posts.id")
      .execute();
    assert.deepEqual(joined, [
      { postId: 10, userId: 1, title: "a1", name: "ada" },
      { postId: 12, userId: 1, title: "a2", name: "ada" },
    ]);

    const updated = await k.updateTable("posts").set({ title: "ada's" }).where("user_id", "=", 1)
      .executeTakeFirstOrThrow();
    assert.equal(updated.numUpdatedRows, 2n);
    assert.deepEqual(
      await db.all("SELECT id, title FROM posts ORDER BY id"),
      [{ id: 10, title: "ada's" }, { id: 11, title: "b1" }, { id: 12, title: "ada's" }],
    );

    const deleted = await k.deleteFrom("posts").where("id", "=", 11).executeTakeFirstOrThrow();
    assert.equal(deleted.numDeletedRows, 1n);
    assert.deepEqual(await db.all("SELECT id FROM posts ORDER BY id"), [{ id: 10 }, { id: 12 }]);
  });

  it("a transaction commits and sees its own writes; one that throws leaves nothing", async () => {
    const db = await fresh();
    const k = orm(db);

    const id = await k.transaction().execute(async (trx) => {
      const { insertId } = await trx.insertInto("users").values({ name: "ada" })
        .executeTakeFirstOrThrow();
      await trx.insertInto("posts").values({ user_id: Number(insertId), title: "t" }).execute();
      const seen = await trx.selectFrom("posts").select("title").execute();
      assert.deepEqual(seen, [{ title: "t" }]);
      return insertId;
    });
    assert.equal(id, 1n);
    assert.deepEqual(await db.all("SELECT user_id, title FROM posts"), [{
      user_id: 1,
      title: "t",
    }]);

    let seenInside: unknown;
    await assert.rejects(
      k.transaction().execute(async (trx) => {
        await trx.insertInto("users").values({ name: "ghost" }).execute();
        await trx.updateTable("posts").set({ title: "changed" }).execute();
        seenInside = await trx.selectFrom("users").select("name").where("name", "=", "ghost")
          .execute();
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(seenInside, [{ name: "ghost" }]);
    assert.equal(await count(db, "name = 'ghost'"), 0);
    assert.deepEqual(await db.all("SELECT title FROM posts"), [{ title: "t" }]);
    // The writer is free again: a write after the rollback goes through.
    await k.insertInto("users").values({ name: "after" }).execute();
    assert.equal(await count(db), 2);
  });

  it("a transaction whose COMMIT fails or that times out rejects with that error, not another", async () => {
    const db = await open(tempPath(), { pragmas: { foreign_keys: true }, transactionTimeout: 200 });
    opened.push(db);
    await db.exec(`${SCHEMA}
      CREATE TABLE notes(user_id INTEGER REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED)`);
    const k = new Kysely<DB & { notes: { user_id: number } }>({
      dialect: new WalpoolDialect(db, kysely),
    });
    await assert.rejects(
      k.transaction().execute((trx) => trx.insertInto("notes").values({ user_id: 42 }).execute()),
      (e: unknown) => e instanceof SqliteError && /FOREIGN KEY/.test(e.message),
    );
    await assert.rejects(
      k.transaction().execute(async (trx) => {
        await trx.insertInto("users").values({ name: "slow" }).execute();
        await new Promise((r) => setTimeout(r, 400)); // past transactionTimeout
      }),
      (e: unknown) => e instanceof Error && e.name === "TimeoutError",
    );
    assert.equal(await count(db), 0, "neither transaction left anything");
    await k.insertInto("users").values({ name: "after" }).execute();
    assert.equal(await count(db), 1, "the dialect goes on working");
  });

  it("a controlled transaction is invisible outside until commit, with savepoints", async () => {
    const db = await fresh();
    const k = orm(db);

    const trx = await k.startTransaction().execute();
    await trx.insertInto("users").values({ name: "ada" }).execute();
    assert.equal((await trx.selectFrom("users").selectAll().execute()).length, 1);
    assert.deepEqual(await k.selectFrom("users").selectAll().execute(), []);
    const sp = await trx.savepoint("sp").execute();
    await sp.insertInto("users").values({ name: "undone" }).execute();
    const back = await sp.rollbackToSavepoint("sp").execute();
    const kept = await back.savepoint("kept").execute();
    await kept.insertInto("users").values({ name: "grace" }).execute();
    const released = await kept.releaseSavepoint("kept").execute();
    await assert.rejects(
      k.getExecutor().provideConnection((c) =>
        (c as unknown as WalpoolConnection).savepoint("savepoint", "x")
      ),
      /need a transaction/,
    );
    await released.commit().execute();
    assert.deepEqual(await k.selectFrom("users").select("name").orderBy("id").execute(), [
      { name: "ada" },
      { name: "grace" },
    ]);

    const trx2 = await k.startTransaction().execute();
    await trx2.insertInto("users").values({ name: "bob" }).execute();
    await trx2.rollback().execute();
    assert.deepEqual(await k.selectFrom("users").select("name").orderBy("id").execute(), [
      { name: "ada" },
      { name: "grace" },
    ]);
  });

  it("concurrent inserts all land; writes made outside an open transaction wait for it", async () => {
    const db = await fresh();
    const k = orm(db);

    const names = Array.from({ length: 100 }, (_, i) => `user${i}`);
    const results = await Promise.all(
      names.map((name) => k.insertInto("users").values({ name }).executeTakeFirstOrThrow()),
    );
    const ids = results.map((r) => Number(r.insertId));
    assert.equal(new Set(ids).size, 100);
    // Kysely did not run them one at a time (one connection): they shared commits.
    assert.ok(db.stats().largestCommit > 1, `largestCommit ${db.stats().largestCommit}`);
    const rows = await k.selectFrom("users").selectAll().orderBy("id").execute();
    assert.equal(rows.length, 100);
    for (const [i, id] of ids.entries()) {
      assert.equal(rows.find((r) => r.id === id)?.name, names[i]);
    }

    const [entered, enter] = signal();
    const [gate, release] = signal();
    const tx = k.transaction().execute(async (trx) => {
      await trx.insertInto("users").values({ name: "tx1" }).execute();
      enter();
      await gate;
      const { insertId } = await trx.insertInto("users").values({ name: "tx2" })
        .executeTakeFirstOrThrow();
      return Number(insertId);
    });
    await entered;
    const outside = Array.from(
      { length: 20 },
      (_, i) => k.insertInto("users").values({ name: `out${i}` }).executeTakeFirstOrThrow(),
    );
    release();
    const tx2 = await tx;
    const outsideIds = (await Promise.all(outside)).map((r) => Number(r.insertId));
    assert.ok(outsideIds.every((id) => id > tx2), "writes outside waited for the transaction");
    assert.equal(await count(db), 122);
  });

  it("gets rows for WITH … replace(), quoted keywords and EXPLAIN QUERY PLAN of a write", async () => {
    const db = await fresh();
    const k = orm(db);
    await k.insertInto("users").values([{ name: "a-b" }, { name: "c-d" }]).execute();
    const replaced = await k.with("u", (q) => q.selectFrom("users").select("name"))
      .selectFrom("u").select(sql<string>`replace(name, '-', ' ')`.as("r")).orderBy("r").execute();
    assert.deepEqual(replaced, [{ r: "a b" }, { r: "c d" }]);
    const quoted = await k.with("u", (q) => q.selectFrom("users").select("name"))
      .selectFrom("u").select("name").where("name", "<>", "delete me").execute();
    assert.equal(quoted.length, 2);
    const plan = await sql`EXPLAIN QUERY PLAN UPDATE users SET name = 'x' WHERE id = 1`.execute(k);
    assert.ok(plan.rows.length >= 1, "EXPLAIN gives rows");
  });

  it("streams rows in chunks and introspects the tables", async () => {
    const db = await fresh();
    const k = orm(db);
    await db.batch(
      Array.from({ length: 5 }, (_, i) => ({
        sql: "INSERT INTO users(name) VALUES (?)",
        params: [`u${i}`],
      })),
    );
    const streamed: string[] = [];
    for await (const row of k.selectFrom("users").select("name").orderBy("id").stream(2)) {
      streamed.push(row.name);
    }
    assert.deepEqual(streamed, ["u0", "u1", "u2", "u3", "u4"]);
    // Leaving the loop early ends the stream; inside a transaction it streams too.
    for await (const row of k.selectFrom("users").select("name").orderBy("id").stream(2)) {
      assert.equal(row.name, "u0");
      break;
    }
    const inTx = await k.transaction().execute(async (trx) => {
      await trx.insertInto("users").values({ name: "in tx" }).execute();
      const names: string[] = [];
      for await (const row of trx.selectFrom("users").select("name").orderBy("id").stream(4)) {
        names.push(row.name);
      }
      return names;
    });
    assert.deepEqual(inTx, ["u0", "u1", "u2", "u3", "u4", "in tx"]);

    const tables = await k.introspection.getTables();
    assert.deepEqual(tables.map((t) => t.name).sort(), ["posts", "users"]);
    const posts = tables.find((t) => t.name === "posts")!;
    assert.deepEqual(posts.columns.map((c) => c.name), ["id", "user_id", "title"]);
  });

  it("Kysely's Migrator applies migrations in one transaction: a failing one leaves none", async () => {
    const db = await fresh();
    const k = orm(db);
    const migration = (table: string, fail = false): Migration => ({
      async up(m) {
        await m.schema.createTable(table).addColumn("id", "integer", (c) => c.primaryKey())
          .execute();
        if (fail) await kysely.sql`SELECT * FROM no_such_table`.execute(m);
      },
    });
    const tables = async () =>
      (await db.all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'm%' ORDER BY name",
      )).map((r) => r.name);

    const failing = new Migrator({
      db: k,
      provider: {
        getMigrations: () => Promise.resolve({ "1": migration("m1"), "2": migration("m2", true) }),
      },
    });
    const bad = await failing.migrateToLatest();
    assert.ok(bad.error instanceof SqliteError, String(bad.error));
    assert.deepEqual(await tables(), []);

    const good = new Migrator({
      db: k,
      provider: {
        getMigrations: () => Promise.resolve({ "1": migration("m1"), "2": migration("m2") }),
      },
    });
    const { error, results } = await good.migrateToLatest();
    assert.equal(error, undefined);
    assert.deepEqual(results?.map((r) => r.status), ["Success", "Success"]);
    assert.deepEqual(await tables(), ["m1", "m2"]);
  });

  it("concurrent Migrators run each migration once, with or without transactions", async () => {
    for (const disableTransactions of [true, false]) {
      const db = await fresh();
      const k = orm(db);
      await db.exec("CREATE TABLE ups(n)");
      let ups = 0;
      const provider = {
        getMigrations: () =>
          Promise.resolve({
            "1": {
              async up(m: kysely.Kysely<unknown>) {
                ups++;
                await new Promise((r) => setTimeout(r, 50));
                await kysely.sql`INSERT INTO ups VALUES (1)`.execute(m);
              },
            },
          }),
      };
      const runs = await Promise.all(
        [1, 2, 3].map(() =>
          new Migrator({ db: k, provider, disableTransactions }).migrateToLatest()
        ),
      );
      for (const run of runs) assert.equal(run.error, undefined, String(run.error));
      assert.equal(ups, 1, `disableTransactions: ${disableTransactions}`);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM ups"), { n: 1 });
    }
  });

  it("the whole kysely module can stand in for the three classes", async () => {
    const db = await fresh();
    const k = new Kysely<DB>({ dialect: new WalpoolDialect(db, kysely) });
    await k.insertInto("users").values({ name: "ada" }).execute();
    assert.deepEqual(await k.selectFrom("users").select("name").execute(), [{ name: "ada" }]);
    assert.throws(
      () => new WalpoolDialect(db, {} as typeof kysely),
      /SqliteAdapter/,
    );
  });
});

describe("Drizzle through walpoolProxy (sqlite-proxy)", () => {
  const users = sqliteTable("users", {
    id: integer().primaryKey(),
    name: text().notNull(),
  });
  const posts = sqliteTable("posts", {
    id: integer().primaryKey(),
    userId: integer("user_id").notNull(),
    title: text().notNull(),
  });
  const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
  const postsRelations = relations(posts, ({ one }) => ({
    author: one(users, { fields: [posts.userId], references: [users.id] }),
  }));
  const schema = { users, posts, usersRelations, postsRelations };
  const orm = (db: Database) => {
    const proxy = walpoolProxy(db);
    return drizzle(proxy, proxy.batch, { schema });
  };

  it("inserts, selects with where, joins tables that both have id, updates and deletes", async () => {
    const db = await fresh();
    const d = orm(db);

    const inserted = await d.insert(users).values({ name: "ada" }) as DrizzleResult;
    assert.equal(inserted.changes, 1);
    assert.equal(inserted.lastInsertRowid, 1);
    assert.deepEqual(await d.insert(users).values({ name: "bob" }).returning(), [
      { id: 2, name: "bob" },
    ]);
    await d.insert(posts).values([
      { id: 10, userId: 1, title: "a1" },
      { id: 11, userId: 2, title: "b1" },
      { id: 12, userId: 1, title: "a2" },
    ]);

    assert.deepEqual(await d.select().from(users).where(eq(users.name, "bob")), [
      { id: 2, name: "bob" },
    ]);
    assert.deepEqual(await d.select().from(users).where(eq(users.id, 1)).get(), {
      id: 1,
      name: "ada",
    });
    assert.equal(await d.select().from(users).where(eq(users.id, 99)).get(), undefined);

    // Both tables have an `id`: rows must reach Drizzle as arrays that keep both.
    const joined = await d.select({ post: posts, user: users }).from(posts)
      .innerJoin(users, eq(posts.userId, users.id))
      .where(eq(users.name, "ada"))
      .orderBy(posts.id);
    assert.deepEqual(joined, [
      { post: { id: 10, userId: 1, title: "a1" }, user: { id: 1, name: "ada" } },
      { post: { id: 12, userId: 1, title: "a2" }, user: { id: 1, name: "ada" } },
    ]);
    const plain = await d.select().from(users).innerJoin(posts, eq(posts.userId, users.id))
      .where(eq(posts.id, 11));
    assert.deepEqual(plain, [{
      users: { id: 2, name: "bob" },
      posts: { id: 11, userId: 2, title: "b1" },
    }]);

    const updated = await d.update(posts).set({ title: "ada's" }).where(
      eq(posts.userId, 1),
    ) as DrizzleResult;
    assert.equal(updated.changes, 2);
    assert.deepEqual(await d.select({ id: posts.id, title: posts.title }).from(posts), [
      { id: 10, title: "ada's" },
      { id: 11, title: "b1" },
      { id: 12, title: "ada's" },
    ]);

    const deleted = await d.delete(posts).where(eq(posts.id, 11)) as DrizzleResult;
    assert.equal(deleted.changes, 1);
    assert.deepEqual(await db.all("SELECT id FROM posts ORDER BY id"), [{ id: 10 }, { id: 12 }]);

    // Relational queries ("get" and "all" with nested JSON).
    const ada = await d.query.users.findFirst({
      where: eq(users.name, "ada"),
      with: { posts: { columns: { id: true } } },
    });
    assert.deepEqual(ada, { id: 1, name: "ada", posts: [{ id: 10 }, { id: 12 }] });
  });

  it("a walpool transaction with Drizzle on tx commits; one that throws leaves nothing", async () => {
    const db = await fresh();
    const d = orm(db);

    const user = await db.transaction(async (tx) => {
      const t = drizzle(walpoolProxy(tx), { schema });
      const [user] = await t.insert(users).values({ name: "ada" }).returning();
      await t.insert(posts).values({ userId: user.id, title: "t" });
      assert.deepEqual(await t.select({ title: posts.title }).from(posts), [{ title: "t" }]);
      return user;
    });
    assert.deepEqual(user, { id: 1, name: "ada" });
    assert.deepEqual(await d.select().from(posts), [{ id: 1, userId: 1, title: "t" }]);

    let seenInside: unknown;
    await assert.rejects(
      db.transaction(async (tx) => {
        const t = drizzle(walpoolProxy(tx));
        await t.insert(users).values({ name: "ghost" });
        await t.update(posts).set({ title: "changed" });
        seenInside = await t.select({ name: users.name }).from(users).where(
          eq(users.name, "ghost"),
        );
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(seenInside, [{ name: "ghost" }]);
    assert.equal(await count(db, "name = 'ghost'"), 0);
    assert.deepEqual(await d.select({ title: posts.title }).from(posts), [{ title: "t" }]);
  });

  it("Drizzle's own transaction() is refused with a TypeError that says what to do", async () => {
    const db = await fresh();
    const d = orm(db);
    let ran = false;
    await assert.rejects(
      d.transaction(async (tx) => {
        ran = true;
        await tx.insert(users).values({ name: "x" });
      }),
      // Drizzle wraps it in a DrizzleQueryError ("Failed query: begin") with walpool's as cause.
      (error: Error) =>
        error.cause instanceof TypeError && /^BEGIN is not allowed/.test(error.cause.message) &&
        error.cause.message.includes("drizzle(walpoolProxy(tx))"),
    );
    assert.equal(ran, false);
    assert.equal(await count(db), 0);

    assert.throws(() => walpoolProxy({} as Database), TypeError);
  });

  it("on a walpool transaction, Drizzle's transaction() nests under savepoints", async () => {
    const db = await fresh();
    await db.transaction(async (tx) => {
      const t = drizzle(walpoolProxy(tx), { schema });
      await t.insert(users).values({ name: "outer" });
      await t.transaction(async (t1) => {
        await t1.insert(users).values({ name: "one" });
        await assert.rejects(
          t1.transaction(async (t2) => {
            await t2.insert(users).values({ name: "two" });
            t2.rollback(); // Drizzle's way: throws, and rolls back to its savepoint
          }),
          /Rollback/,
        );
        await t1.transaction((t2) => t2.insert(users).values({ name: "two again" }));
      });
      await assert.rejects(
        t.transaction(async (t1) => {
          await t1.insert(users).values({ name: "undone" });
          throw new Error("nested fails");
        }),
        /nested fails/,
      );
    });
    assert.deepEqual((await db.values("SELECT name FROM users ORDER BY id")).flat(), [
      "outer",
      "one",
      "two again",
    ]);
  });

  it("batch() is all or nothing, with rows for the statements that return them", async () => {
    const db = await fresh();
    const d = orm(db);

    const [a, b, selected] = await d.batch([
      d.insert(users).values({ name: "b1" }),
      d.insert(users).values({ name: "b2" }).returning({ id: users.id }),
      d.select({ name: users.name }).from(users).orderBy(users.id),
    ]);
    assert.equal((a as DrizzleResult).changes, 1);
    assert.deepEqual(b, [{ id: 2 }]);
    assert.deepEqual(selected, [{ name: "b1" }, { name: "b2" }]);

    // With rows (one transaction) and without (one db.batch): a failure undoes the rest.
    await assert.rejects(
      d.batch([
        d.insert(users).values({ name: "b3" }),
        d.select().from(users),
        d.insert(users).values({ name: "b1" }), // UNIQUE
      ]),
      (error: SqliteError) => error.code === "SQLITE_CONSTRAINT_UNIQUE",
    );
    await assert.rejects(
      d.batch([d.insert(users).values({ name: "b4" }), d.insert(users).values({ name: "b2" })]),
      (error: SqliteError) => error.code === "SQLITE_CONSTRAINT_UNIQUE",
    );
    assert.deepEqual(await db.all("SELECT name FROM users ORDER BY id"), [
      { name: "b1" },
      { name: "b2" },
    ]);
  });

  it("concurrent inserts all land", async () => {
    const db = await fresh();
    const d = orm(db);
    const names = Array.from({ length: 100 }, (_, i) => `user${i}`);
    const returned = await Promise.all(
      names.map((name) => d.insert(users).values({ name }).returning()),
    );
    assert.equal(new Set(returned.map(([r]) => r.id)).size, 100);
    assert.deepEqual(returned.map(([r]) => r.name), names);
    const rows = await d.select().from(users);
    assert.deepEqual(rows.map((r) => r.name).sort(), [...names].sort());
    for (const [r] of returned) {
      assert.equal(rows.find((row) => row.id === r.id)?.name, r.name);
    }
  });
});

describe("subpath exports", () => {
  it("deno.json exports ./kysely and ./drizzle, and package.json the same modules", async () => {
    const root = new URL("../", import.meta.url);
    const json = (file: string) => JSON.parse(readFileSync(new URL(file, root), "utf8")).exports;
    const deno = json("deno.json");
    assert.equal(deno["."], "./mod.ts");
    const k = await import(new URL(deno["./kysely"], root).href);
    assert.equal(k.WalpoolDialect, WalpoolDialect);
    const d = await import(new URL(deno["./drizzle"], root).href);
    assert.equal(d.walpoolProxy, walpoolProxy);
    // package.json: the TypeScript for Bun and Deno, the built JavaScript and its declarations
    // for Node and type checkers (tests/npm_package_test.ts installs and imports them).
    const npm = json("package.json");
    assert.deepEqual(Object.keys(npm), Object.keys(deno));
    for (const [name, ts] of Object.entries(deno)) {
      const js = "./dist/" + (ts as string).slice(2).replace(/\.ts$/, ".js");
      const types = js.replace(/\.js$/, ".d.ts");
      assert.deepEqual(npm[name], { types, bun: ts, deno: ts, default: js }, name);
    }
  });
});

describe("examples", () => {
  for (const example of ["kysely.ts", "drizzle.ts"]) {
    it(`examples/${example} runs on ${runtime} and prints what it wrote`, async () => {
      const root = fileURLToPath(new URL("../", import.meta.url));
      const [cmd, args] = runtimeCommand(`examples/${example}`);
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          cmd,
          args,
          { cwd: root },
          (error, out, err) => error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
        )
      );
      assert.match(stdout, /^Ada wrote 2 posts; 101 authors\n\d+ commits, /);
    });
  }
});
