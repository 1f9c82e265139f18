// The interactive transaction's channel between the calling thread and the writer: a
// SharedArrayBuffer carrying one statement at a time, woken with Atomics instead of postMessage.
// An answer that comes within a short budget is taken synchronously, so a transaction callback
// that only awaits its own statements runs from BEGIN to COMMIT in one task of the calling
// thread, and never holds the writer while answers wait behind other work (HTTP parsing, …).
// Past the budget the caller waits asynchronously (Atomics.waitAsync): the event loop is never
// blocked for longer than the budget per statement.
//
// Layout: six Int32 words, then the data. The caller bumps REQ after writing a request; the
// writer bumps ANS after writing its answer over it. One request is outstanding at a time.
// The caller also bumps DOOR after every request: the writer waits on DOOR between the statements
// of a transaction and, from its event loop, for the next transaction. POSTS counts the messages
// the caller posted: a group of transactions waits a few microseconds for the next one unless a
// message was posted meanwhile, after answering a large group of writes the writer spins until the
// next message is posted rather than sleep until it arrives, and before committing a group it lets
// in the messages already posted, to join it. Values cross as JSON, with bigint, bytes and
// non-finite numbers tagged.

import type { Answer, ErrorData, TxRequest } from "./protocol.ts";

const REQ = 0; // requests written so far
const ANS = 1; // answers written so far
const LENGTH = 2; // bytes of the request or answer in the data area
const STOP = 3; // set when the writer is being terminated: it must leave its wait
const DOOR = 4; // bumped by the caller for every request (and to stop the writer)
const POSTS = 5; // messages the caller posted (grouped writes, cancels, close)
const HEADER = 32;
const INITIAL = 64 * 1024;
const MAX = 1 << 30;

/** A new channel's memory (sent to the writer in its `init`). */
export function channelBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(INITIAL, { maxByteLength: MAX });
}

// --- the codec ----------------------------------------------------------------------------------

const TAG = "\u0000w";
const TAGGED = JSON.stringify(TAG).slice(1, -1);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // A bigint as it is, not as a `toJSON` polyfill turned it (into a string, say).
  const raw = this[key];
  if (typeof raw === "bigint") return { [TAG]: "n" + raw };
  if (value instanceof Uint8Array) {
    let text = "";
    for (let i = 0; i < value.length; i += 0x8000) {
      text += String.fromCharCode(...value.subarray(i, i + 0x8000));
    }
    return { [TAG]: "b" + btoa(text) };
  }
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) {
    return { [TAG]: "d" + (Object.is(value, -0) ? "-0" : String(value)) };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || !(TAG in value)) return value;
  const text = (value as Record<string, string>)[TAG];
  switch (text[0]) {
    case "n":
      return BigInt(text.slice(1));
    case "b":
      return Uint8Array.from(atob(text.slice(1)), (c) => c.charCodeAt(0));
    default:
      return Number(text.slice(1));
  }
}

/** A value as the channel encodes it (for comparing answers). */
export function encodeValue(value: unknown): string {
  return JSON.stringify(value, replacer) ?? "undefined";
}

