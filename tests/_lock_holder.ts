// Child process for the lock tests: takes the write lock of a database with the raw binding
// (or, with "read", holds a read snapshot open), says "locked", holds it for the given
// milliseconds, then ends its transaction and says "released".

const [path, ms, mode] = (globalThis as unknown as { process: { argv: string[] } }).process.argv
  .slice(2);
type Raw = { exec(sql: string): void; close(): void };
const db: Raw = "Bun" in globalThis
  ? new (await import("bun:" + "sqlite")).Database(path)
  : new (await import("node:sqlite")).DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 10000");
if (mode === "read") {
  db.exec("BEGIN");
  db.exec("SELECT count(*) FROM sqlite_master");
} else {
  db.exec("BEGIN IMMEDIATE");
  db.exec("INSERT INTO t(v) VALUES ('from another process')");
}
console.log("locked");
await new Promise((r) => setTimeout(r, Number(ms)));
db.exec("COMMIT");
db.close();
console.log("released");
