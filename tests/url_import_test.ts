// Works from a URL: Deno imports mod.ts by an http(s) URL (as JSR serves it), and then the
// writer and reader workers start from http URLs too. The repository is served on loopback and a
// child `deno run`, with only the permissions it needs, imports walpool from there and uses it;
// then the same after `deno cache`, offline; and open() when a worker module cannot be loaded.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { driverAvailable, runtime } from "./_helpers.ts";
import type { DriverName } from "../mod.ts";

const skip = runtime === "deno"
  ? false
  : "only Deno imports modules by an http(s) URL; Bun and Node do not";
const root = new URL("../", import.meta.url);
/** Not a timing assertion: only how long to wait before calling a stuck child a failure. */
const PATIENCE = 120_000;
const types: Record<string, string> = {
  ".ts": "application/typescript",
  ".json": "application/json",
};

/** Serves the repository on 127.0.0.1 (as a static file server, like JSR); logs each request. */
function serveRepository() {
  const log: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const { pathname } = new URL(req.url);
    const file = new URL(`.${pathname}`, root); // URL parsing has already removed any "/../"
    const type = types[pathname.slice(pathname.lastIndexOf("."))];
    try {
      if (!type || !file.href.startsWith(root.href)) throw new Error("not served");
      const body = await Deno.readFile(file);
      log.push(`200 ${pathname}`);
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      log.push(`404 ${pathname}`);
      return new Response("not found", { status: 404 });
    }
  });
  return { host: `127.0.0.1:${server.addr.port}`, log, close: () => server.shutdown() };
}

/**
 * Runs `deno <command>` in `dir` with its own module cache, and without the repository's
 * deno.json and lockfile (which would otherwise record the loopback URLs).
 */
async function deno(
  dir: string,
  command: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [command, "--no-config", "--no-lock", ...args],
    cwd: dir,
    // Its own module cache: every module comes from the server, and none stays behind.
    env: { DENO_DIR: join(dir, "deno_dir"), NO_COLOR: "1" },
    signal: AbortSignal.timeout(PATIENCE),
  }).output();
  const err = new TextDecoder().decode(stderr);
  if (code !== 0) console.error(err);
  return { code, out: new TextDecoder().decode(stdout) };
}

/** Runs _url_import_child.ts against the server with `driver`; asserts what it printed. */
async function useWalpool(
  server: ReturnType<typeof serveRepository>,
  dir: string,
  driver: DriverName,
  flags: string[] = [],
): Promise<void> {
  const importMap = Deno.env.get("WALPOOL_IMPORT_MAP");
  const { code, out } = await deno(dir, "run", [
    ...flags,
    `--allow-import=${server.host}`,
    `--allow-write=${dir}`,
    ...(driver === "@db/sqlite"
      // The import map leads jsr:@db/sqlite to a local checkout (see README, Development).
      ? [
        `--allow-read=${dir},${dirname(importMap!)}`,
        `--import-map=${importMap}`,
        "--allow-ffi",
        "--allow-env",
      ]
      : [`--allow-read=${dir}`]),
    fileURLToPath(new URL("./_url_import_child.ts", import.meta.url)),
    `http://${server.host}`,
    join(dir, "test.db"),
    driver,
  ]);
  assert.equal(code, 0, "the child failed (its stderr is above)");
  const result = JSON.parse(out);
  assert.deepEqual(result, {
    ids: Array.from({ length: 100 }, (_, i) => i + 1),
    batch: [1, 1],
    upper: 10,
    reads: Array.from({ length: 20 }, (_, i) => i < 10 ? `N${i}` : `n${i}`),
    n: 102,
    error: "SqliteError SQLITE_CONSTRAINT_NOTNULL",
    closed: "ClosedError",
    readers: 2,
    readerReads: result.readerReads,
  });
  assert.ok(result.readerReads >= 21, `the reader workers answered ${result.readerReads}`);
}

// The child needs the import map by path (WALPOOL_IMPORT_MAP), not only this process.
const dbSqlite = runtime === "deno" && !Deno.env.get("WALPOOL_IMPORT_MAP")
  ? "@db/sqlite over http needs WALPOOL_IMPORT_MAP, the import map's path, for the child"
  : await driverAvailable("@db/sqlite");

describe("importing mod.ts by an http URL (Deno)", () => {
  for (const driver of ["node:sqlite", "@db/sqlite"] as const) {
    const skipDriver = skip || (driver === "@db/sqlite" && dbSqlite !== true ? dbSqlite : false);
    it(`open(), writes, reads, a transaction and close() work, workers included (${driver})`, {
      skip: skipDriver,
    }, async () => {
      const server = serveRepository();
      const dir = mkdtempSync(join(tmpdir(), "walpool-url-"));
      try {
        await useWalpool(server, dir, driver);
        // The workers themselves were loaded from the server, and every module asked for exists.
        const fetched = server.log.filter((l) => l.startsWith("200 ")).map((l) => l.slice(4));
        for (const file of ["/mod.ts", "/lib/writer_worker.ts", "/lib/reader_worker.ts"]) {
          assert.ok(fetched.includes(file), `${file} was not fetched: ${fetched}`);
        }
        assert.deepEqual(server.log.filter((l) => !l.startsWith("200 ")), []);
      } finally {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // A deployment caches its modules once (`deno cache`, `deno install --entrypoint`, a Docker
  // build step), then runs offline: the worker modules must be in the module graph of mod.ts.
  it("after `deno cache` of mod.ts, a run with --cached-only works, workers included", {
    skip,
  }, async () => {
    const server = serveRepository();
    const dir = mkdtempSync(join(tmpdir(), "walpool-url-"));
    try {
      const cached = await deno(dir, "cache", [
        `--allow-import=${server.host}`,
        `http://${server.host}/mod.ts`,
      ]);
      assert.equal(cached.code, 0, "deno cache failed (its stderr is above)");
      server.log.length = 0;
      await useWalpool(server, dir, "node:sqlite", ["--cached-only"]);
      assert.deepEqual(server.log, [], "nothing was fetched by the cached-only run");
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // What a partial mirror or cache does: the worker module fails to load, often before open()
  // has begun to wait for it. open() must reject with WorkerError every time, never hang.
  it("open() rejects with WorkerError, never hangs, when the writer's module cannot be loaded", {
    skip,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "walpool-url-"));
    try {
      const copy = join(dir, "walpool");
      cpSync(fileURLToPath(new URL("mod.ts", root)), join(copy, "mod.ts"));
      cpSync(fileURLToPath(new URL("lib/", root)), join(copy, "lib"), { recursive: true });
      rmSync(join(copy, "lib", "writer_worker.ts"));
      const { code, out } = await deno(dir, "run", [
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        fileURLToPath(new URL("./_open_fails_child.ts", import.meta.url)),
        pathToFileURL(copy).href,
        join(dir, "test.db"),
      ]);
      assert.equal(code, 0, "the child failed: an open() never settled (its stderr is above)");
      assert.deepEqual(JSON.parse(out), Array(20).fill("WorkerError"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
