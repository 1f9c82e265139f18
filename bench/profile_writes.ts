// `node --cpu-prof bench/profile_writes.ts`: scenario (1) for profiling: 200k single-row INSERTs
// (readers: 0, durability normal, defaults otherwise), after a
// 10k-row warm-up on another file (as bench/throughput.ts does). Prints the measured window
// (CLOCK_MONOTONIC µs) so that profiles can be cut to it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";
import { body } from "./_raw.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv;
const ROWS = Number(argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), "walpool-prof-"));
const SQL = "INSERT INTO t(body) VALUES (?)";

async function inserts(file: string, rows: number, window: boolean) {
  const db = await open(join(dir, file), { readers: 0, durability: "normal" });
  await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  let next = 0;
  const caller = async () => {
    for (let i = next++; i < rows; i = next++) await db.run(SQL, [body(i)]);
  };
  const h0 = process.hrtime.bigint();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 256 }, caller));
  const s = (performance.now() - t0) / 1000;
  const h1 = process.hrtime.bigint();
  const st = db.stats();
  await db.close();
  if (!window) return;
  console.log(`window_us ${h0 / 1000n} ${h1 / 1000n}`);
  console.log(
    `${rows} inserts in ${s.toFixed(3)} s = ${Math.round(rows / s)} /s; ` +
      `req/commit ${(st.committedRequests / st.commits).toFixed(1)}`,
  );
}
await inserts("warm.db", 10_000, false);
await inserts("p.db", ROWS, true);
rmSync(dir, { recursive: true, force: true });
