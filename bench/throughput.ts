// Cross-runtime throughput harness: walpool against the raw binding of the same runtime
// (bun:sqlite on Bun, node:sqlite on Deno and Node), measured in one run on one machine.
//
//   deno run -A bench/throughput.ts [--quick] [--only=1,5] [--repeat=N] [--json=path]
//   bun bench/throughput.ts [...]
//   node bench/throughput.ts [...]
//
// --quick (or WALPOOL_BENCH_QUICK=1) scales every count down 10x. --only runs some scenarios.
// --repeat=N measures each number N times and keeps the fastest (default 3, 1 in quick mode).
// A full run of every scenario writes its results under its runtime's key in bench/results.json
// (bench/chart.ts draws them); a quick or --only run writes JSON only when --json=path is given.
// Scenarios:
//
// (1) many small writes: 256 concurrent callers awaiting single-row INSERTs, after a warm-up of
//     three times the measured rows (a warm writer); also after a short one (cold, see STEADY)
// (2) the same with durability "full" (synchronous = FULL)
// (3) alternatives: 4 workers with a connection each; a naive single writer worker
// (4) the longest event-loop pause during (1)
// (5) point reads by primary key, 64 concurrent callers
// (6) a CPU-heavy read (LIKE over 10k rows of 200 characters) with 2 readers
// (7) walpool write throughput by number of callers and by maxBatch

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import process from "node:process";
import { type Database, open, type OpenOptions } from "../mod.ts";
import { body, errorName, machine, openRaw, rawDriver, runtime, runtimeVersion } from "./_raw.ts";
import { type BenchWorker, startWorker } from "./_workers.ts";
import type { FromWorker, ToWorker } from "./own_connection_worker.ts";
import type { FromNaive, ToNaive } from "./naive_writer_worker.ts";

// --- options --------------------------------------------------------------------------------

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = args.includes("--quick") || process.env.WALPOOL_BENCH_QUICK === "1";
const only = flag("only")?.split(",");
const repeat = Number(flag("repeat") ?? (quick ? 1 : 3));
// bench/results.json holds full runs of every scenario only: a partial run (--only) replacing a
// runtime's entry would leave the chart with missing scenarios.
const jsonPath = flag("json") ??
  (quick || only ? undefined : fileURLToPath(new URL("./results.json", import.meta.url)));
const scaled = (n: number) => Math.max(1, Math.round(quick ? n / 10 : n));

const ROWS = scaled(100_000); // (1), (2) walpool, (3), (4)
const RAW_FULL_ROWS = scaled(5_000); // (2) raw per-insert with synchronous = FULL (slow)
const READ_TABLE = 100_000; // (5) rows to read from (not scaled: setup is cheap)
const READS = scaled(100_000); // (5)
const HEAVY_TABLE = 10_000; // (6)
const HEAVY_QUERIES = scaled(400); // (6)
const SCALE_ROWS = scaled(50_000); // (7); with 1 caller a fifth of it

const want = (scenario: number) => !only || only.includes(String(scenario));

// --- results --------------------------------------------------------------------------------

/** One measured number. */
interface Result {
  id: string;
  scenario: string;
  variant: string;
  /** How this result is named when it is a baseline. */
  short?: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** Ids of the baselines it is compared with, and the ratios. */
  vs?: string[];
  ratios?: Record<string, number>;
  /** Longest gap between zero-delay timer ticks during the run (ms); with --repeat, of all runs. */
  pauseMs?: number;
  /** Gaps longer than 10 ms, in all runs. */
  pausesOver10?: number;
  requestsPerCommit?: number;
  largestCommit?: number;
  /** SQLITE_BUSY failures seen by the callers (or the workers) in the run kept. */
  busy?: number;
  /** SQLITE_BUSY failures in all runs. */
  busyAllRuns?: number;
  /** Every failure by kind. */
  failures?: Record<string, number>;
  walpool?: boolean;
  note?: string;
}

/** What a measurement returns, and what it is recorded as. */
type Entry = Omit<Result, "opsPerSec">;
type Measured = Omit<Entry, "id" | "scenario" | "variant">;

const results: Result[] = [];
const byId = (id: string) => results.find((r) => r.id === id);

