import { conformance } from "./_conformance.ts";
import { driverAvailable } from "./_helpers.ts";

conformance("bun:sqlite", await driverAvailable("bun:sqlite"));
