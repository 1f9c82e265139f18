// The service people actually run: an HTTP server on node:http over one SQLite file of 10 000
// accounts, 100 keep-alive connections from autocannon on 127.0.0.1, 90 % `GET /read?id=N` (a point
// read by primary key) and 10 % `POST /write?id=N&delta=D` (read the balance, UPDATE it, INSERT a
// history row, in one transaction), ids uniform in 1..10000. Compares, per runtime and in one run,
// the runtime's raw binding on the main thread with walpool (bench/_http_server.ts has the modes).
//
//   npm ci    (once: autocannon, pinned in package.json's devDependencies)
//   deno run -A bench/http.ts [--runtimes=deno,bun,node] [--modes=raw,walpool,walpool-batch]
//     [--server=node|native] [--duration=10] [--warmup=2] [--connections=100] [--writes=10]
//     [--repeat=N] [--options='{"readers":0}'] [--rate=N] [--json=path]
//   (also `node bench/http.ts …` with Node 22.18+, and `bun bench/http.ts …`)
//
// For each runtime (deno: this Deno or the `deno` on PATH; bun and node: on PATH, node must be 22)
// and each mode, a fresh database in a temporary directory; the server seeds it before it prints
// `listening <port>` (so seeding never counts), then bench/_load.ts runs autocannon in its own Node
// 22 process: --warmup seconds discarded, then --duration seconds measured. Then the server gets
// SIGTERM, closes the database, checks the file (balances match the history; one history row per
// write answered) and reports its counters. --repeat=N alternates the modes (raw, walpool, …, raw,
// walpool, …) N times and reports the median of each figure. --options is a JSON object of extra
// walpool open options for the walpool modes. Every step is bounded: a server that is not listening
// within 30 s, a load run that overstays by 30 s, or a server that does not exit within 25 s of
// SIGTERM is killed (only that process) and the run is reported as failed (exit status 1).
//
// The table per runtime: requests/s (autocannon's mean of per-second samples), the ratio to raw of
// the same runtime in the same run, latency p50/p99/p99.9 (autocannon keeps whole ms: <1 is under
// 1 ms), the server's CPU time per request (every thread of its process, from listening to
// SIGTERM, warm-up included: what a request costs the machine, also when the load generator is
// what limits req/s), errors (non-2xx answers + connection errors + timeouts) and the server's
// check of the file.
// --json=path also keeps every run's figures and walpool's stats() at shutdown. --rate=N caps the
// connections together at N requests/s (bench/_load.ts): below the service's capacity, requests/s
// is N for every mode and the latency columns tell its pauses apart.
//
// Servers: --server=node (default) is node:http on every runtime; --server=native is Deno.serve on
// Deno and Bun.serve on Bun (node:http on Node).
//
// Modes: raw (node:sqlite DatabaseSync on Deno and Node, bun:sqlite on Bun, synchronous on the main
// thread, BEGIN IMMEDIATE…COMMIT for the write), raw-callback (diagnostic: the same binding with the
// write as an async callback awaiting each statement, the shape db.transaction's users write, with
// no library in between), raw-async (diagnostic: raw-callback with the read awaited too, as
// `await db.get(…)` is: the whole API's shape), walpool (default options; db.get and
// db.transaction), walpool-procedure (the same read-then-write as a write procedure, db.call),
// walpool-batch (diagnostic: the write as db.batch([UPDATE, INSERT]), no read).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

// --- options --------------------------------------------------------------------------------

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 3);
};
const allRuntimes = ["deno", "bun", "node"] as const;
type RuntimeName = typeof allRuntimes[number];
const allModes = [
  "raw",
  "raw-callback",
  "raw-async",
  "walpool",
  "walpool-procedure",
  "walpool-batch",
];

const runtimes = (flag("runtimes") ?? allRuntimes.join(",")).split(",") as RuntimeName[];
const modes = (flag("modes") ?? allModes.join(",")).split(",");
const duration = Number(flag("duration") ?? 10);
const warmup = Number(flag("warmup") ?? 2);
const connections = Number(flag("connections") ?? 100);
const writes = Number(flag("writes") ?? 10);
const repeat = Number(flag("repeat") ?? 1);
const rateCap = Number(flag("rate") ?? 0);
const jsonPath = flag("json");
const optionsText = flag("options") ?? "{}";
const serverKind = flag("server") ?? "node";
const accounts = 10_000;

