// What a Node user would pick instead of walpool, on the same work in one process: 256 async
// callers, each awaiting single-row INSERTs, 20 000 rows per library, a fresh file each (WAL,
// synchronous=NORMAL where the library lets us set it). walpool and node:sqlite come from this
// repository and Node; the peers are pinned in bench/peers/package.json and installed apart, so
// that the suite's `npm ci` never builds them (sqlite3 compiles from source):
//
//   (cd bench/peers && npm ci) && node bench/peers.ts [--rows=20000]
//
// A peer that is not installed is skipped with a note. Node 22 only.

import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";
import { openRaw, runtime, runtimeVersion } from "./_raw.ts";

if (runtime !== "node") {
  throw new Error("bench/peers.ts runs on Node 22 (the peers are Node addons)");
}
const ROWS = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? 20_000);
const CALLERS = 256;
const peers = createRequire(new URL("./peers/package.json", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "walpool-peers-"));
let files = 0;
const fresh = () => join(dir, `peer-${files++}.db`);
const SCHEMA = "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
const BODY = "x".repeat(60);

/** Runs `insert` from 256 callers until ROWS rows are in; rows per second. */
async function drive(insert: (i: number) => unknown): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (next < ROWS) await insert(next++);
  }));
  return ROWS / ((performance.now() - began) / 1000);
}

interface SyncDb {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...args: unknown[]): unknown };
  close(): unknown;
}

const cases: [string, () => Promise<number>][] = [
  ["walpool (node:sqlite, default options)", async () => {
    const db = await open(fresh(), { readers: 0 });
    await db.exec(SCHEMA);
    const rate = await drive((i) => db.run("INSERT INTO t(id, body) VALUES (?, ?)", [i, BODY]));
    await db.close();
    return rate;
  }],
  ["node:sqlite, a transaction per insert on the main thread", async () => {
    const db = openRaw(fresh());
    db.exec(SCHEMA);
    const stmt = db.prepare("INSERT INTO t(id, body) VALUES (?, ?)");
    const rate = await drive((i) => stmt.run(i, BODY));
    db.close();
    return rate;
  }],
  ...(["better-sqlite3", "libsql"] as const).map((name): [string, () => Promise<number>] => [
    `${name}, a transaction per insert on the main thread`,
    () => {
      const Database = peers(name) as new (path: string) => SyncDb;
      const db = new Database(fresh());
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      db.exec(SCHEMA);
      const stmt = db.prepare("INSERT INTO t(id, body) VALUES (?, ?)");
      const rate = drive((i) => stmt.run(i, BODY));
      return rate.finally(() => db.close());
    },
  ]),
  ["sqlite3 (node-sqlite3), asynchronous, a transaction per insert", async () => {
    const sqlite3 = peers("sqlite3") as {
      Database: new (path: string) => {
        exec(sql: string, cb: (e: Error | null) => void): void;
        run(sql: string, params: unknown[], cb: (e: Error | null) => void): void;
        close(cb: () => void): void;
      };
    };
    const db = new sqlite3.Database(fresh());
    const exec = (sql: string) =>
      new Promise<void>((ok, fail) => db.exec(sql, (e) => e ? fail(e) : ok()));
    await exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; ${SCHEMA}`);
    const rate = await drive((i) =>
      new Promise<void>((ok, fail) =>
        db.run("INSERT INTO t(id, body) VALUES (?, ?)", [i, BODY], (e) => e ? fail(e) : ok())
      )
    );
    await new Promise<void>((ok) => db.close(ok));
    return rate;
  }],
  ["@libsql/client (file:), execute() per insert", async () => {
    const { createClient } = peers("@libsql/client") as {
      createClient(o: { url: string }): {
        execute(s: string | { sql: string; args: unknown[] }): Promise<unknown>;
        close(): void;
      };
    };
    const client = createClient({ url: `file:${fresh()}` });
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute(SCHEMA);
    const rate = await drive((i) =>
      client.execute({ sql: "INSERT INTO t(id, body) VALUES (?, ?)", args: [i, BODY] })
    );
    client.close();
    return rate;
  }],
  ["piscina, a better-sqlite3 connection per worker thread (2), a task per insert", async () => {
    const { Piscina } = peers("piscina") as {
      Piscina: new (o: { filename: string; workerData: unknown; maxThreads: number }) => {
        run(task: unknown): Promise<unknown>;
        destroy(): Promise<void>;
      };
    };
    const path = fresh();
    const setup = new (peers("better-sqlite3") as new (p: string) => SyncDb)(path);
    setup.exec(`PRAGMA journal_mode = WAL; ${SCHEMA}`);
    setup.close();
    const pool = new Piscina({
      filename: new URL("./peers/piscina_worker.cjs", import.meta.url).href,
      workerData: { path },
      maxThreads: 2,
    });
    const rate = await drive((i) => pool.run([i, BODY]));
    await pool.destroy();
    return rate;
  }],
];

console.log(`# ${runtimeVersion()}: ${CALLERS} callers, ${ROWS} single-row inserts each case`);
console.log("| library | rows/s | vs walpool |");
console.log("| --- | --- | --- |");
let walpool = 0;
for (const [name, run] of cases) {
  try {
    const rate = await run();
    walpool ||= rate;
    console.log(
      `| ${name} | ${Math.round(rate).toLocaleString("en")} | ${(rate / walpool).toFixed(2)}× |`,
    );
  } catch (error) {
    console.log(`| ${name} | skipped: ${(error as Error).message.split("\n")[0]} | |`);
  }
}
rmSync(dir, { recursive: true, force: true });