function record(r: Entry): Result {
  const full: Result = { ...r, opsPerSec: r.ops / r.seconds };
  results.push(full);
  console.error(
    `  ${r.scenario} ${r.variant}: ${fmtRate(full.opsPerSec)} ops/s` +
      (r.pauseMs !== undefined ? `, pause ${r.pauseMs.toFixed(1)} ms` : "") +
      (r.requestsPerCommit ? `, ${r.requestsPerCommit.toFixed(1)} req/commit` : "") +
      (r.failures && Object.keys(r.failures).length
        ? `, failures ${JSON.stringify(r.failures)}`
        : ""),
  );
  return full;
}

/**
 * Runs `measure` `repeat` times and keeps the fastest run; its pause is the longest seen in any
 * run, and its failures are those of every run.
 */
async function best(measure: () => Promise<Entry>): Promise<Result> {
  let kept: Entry | undefined;
  const all: Entry[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await measure();
    all.push(r);
    if (!kept || r.ops / r.seconds > kept.ops / kept.seconds) kept = r;
  }
  const total = (f: (r: Entry) => number | undefined) =>
    all.some((r) => f(r) !== undefined) ? all.reduce((n, r) => n + (f(r) ?? 0), 0) : undefined;
  return record({
    ...kept!,
    pauseMs: kept!.pauseMs === undefined ? undefined : Math.max(...all.map((r) => r.pauseMs!)),
    pausesOver10: total((r) => r.pausesOver10),
    busyAllRuns: total((r) => r.busy),
  });
}

// --- tools ----------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), "walpool-bench-"));
let files = 0;
const freshPath = () => join(dir, `bench-${files++}.db`);
const remove = (path: string) => {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
};
const SCHEMA = "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
const INSERT = "INSERT INTO t(body) VALUES (?)";

/**
 * Measures the gaps between ticks of a zero-delay timer until `stop()`: the longest, and how many
 * were longer than 10 ms. A gap is time the event loop could not run anything else.
 */
function pauseMeter(): { stop(): { pauseMs: number; pausesOver10: number } } {
  let last = performance.now();
  let longest = 0;
  let over10 = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gap = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    if (now - last > 10) over10++;
    last = now;
  };
  const tick = () => {
    gap();
    timer = setTimeout(tick, 0);
  };
  timer = setTimeout(tick, 0);
  return {
    stop() {
      clearTimeout(timer);
      gap();
      return { pauseMs: longest, pausesOver10: over10 };
    },
  };
}

/**
 * `callers` concurrent async callers share `total` operations; each awaits its operation before
 * taking the next. Returns the elapsed time and the failures by kind.
 */
