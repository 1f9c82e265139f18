// Child process: streams 2 000 000 rows with db.iterate() (readers from argv), pausing now and
// then, and prints as JSON how much the heap kept (after a forced GC) and the process grew.

import process from "node:process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const gc = (globalThis as { gc?: () => void }).gc ??
  (() => (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc(true));
const readers = Number(process.argv.at(-1));
const db = await open(join(mkdtempSync(join(tmpdir(), "walpool-mem-")), "big.db"), { readers });
await db.exec("CREATE TABLE big(id INTEGER PRIMARY KEY, body TEXT)");
await db.exec(`INSERT INTO big(body) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c
  WHERE i < 2000000) SELECT printf('%040d', i) FROM c`);
let n = 0;
let heap0 = 0, rss0 = 0, heap = 0, rss = 0;
for await (const row of db.iterate<{ id: number }>("SELECT * FROM big ORDER BY id")) {
  if (row.id !== ++n) throw new Error(`row ${n} came as ${row.id}`);
  if (n % 200_000 === 0) {
    gc();
    const m = process.memoryUsage();
    if (n === 200_000) [heap0, rss0] = [m.heapUsed, m.rss];
    heap = Math.max(heap, m.heapUsed - heap0);
    rss = Math.max(rss, m.rss - rss0);
    await new Promise((r) => setTimeout(r, 5)); // a consumer that is slower at times
  }
}
await db.close();
const mib = (b: number) => Math.round(b / 2 ** 20 * 10) / 10;
console.log(JSON.stringify({ rows: n, heapGrowthMiB: mib(heap), rssGrowthMiB: mib(rss) }));
