// Bench workers, started and spoken to through walpool's own worker host (lib/_worker_host.ts):
// a Web Worker on Deno and Bun, a node:worker_threads worker on Node. Used by the alternatives of
// scenario (3) and by bench/message_ceiling.ts; a bench worker itself takes `parentPort` from
// lib/_worker_host.ts.

import { spawnWorker } from "../lib/_worker_host.ts";

/** The main thread's handle on a bench worker. */
export interface BenchWorker {
  /** Sends `message` to the worker. */
  post(message: unknown): void;
  /** Also calls `handler` with every message the worker sends from now on. */
  onMessage(handler: (message: unknown) => void): void;
  /** Stops the worker at once. */
  terminate(): void;
}

/** Starts the worker module at `url`; says so on stderr if it stops before it is terminated. */
export async function startWorker(url: URL): Promise<BenchWorker> {
  const handlers: ((message: unknown) => void)[] = [];
  let terminated = false;
  const link = await spawnWorker(
    url,
    (message) => {
      for (const handler of handlers) handler(message);
    },
    (reason) => {
      if (!terminated) console.error(`bench worker ${url.pathname} stopped: ${reason}`);
    },
  );
  return {
    post: (message) => link.post(message),
    onMessage: (handler) => void handlers.push(handler),
    terminate: () => {
      terminated = true;
      link.terminate();
    },
  };
}