async function drive(
  callers: number,
  total: number,
  op: (i: number) => unknown,
): Promise<{ seconds: number; failures: Record<string, number> }> {
  let next = 0;
  const failures: Record<string, number> = {};
  const caller = async () => {
    for (let i = next++; i < total; i = next++) {
      try {
        await op(i);
      } catch (error) {
        const name = errorName(error);
        failures[name] = (failures[name] ?? 0) + 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  return { seconds: (performance.now() - started) / 1000, failures };
}

const sum = (failures: Record<string, number>) =>
  Object.values(failures).reduce((a, b) => a + b, 0);

function check(what: string, expected: number, got: number): void {
  if (expected !== got) console.error(`  ! ${what}: expected ${expected} rows, found ${got}`);
}

// --- walpool writes ---------------------------------------------------------------------------

async function walpoolWrites(
  callers: number,
  rows: number,
  options: OpenOptions,
  warm = warmUp(rows),
): Promise<Measured> {
  const path = freshPath();
  const db = await open(path, { readers: 0, ...options });
  await db.exec(SCHEMA);
  // The writer thread is new with each database, and its code still cold (see STEADY).
  await drive(callers, warm, (i) => db.run(INSERT, [body(rows + i)]));
  const before = db.stats();
  const meter = pauseMeter();
  const { seconds, failures } = await drive(callers, rows, (i) => db.run(INSERT, [body(i)]));
  const pause = meter.stop();
  const s = db.stats();
  const commits = s.commits - before.commits;
  const { n } = (await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))!;
  check("walpool", warm + rows - sum(failures), n);
  await db.close();
  remove(path);
  return {
    ops: rows - sum(failures),
    seconds,
    ...pause,
    requestsPerCommit: (s.committedRequests - before.committedRequests) / commits,
    largestCommit: s.largestCommit,
    busy: failures.SQLITE_BUSY ?? 0,
    failures,
    walpool: true,
  };
}

// --- raw baselines ----------------------------------------------------------------------------

async function rawPerInsert(
  rows: number,
  synchronous: "NORMAL" | "FULL",
  warm = warmUp(rows),
): Promise<Measured> {
  const path = freshPath();
  const db = openRaw(path, { synchronous });
  db.exec(SCHEMA);
  const insert = db.prepare(INSERT);
  await drive(256, warm, (i) => insert.run(body(rows + i)));
  const meter = pauseMeter();
  // The same 256 async callers as walpool's; each insert is its own (autocommit) transaction.
  const { seconds, failures } = await drive(256, rows, (i) => insert.run(body(i)));
  const pause = meter.stop();
  db.close();
  remove(path);
  return { ops: rows - sum(failures), seconds, ...pause, failures };
}

function rawOneTransaction(rows: number, warm = warmUp(rows)): Measured {
  const path = freshPath();
  const db = openRaw(path);
  db.exec(SCHEMA);
  const insert = db.prepare(INSERT);
  db.exec("BEGIN");
  for (let i = 0; i < warm; i++) insert.run(body(rows + i));
  db.exec("COMMIT");
  const started = performance.now();
  db.exec("BEGIN");
  for (let i = 0; i < rows; i++) insert.run(body(i));
  db.exec("COMMIT");
  const seconds = (performance.now() - started) / 1000;
  db.close();
  remove(path);
  return { ops: rows, seconds };
}

// --- alternatives (3) -------------------------------------------------------------------------

async function ownConnections(
  workers: number,
  rows: number,
  mode: "insert" | "read-then-write",
): Promise<Measured> {
  const path = freshPath();
  const setup = openRaw(path);
  setup.exec(SCHEMA);
  setup.close();
  const url = new URL("./own_connection_worker.ts", import.meta.url);
  const started = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
  const replies = (t: FromWorker["t"]) =>
    Promise.all(
      started.map((w) =>
        new Promise<FromWorker>((resolve) =>
          w.onMessage((m) => (m as FromWorker).t === t && resolve(m as FromWorker))
        )
      ),
    );
  const ready = replies("ready");
  const share = Math.floor(rows / workers);
  started.forEach((w, k) =>
    w.post({ t: "init", path, first: k * share, rows: share, mode } satisfies ToWorker)
  );
  await ready;
  const done = replies("done");
  const t0 = performance.now();
  for (const w of started) w.post({ t: "go" } satisfies ToWorker);
  const answers = await done as Extract<FromWorker, { t: "done" }>[];
  const seconds = (performance.now() - t0) / 1000;
  for (const w of started) w.terminate();
  const failures: Record<string, number> = {};
  let inserted = 0;
  for (const a of answers) {
    inserted += a.inserted;
    for (const [k, v] of Object.entries(a.failures)) failures[k] = (failures[k] ?? 0) + v;
  }
  const verify = openRaw(path);
  const { n } = verify.prepare("SELECT count(*) AS n FROM t").get() as { n: number };
  verify.close();
  check(`${workers} workers`, inserted, Number(n));
  remove(path);
  return {
    ops: inserted,
    seconds,
    busy: failures.SQLITE_BUSY ?? 0,
    failures,
    note: `${share * workers} attempted per run`,
  };
}

async function naiveWorker(
  callers: number,
  rows: number,
): Promise<Measured> {
  const path = freshPath();
  const setup = openRaw(path);
  setup.exec(SCHEMA);
  setup.close();
  const worker: BenchWorker = await startWorker(
    new URL("./naive_writer_worker.ts", import.meta.url),
  );
  const pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  let onControl: (m: FromNaive) => void = () => {};
  worker.onMessage((message) => {
    const m = message as FromNaive;
    if (m.t === "ok" || m.t === "error") {
      const p = pending.get(m.id)!;
      pending.delete(m.id);
      if (m.t === "ok") p.resolve();
      else p.reject(Object.assign(new Error(m.code), { code: m.code }));
    } else {
      onControl(m);
    }
  });
  const control = (msg: ToNaive) =>
    new Promise<FromNaive>((resolve) => {
      onControl = resolve;
      worker.post(msg);
    });
  await control({ t: "init", path });
  const meter = pauseMeter();
  const { seconds, failures } = await drive(
    callers,
    rows,
    (i) =>
      new Promise<void>((resolve, reject) => {
        pending.set(i, { resolve, reject });
        worker.post({ t: "insert", id: i, body: body(i) } satisfies ToNaive);
      }),
  );
  const pause = meter.stop();
  await control({ t: "close" });
  worker.terminate();
  remove(path);
  return { ops: rows - sum(failures), seconds, ...pause, failures };
}

// --- reads (5) and (6) ------------------------------------------------------------------------

/** How many operations a variant runs before the clock starts (JIT, statement caches). */
const warmUp = (ops: number) => Math.max(8, Math.round(ops / 10));
/**
 * Warm-up rows per measured row in (1) and (2), for every variant but the raw FULL one: a new
 * walpool writer thread runs its first 100 000–200 000 single-row writes at half to two thirds of
 * its later speed, whatever the file or the calling thread (most likely its code warming up in a
 * new isolate; bench/RESULTS.md), where a service's writer lives as long as the process. Each
 * scenario also reports walpool with the short warm-up of a fresh writer ("cold").
 */
const STEADY = 3;

/**
 * walpool's writes of (1) or (2), 256 callers, measured on a warm writer (`id`) and on a cold one
 * (`id`-cold), each against the baselines `vs`.
 */
async function warmAndCold(
  named: { id: string; scenario: string; variant: string },
  vs: string[],
  options: OpenOptions,
): Promise<void> {
  const { id, scenario, variant } = named;
  await best(async () => ({
    id,
    scenario,
    variant: `${variant}, warm writer`,
    vs,
    ...await walpoolWrites(256, ROWS, options, STEADY * ROWS),
  }));
  await best(async () => ({
    id: `${id}-cold`,
    scenario,
    variant: `${variant}, cold (a fresh writer, short warm-up)`,
    vs,
    ...await walpoolWrites(256, ROWS, options),
  }));
}

/** A pseudo-random key in 1..n for the i-th read (the same sequence for every variant). */
const key = (i: number, n: number) => (Math.imul(i + 1, 2654435761) >>> 0) % n + 1;

function filled(rows: number, text: (i: number) => string): string {
  const path = freshPath();
  const db = openRaw(path);
  db.exec(SCHEMA);
  const insert = db.prepare(INSERT);
  db.exec("BEGIN");
  for (let i = 0; i < rows; i++) insert.run(text(i));
  db.exec("COMMIT");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return path;
}

/** 200 pseudo-random lowercase letters; about 1 row in 40 contains "xyz". */
function longText(i: number): string {
  let x = (i + 1) * 7919;
  let s = "";
  while (s.length < 200) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += String.fromCharCode(97 + (x >>> 16) % 26);
  }
  return s;
}

const POINT = "SELECT id, body FROM t WHERE id = ?";
const HEAVY = "SELECT count(*) AS n FROM t WHERE body LIKE '%xyz%'";

async function walpoolReads(
  path: string,
  readers: number,
  callers: number,
  ops: number,
  op: (db: Database, i: number) => Promise<unknown>,
): Promise<Measured> {
  const db = await open(path, { readers });
  await drive(callers, warmUp(ops), (i) => op(db, i)); // prepares the statement on each reader
  const meter = pauseMeter();
  const { seconds, failures } = await drive(callers, ops, (i) => op(db, i));
  const pause = meter.stop();
  await db.close();
  const busy = failures.SQLITE_BUSY ?? 0;
  return { ops: ops - sum(failures), seconds, ...pause, busy, failures, walpool: true };
}

/**
 * The commit measured; when lib/ or mod.ts had uncommitted changes, also a short hash of that
 * diff, so that runs of the same code can be recognised.
 */
function revision(): string {
  const git = (...a: string[]) =>
    execFileSync("git", a, { cwd: fileURLToPath(new URL("..", import.meta.url)) }).toString()
      .trim();
  try {
    const diff = git("diff", "HEAD", "--", "lib", "mod.ts");
    const head = git("rev-parse", "--short", "HEAD");
    if (!diff) return head;
    return `${head} + uncommitted lib/ changes (diff ${
      createHash("sha1").update(diff).digest("hex").slice(0, 8)
    })`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

// --- the run --------------------------------------------------------------------------------

const { cpu, cpus } = machine();
const measured = revision();
console.error(
  `walpool throughput at ${measured}: ${runtimeVersion()}, raw binding ${rawDriver}, ` +
    `${cpus} CPUs (${cpu}), best of ${repeat}` +
    `${quick ? ", quick mode (counts / 10)" : ""}`,
);

// Warm-up (not reported): JIT, worker start-up, the file system.
await walpoolWrites(256, scaled(10_000), {});
await rawPerInsert(scaled(10_000), "NORMAL");
rawOneTransaction(scaled(10_000));

/** The baseline of (1), (3) and (7): the raw binding, one transaction per insert. */
function perInsertBaseline(): Promise<Result> {
  return best(async () => ({
    id: "1.raw-per-insert",
    scenario: "(1) many small writes",
    variant: "raw, one transaction per insert (WAL, synchronous=NORMAL), 256 async callers",
    short: "raw per-insert",
    ...await rawPerInsert(ROWS, "NORMAL", STEADY * ROWS),
  }));
}

if (want(1) || want(4)) {
  const S = "(1) many small writes";
  await perInsertBaseline();
  await best(() =>
    Promise.resolve({
      id: "1.raw-one-tx",
      scenario: S,
      variant: "raw, all rows in ONE transaction (physical limit)",
      short: "raw one-tx",
      ...rawOneTransaction(ROWS, STEADY * ROWS),
    })
  );
  await warmAndCold(
    { id: "1.walpool", scenario: S, variant: "walpool durability normal, 256 callers" },
    ["1.raw-per-insert", "1.raw-one-tx"],
    { durability: "normal" },
  );
}

if (want(2)) {
  const S = "(2) durability full";
  await best(async () => ({
    id: "2.raw-per-insert-full",
    scenario: S,
    variant: "raw, one transaction per insert, synchronous=FULL, 256 async callers",
    short: "raw per-insert FULL",
    ...await rawPerInsert(RAW_FULL_ROWS, "FULL"),
  }));
  await warmAndCold(
    { id: "2.walpool-full", scenario: S, variant: 'walpool durability "full", 256 callers' },
    ["2.raw-per-insert-full"],
    { durability: "full" },
  );
}

if (want(3)) {
  const S = "(3) alternatives";
  const vs = ["1.raw-per-insert", "1.walpool"];
  if (!byId("1.raw-per-insert")) await perInsertBaseline();
  await best(async () => ({
    id: "3.own-connections",
    scenario: S,
    variant: "4 workers, a connection each, busy_timeout=5000, one transaction per insert",
    vs,
    ...await ownConnections(4, ROWS, "insert"),
  }));
  await best(async () => ({
    id: "3.own-connections-rmw",
    scenario: S,
    variant: "4 workers as above, each transaction BEGIN; SELECT; INSERT; COMMIT",
    vs,
    ...await ownConnections(4, ROWS / 5, "read-then-write"),
  }));
  await best(async () => ({
    id: "3.naive-worker",
    scenario: S,
    variant: "naive single writer worker: one message and one transaction per insert, 256 callers",
    vs,
    ...await naiveWorker(256, ROWS),
  }));
}

if (want(5)) {
  const S = "(5) point reads";
  const path = filled(READ_TABLE, body);
  const raw = openRaw(path);
  const stmt = raw.prepare(POINT);
  await best(async () => {
    await drive(64, warmUp(READS), (i) => stmt.get(key(i, READ_TABLE)));
    const meter = pauseMeter();
    const { seconds, failures } = await drive(64, READS, (i) => stmt.get(key(i, READ_TABLE)));
    return {
      id: "5.raw",
      scenario: S,
      variant: "raw, in-thread reads, 64 async callers",
      short: "raw reads",
      ops: READS - sum(failures),
      seconds,
      ...meter.stop(),
      failures,
    };
  });
  raw.close();
  const read = (db: Database, i: number) => db.get(POINT, [key(i, READ_TABLE)]);
  await best(async () => ({
    id: "5.walpool-readers-2",
    scenario: S,
    variant: "walpool readers:2, 64 callers",
    vs: ["5.raw"],
    ...await walpoolReads(path, 2, 64, READS, read),
  }));
  await best(async () => ({
    id: "5.walpool-readers-0",
    scenario: S,
    variant: "walpool readers:0 (inline connection), 64 callers",
    vs: ["5.raw"],
    ...await walpoolReads(path, 0, 64, READS, read),
  }));
  remove(path);
}

if (want(6)) {
  const S = "(6) CPU-heavy reads";
  const path = filled(HEAVY_TABLE, longText);
  const raw = openRaw(path);
  const stmt = raw.prepare(HEAVY);
  const matches = (stmt.get() as { n: number }).n;
  await best(() => {
    for (let i = 0; i < warmUp(HEAVY_QUERIES); i++) stmt.get();
    const started = performance.now();
    for (let i = 0; i < HEAVY_QUERIES; i++) stmt.get();
    return Promise.resolve({
      id: "6.raw",
      scenario: S,
      variant: `raw, one connection, queries one after another (${matches} matches each)`,
      short: "raw sequential",
      ops: HEAVY_QUERIES,
      seconds: (performance.now() - started) / 1000,
    });
  });
  raw.close();
  const heavy = (db: Database) => db.get(HEAVY);
  for (const callers of [2, 4]) {
    await best(async () => ({
      id: `6.walpool-readers-2-callers-${callers}`,
      scenario: S,
      variant: `walpool readers:2, ${callers} concurrent callers`,
      vs: ["6.raw"],
      ...await walpoolReads(path, 2, callers, HEAVY_QUERIES, heavy),
    }));
  }
  remove(path);
}

if (want(7)) {
  const S = "(7) write scaling";
  if (!byId("1.raw-per-insert")) await perInsertBaseline();
  // 256 and 1024 callers are measured with each maxBatch below (1000 is the default).
  for (const callers of [1, 16]) {
    await best(async () => ({
      id: `7.callers-${callers}-max-batch-1000`,
      scenario: S,
      variant: `walpool, ${callers} caller${callers > 1 ? "s" : ""}, maxBatch 1000`,
      vs: ["1.raw-per-insert"],
      ...await walpoolWrites(callers, callers === 1 ? SCALE_ROWS / 5 : SCALE_ROWS, {}),
    }));
  }
  for (const callers of [256, 1024]) {
    for (const maxBatch of [16, 64, 128, 1000]) {
      await best(async () => ({
        id: `7.callers-${callers}-max-batch-${maxBatch}`,
        scenario: S,
        variant: `walpool, ${callers} callers, maxBatch ${maxBatch}`,
        vs: ["1.raw-per-insert"],
        ...await walpoolWrites(callers, SCALE_ROWS, { maxBatch }),
      }));
    }
  }
}

rmSync(dir, { recursive: true, force: true });

// --- report ---------------------------------------------------------------------------------

for (const r of results) {
  if (!r.vs) continue;
  r.ratios = {};
  for (const id of r.vs) {
    const base = byId(id);
    if (base) r.ratios[id] = r.opsPerSec / base.opsPerSec;
  }
}

interface Target {
  target: string;
  measured: string;
  ratio: number | undefined;
  met: boolean | undefined;
}

function ratio(id: string, base: string): number | undefined {
  const a = byId(id), b = byId(base);
  return a && b ? a.opsPerSec / b.opsPerSec : undefined;
}

function target(name: string, value: number | undefined, ok: (v: number) => boolean, unit = "×") {
  return {
    target: name,
    measured: value === undefined ? "not measured" : `${value.toFixed(2)}${unit}`,
    ratio: value,
    met: value === undefined ? undefined : ok(value),
  };
}

const walpoolBusy = results.filter((r) => r.walpool).reduce(
  (n, r) => n + (r.busyAllRuns ?? 0),
  0,
);
const bestRead = Math.max(
  ratio("5.walpool-readers-2", "5.raw") ?? -Infinity,
  ratio("5.walpool-readers-0", "5.raw") ?? -Infinity,
);
const bestHeavy = Math.max(
  ratio("6.walpool-readers-2-callers-2", "6.raw") ?? -Infinity,
  ratio("6.walpool-readers-2-callers-4", "6.raw") ?? -Infinity,
);
const targets: Target[] = [
  target(
    "many small writes ≥ 10× raw per-insert",
    ratio("1.walpool", "1.raw-per-insert"),
    (v) => v >= 10,
  ),
  target(
    "many small writes ≥ 0.5× raw one-transaction",
    ratio("1.walpool", "1.raw-one-tx"),
    (v) => v >= 0.5,
  ),
  target(
    "durability full ≥ 50× raw per-insert FULL",
    ratio("2.walpool-full", "2.raw-per-insert-full"),
    (v) => v >= 50,
  ),
  target(
    "many small writes ≥ 0.5× raw one-transaction, cold writer",
    ratio("1.walpool-cold", "1.raw-one-tx"),
    (v) => v >= 0.5,
  ),
  target(
    "durability full ≥ 50× raw per-insert FULL, cold writer",
    ratio("2.walpool-full-cold", "2.raw-per-insert-full"),
    (v) => v >= 50,
  ),
  target("event-loop pause ≤ 10 ms", byId("1.walpool")?.pauseMs, (v) => v <= 10, " ms"),
  target(
    "point reads, best of readers:2 / readers:0 ≥ 0.8× raw",
    Number.isFinite(bestRead) ? bestRead : undefined,
    (v) => v >= 0.8,
  ),
  target(
    "heavy reads with 2 readers ≥ 1.7× one raw connection",
    Number.isFinite(bestHeavy) ? bestHeavy : undefined,
    (v) => v >= 1.7,
  ),
  {
    target: "zero SQLITE_BUSY surfaced by walpool",
    measured: `${walpoolBusy} in ${results.filter((r) => r.walpool).length * repeat} walpool runs`,
    ratio: walpoolBusy,
    met: walpoolBusy === 0,
  },
];

function fmtRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

function table(head: string[], rows: string[][]): string {
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((s, c) => s.padEnd(width[c])).join(" | ")} |`;
  return [line(head), line(width.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const shortName = (id: string) => byId(id)?.short ?? id.replace(/^\d\./, "");
const out: string[] = [];
out.push(
  `### ${runtimeVersion()} — raw binding \`${rawDriver}\`${quick ? " (quick mode)" : ""}`,
  "",
  `walpool at ${measured}; ${cpus} CPUs (${cpu}); each number the fastest of ${repeat} run(s).`,
  "",
  table(
    [
      "scenario",
      "variant",
      "ops",
      "seconds",
      "ops/s",
      "vs baseline",
      "req/commit",
      "SQLITE_BUSY (run kept)",
    ],
    results.map((r) => [
      r.scenario,
      r.note ? `${r.variant} (${r.note})` : r.variant,
      String(r.ops),
      r.seconds.toFixed(3),
      fmtRate(r.opsPerSec),
      r.ratios
        ? Object.entries(r.ratios).map(([id, v]) => `${v.toFixed(2)}× ${shortName(id)}`).join(
          "; ",
        )
        : r.short
        ? "baseline"
        : "",
      r.requestsPerCommit ? r.requestsPerCommit.toFixed(1) : "",
      r.busy === undefined ? "" : String(r.busy),
    ]),
  ),
  "",
);
const paused = results.filter((r) => r.pauseMs !== undefined && /^[1-3]\./.test(r.id));
if (paused.length) {
  out.push(
    "(4) Longest event-loop pause (gap between zero-delay timer ticks) during the write runs:",
    "",
    table(
      ["variant", "longest pause (ms)", `gaps > 10 ms (${repeat} run(s))`],
      paused.map((r) => [
        `${r.scenario}: ${r.variant}`,
        r.pauseMs!.toFixed(1),
        String(r.pausesOver10),
      ]),
    ),
    "",
  );
}
out.push(
  "Targets:",
  "",
  table(
    ["target", "measured", "status"],
    targets.map((
      t,
    ) => [t.target, t.measured, t.met === undefined ? "—" : t.met ? "met" : "NOT met"]),
  ),
  "",
);
console.log(out.join("\n"));

if (jsonPath) {
  const all = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, "utf8")) : { runtimes: {} };
  all.runtimes[runtime] = {
    runtime: runtimeVersion(),
    rawDriver,
    revision: measured,
    quick,
    repeat,
    date: new Date().toISOString(),
    cpu,
    cpus,
    results,
    targets,
  };
  writeFileSync(jsonPath, JSON.stringify(all, null, 2) + "\n");
  console.error(`results written to ${jsonPath}`);
}
