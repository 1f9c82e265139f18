// Kysely on walpool: Kysely builds the SQL, walpool runs it (reads on reader workers, writes
// through the single writer with group commit, a Kysely transaction as a walpool transaction).
//
//   deno run -A examples/kysely.ts
//   npm install && bun examples/kysely.ts    (or node examples/kysely.ts, Node 22.18+)
//
// Uses a database in a temporary directory, removed at the end.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Generated,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import { open } from "../mod.ts"; // published: "@walpool/walpool" and "@walpool/walpool/kysely"
import { WalpoolDialect } from "../lib/kysely.ts";

interface DB {
  authors: { id: Generated<number>; name: string };
  posts: { id: Generated<number>; author_id: number; title: string };
}

const dir = mkdtempSync(join(tmpdir(), "walpool-kysely-"));
const db = await open(join(dir, "blog.db"));
await db.exec(`
  CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE posts(id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id),
                     title TEXT NOT NULL)`);
const k = new Kysely<DB>({
  dialect: new WalpoolDialect(db, { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler }),
});

// An author and her posts, all or nothing.
await k.transaction().execute(async (trx) => {
  const ada = await trx.insertInto("authors").values({ name: "Ada" }).returning("id")
    .executeTakeFirstOrThrow();
  await trx.insertInto("posts").values([
    { author_id: ada.id, title: "Notes on the engine" },
    { author_id: ada.id, title: "Bernoulli numbers" },
  ]).execute();
});

// 100 concurrent inserts: walpool commits them together.
await Promise.all(
  Array.from(
    { length: 100 },
    (_, i) => k.insertInto("authors").values({ name: `guest ${i}` }).execute(),
  ),
);

const top = await k.selectFrom("authors")
  .leftJoin("posts", "posts.author_id", "authors.id")
  .select(["authors.name", (eb) => eb.fn.count<number>("posts.id").as("posts")])
  .groupBy("authors.id")
  .orderBy("posts", "desc")
  .orderBy("authors.id")
  .executeTakeFirstOrThrow();
const { n } = await k.selectFrom("authors").select((eb) => eb.fn.countAll<number>().as("n"))
  .executeTakeFirstOrThrow();
const { commits, requestsPerCommit } = db.stats();
console.log(`${top.name} wrote ${top.posts} posts; ${n} authors`);
console.log(`${commits} commits, ${requestsPerCommit.toFixed(1)} writes per commit`);

await db.close(); // kysely.destroy() leaves the database open: it is yours to close
rmSync(dir, { recursive: true, force: true });
