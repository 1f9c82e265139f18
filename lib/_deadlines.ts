// The deadlines of open transactions, watched by one timer for all of them: a transaction adds
// its deadline and removes it when it ends, a set operation each, where a timer of its own would
// cost a setTimeout and a clearTimeout (measured: 2–5 µs of a 25 µs inline transaction). The
// timer does not keep the process alive: what a transaction waits for does (the writer's worker
// is held while one is open).

/** What a deadline calls when it expires (an object, so that none needs a closure of its own). */
export interface Expiring {
  expire(): void;
}

/** A deadline being watched. */
export interface Deadline {
  readonly at: number;
  readonly target: Expiring;
  /** Where it is in `watched`, or -1 once it is not watched. */
  index: number;
}

/**
 * The deadlines watched, in no order: one is removed by moving the last into its place (a Set
 * reallocates its table as entries come and go, one allocation every few transactions).
 */
const watched: Deadline[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let armedFor = Infinity;

/** Calls `target.expire()` once `ms` have passed, unless `unwatch` is called first. */
export function watch(ms: number, target: Expiring): Deadline {
  const deadline = { at: performance.now() + ms, target, index: watched.length };
  watched.push(deadline);
  if (deadline.at < armedFor) arm(deadline.at);
  return deadline;
}

/** Stops watching `deadline` (its `expire` is not called). */
export function unwatch(deadline: Deadline): void {
  if (deadline.index < 0) return;
  const last = watched.pop()!;
  if (last !== deadline) {
    watched[deadline.index] = last;
    last.index = deadline.index;
  }
  deadline.index = -1;
}

function arm(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  armedFor = at;
  timer = setTimeout(fire, Math.max(0, at - performance.now()));
  unref(timer);
}

function fire(): void {
  timer = undefined;
  armedFor = Infinity;
  const now = performance.now();
  const due: Deadline[] = [];
  let next = Infinity;
  for (const deadline of watched) {
    if (deadline.at <= now) due.push(deadline);
    else if (deadline.at < next) next = deadline.at;
  }
  for (const deadline of due) unwatch(deadline);
  if (next < armedFor) arm(next);
  // Armed again first: a deadline whose `expire` throws leaves the others watched.
  for (const deadline of due) deadline.target.expire();
}

/** Lets the process exit while the timer is pending (Node and Bun timers, Deno's timer ids). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  deno?.unrefTimer?.(timer as unknown as number);
}
