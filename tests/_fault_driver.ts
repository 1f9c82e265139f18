// Fault injection for walpool's reliability tests, through the `driver` option's module URL: a
// driver that wraps this runtime's own and fails the Nth prepare, step, BEGIN or COMMIT of a
// connection with a given SQLite code, once or from then on, on the writer's connection, the
// readers' (read-only) ones, or all.
//
//   await open(path, { driver: faultDriver({ op: "commit", nth: 3, code: "SQLITE_IOERR" }) });
//
// Every thread that opens a connection imports the driver module itself, so the plan must travel
// in the module. A query string (`_fault_driver.ts?op=commit&nth=3`) would be the obvious carrier,
// but Bun drops a module URL's query (and fragment): it imports the module once per path. So
// faultDriver() writes a two-line module holding the plan into a temporary directory and gives
// its URL; that module builds the driver with faulty() below.

import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Driver, DriverConnection, DriverStatement } from "../lib/driver.ts";
import { loadDriver } from "../lib/_load_driver.ts";
import { defaultDriver } from "../lib/_runtime.ts";
import { codeNumber } from "../lib/_sqlite_codes.ts";
import { tempPath } from "./_helpers.ts";

/** Which call to fail, how, and on which connections. */
export interface FaultPlan {
  op: "prepare" | "step" | "begin" | "commit";
  /** The call of `op` (counted per connection, from 1) that fails. */
  nth: number;
  code: "SQLITE_IOERR" | "SQLITE_FULL" | "SQLITE_BUSY" | "SQLITE_NOMEM";
  /** Every call of `op` after the Nth fails too. @default {false} */
  persistent?: boolean;
  /** Whose connections: the writer's, the readers' (read-only), or all. @default {"writer"} */
  role?: "writer" | "readers" | "all";
}

/** The URL of a driver module applying `plan`, for the `driver` option of `open()`. */
export function faultDriver(plan: FaultPlan): URL {
  const path = tempPath("fault_driver.mjs");
  const faultyUrl = new URL(import.meta.url);
  writeFileSync(
    path,
    `import { faulty } from ${JSON.stringify(faultyUrl.href)};\n` +
      `export const driver = await faulty(${JSON.stringify(plan)});\n`,
  );
  return pathToFileURL(path);
}

class InjectedFault extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`injected fault: ${code}`);
    this.code = code;
  }
}

/** This runtime's own driver, with `plan` applied to the connections it names. */
export async function faulty(plan: FaultPlan): Promise<Driver> {
  const driver = await loadDriver(defaultDriver);
  const role = plan.role ?? "writer";
  return {
    name: `${driver.name} with faults`,
    open(path, options) {
      const db = driver.open(path, options);
      if (role !== "all" && (role === "readers") !== options.readonly) return db;
      let calls = 0;
      const maybeFail = (op: FaultPlan["op"]) => {
        if (op !== plan.op) return;
        calls++;
        if (calls === plan.nth || (plan.persistent && calls > plan.nth)) {
          // As SQLite may on these errors, the open transaction is rolled back too.
          if (plan.code !== "SQLITE_BUSY" && op !== "begin" && db.inTransaction()) {
            db.exec("ROLLBACK");
          }
          throw new InjectedFault(plan.code);
        }
      };
      const statement = (stmt: DriverStatement): DriverStatement => ({
        run: (p) => (maybeFail("step"), stmt.run(p)),
        get: (p) => (maybeFail("step"), stmt.get(p)),
        all: (p) => (maybeFail("step"), stmt.all(p)),
        values: (p) => (maybeFail("step"), stmt.values(p)),
        finalize: () => stmt.finalize(),
      });
      const connection: DriverConnection = {
        prepare: (sql) => (maybeFail("prepare"), statement(db.prepare(sql))),
        exec(sql) {
          if (/^\s*BEGIN/i.test(sql)) maybeFail("begin");
          if (/^\s*COMMIT/i.test(sql)) maybeFail("commit");
          db.exec(sql);
        },
        inTransaction: () => db.inTransaction(),
        close: () => db.close(),
      };
      return connection;
    },
    errorInfo(error) {
      if (error instanceof InjectedFault) {
        return { code: error.code, errcode: codeNumber(error.code), message: error.message };
      }
      return driver.errorInfo(error);
    },
  };
}