function usage(message: string): never {
  console.error(`bench/http.ts: ${message}`);
  process.exit(2);
}
for (const r of runtimes) {
  if (!allRuntimes.includes(r)) usage(`unknown runtime ${r} (use ${allRuntimes.join(",")})`);
}
for (const m of modes) {
  if (!allModes.includes(m)) usage(`unknown mode ${m} (use ${allModes.join(",")})`);
}
for (
  const [name, n] of [["duration", duration], ["connections", connections], ["repeat", repeat]]
) {
  if (!(Number(n) >= 1)) usage(`--${name} must be a number >= 1`);
}
if (!(warmup >= 0) || !(writes >= 0 && writes <= 100)) usage("bad --warmup or --writes");
if (!(rateCap >= 0)) usage("bad --rate");
if (serverKind !== "node" && serverKind !== "native") usage("--server must be node or native");
try {
  const o = JSON.parse(optionsText);
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new TypeError("not an object");
} catch (error) {
  usage(`--options must be a JSON object of walpool open options: ${error}`);
}

// --- the programs -----------------------------------------------------------------------------

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const serverScript = here("./_http_server.ts");
const loadScript = here("./_load.ts");
const repoRoot = here("../");

/** The executable `name` on PATH, or undefined. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir || ".", name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch { /* not here */ }
  }
  return undefined;
}

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ?? which("deno");
const node = which("node");

/** The Node that runs autocannon (and the `node` runtime): Node 22.18+ (it strips the types). */
function checkNode(): string {
  if (!node) usage("needs Node 22 as `node` on PATH (it runs the load generator); none found");
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  if (major !== 22 || minor < 18) {
    usage(
      `needs Node 22.18+ as \`node\` on PATH (it runs the load generator and the node runtime, ` +
        `and strips TypeScript types); ${node} is ${version}. Put a Node 22 first on PATH.`,
    );
  }
  if (!existsSync(join(repoRoot, "node_modules", "autocannon", "package.json"))) {
    usage("autocannon is not installed: run `npm ci` in the repository first");
  }
  return version;
}
const nodeVersion = checkNode();

function serverCommand(runtime: RuntimeName): string[] {
  const path = runtime === "deno" ? deno : runtime === "bun" ? which("bun") : node;
  if (!path) usage(`${runtime} not found (on PATH)`);
  if (runtime === "deno") return [path, "run", "-A", serverScript];
  if (runtime === "node") return [path, "--disable-warning=ExperimentalWarning", serverScript];
  return [path, serverScript];
}

// --- one run ------------------------------------------------------------------------------------

