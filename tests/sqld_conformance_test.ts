// The API contract (tests/_conformance.ts) against libSQL's server: a new sqld for each test, so
// each starts on an empty database. What cannot hold remotely is skipped there, with the reason.

import { conformance } from "./_conformance.ts";
import { Sqld, sqldAvailable } from "./_sqld.ts";

conformance({ name: "sqld", start: () => Sqld.start() }, sqldAvailable());
