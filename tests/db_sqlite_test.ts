import { conformance } from "./_conformance.ts";
import { driverAvailable } from "./_helpers.ts";

conformance("@db/sqlite", await driverAvailable("@db/sqlite"));
