// Read-then-write transactions in one process, walpool's callback form against the raw binding
// used synchronously on the calling thread (each: read a balance, UPDATE it, INSERT a history
// row). Prints µs per transaction and the ratio, for 1 caller (each awaits its transaction
// before the next) and for 100 concurrent callers. Also the longest event-loop pause walpool
// caused, and for 1 caller the slowest transactions of each (p99.9 and the longest: those that ran
// a checkpoint on the calling thread). Run on each runtime:
//
//   deno run -A bench/transactions.ts      bun bench/transactions.ts      node bench/transactions.ts
//   (--count=N transactions per case, default 20000; --callers=1,100; --reads=N: each caller also
//   awaits N point reads by primary key before each transaction, an HTTP service's 90/10 mix at
//   --reads=9, and the µs are per transaction with its reads)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";
import { openRaw, runtime, runtimeVersion } from "./_raw.ts";

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const COUNT = Number(arg("count", "20000"));
const CALLERS = arg("callers", "1,100").split(",").map(Number);
const READS = Number(arg("reads", "0"));
const ACCOUNTS = 1000;
const SCHEMA = `
  CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
  CREATE TABLE history(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, delta INTEGER NOT NULL);`;
const READ = "SELECT balance FROM account WHERE id = ?";
const UPDATE = "UPDATE account SET balance = ? WHERE id = ?";
const INSERT = "INSERT INTO history(account, delta) VALUES (?, ?)";

const dir = mkdtempSync(join(tmpdir(), "walpool-tx-bench-"));
let files = 0;
const fresh = () => join(dir, `bench-${files++}.db`);

/** Per-transaction times (ms): their p99.9 and the longest, in µs. */
interface Tail {
  p999: number;
  max: number;
}

function tail(ms: number[]): Tail {
  const sorted = ms.sort((a, b) => a - b);
  return { p999: sorted[Math.floor(sorted.length * 0.999)] * 1000, max: sorted.at(-1)! * 1000 };
}

/** µs per transaction of the raw binding, on this thread, and its slowest transactions. */
function raw(): { us: number; tail: Tail } {
  const db = openRaw(fresh());
  db.exec(SCHEMA);
  for (let id = 1; id <= ACCOUNTS; id++) db.prepare("INSERT INTO account VALUES (?, 0)").run(id);
  const read = db.prepare(READ), update = db.prepare(UPDATE), insert = db.prepare(INSERT);
  const times: number[] = [];
  const began = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const id = 1 + (i * 7919) % ACCOUNTS;
    const at = performance.now();
    for (let r = 1; r <= READS; r++) read.get(1 + (id * r) % ACCOUNTS);
    db.exec("BEGIN IMMEDIATE");
    const { balance } = read.get(id) as { balance: number };
    update.run(balance + 1, id);
    insert.run(id, 1);
    db.exec("COMMIT");
    times.push(performance.now() - at);
  }
  const us = (performance.now() - began) * 1000 / COUNT;
  db.close();
  return { us, tail: tail(times) };
}

/**
 * µs per transaction of walpool with `callers` concurrent callers, the longest pause, and the
 * slowest transactions (from call to answer).
 */
async function walpool(callers: number): Promise<{ us: number; pauseMs: number; tail: Tail }> {
  const db = await open(fresh());
  await db.exec(SCHEMA);
  await db.batch(
    Array.from({ length: ACCOUNTS }, (_, i) => ({
      sql: "INSERT INTO account VALUES (?, 0)",
      params: [i + 1],
    })),
  );
  let pauseMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    pauseMs = Math.max(pauseMs, now - last - 1);
    last = now;
  }, 1);
  const times: number[] = [];
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < COUNT) {
      const id = 1 + (next++ * 7919) % ACCOUNTS;
      const at = performance.now();
      for (let r = 1; r <= READS; r++) await db.get(READ, [1 + (id * r) % ACCOUNTS]);
      await db.transaction(async (tx) => {
        const row = await tx.get<{ balance: number }>(READ, [id]);
        await tx.run(UPDATE, [row!.balance + 1, id]);
        await tx.run(INSERT, [id, 1]);
      });
      times.push(performance.now() - at);
    }
  }));
  const us = (performance.now() - began) * 1000 / COUNT;
  clearInterval(ticker);
  const sum = await db.get<{ n: number }>("SELECT sum(balance) AS n FROM account");
  if (sum?.n !== COUNT) throw new Error(`expected ${COUNT} deposits, found ${sum?.n}`);
  await db.close();
  return { us, pauseMs, tail: tail(times) };
}

console.log(
  `# ${runtime} ${runtimeVersion()}, ${COUNT} read-then-write transactions per case` +
    (READS ? `, each after ${READS} point reads` : ""),
);
console.log(
  "| callers | raw µs/tx | walpool µs/tx | walpool vs raw (throughput) | longest pause | " +
    "p99.9 µs raw / walpool | longest tx µs raw / walpool |",
);
console.log(
  "| ------- | --------- | ------------- | --------------------------- | ------------- | " +
    "---------------------- | --------------------------- |",
);
const f0 = (n: number) => n.toFixed(0);
for (const callers of CALLERS) {
  const r = raw();
  const w = await walpool(callers);
  // With many callers a transaction's time includes its wait for the others: not comparable.
  const tails = callers === 1
    ? `${f0(r.tail.p999)} / ${f0(w.tail.p999)} | ${f0(r.tail.max)} / ${f0(w.tail.max)}`
    : "– | –";
  console.log(
    `| ${callers} | ${r.us.toFixed(1)} | ${w.us.toFixed(1)} | ${(r.us / w.us).toFixed(2)}× | ` +
      `${w.pauseMs.toFixed(1)} ms | ${tails} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
