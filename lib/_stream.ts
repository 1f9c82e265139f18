// The rows of `Database.iterate`, as an async iterator over chunks from a source (a reader
// worker's cursor, or one on the calling thread): one chunk is asked for ahead while the current
// one is read, so at most two are in memory whatever the result's size; `break`, an error or the
// signal stops the source at once.

import type { StreamSink } from "./_worker_client.ts";
import type { Connection } from "./_connection.ts";
import type { BindParams } from "./driver.ts";
import { fromErrorData, toErrorData } from "./errors.ts";

/** Where the chunks come from. */
export interface ChunkSource {
  /** Begins: the first chunk (or the error) goes to `sink`. */
  start(sink: StreamSink): void;
  /** Asks for the next chunk. */
  more(): void;
  /** Ends the source early (idempotent). */
  stop(): void;
}

/** The rows of `source`, one at a time. */
export async function* rowStream<T>(
  source: ChunkSource,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  signal?.throwIfAborted();
  const chunks: { rows: unknown[]; done: boolean }[] = [];
  let error: unknown;
  let failed = false;
  let wake: (() => void) | undefined;
  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    error = e;
    wake?.();
  };
  const onAbort = () => {
    source.stop();
    fail(signal!.reason);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    source.start({
      chunk: (rows, done) => {
        chunks.push({ rows, done });
        wake?.();
      },
      fail,
    });
    for (;;) {
      while (!chunks.length && !failed) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (failed) throw error;
      const { rows, done } = chunks.shift()!;
      if (done) finished = true;
      else source.more(); // the next one comes while this one is read
      for (const row of rows) {
        if (failed) throw error;
        yield row as T;
      }
      if (finished) return;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!finished) source.stop();
  }
}

/**
 * A source on the calling thread: a cursor on `conn` (a connection of its own), each chunk read
 * when asked for, and handed over in a microtask. `release` gets the connection back at the end.
 */
export function inlineSource(
  conn: Promise<Connection>,
  sql: string,
  params: BindParams,
  chunk: number,
  release: (conn: Connection) => void,
): ChunkSource {
  let sink: StreamSink | undefined;
  let cursor: ReturnType<Connection["cursor"]> | undefined;
  let opened: Connection | undefined;
  let stopped = false;
  const end = () => {
    cursor?.close();
    cursor = undefined;
    if (opened) release(opened);
    opened = undefined;
  };
  const next = () =>
    queueMicrotask(() => {
      if (stopped || !cursor) return;
      try {
        const rows = cursor.read(chunk);
        const done = cursor.done;
        if (done) end();
        sink!.chunk(rows, done);
      } catch (error) {
        const driver = opened?.driver;
        end();
        sink!.fail(fromErrorData(toErrorData(error, driver)));
      }
    });
  return {
    start(s) {
      sink = s;
      conn.then((c) => {
        opened = c;
        if (stopped) return end();
        cursor = c.cursor(sql, params);
        next();
      }).catch((error) => {
        const driver = opened?.driver;
        end();
        s.fail(fromErrorData(toErrorData(error, driver)));
      });
    },
    more: next,
    stop() {
      stopped = true;
      end();
    },
  };
}