interface Load {
  requestsPerSecond: number;
  requestsTotal: number;
  requestsPerSecondOverall: number;
  duration: number;
  p50: number;
  p99: number;
  p999: number;
  maxLatency: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface ServerResult {
  runtime?: string;
  server?: string;
  cpuMs?: { user: number; system: number };
  counts?: Record<string, number>;
  errors?: Record<string, number>;
  firstError?: string;
  closeError?: string;
  file?: { historyRows: number; drift: number; ok: boolean };
  stats?: Record<string, unknown>;
  error?: string;
}

interface Run {
  runtime: RuntimeName;
  mode: string;
  round: number;
  load?: Load;
  server?: ServerResult;
  failure?: string;
  stderr: string;
}

/** The processes this script started and has not yet seen exit (killed on Ctrl-C). */
const children = new Set<ChildProcess>();

/** A child process with its output collected and its exit awaited. */
function start(command: string[], cwd: string) {
  const child = spawn(command[0], command.slice(1), {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  const lineWaiters: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const wake of lineWaiters.splice(0)) wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on("error", (error) => {
      children.delete(child);
      resolve(String(error));
    });
    child.on("close", (code, signal) => {
      children.delete(child);
      for (const wake of lineWaiters.splice(0)) wake();
      resolve(code ?? String(signal));
    });
  });
  let done = false;
  exited.then(() => done = true);
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** The first stdout line matching `pattern`, or undefined once the process exits or `ms` pass. */
    async line(pattern: RegExp, ms: number): Promise<RegExpExecArray | undefined> {
      const deadline = Date.now() + ms;
      while (true) {
        const match = stdout.split("\n").map((l) => pattern.exec(l)).find((m) => m);
        if (match) return match;
        const left = deadline - Date.now();
        if (done || left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          lineWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    /** Sends `signal`; SIGKILL if it has not exited after `ms`. Resolves once it has exited. */
    async stop(signal: "SIGTERM" | "SIGKILL", ms: number): Promise<boolean> {
      if (done) return true;
      child.kill(signal);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        child.kill("SIGKILL");
        await exited;
      }
      return inTime;
    },
  };
}

const tail = (text: string, n = 1500) => text.length > n ? "…" + text.slice(-n) : text;

async function runOnce(runtime: RuntimeName, mode: string, round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "walpool-http-"));
  const run: Run = { runtime, mode, round, stderr: "" };
  const server = start([
    ...serverCommand(runtime),
    `--mode=${mode}`,
    `--db=${join(dir, "bank.db")}`,
    `--accounts=${accounts}`,
    `--server=${serverKind}`,
    ...(mode.startsWith("raw") ? [] : [`--options=${optionsText}`]),
  ], repoRoot);
  try {
    const listening = await server.line(/^listening (\d+)$/, 30_000);
    if (!listening) {
      run.failure = `the server was not listening within 30 s (or exited)`;
      return run;
    }
    const load = start([
      node!,
      loadScript,
      `--url=http://127.0.0.1:${listening[1]}`,
      `--connections=${connections}`,
      `--duration=${duration}`,
      `--warmup=${warmup}`,
      `--writes=${writes}`,
      `--accounts=${accounts}`,
      `--rate=${rateCap}`,
      "--timeout=10",
    ], repoRoot);
    const loaded = await load.line(/^\{.*\}$/, (warmup + duration + 30) * 1000);
    await load.stop("SIGTERM", 5000);
    if (!loaded) {
      run.failure = `the load generator gave no result: ${tail(load.stderr)}`;
      return run;
    }
    run.load = JSON.parse(loaded[0]);
    const inTime = await server.stop("SIGTERM", 25_000);
    const result = /^result (.*)$/m.exec(server.stdout);
    if (result) run.server = JSON.parse(result[1]);
    if (!inTime) run.failure = "the server did not exit within 25 s of SIGTERM (killed)";
    else if (!result) run.failure = "the server exited without its result line";
    return run;
  } finally {
    await server.stop("SIGKILL", 5000);
    run.stderr = tail(
      server.stderr.split("\n").filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l))
        .join("\n").trim(),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- summary --------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Summary {
  runtime: RuntimeName;
  version?: string;
  mode: string;
  runs: number;
  failed: number;
  requestsPerSecond: number;
  ratioVsRaw?: number;
  p50: number;
  p99: number;
  p999: number;
  /** Non-2xx answers, connection errors and timeouts, over all runs. */
  errors: number;
  /** Whether every run's file checked out (balances match history, a row per answered write). */
  fileOk?: boolean;
  /** The server's CPU time (µs, every thread) per request it answered. */
  cpuPerRequest?: number;
  /** The server the runs used (node:http, Deno.serve, Bun.serve). */
  server?: string;
  requestsPerCommit?: number;
}

/** The server's CPU µs per request it answered, if it reported both. */
function cpuPerRequest(run: Run): number | undefined {
  const cpu = run.server?.cpuMs;
  const answered = Object.values(run.server?.counts ?? {}).reduce((a, b) => a + b, 0);
  return cpu && answered ? 1000 * (cpu.user + cpu.system) / answered : undefined;
}

function summarize(runtime: RuntimeName, runs: Run[]): Summary[] {
  const out = modes.map((mode): Summary => {
    const mine = runs.filter((r) => r.runtime === runtime && r.mode === mode);
    const ok = mine.filter((r) => r.load);
    const stats = ok.map((r) => r.server?.stats).filter((s) => s);
    return {
      runtime,
      version: mine.find((r) => r.server?.runtime)?.server?.runtime,
      mode,
      runs: mine.length,
      failed: mine.filter((r) => r.failure).length,
      requestsPerSecond: median(ok.map((r) => r.load!.requestsPerSecond)),
      p50: median(ok.map((r) => r.load!.p50)),
      p99: median(ok.map((r) => r.load!.p99)),
      p999: median(ok.map((r) => r.load!.p999)),
      errors: ok.reduce((n, r) => n + r.load!.non2xx + r.load!.errors + r.load!.timeouts, 0),
      cpuPerRequest: median(ok.map(cpuPerRequest).filter((n) => n !== undefined) as number[]),
      server: mine.find((r) => r.server?.server)?.server?.server,
      fileOk: mine.some((r) => r.server?.file)
        ? mine.every((r) => !r.server?.file || r.server.file.ok)
        : undefined,
      requestsPerCommit: stats.length
        ? median(stats.map((s) => Number(s!.requestsPerCommit)))
        : undefined,
    };
  });
  const raw = out.find((s) => s.mode === "raw")?.requestsPerSecond;
  for (const s of out) if (raw) s.ratioVsRaw = s.requestsPerSecond / raw;
  return out;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits);

