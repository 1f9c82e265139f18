// Does leaving the onCommit hook on cost anything? 256 concurrent callers insert 100 000 rows,
// with the hook off and on, alternately, 4 times each; prints the best writes/s of each.
//
//   deno run -A bench/on_commit.ts    bun bench/on_commit.ts    node bench/on_commit.ts

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const ROWS = 100_000;
const CALLERS = 256;

async function writesPerSecond(hook: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "walpool-oncommit-"));
  let reported = 0;
  const db = await open(join(dir, "bench.db"), {
    onCommit: hook ? (e) => void (reported += e.requests) : undefined,
  });
  await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (next < ROWS) await db.run("INSERT INTO t(v) VALUES (?)", [next++]);
  }));
  const rate = ROWS / ((performance.now() - began) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  // The hook sees every committed request: the CREATE TABLE and the inserts.
  if (hook && reported !== ROWS + 1) throw new Error(`the hook reported ${reported} requests`);
  return rate;
}

const runs = { off: [] as number[], on: [] as number[] };
for (let i = 0; i < 4; i++) {
  runs.off.push(await writesPerSecond(false));
  runs.on.push(await writesPerSecond(true));
}
const best = (rates: number[]) => Math.round(Math.max(...rates));
console.log(
  `onCommit off: ${best(runs.off)} writes/s, on: ${best(runs.on)} writes/s ` +
    `(on/off ${(best(runs.on) / best(runs.off)).toFixed(2)})`,
);
