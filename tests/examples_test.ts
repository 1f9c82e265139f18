// The HTTP examples as real servers: each runs as a child process of its own runtime (and the
// Node one on every runtime), takes a few hundred concurrent requests, answers every one
// correctly, and on SIGTERM finishes, closes its database and exits with 0.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { runtime, runtimeCommand, tempPath } from "./_helpers.ts";

const own = { deno: "deno_serve.ts", bun: "bun_serve.ts", node: "node_http.ts" }[runtime];
const examples = [...new Set([own, "node_http.ts"])];
/** Not a timing assertion: only how long to wait before calling a stuck child a failure. */
const PATIENCE = 120_000;

interface Server {
  base: string;
  /** The exit code (or signal name) once the child ended. */
  exited: Promise<number | string>;
  stop(): void;
  kill(): void;
}

/** `promise`, or a rejection after PATIENCE: a stuck child fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${PATIENCE} ms`)), PATIENCE);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Starts an example on a free port with its database at `dbPath`; resolves once it listens. */
function start(example: string, dbPath: string): Promise<Server> {
  const script = fileURLToPath(new URL(`../examples/${example}`, import.meta.url));
  const [cmd, args] = runtimeCommand(script);
  const env = { ...process.env, PORT: "0", DB_PATH: dbPath, NO_COLOR: "1" };
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<number | string>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? signal!))
  );
  const server = {
    exited: exited.then((code) => (code !== 0 && console.error(out), code)),
    // process.kill, not child.kill: on Deno, child.kill() makes any exit read as that signal.
    stop: () => process.kill(child.pid!, "SIGTERM"),
    kill: () =>
      void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")),
  };
  const listening = new Promise<Server>((resolve, reject) => {
    child.stdout!.on("data", (c) => {
      out += c;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ ...server, base: url });
    });
    exited.then((code) => reject(new Error(`${example} ended (${code}) before listening: ${out}`)));
  });
  return within(listening, `${example} listening`).catch((error) => {
    server.kill();
    throw error;
  });
}

/** A request; the answer's status and its body parsed as JSON (the text if it is not). */
async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(base + path, {
    method,
    signal: AbortSignal.timeout(PATIENCE),
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: text }; // not JSON: the assertions on it will say so
  }
}

type Note = { id: number; body: string; likes: number };
const NOTES = 200;
const likesOf = (i: number) => i % 4; // note i gets 0–3 likes

