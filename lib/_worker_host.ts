// How a worker is started and how it talks back: a Web Worker on Deno and Bun, a
// `node:worker_threads` worker on Node. The only file that knows the difference.

import { runtime } from "./_runtime.ts";

/** The main thread's handle on a worker. */
export interface WorkerLink {
  /** Sends `message` to the worker (a structured clone: nothing of the caller's is detached). */
  post(message: unknown): void;
  /** Stops the worker at once; `onExit` is called once, as for any other stop. */
  terminate(): void;
  /** Lets the process exit while this worker is idle (`false`) or keeps it alive (`true`). */
  hold(busy: boolean): void;
}

/** A worker's view of its parent. */
export interface ParentPort {
  /** Sends `message` to the parent; the buffers in `transfer` move there instead of being copied. */
  post(message: unknown, transfer?: Transferable[]): void;
  onMessage(handler: (message: unknown) => void): void;
}

const isNode = runtime === "node";

interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: string, handler: (value: unknown) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

interface NodeWorkerThreads {
  Worker: new (url: URL) => NodeWorker;
  parentPort: {
    postMessage(message: unknown, transfer?: Transferable[]): void;
    on(event: "message", handler: (message: unknown) => void): void;
  } | null;
}

// A computed specifier keeps Web-Worker runtimes from loading node:worker_threads at all.
const nodeThreads = (): Promise<NodeWorkerThreads> => import("node:" + "worker_threads");

/**
 * Starts the worker module at `url`. `onMessage` gets every message; `onExit` is called once
 * when the worker stops for any reason (crash, uncaught error, `terminate()`).
 */
export async function spawnWorker(
  url: URL,
  onMessage: (message: unknown) => void,
  onExit: (reason: string) => void,
): Promise<WorkerLink> {
  let exited = false;
  const exit = (reason: string) => {
    if (exited) return;
    exited = true;
    onExit(reason);
  };
  if (isNode) {
    const { Worker } = await nodeThreads();
    const worker = new Worker(url);
    worker.on("message", onMessage);
    worker.on("error", (e) => exit(`worker error: ${(e as Error)?.message ?? e}`));
    worker.on("exit", (code) => exit(`worker exited with code ${code}`));
    return {
      post: (m) => worker.postMessage(m),
      terminate: () => {
        exit("worker was terminated");
        void worker.terminate();
      },
      hold: (busy) => busy ? worker.ref() : worker.unref(),
    };
  }
  const worker = new Worker(url, { type: "module" });
  const w = worker as Worker & { ref?: () => void; unref?: () => void };
  worker.onmessage = (e) => onMessage(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    exit(`worker error: ${e.message}`);
    worker.terminate();
  };
  worker.addEventListener("close", () => exit("worker exited")); // Bun
  return {
    post: (m) => worker.postMessage(m),
    terminate: () => {
      exit("worker was terminated");
      worker.terminate();
    },
    hold: (busy) => busy ? w.ref?.() : w.unref?.(),
  };
}

/**
 * Inside a Node worker: drops the ExperimentalWarning that loading `node:sqlite` emits once per
 * thread, which each walpool worker would otherwise print again (the calling thread, if it loads
 * the binding, prints it once). Only that warning, and only in walpool's own workers: the
 * process's warning handling is left alone.
 */
function quietSqliteWarning(): void {
  const proc = (globalThis as { process?: { emitWarning: (...args: unknown[]) => void } }).process!;
  const emit = proc.emitWarning;
  proc.emitWarning = function (warning: unknown, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
    const text = String((warning as Error)?.message ?? warning);
    if (type === "ExperimentalWarning" && text.startsWith("SQLite is an experimental")) return;
    return emit.call(this, warning, ...rest);
  };
}

/** Inside a worker: the port to the thread that started it. */
export async function parentPort(): Promise<ParentPort> {
  if (isNode) {
    const port = (await nodeThreads()).parentPort;
    if (!port) throw new Error("walpool worker module loaded outside a worker");
    quietSqliteWarning();
    return {
      post: (m, transfer) => port.postMessage(m, transfer),
      onMessage: (handler) => port.on("message", handler),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown, options?: { transfer: Transferable[] }): void;
    onmessage: ((e: MessageEvent) => void) | null;
  };
  // Messages that arrive before the worker has its handler (it may still be loading) wait here.
  const early: unknown[] = [];
  let handle: ((message: unknown) => void) | undefined;
  scope.onmessage = (e) => handle ? handle(e.data) : early.push(e.data);
  return {
    post: (m, transfer) => scope.postMessage(m, { transfer: transfer ?? [] }),
    onMessage: (handler) => {
      handle = handler;
      for (const m of early.splice(0)) handler(m);
    },
  };
}
