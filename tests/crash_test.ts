// kill -9 in the middle of writing, many times: every acknowledged write is there, each request
// all-or-nothing, and the file passes integrity_check. The writer runs in a child process.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { runtimeCommand, tempPath } from "./_helpers.ts";

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
  .process.env;
/** Cycles per durability; WALPOOL_CRASH_CYCLES=N runs more (RELIABILITY.md says how many ran). */
const CYCLES = Number(env.WALPOOL_CRASH_CYCLES ?? 50);

/** Runs the child until it acknowledged `acks` writes (or failed), kills it, returns the ids. */
function crashOnce(path: string, durability: string, first: number, acks: number) {
  const script = fileURLToPath(new URL("./_crash_child.ts", import.meta.url));
  const [cmd, args] = runtimeCommand(script, path, durability, String(first));
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  return new Promise<number[]>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const lines = out.split("\n");
      if (lines.length - 2 >= acks) child.kill("SIGKILL");
    });
    child.on("close", (_code, signal) => {
      if (signal !== "SIGKILL") return reject(new Error(`child ended by itself: ${err}`));
      const lines = out.split("\n");
      lines.pop(); // a line cut by the kill was never acknowledged
      resolve(lines.filter((l) => l !== "ready").map(Number));
    });
  });
}

describe("crash (kill -9)", () => {
  for (const durability of ["normal", "full"]) {
    it(`loses no acknowledged write over ${CYCLES} kills (durability: ${durability})`, async () => {
      const path = tempPath();
      const acked: number[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Kill after 1 to ~400 acknowledgements: mid-commit, between commits, at start-up.
        const acks = 1 + ((cycle * 7919) % 400);
        acked.push(...await crashOnce(path, durability, (cycle + 1) * 1_000_000, acks));
      }
      const db = await open(path);
      try {
        assert.deepEqual(await db.get("PRAGMA integrity_check"), { integrity_check: "ok" });
        const singles = new Set(
          (await db.all<{ id: number }>("SELECT id FROM acks")).map((r) => r.id),
        );
        const groups = new Map(
          (await db.all<{ g: number; n: number }>("SELECT g, count(*) AS n FROM parts GROUP BY g"))
            .map((r) => [r.g, r.n]),
        );
        for (const [g, n] of groups) assert.equal(n, 3, `batch ${g} has ${n} of 3 rows`);
        const lost = acked.filter((id) => id % 5 === 0 ? !groups.has(id) : !singles.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes lost`);
        assert.ok(acked.length >= CYCLES, "every cycle acknowledged writes before the kill");
        console.log(
          `# crash (${durability}): ${CYCLES} kills, ${acked.length} acknowledged, 0 lost, ` +
            "integrity ok",
        );
      } finally {
        await db.close();
      }
    });
  }
});
