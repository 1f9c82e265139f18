// The options of open(), checked and given their defaults, and the path of the database file:
// everything open() settles before it starts a worker.

import * as nodePath from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Migration, OpenOptions } from "./types.ts";
import { RESERVED_PRAGMAS } from "./_classify.ts";
import { checkMigrations } from "./_migrations.ts";
import { checkDriver, moduleHref } from "./_load_driver.ts";
import { defaultDriver } from "./_runtime.ts";

/**
 * The absolute path of the database file (so that every worker, and one started again after the
 * process changed directory, opens the same file).
 *
 * @throws {TypeError} `path` is not a string or a `file:` URL, or names no file that workers
 * can share (`""`, `":memory:"`, a `file:` URI string).
 */
export function databasePath(path: string | URL): string {
  let p: string;
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(`Only file: URLs can be opened, not ${path.protocol}`);
    }
    p = fileURLToPath(path);
  } else if (typeof path === "string") {
    p = path;
  } else {
    throw new TypeError("The path must be a string or a file: URL");
  }
  if (p === "" || p === ":memory:" || p.startsWith("file:")) {
    throw new TypeError(
      `Cannot open "${p}": walpool needs a database file that its workers can share (not ":memory:", "" or a file: URI string)`,
    );
  }
  return absolutePath(p);
}

/** How a platform tells absolute paths and joins them: `node:path`, or its `posix`/`win32`. */
export interface PathRules {
  isAbsolute(path: string): boolean;
  sep: string;
}

/**
 * `p`, or `p` after the current directory when it is relative, by `rules`: this platform's by
 * default (on Windows, `C:\db`, `C:/db` and `\\server\share\db` are absolute, `/db` too). The
 * path is not normalised: SQLite resolves `..` after symbolic links, as the file system does.
 */
export function absolutePath(
  p: string,
  rules: PathRules = nodePath,
  cwd: () => string = () => process.cwd(),
): string {
  if (rules.isAbsolute(p)) return p;
  const dir = cwd();
  return dir.endsWith(rules.sep) ? dir + p : dir + rules.sep + p;
}

/** Timers and SQLite take a 32-bit signed number of milliseconds. */
const MAX_MS = 2 ** 31 - 1;

/** Checks an integer option: `TypeError` if it is not one, `RangeError` out of [min, 2^31 - 1]. */
export function integerOption(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Option ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > MAX_MS) {
    throw new RangeError(`Option ${name} must be from ${min} to ${MAX_MS}, got ${value}`);
  }
  return value;
}

/** A module option's URL (`href`), if given. @throws {TypeError} It is not a module's URL. */
function moduleOption(name: keyof OpenOptions, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const href = moduleHref(value);
  if (!href) {
    throw new TypeError(
      `Option ${name} must be the URL of a module (file:, http:, https:), got ${String(value)}`,
    );
  }
  return href;
}

/** The options of `open()`, checked, with their defaults. */
export type CheckedOptions =
  & Required<
    Omit<
      OpenOptions,
      | "driver"
      | "pragmas"
      | "onCommit"
      | "procedures"
      | "functions"
      | "extensions"
      | "authToken"
      | "requestTimeout"
    >
  >
  & {
    /** A `DriverName`, or a driver module's URL (`href`). */
    driver: string;
    /** The procedures module's URL (`href`), if any. */
    procedures?: string;
    /** The functions module's URL (`href`), if any. */
    functions?: string;
    /** Paths of SQLite extensions. */
    extensions: string[];
    /** Rendered as `name = value`. */
    pragmas: string[];
    onCommit?: OpenOptions["onCommit"];
  };

/**
 * Checks the options of `open()` and fills in the defaults.
 *
 * @throws {TypeError} An option has the wrong type.
 * @throws {RangeError} A number option is out of range.
 */