/** autocannon's latency histogram holds whole milliseconds (truncated): 0 means under 1 ms. */
const ms = (n: number) => n === 0 ? "<1" : fmt(n);

function table(summaries: Summary[]): string {
  const rows = [
    [
      "mode",
      "req/s",
      "vs raw",
      "p50 ms",
      "p99 ms",
      "p99.9 ms",
      "CPU µs/req",
      "errors",
      "file check",
    ],
    ...summaries.map((s) => [
      s.mode + (s.failed ? ` (${s.failed}/${s.runs} failed)` : ""),
      fmt(s.requestsPerSecond),
      s.ratioVsRaw === undefined ? "—" : `${fmt(s.ratioVsRaw, 2)}×`,
      ms(s.p50),
      ms(s.p99),
      ms(s.p999),
      fmt(s.cpuPerRequest, 1),
      String(s.errors),
      s.fileOk === undefined ? "—" : s.fileOk ? "ok" : "MISMATCH",
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(rows[0]), line(widths.map((w) => "-".repeat(w))), ...rows.slice(1).map(line)]
    .join("\n");
}

function cpu(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

// --- main -----------------------------------------------------------------------------------

function interrupted(): void {
  for (const child of children) child.kill("SIGKILL");
  process.exit(130);
}
process.on("SIGINT", interrupted);

console.log(
  `# HTTP service: ${connections} keep-alive connections, ${100 - writes} % GET /read, ` +
    `${writes} % POST /write (read-then-write transaction), ${accounts} accounts\n` +
    `${duration} s measured after ${warmup} s warm-up, ×${repeat}${
      repeat > 1 ? " (modes alternate; medians)" : ""
    }; autocannon under Node ${nodeVersion}${
      rateCap > 0 ? `, capped at ${rateCap} req/s` : ""
    }; ${cpu()}, ${availableParallelism()} CPUs` +
    (optionsText === "{}" ? "" : `\nwalpool options: ${optionsText}`),
);

const runs: Run[] = [];
const summaries: Summary[] = [];
for (const runtime of runtimes) {
  serverCommand(runtime); // fails early when the runtime is missing
  const mine: Run[] = [];
  for (let round = 1; round <= repeat; round++) {
    for (const mode of modes) {
      const run = await runOnce(runtime, mode, round);
      const rate = run.load ? `${fmt(run.load.requestsPerSecond)} req/s` : "no result";
      console.error(
        `  ${runtime} ${mode} #${round}: ${rate}${run.failure ? ` — FAILED: ${run.failure}` : ""}`,
      );
      mine.push(run);
      runs.push(run);
    }
  }
  const summary = summarize(runtime, mine);
  summaries.push(...summary);
  const server = summary.find((s) => s.server)?.server;
  const title = `${summary.find((s) => s.version)?.version ?? runtime}${
    server ? `, ${server}` : ""
  }`;
  console.log(`\n## ${title}\n\n${table(summary)}`);
  // Anything that went wrong inside the servers, once per run.
  for (const r of mine) {
    const e = r.server;
    const problems = [
      r.failure && `failed: ${r.failure}`,
      e?.errors && Object.keys(e.errors).length && `server errors: ${JSON.stringify(e.errors)}`,
      e?.firstError && `first error: ${e.firstError}`,
      e?.closeError && `close() failed: ${e.closeError}`,
      e?.file && !e.file.ok &&
      `file check: ${JSON.stringify(e.file)}, writes answered ${e.counts?.writes}`,
      r.load && r.load.errors + r.load.timeouts > 0 &&
      `client: ${r.load.errors} errors, ${r.load.timeouts} timeouts`,
      (r.failure || e?.firstError) && r.stderr && `server stderr: ${r.stderr}`,
    ].filter((p) => p);
    if (problems.length) console.log(`\n${r.mode} #${r.round}:\n  ${problems.join("\n  ")}`);
  }
}

if (jsonPath) {
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpu: cpu(), cpus: availableParallelism() },
        settings: {
          connections,
          duration,
          warmup,
          writes,
          repeat,
          accounts,
          server: serverKind,
          options: optionsText,
          rate: rateCap,
        },
        loadGenerator: `autocannon under Node ${nodeVersion}`,
        summaries,
        runs,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${jsonPath}`);
}
const failed = runs.filter((r) => r.failure || r.server?.file?.ok === false).length;
if (failed) console.error(`\n${failed} of ${runs.length} runs failed or left a wrong file`);
process.exit(failed ? 1 : 0);
