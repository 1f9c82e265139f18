// Finds import cycles among the modules of lib/ and lib/drivers/: prints each one and exits 1 if
// there is any (`deno task check` runs it).
//
//   deno run --allow-read scripts/import_cycles.ts
//
// Follows the relative specifiers of static `import … from`, `import "…"` and `export … from`
// declarations, type-only ones included: a type-only cycle compiles, but it still ties modules
// that should stand alone. Dynamic `import()` (walpool's drivers, loaded when chosen) and
// `new URL(…)` of a worker are not followed. Reads formatted code (`deno fmt`), in which every
// such declaration starts a line.

const lib = new URL("../lib/", import.meta.url);
const dirs = [lib, new URL("drivers/", lib)];

// `import`/`export`, then only what an import or export clause holds (names, braces, commas, `*`,
// `type`, `as`), then a quoted relative specifier.
const DECLARATION = /^(?:import|export)\b(?:\s+type\b)?[\w$\s{},*]*?["'](\.\.?\/[^"']+)["']/gm;

/** The modules, as file URLs (`href`), each with the modules it imports, sorted. */
async function graph(): Promise<Map<string, string[]>> {
  const files: string[] = [];
  for (const dir of dirs) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".ts")) files.push(new URL(entry.name, dir).href);
    }
  }
  files.sort();
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const source = await Deno.readTextFile(new URL(file));
    const targets = new Set<string>();
    for (const [, specifier] of source.matchAll(DECLARATION)) {
      const target = new URL(specifier, file).href;
      if (known.has(target)) targets.add(target);
    }
    edges.set(file, [...targets].sort());
  }
  return edges;
}

/** Every cycle a depth-first search closes (one per edge back into the current path). */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "open") found.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found;
}

const edges = await graph();
const found = cycles(edges);
const name = (href: string) => href.slice(lib.href.length - "lib/".length);
for (const cycle of found) console.error(`import cycle: ${cycle.map(name).join(" → ")}`);
if (found.length > 0) {
  console.error(`${found.length} import cycle(s) among the ${edges.size} modules of lib/`);
  Deno.exit(1);
}
console.log(`No import cycle among the ${edges.size} modules of lib/`);