export function checkOptions(options: OpenOptions): CheckedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options must be an object");
  }
  const int = (name: keyof OpenOptions, value: unknown, fallback: number, min: number): number =>
    value === undefined ? fallback : integerOption(name, value, min);
  const driver = checkDriver(options.driver, defaultDriver);
  if (options.onCommit !== undefined && typeof options.onCommit !== "function") {
    throw new TypeError("Option onCommit must be a function");
  }
  const routeReads = options.routeReads ?? "adaptive";
  if (!["adaptive", "inline", "workers"].includes(routeReads)) {
    throw new TypeError(
      `Option routeReads must be "adaptive", "inline" or "workers", got ${String(routeReads)}`,
    );
  }
  const routeTransactions = options.routeTransactions ?? "adaptive";
  if (routeTransactions !== "adaptive" && routeTransactions !== "writer") {
    throw new TypeError(
      `Option routeTransactions must be "adaptive" or "writer", got ${String(routeTransactions)}`,
    );
  }
  const procedures = moduleOption("procedures", options.procedures);
  const functions = moduleOption("functions", options.functions);
  const extensions = options.extensions ?? [];
  if (!Array.isArray(extensions) || extensions.some((e) => typeof e !== "string" || e === "")) {
    throw new TypeError("Option extensions must be an array of paths to SQLite extensions");
  }
  const durability = options.durability ?? "normal";
  if (durability !== "normal" && durability !== "full") {
    throw new TypeError(`Option durability must be "normal" or "full", got ${String(durability)}`);
  }
  const pragmas = Object.entries(options.pragmas ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(`Invalid pragma name "${name}"`);
    }
    const reserved = RESERVED_PRAGMAS[name.toLowerCase()];
    if (reserved) throw new TypeError(`Pragma ${name} is set by walpool: ${reserved}`);
    if (typeof value === "boolean") return `${name} = ${value ? "ON" : "OFF"}`;
    if (typeof value === "number" && Number.isFinite(value)) return `${name} = ${value}`;
    if (typeof value === "string") return `${name} = '${value.replaceAll("'", "''")}'`;
    throw new TypeError(`Pragma ${name} must be a string, finite number or boolean`);
  });
  for (const name of ["authToken", "requestTimeout"] as const) {
    if (options[name] !== undefined) {
      throw new TypeError(
        `Option ${name} is for a remote database (an http:, https: or libsql: URL), not a file`,
      );
    }
  }
  return {
    driver,
    readers: int("readers", options.readers, 2, 0),
    routeReads,
    routeTransactions,
    procedures,
    functions,
    extensions: [...extensions],
    durability,
    busyTimeout: int("busyTimeout", options.busyTimeout, 5000, 0),
    maxBatch: int("maxBatch", options.maxBatch, 1000, 1),
    maxQueue: int("maxQueue", options.maxQueue, 10000, 1),
    safeIntegers: options.safeIntegers ?? false,
    transactionTimeout: int("transactionTimeout", options.transactionTimeout, 30000, 1),
    pragmas,
    migrations: checkMigrations(options.migrations),
    onCommit: options.onCommit,
  };
}

/** The options of `open()` for a remote database, checked, with their defaults. */
export interface CheckedRemoteOptions {
  url: string;
  authToken?: string;
  requestTimeout: number;
  readers: number;
  busyTimeout: number;
  maxBatch: number;
  safeIntegers: boolean;
  transactionTimeout: number;
  migrations: readonly Migration[];
  onCommit?: OpenOptions["onCommit"];
}

/** Options that act on local connections only, and why. */
const LOCAL_ONLY: Partial<Record<keyof OpenOptions, string>> = {
  driver: "the server runs SQLite",
  routeReads: "every read goes to the server",
  routeTransactions: "every transaction runs on the server",
  procedures: "procedures run inside the local writer worker",
  extensions: "the server loads its own extensions (sqld: --extensions-path)",
  functions: "SQL functions run inside the server's SQLite",
  durability: "the server sets its own synchronous mode",
  pragmas: "the server's connections are its own",
};

/**
 * Checks the options of `open()` for a remote database (see {@linkcode checkOptions}).
 *
 * @throws {TypeError} An option has the wrong type, or acts on local connections only.
 * @throws {RangeError} A number option is out of range, or `transactionTimeout` is beyond
 * sqld's limit.
 */
export function checkRemoteOptions(url: string, options: OpenOptions): CheckedRemoteOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Options must be an object");
  }
  for (const [name, why] of Object.entries(LOCAL_ONLY)) {
    if (options[name as keyof OpenOptions] !== undefined) {
      throw new TypeError(`Option ${name} does not apply to a remote database: ${why}`);
    }
  }
  const int = (name: keyof OpenOptions, value: unknown, fallback: number, min: number): number =>
    value === undefined ? fallback : integerOption(name, value, min);
  if (options.authToken !== undefined && typeof options.authToken !== "string") {
    throw new TypeError("Option authToken must be a string");
  }
  if (options.onCommit !== undefined && typeof options.onCommit !== "function") {
    throw new TypeError("Option onCommit must be a function");
  }
  const transactionTimeout = int("transactionTimeout", options.transactionTimeout, 5000, 1);
  if (transactionTimeout > 5000) {
    throw new RangeError(
      `Option transactionTimeout must be at most 5000 for a remote database, got ${transactionTimeout}: ` +
        "sqld takes a transaction away after 5 s",
    );
  }
  return {
    url,
    authToken: options.authToken,
    requestTimeout: int("requestTimeout", options.requestTimeout, 10000, 1),
    readers: int("readers", options.readers, 2, 0),
    busyTimeout: int("busyTimeout", options.busyTimeout, 5000, 0),
    maxBatch: int("maxBatch", options.maxBatch, 1000, 1),
    safeIntegers: options.safeIntegers ?? false,
    transactionTimeout,
    migrations: checkMigrations(options.migrations),
    onCommit: options.onCommit,
  };
}