describe("HTTP examples", () => {
  for (const example of examples) {
    it(`examples/${example} on ${runtime}: concurrent requests all answered right; SIGTERM closes the database and exits 0`, async () => {
      const dbPath = tempPath("notes.db");
      const server = await start(example, dbPath);
      try {
        const { base } = server;
        // Creates and list reads at once, and a few bad requests.
        const [posts, lists, bad] = await Promise.all([
          Promise.all(
            Array.from(
              { length: NOTES },
              (_, i) => call(base, "POST", "/notes", { body: `n${i}` }),
            ),
          ),
          Promise.all(Array.from({ length: 50 }, () => call(base, "GET", "/notes"))),
          Promise.all(
            ["", "{", "[]", '{"body":""}', '{"body":7}'].map((b) =>
              call(base, "POST", "/notes", b)
            ),
          ),
        ]);
        for (const p of posts) assert.equal(p.status, 201, JSON.stringify(p.json));
        const ids = posts.map((p) => (p.json as { id: number }).id);
        assert.ok(ids.every((id) => Number.isInteger(id) && id > 0), String(ids));
        assert.equal(new Set(ids).size, NOTES, "every note got its own id");
        for (const l of lists) {
          assert.equal(l.status, 200);
          const notes = l.json as Note[];
          assert.ok(notes.length <= NOTES);
          for (const [k, n] of notes.entries()) {
            assert.equal(n.body, `n${ids.indexOf(n.id)}`, "a listed note is one that was posted");
            if (k) assert.ok(n.id > notes[k - 1].id, "listed in id order");
          }
        }
        for (const b of bad) assert.equal(b.status, 400, JSON.stringify(b.json));

        // Point reads and likes (each an interactive transaction) at once.
        const [reads, likes, missing] = await Promise.all([
          Promise.all(ids.map((id) => call(base, "GET", `/notes/${id}`))),
          Promise.all(
            ids.flatMap((id, i) =>
              Array.from({ length: likesOf(i) }, () => call(base, "POST", `/notes/${id}/like`))
            ),
          ),
          Promise.all([
            call(base, "GET", "/notes/999999"),
            call(base, "POST", "/notes/999999/like"),
          ]),
        ]);
        for (const [i, r] of reads.entries()) {
          assert.equal(r.status, 200);
          assert.equal((r.json as Note).id, ids[i]);
          assert.equal((r.json as Note).body, `n${i}`);
        }
        for (const m of missing) assert.deepEqual(m, { status: 404, json: { error: "not found" } });
        // Transactions never interleave: the k likes of a note answered 1, 2, …, k.
        let at = 0;
        for (let i = 0; i < NOTES; i++) {
          const counts = likes.slice(at, at += likesOf(i)).map((l) => {
            assert.equal(l.status, 200);
            return (l.json as { likes: number }).likes;
          });
          assert.deepEqual(counts.sort(), Array.from({ length: likesOf(i) }, (_, k) => k + 1));
        }

        const final = await call(base, "GET", "/notes");
        const notes = final.json as Note[];
        assert.equal(notes.length, NOTES, "the list holds exactly the notes posted");
        assert.deepEqual(notes.map((n) => n.id), [...ids].sort((a, b) => a - b));
        for (const n of notes) assert.equal(n.likes, likesOf(ids.indexOf(n.id)));
        const stats = (await call(base, "GET", "/stats")).json as Record<string, number>;
        assert.equal(stats.failures, 0);
        assert.ok(stats.transactions >= likes.length + 1, JSON.stringify(stats));
        const metrics = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(PATIENCE) });
        assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        assert.match(await metrics.text(), /^walpool_transactions_total \d+$/m);

        server.stop();
        assert.equal(
          await within(server.exited, "exit after SIGTERM"),
          0,
          "SIGTERM: the example closed and exited with 0",
        );
      } finally {
        server.kill();
      }

      const db = await open(dbPath, { readers: 0 });
      try {
        assert.deepEqual(await db.get("PRAGMA integrity_check"), { integrity_check: "ok" });
        assert.deepEqual(await db.get("SELECT count(*) AS n, sum(likes) AS likes FROM notes"), {
          n: NOTES,
          likes: Array.from({ length: NOTES }, (_, i) => likesOf(i)).reduce((a, b) => a + b),
        });
      } finally {
        await db.close();
      }
    });

    it(`examples/${example} on ${runtime}: SIGTERM under load; every note answered 201 is in the file`, async () => {
      const dbPath = tempPath("notes.db");
      const server = await start(example, dbPath);
      const acked: number[] = [];
      let stopped = false, refused = 0;
      try {
        // 50 clients post in a loop; after 200 answers the server gets SIGTERM. A client stops at
        // its first refused or cut connection, which may only happen once the server is stopping.
        await Promise.all(Array.from({ length: 50 }, async (_, c) => {
          for (let i = 0; i < 40; i++) {
            let r;
            try {
              r = await call(server.base, "POST", "/notes", { body: `c${c} ${i}` });
            } catch (error) {
              assert.ok(stopped, `refused while running: ${error}`);
              refused++;
              return;
            }
            assert.equal(r.status, 201, JSON.stringify(r.json));
            acked.push((r.json as { id: number }).id);
            if (acked.length === 200) stopped = true, server.stop();
          }
        }));
        assert.ok(stopped, "the clients made 200 requests at least");
        assert.equal(
          await within(server.exited, "exit after SIGTERM"),
          0,
          "SIGTERM under load: closed and exited with 0",
        );
      } finally {
        server.kill();
      }
      const db = await open(dbPath, { readers: 0 });
      try {
        assert.deepEqual(await db.get("PRAGMA integrity_check"), { integrity_check: "ok" });
        const stored = new Set(
          (await db.all<{ id: number }>("SELECT id FROM notes")).map((r) => r.id),
        );
        for (const id of acked) assert.ok(stored.has(id), `note ${id} was answered 201 but lost`);
        console.log(`# ${example}: ${acked.length} answered 201 (all stored), ${refused} refused`);
      } finally {
        await db.close();
      }
    });
  }
});