/** The two ends share the memory layout and the codec. */
class End {
  #sab: SharedArrayBuffer;
  protected ctl: Int32Array;
  #data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.#sab = sab;
    this.ctl = new Int32Array(sab, 0, HEADER / 4);
    this.#data = new Uint8Array(sab, HEADER); // tracks the length as the buffer grows
  }

  protected write(message: unknown): void {
    const text = JSON.stringify(message, replacer);
    // A UTF-8 byte per UTF-16 unit is common; three is the most there can be.
    if (text.length * 3 > this.#data.length) {
      const need = HEADER + text.length * 3;
      if (need > MAX) throw new RangeError("A transaction statement or its result is over 1 GiB");
      this.#sab.grow(Math.max(need, Math.min(MAX, this.#sab.byteLength * 2)));
    }
    const { written } = encoder.encodeInto(text, this.#data);
    this.ctl[LENGTH] = written;
  }

  protected read(): unknown {
    const text = decoder.decode(this.#data.slice(0, this.ctl[LENGTH]));
    return JSON.parse(text, text.includes(TAGGED) ? reviver : undefined);
  }
}

/**
 * Waits until `ctl[index]` is no longer `from`: spins for up to `spinMs`, then sleeps, for `ms` in
 * all. Whether it changed. A wake-up alone proves nothing: a notify for an earlier change can
 * arrive late (the other thread may be preempted between its store and its notify).
 */
function waitFor(
  ctl: Int32Array,
  index: number,
  from: number,
  spinMs: number,
  ms: number,
): boolean {
  if (Atomics.load(ctl, index) !== from) return true;
  const start = performance.now();
  if (spinUntil(Math.min(spinMs, ms), () => Atomics.load(ctl, index) !== from)) return true;
  let now = performance.now();
  for (;;) {
    const left = ms - (now - start);
    if (left <= 0) return Atomics.load(ctl, index) !== from;
    Atomics.wait(ctl, index, from, left);
    if (Atomics.load(ctl, index) !== from) return true;
    now = performance.now();
  }
}

/** Spins up to `ms` (reading the clock every 64 tries) until `done()`; whether it was. */
function spinUntil(ms: number, done: () => boolean): boolean {
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 64; i++) if (done()) return true;
  }
  return false;
}

/** Calls `then` once `ctl[index]` is no longer `from`, without blocking. */
function whenChanged(ctl: Int32Array, index: number, from: number, then: () => void): void {
  const wait = Atomics.waitAsync(ctl, index, from);
  if (!wait.async) return queueMicrotask(then);
  wait.value.then(() => {
    if (Atomics.load(ctl, index) !== from) then();
    else whenChanged(ctl, index, from, then); // a late notify for an earlier change
  });
}

/** How long (ms) the calling thread spins for an answer before it sleeps. */
const CALLER_SPIN_MS = 0.05;

/** The calling thread's end. */
export class TxCaller extends End {
  #sent = 0;
  #outstanding: { resolve(a: Answer): void; reject(e: Error): void } | undefined;
  #broken: Error | undefined;

