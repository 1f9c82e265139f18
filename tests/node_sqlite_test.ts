import { conformance } from "./_conformance.ts";
import { driverAvailable } from "./_helpers.ts";

conformance("node:sqlite", await driverAvailable("node:sqlite"));
