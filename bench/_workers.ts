// Starting a worker and talking to it, the same way on every runtime: a Web Worker on Deno and
// Bun, a node:worker_threads worker on Node. Used by the alternatives of scenario (3).

/** One side of a worker channel. */
export interface Port {
  /** Sends `message`; the buffers in `transfer` move to the other side (no copy). */
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** The main thread's handle on a worker. */
export interface BenchWorker extends Port {
  terminate(): void;
}

const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);

interface NodeThreads {
  Worker: new (url: URL) => {
    postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
    on(event: string, handler: (value: unknown) => void): void;
    terminate(): Promise<number>;
  };
}

const nodeThreads = (): Promise<NodeThreads> => import("node:" + "worker_threads");

/** Starts the worker module at `url`. */
export async function startWorker(url: URL): Promise<BenchWorker> {
  if (isNode) {
    const worker = new (await nodeThreads()).Worker(url);
    worker.on("error", (e) => console.error("worker error:", e));
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      onMessage: (handler) => worker.on("message", handler),
      terminate: () => void worker.terminate(),
    };
  }
  const worker = new Worker(url, { type: "module" });
  worker.onerror = (e) => console.error("worker error:", e.message);
  return {
    post: (m, transfer) => worker.postMessage(m, { transfer: transfer ?? [] }),
    onMessage: (handler) => worker.onmessage = (e) => handler(e.data),
    terminate: () => worker.terminate(),
  };
}

/** Inside a worker: the port to the thread that started it (walpool's own, same on every runtime). */
export { parentPort } from "../lib/_worker_host.ts";
