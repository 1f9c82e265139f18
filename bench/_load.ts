// The load generator of bench/http.ts: autocannon (a pinned devDependency; `npm ci` installs it)
// against a bench/_http_server.ts, always in its own Node 22 process so that it never shares a
// process with the server. bench/http.ts starts it; by hand:
//
//   node bench/_load.ts --url=http://127.0.0.1:PORT [--connections=100] [--duration=10]
//     [--warmup=2] [--writes=10] [--accounts=10000] [--timeout=10] [--rate=0]
//
// Every connection keeps its socket alive and sends one request after another: --writes percent
// `POST /write?id=N&delta=D` (D in -100..100), the rest `GET /read?id=N`, N uniform in
// 1..--accounts. A --warmup seconds run comes first and is discarded; then a --duration seconds
// run, whose figures are printed as one line of JSON: requests/s (mean of the per-second samples,
// and total / duration), latency p50/p99/p99.9 in ms, non-2xx responses, errors and timeouts.
// --rate=N caps all connections together at N requests/s (0: each sends its next request as soon
// as the last is answered): a service below its capacity, where latency shows its pauses.

import { createRequire } from "node:module";
import process from "node:process";

interface Histogram {
  average: number;
  mean: number;
  p50: number;
  p99: number;
  p99_9: number;
  max: number;
  total: number;
}
interface Result {
  requests: Histogram;
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  resets: number;
}
interface Request {
  method: string;
  path: string;
}
type Autocannon = (options: Record<string, unknown>) => Promise<Result>;

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 3);
};
const url = flag("url");
if (!url) throw new TypeError("--url=http://127.0.0.1:PORT is required");
const connections = Number(flag("connections") ?? 100);
const duration = Number(flag("duration") ?? 10);
const warmup = Number(flag("warmup") ?? 2);
const writes = Number(flag("writes") ?? 10) / 100;
const accounts = Number(flag("accounts") ?? 10_000);
const timeout = Number(flag("timeout") ?? 10);
const rate = Number(flag("rate") ?? 0);

// A computed require: no type checker goes looking for autocannon's (absent) types.
const autocannon = createRequire(import.meta.url)("autocannon" + "") as Autocannon;

const id = () => 1 + Math.floor(Math.random() * accounts);
const setupRequest = (request: Request): Request => {
  if (Math.random() < writes) {
    request.method = "POST";
    request.path = `/write?id=${id()}&delta=${Math.floor(Math.random() * 201) - 100}`;
  } else {
    request.method = "GET";
    request.path = `/read?id=${id()}`;
  }
  return request;
};

const run = (seconds: number) =>
  autocannon({
    url,
    connections,
    duration: seconds,
    timeout,
    ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [{ setupRequest }],
  });

if (warmup > 0) await run(warmup);
const r = await run(duration);
console.log(JSON.stringify({
  requestsPerSecond: r.requests.average,
  requestsTotal: r.requests.total,
  requestsPerSecondOverall: r.requests.total / r.duration,
  duration: r.duration,
  p50: r.latency.p50,
  p99: r.latency.p99,
  p999: r.latency.p99_9,
  maxLatency: r.latency.max,
  ok: r["2xx"],
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
}));
