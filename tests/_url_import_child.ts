// Child process of url_import_test.ts (Deno only): imports walpool by an http URL, so that the
// writer and reader workers start from http URLs as well, uses it, and prints what it saw as JSON.
//
//   deno run --allow-import=HOST:PORT --allow-read=DIR --allow-write=DIR \
//     tests/_url_import_child.ts http://HOST:PORT DIR/test.db node:sqlite

const [base, path, driver] = Deno.args;
const walpool: typeof import("../mod.ts") = await import(`${base}/mod.ts`);
type DriverName = import("../mod.ts").DriverName;

const db = await walpool.open(path, { readers: 2, driver: driver as DriverName });
await db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
const runs = await Promise.all(
  Array.from({ length: 100 }, (_, i) => db.run("INSERT INTO notes(body) VALUES (?)", [`n${i}`])),
);
const batch = await db.batch([
  { sql: "INSERT INTO notes(body) VALUES (?)", params: ["b1"] },
  { sql: "INSERT INTO notes(body) VALUES (:body)", params: { body: "b2" } },
]);
const upper = await db.transaction(async (tx) => {
  await tx.run("UPDATE notes SET body = upper(body) WHERE id <= 10");
  return (await tx.get<{ n: number }>("SELECT count(*) AS n FROM notes WHERE body GLOB 'N*'"))!.n;
});
const reads = await Promise.all(
  Array.from(
    { length: 20 },
    (_, i) => db.get<{ body: string }>("SELECT body FROM notes WHERE id = ?", [i + 1]),
  ),
);
const [{ n }] = await db.all<{ n: number }>("SELECT count(*) AS n FROM notes");
const error = await db.run("INSERT INTO notes(body) VALUES (NULL)").then(
  () => "no error",
  (e) => `${e instanceof walpool.SqliteError ? "SqliteError" : e} ${e.code}`,
);
const stats = db.stats();
await db.close();
const closed = await db.get("SELECT 1").then(
  () => "no error",
  (e) => e instanceof walpool.ClosedError ? "ClosedError" : String(e),
);

console.log(JSON.stringify({
  ids: runs.map((r) => r.lastInsertRowid),
  batch: batch.map((r) => r.changes),
  upper,
  reads: reads.map((r) => r?.body),
  n,
  error,
  closed,
  readers: stats.readers,
  readerReads: stats.reads,
}));
