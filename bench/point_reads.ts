// One caller awaiting one point read after another, walpool with default options against the
// raw binding on the same file (not awaited: what most apps do today). Optionally a second copy of
// walpool (another checkout) in the same process, alternated with this one: before and after.
//
//   deno run -A bench/point_reads.ts [--base=/path/to/other/checkout] [--rounds=15] [--reads=200000]
//   node bench/point_reads.ts …        bun bench/point_reads.ts …
//
// Each round times --reads awaited `db.get` of `SELECT balance FROM accounts WHERE id = ?` (10 000
// accounts, ids in turn) for each walpool, then as many raw `stmt.get`; the first two rounds warm
// up and are dropped. Prints the median µs per read of each, and the ratios raw / walpool.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { open } from "../mod.ts";
import { openRaw, runtimeVersion } from "./_raw.ts";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const base = flag("base");
const rounds = Number(flag("rounds") ?? 15);
const reads = Number(flag("reads") ?? 200_000);
const ACCOUNTS = 10_000;
const READ = "SELECT balance FROM accounts WHERE id = ?";

const dir = mkdtempSync(join(tmpdir(), "walpool-point-reads-"));
const path = join(dir, "bank.db");
const raw = openRaw(path);
raw.exec("CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); BEGIN");
const insert = raw.prepare("INSERT INTO accounts(id, balance) VALUES (?, 1000)");
for (let id = 1; id <= ACCOUNTS; id++) insert.run(id);
raw.exec("COMMIT");
const point = raw.prepare(READ);

type Opened = { get(sql: string, params: number[]): Promise<unknown>; close(): Promise<void> };
const sides: { name: string; db: Opened; us: number[] }[] = [
  { name: "walpool (this checkout)", db: await open(path), us: [] },
];
if (base) {
  const other = await import(pathToFileURL(join(base, "mod.ts")).href) as {
    open(path: string): Promise<Opened>;
  };
  sides.unshift({ name: `walpool (${base})`, db: await other.open(path), us: [] });
}
const rawUs: number[] = [];

for (let round = 0; round < rounds + 2; round++) {
  for (const side of sides) {
    const began = performance.now();
    for (let i = 0; i < reads; i++) await side.db.get(READ, [1 + (i % ACCOUNTS)]);
    if (round >= 2) side.us.push(1000 * (performance.now() - began) / reads);
  }
  const began = performance.now();
  for (let i = 0; i < reads; i++) point.get(1 + (i % ACCOUNTS));
  if (round >= 2) rawUs.push(1000 * (performance.now() - began) / reads);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`${runtimeVersion()}: ${rounds} rounds of ${reads} reads, median µs per read`);
console.log(`  raw, not awaited: ${median(rawUs).toFixed(3)}`);
for (const side of sides) {
  const us = median(side.us);
  console.log(`  ${side.name}: ${us.toFixed(3)} (${(median(rawUs) / us).toFixed(2)}× raw)`);
  await side.db.close();
}
raw.close();
rmSync(dir, { recursive: true, force: true });
