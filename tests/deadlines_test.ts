// One timer watches every open transaction's deadline (lib/_deadlines.ts): each expires on time,
// in order, a shorter one added after a longer one included, and a removed one never does.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { unwatch, watch } from "../lib/_deadlines.ts";
import { runtimeCommand } from "./_helpers.ts";

const run = promisify(execFile);

describe("transaction deadlines", () => {
  it("expire in order, each once, and not once removed", async () => {
    const start = performance.now();
    const expired: [string, number][] = [];
    const note = (name: string) => ({
      expire: () => void expired.push([name, performance.now() - start]),
    });
    watch(120, note("long"));
    watch(30, note("short, added after the long one"));
    const removed = watch(60, note("removed"));
    watch(80, note("middle"));
    unwatch(removed);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(expired.map(([name]) => name), [
      "short, added after the long one",
      "middle",
      "long",
    ]);
    for (const [name, ms] of expired) {
      const due = name === "long" ? 120 : name === "middle" ? 80 : 30;
      assert.ok(ms >= due - 1, `${name} expired early, at ${ms} ms`);
    }
  });

  it("do not keep the process alive: a script that watched and removed a 60 s deadline exits", async () => {
    const script = fileURLToPath(new URL("./_deadline_child.ts", import.meta.url));
    const [cmd, args] = runtimeCommand(script);
    const started = performance.now();
    const { stdout } = await run(cmd, args, { timeout: 30_000 });
    assert.equal(stdout.trim(), "unwatched");
    assert.ok(performance.now() - started < 30_000);
  });
});
