// The table of requests a worker holds, by id (lib/_id_table.ts): a ring of slots with an
// overflow for ids whose slot an older one still holds.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IdTable } from "../lib/_id_table.ts";

describe("IdTable", () => {
  it("holds, finds and removes ids as they come and go, past its first capacity many times", () => {
    const table = new IdTable<string>(8);
    const held = new Map<number, string>();
    for (let id = 1; id <= 5000; id++) {
      table.set(id, `v${id}`);
      held.set(id, `v${id}`);
      // Keep about 20 in flight, dropping them out of order now and then.
      if (id > 20) {
        const gone = id % 7 === 0 ? id - 10 : id - 20;
        if (held.has(gone)) {
          assert.equal(table.delete(gone), true);
          held.delete(gone);
        }
      }
      assert.equal(table.size, held.size);
    }
    for (const [id, value] of held) assert.equal(table.get(id), value);
    assert.equal(table.get(3), undefined);
    assert.equal(table.has(3), false);
    assert.equal(table.delete(3), false);
    assert.deepEqual(table.entries(), [...held].sort((a, b) => a[0] - b[0]));
  });

  it("keeps an old id whose slot a newer one needs, and gives both back", () => {
    const table = new IdTable<string>(16);
    table.set(1, "old"); // stays while thousands pass
    for (let id = 2; id < 4000; id++) {
      table.set(id, "new");
      assert.equal(table.get(1), "old", `id 1 lost at ${id}`);
      assert.equal(table.delete(id), true);
    }
    table.set(17, "a"); // 17 & 15 === 1: the slot of id 1
    table.set(4097, "b");
    assert.equal(table.get(1), "old");
    assert.equal(table.get(17), "a");
    assert.equal(table.get(4097), "b");
    assert.equal(table.size, 3);
    assert.equal(table.delete(17), true);
    assert.equal(table.get(17), undefined);
    assert.equal(table.get(1), "old");
    assert.equal(table.size, 2);
  });

  it("grows when half full, keeping every entry (those of the overflow too)", () => {
    const table = new IdTable<number>(4);
    const ids = [1, 5, 9, 2, 100, 2 ** 31 + 3, 2 ** 40 + 1, 7, 8];
    for (const id of ids) table.set(id, id * 2);
    assert.equal(table.size, ids.length);
    for (const id of ids) assert.equal(table.get(id), id * 2);
    assert.deepEqual(table.entries().map(([id]) => id), [...ids].sort((a, b) => a - b));
    table.clear();
    assert.equal(table.size, 0);
    for (const id of ids) assert.equal(table.get(id), undefined);
  });
});
