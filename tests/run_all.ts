// `deno task test`: the whole suite on Deno, then Bun, then Node 22, each through its own test
// runner. Bun and Node 22 are fetched (pinned) through npm when they are missing. Prints one
// closing line with the totals; exits non-zero if any runtime failed.
//
// The integration tests use the real kysely and drizzle-orm packages (package.json
// devDependencies, pinned in package-lock.json). Deno fetches them itself; for Bun and Node they
// are installed into node_modules with `npm ci` first, unless the pinned versions are there.
//
// For the @db/sqlite driver, set DENO_SQLITE_PATH to a libsqlite3 and WALPOOL_IMPORT_MAP to an
// import map that resolves jsr:@db/sqlite@0.13 (see README, Development); otherwise its tests
// are skipped with that message.

const BUN = "bun@1.4.5";
const NODE = "node@22.23.3";

interface Step {
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
  count(output: string): { passed: number; failed: number; skipped: number };
}

const num = (output: string, re: RegExp) => Number(re.exec(output)?.[1] ?? 0);
const importMap = Deno.env.get("WALPOOL_IMPORT_MAP");
const denoCount = (out: string) => ({
  passed: num(out, /(\d+) passed/) + num(out, /passed \((\d+) steps?\)/),
  failed: num(out, /(\d+) failed/) + num(out, /failed \((\d+) steps?\)/),
  skipped: num(out, /(\d+) ignored/) + num(out, /ignored \((\d+) steps?\)/),
});
const repo = Deno.cwd();

const steps: Step[] = [
  {
    name: "Deno " + Deno.version.deno,
    cmd: Deno.execPath(),
    args: ["test", "-A", ...(importMap ? [`--import-map=${importMap}`] : []), "tests/"],
    count: denoCount,
  },
  {
    // The examples in the API docs, run in a temporary directory (they create app.db).
    name: "Deno doc examples",
    cmd: Deno.execPath(),
    args: ["test", "--doc", "-A", `--config=${repo}/deno.json`, `${repo}/mod.ts`, `${repo}/lib/`],
    cwd: Deno.makeTempDirSync({ prefix: "walpool-doc-" }),
    count: denoCount,
  },
  {
    name: "Bun",
    cmd: "npx",
    args: ["-y", BUN, "test", "--timeout=600000", "tests/"],
    count: (out) => ({
      passed: num(out, /^\s*(\d+) pass$/m),
      failed: num(out, /^\s*(\d+) fail$/m),
      skipped: num(out, /^\s*(\d+) skip$/m),
    }),
  },
  {
    name: "Node 22",
    cmd: "npx",
    args: ["-y", NODE, "--disable-warning=ExperimentalWarning", "--test", "tests/*_test.ts"],
    count: (out) => ({
      passed: num(out, /^# pass (\d+)$/m),
      failed: num(out, /^# fail (\d+)$/m) + num(out, /^# cancelled (\d+)$/m),
      skipped: num(out, /^# skipped (\d+)$/m),
    }),
  },
];

/** The devDependencies whose pinned version is not in node_modules, as `name@version`. */
function missingDevDependencies(): string[] {
  const { devDependencies = {} } = JSON.parse(Deno.readTextFileSync("package.json"));
  return Object.entries(devDependencies as Record<string, string>).flatMap(([name, version]) => {
    try {
      const installed = JSON.parse(Deno.readTextFileSync(`node_modules/${name}/package.json`));
      if (installed.version === version) return [];
    } catch {
      // not installed
    }
    return [`${name}@${version}`];
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let ok = true;

const missing = missingDevDependencies();
if (missing.length) {
  console.log(`\n=== npm ci (for Bun and Node: ${missing.join(", ")})`);
  const { code } = await new Deno.Command("npm", {
    args: ["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.log(
      `=== npm ci failed (exit code ${code}): the integration tests will fail on Bun and Node`,
    );
    ok = false;
    totals.failed++;
  }
}
for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.cmd} ${step.args.join(" ")}`);
  const child = new Deno.Command(step.cmd, {
    args: step.args,
    cwd: step.cwd,
    stdout: "piped",
    stderr: "piped", // Bun prints its results on stderr
    env: { NO_COLOR: "1" },
  }).spawn();
  let output = "";
  const pass = async (from: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    const text = new TextDecoder();
    for await (const chunk of from) {
      await to.write(chunk);
      output += text.decode(chunk, { stream: true });
    }
  };
  await Promise.all([pass(child.stdout, Deno.stdout), pass(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  const c = step.count(output);
  if (code !== 0 && c.failed === 0) c.failed = 1; // the runner itself failed
  ok &&= code === 0;
  console.log(`=== ${step.name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
}
for (const step of steps) if (step.cwd) Deno.removeSync(step.cwd, { recursive: true });
console.log("\nDeno, Bun and Node 22 together:");
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
Deno.exit(ok ? 0 : 1);