  /**
   * Sends one request and resolves with its answer: synchronously (an already settled promise)
   * when it comes within `syncMs`, else once it comes.
   */
  async call(req: TxRequest, syncMs: number): Promise<Answer> {
    while (this.#outstanding) await this.#settle(syncMs);
    if (this.#broken) throw this.#broken;
    this.write(req);
    const n = ++this.#sent;
    Atomics.store(this.ctl, REQ, n);
    this.ring();
    if (waitFor(this.ctl, ANS, n - 1, CALLER_SPIN_MS, syncMs)) return this.#take();
    return new Promise<Answer>((resolve, reject) => {
      const outstanding = { resolve, reject };
      this.#outstanding = outstanding;
      whenChanged(this.ctl, ANS, n - 1, () => {
        if (this.#outstanding === outstanding) outstanding.resolve(this.#take());
      });
    });
  }

  /**
   * Tells the writer, should it be spinning for the next transaction of a group, that a message
   * waits in its event loop. No wake-up: the writer never sleeps on the channel outside a
   * transaction, and one would only wake its watch for nothing.
   */
  posted(): void {
    Atomics.add(this.ctl, POSTS, 1);
  }

  /** Wakes the writer if it sleeps on the channel (after a request). */
  ring(): void {
    Atomics.add(this.ctl, DOOR, 1);
    Atomics.notify(this.ctl, DOOR);
  }

  /** Waits for the outstanding answer: synchronously up to `syncMs`, then asynchronously. */
  async #settle(syncMs: number): Promise<void> {
    const outstanding = this.#outstanding!;
    const answered = new Promise<void>((resolve) => {
      const { resolve: r, reject } = outstanding;
      outstanding.resolve = (a) => (r(a), resolve());
      outstanding.reject = (e) => (reject(e), resolve());
    });
    if (waitFor(this.ctl, ANS, this.#sent - 1, CALLER_SPIN_MS, syncMs)) {
      outstanding.resolve(this.#take());
    }
    await answered;
  }

  #take(): Answer {
    const answer = this.read() as Answer;
    this.#outstanding = undefined;
    return answer;
  }

  /**
   * Tells a writer that waits on the channel to stop waiting: called before it is terminated,
   * since a thread asleep in a loop of `Atomics.wait` may not see a termination (Deno).
   */
  stop(): void {
    Atomics.store(this.ctl, STOP, 1);
    this.ring();
  }

  /** The writer stopped: the outstanding request and every later one fail with `error`. */
  fail(error: Error): void {
    this.#broken = error;
    const outstanding = this.#outstanding;
    if (!outstanding) return;
    // The writer may have answered before it stopped: that answer stands.
    if (Atomics.load(this.ctl, ANS) === this.#sent) return outstanding.resolve(this.#take());
    this.#outstanding = undefined;
    outstanding.reject(error);
  }
}

/** How long (ms) the writer spins for the next statement of an open transaction before it sleeps. */
const WRITER_SPIN_MS = 0.2;

/** The writer's end. */
export class TxServer extends End {
  #seen = 0;
  #posts = 0;

  /** Whether a request is waiting. */
  get waiting(): boolean {
    return Atomics.load(this.ctl, REQ) !== this.#seen;
  }

  /** Notes that the messages posted so far will be delivered by the event loop. */
  heard(): void {
    this.#posts = Atomics.load(this.ctl, POSTS);
  }

  /**
   * Spins up to `ms` for a transaction's request, unless a message was posted since `heard()`
   * (it waits in the event loop). Whether a request is waiting.
   */
  doze(ms: number): boolean {
    spinUntil(ms, () => this.waiting || Atomics.load(this.ctl, POSTS) !== this.#posts);
    return this.waiting;
  }

  /**
   * Spins up to `ms` until the caller has posted more of the messages it counts than the
   * `received` so far: one is then on its way, and the event loop delivers it without going to
   * sleep first. Whether one was. (A message can arrive before the caller has counted it: the
   * difference may be negative for a moment.)
   */
  awaitPost(received: number, ms: number): boolean {
    return spinUntil(ms, () => this.pendingPosts(received) > 0);
  }

  /** How many more messages the caller has posted than the `received` so far (in flight). */
  pendingPosts(received: number): number {
    return Atomics.load(this.ctl, POSTS) - received | 0;
  }

  /** Calls `onRequest` (once) when a request arrives while the writer does other things. */
  watch(onRequest: () => void): void {
    const door = Atomics.load(this.ctl, DOOR);
    if (this.waiting) return queueMicrotask(onRequest);
    whenChanged(this.ctl, DOOR, door, () => this.waiting ? onRequest() : this.watch(onRequest));
  }

  /**
   * The next request: spins briefly, then sleeps until it comes (calling `beforeSleep` once, the
   * first time it is about to sleep); `undefined` if told to stop.
   */
  next(beforeSleep?: () => void): TxRequest | undefined {
    let slept = false;
    for (;;) {
      if (Atomics.load(this.ctl, STOP)) return undefined;
      const door = Atomics.load(this.ctl, DOOR);
      if (Atomics.load(this.ctl, REQ) !== this.#seen) break;
      if (!slept && waitFor(this.ctl, DOOR, door, WRITER_SPIN_MS, WRITER_SPIN_MS)) continue;
      if (!slept) {
        slept = true;
        beforeSleep?.();
        continue;
      }
      waitFor(this.ctl, DOOR, door, 0, 50);
    }
    this.#seen = Atomics.load(this.ctl, REQ);
    return this.read() as TxRequest;
  }

  /** Answers the request taken last. */
  answer(answer: Answer | { id: number; error: ErrorData }): void {
    try {
      this.write(answer);
    } catch (error) {
      this.write({
        id: answer.id,
        error: { name: "RangeError", message: (error as Error).message },
      });
    }
    Atomics.store(this.ctl, ANS, this.#seen);
    Atomics.notify(this.ctl, ANS);
  }
}
