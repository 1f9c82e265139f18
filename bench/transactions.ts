// Read-then-write transactions in one process, walpool's callback form against the raw binding
// used synchronously on the calling thread (each: read a balance, UPDATE it, INSERT a history
// row). Prints µs per transaction and the ratio, for 1 caller (each awaits its transaction
// before the next) and for 100 concurrent callers. Also the longest event-loop pause walpool
// caused. Run on each runtime:
//
//   deno run -A bench/transactions.ts      bun bench/transactions.ts      node bench/transactions.ts
//   (--count=N transactions per case, default 20000; --callers=1,100)

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

/** µs per transaction of the raw binding, on this thread. */
function raw(): number {
  const db = openRaw(fresh());
  db.exec(SCHEMA);
  for (let id = 1; id <= ACCOUNTS; id++) db.prepare("INSERT INTO account VALUES (?, 0)").run(id);
  const read = db.prepare(READ), update = db.prepare(UPDATE), insert = db.prepare(INSERT);
  const began = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const id = 1 + (i * 7919) % ACCOUNTS;
    db.exec("BEGIN IMMEDIATE");
    const { balance } = read.get(id) as { balance: number };
    update.run(balance + 1, id);
    insert.run(id, 1);
    db.exec("COMMIT");
  }
  const us = (performance.now() - began) * 1000 / COUNT;
  db.close();
  return us;
}

/** µs per transaction of walpool with `callers` concurrent callers, and the longest pause. */
async function walpool(callers: number): Promise<{ us: number; pauseMs: number }> {
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
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < COUNT) {
      const id = 1 + (next++ * 7919) % ACCOUNTS;
      await db.transaction(async (tx) => {
        const row = await tx.get<{ balance: number }>(READ, [id]);
        await tx.run(UPDATE, [row!.balance + 1, id]);
        await tx.run(INSERT, [id, 1]);
      });
    }
  }));
  const us = (performance.now() - began) * 1000 / COUNT;
  clearInterval(ticker);
  const sum = await db.get<{ n: number }>("SELECT sum(balance) AS n FROM account");
  if (sum?.n !== COUNT) throw new Error(`expected ${COUNT} deposits, found ${sum?.n}`);
  await db.close();
  return { us, pauseMs };
}

console.log(`# ${runtime} ${runtimeVersion()}, ${COUNT} read-then-write transactions per case`);
console.log(
  "| callers | raw µs/tx | walpool µs/tx | walpool vs raw (throughput) | longest pause |",
);
console.log(
  "| ------- | --------- | ------------- | --------------------------- | ------------- |",
);
for (const callers of CALLERS) {
  const r = raw();
  const w = await walpool(callers);
  console.log(
    `| ${callers} | ${r.toFixed(1)} | ${w.us.toFixed(1)} | ${(r / w.us).toFixed(2)}× | ` +
      `${w.pauseMs.toFixed(1)} ms |`,
  );
}
rmSync(dir, { recursive: true, force: true });
