// tests/deadlines_test.ts: watches a 60 s deadline, removes it and prints "unwatched"; the process
// must then exit at once (the one timer, still armed, does not hold it), not after 60 s.

import { unwatch, watch } from "../lib/_deadlines.ts";

unwatch(watch(60_000, { expire: () => console.log("expired") }));
console.log("unwatched");
