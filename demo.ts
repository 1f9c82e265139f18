// `deno task demo` (also `bun demo.ts`, `node demo.ts`): many concurrent writers and readers
// on a temporary database, then what happened.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "./mod.ts";

const CLIENTS = 200;
const OPS_PER_CLIENT = 100;

const dir = mkdtempSync(join(tmpdir(), "walpool-demo-"));
const path = join(dir, "shop.db");
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";

const db = await open(path, { readers: 2 });
await db.exec(`
  CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE orders(
    id INTEGER PRIMARY KEY,
    customer INTEGER NOT NULL REFERENCES customers(id),
    total REAL NOT NULL,
    at TEXT NOT NULL DEFAULT (datetime('now'))
  );
  CREATE INDEX orders_by_customer ON orders(customer);
`);
await db.batch(
  Array.from({ length: 100 }, (_, i) => ({
    sql: "INSERT INTO customers(id, name) VALUES (?, ?)",
    params: [i + 1, `customer ${i + 1}`],
  })),
);

// Longest pause of the event loop while the load runs: walpool should keep it small.
let longestPause = 0;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  longestPause = Math.max(longestPause, now - last);
  last = now;
}, 0);

let writes = 0, reads = 0, errors = 0;
const started = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
  for (let op = 0; op < OPS_PER_CLIENT; op++) {
    const customer = ((client * 31 + op) % 100) + 1;
    try {
      if (op % 10 < 6) {
        await db.run("INSERT INTO orders(customer, total) VALUES (?, ?)", [
          customer,
          (op % 50) + 0.99,
        ]);
        writes++;
      } else if (op % 10 < 9) {
        await db.get("SELECT count(*) AS n, sum(total) AS spent FROM orders WHERE customer = ?", [
          customer,
        ]);
        reads++;
      } else {
        await db.transaction(async (tx) => {
          await tx.run("UPDATE customers SET name = name WHERE id = ?", [customer]);
          await tx.run("INSERT INTO orders(customer, total) VALUES (?, 0)", [customer]);
        });
        writes += 2;
      }
    } catch (error) {
      errors++;
      console.error(error);
    }
  }
}));
const seconds = (performance.now() - started) / 1000;
clearInterval(ticker);

const stats = db.stats();
const { n } = (await db.get<{ n: number }>("SELECT count(*) AS n FROM orders"))!;
await db.close();
rmSync(dir, { recursive: true, force: true });

const rows: [string, string | number][] = [
  ["runtime", runtime],
  ["concurrent clients", CLIENTS],
  ["writes", writes],
  ["reads", reads],
  ["orders in the database", n],
  ["group commits", stats.commits],
  ["requests per commit", stats.requestsPerCommit.toFixed(1)],
  ["interactive transactions", stats.transactions],
  ["operations per second", Math.round((writes + reads) / seconds)],
  ["longest event-loop pause", `${longestPause.toFixed(1)} ms`],
  ["errors", errors],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(
  `walpool demo: ${CLIENTS} clients × ${OPS_PER_CLIENT} operations in ${seconds.toFixed(2)} s\n`,
);
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
if (errors) (globalThis as { process?: { exitCode?: number } }).process!.exitCode = 1;
