// Drizzle ORM on walpool, through Drizzle's sqlite-proxy driver: Drizzle builds the SQL, walpool
// runs it (reads on reader workers, writes through the single writer with group commit).
//
//   deno run -A examples/drizzle.ts
//   npm install && bun examples/drizzle.ts    (or node examples/drizzle.ts, Node 22.18+)
//
// Uses a database in a temporary directory, removed at the end.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { count, eq } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { drizzle } from "drizzle-orm/sqlite-proxy";
import { open } from "../mod.ts"; // published: "@walpool/walpool" and "@walpool/walpool/drizzle"
import { walpoolProxy } from "../lib/drizzle.ts";

const authors = sqliteTable("authors", {
  id: integer().primaryKey(),
  name: text().notNull(),
});
const posts = sqliteTable("posts", {
  id: integer().primaryKey(),
  authorId: integer("author_id").notNull().references(() => authors.id),
  title: text().notNull(),
});

const dir = mkdtempSync(join(tmpdir(), "walpool-drizzle-"));
const db = await open(join(dir, "blog.db"));
await db.exec(`
  CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE posts(id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id),
                     title TEXT NOT NULL)`);
const proxy = walpoolProxy(db);
const orm = drizzle(proxy, proxy.batch);

// An author and her posts, all or nothing: a walpool transaction, with Drizzle on `tx`.
// (Drizzle's own orm.transaction() sends BEGIN, which walpool refuses.)
await db.transaction(async (tx) => {
  const t = drizzle(walpoolProxy(tx));
  const [ada] = await t.insert(authors).values({ name: "Ada" }).returning();
  await t.insert(posts).values([
    { authorId: ada.id, title: "Notes on the engine" },
    { authorId: ada.id, title: "Bernoulli numbers" },
  ]);
});

// 100 concurrent inserts: walpool commits them together.
await Promise.all(
  Array.from({ length: 100 }, (_, i) => orm.insert(authors).values({ name: `guest ${i}` })),
);

// Both tables have an `id`: rows reach Drizzle as arrays, so each lands in its own object.
const rows = await orm.select({ author: authors, post: posts }).from(posts)
  .innerJoin(authors, eq(posts.authorId, authors.id))
  .orderBy(posts.id);
const [{ n }] = await orm.select({ n: count() }).from(authors);
const { commits, requestsPerCommit } = db.stats();
console.log(`${rows[0].author.name} wrote ${rows.length} posts; ${n} authors`);
console.log(`${commits} commits, ${requestsPerCommit.toFixed(1)} writes per commit`);

await db.close();
rmSync(dir, { recursive: true, force: true });
