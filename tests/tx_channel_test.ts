// The writer's wait for the calling thread's next message (lib/_tx_channel.ts TxServer.awaitPost):
// it spins on the count of messages the caller has posted, against those it has received.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { channelBuffer, TxCaller, TxServer } from "../lib/_tx_channel.ts";

function ends(): { caller: TxCaller; server: TxServer } {
  const sab = channelBuffer();
  return { caller: new TxCaller(sab), server: new TxServer(sab) };
}

describe("TxServer.awaitPost", () => {
  it("returns at once when the caller has posted more messages than were received", () => {
    const { caller, server } = ends();
    caller.posted();
    caller.posted();
    const began = performance.now();
    assert.equal(server.awaitPost(1, 10_000), true);
    assert.ok(performance.now() - began < 1_000, "it waited although a message was on its way");
  });

  it("gives up after its time when nothing more was posted", () => {
    const { caller, server } = ends();
    caller.posted();
    const began = performance.now();
    assert.equal(server.awaitPost(1, 5), false);
    assert.ok(performance.now() - began >= 5, "it gave up early");
  });

  it("takes a message received before the caller counted it for nothing new", () => {
    const { caller, server } = ends();
    // The writer has received two messages; the caller has counted one of them so far.
    caller.posted();
    assert.equal(server.awaitPost(2, 2), false);
    caller.posted();
    assert.equal(server.awaitPost(2, 2), false);
    caller.posted();
    assert.equal(server.awaitPost(2, 2), true);
  });
});
