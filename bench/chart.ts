// Draws bench/chart.svg from bench/results.json (written by bench/throughput.ts): the write
// scenarios (1)–(3) on each runtime, as multiples of the raw binding committing one insert per
// transaction, on a log scale. No dependencies: the SVG is written by hand.
//
//   deno run -A bench/chart.ts [results.json] [chart.svg]    (also: bun / node bench/chart.ts)

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

interface Result {
  id: string;
  opsPerSec: number;
}
interface RuntimeResults {
  runtime: string;
  rawDriver: string;
  quick: boolean;
  results: Result[];
}

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const input = args[0] ?? here("./results.json");
const output = args[1] ?? here("./chart.svg");

const data = JSON.parse(readFileSync(input, "utf8")) as {
  runtimes: Record<string, RuntimeResults>;
};

/** The bars of each runtime: a result and the baseline it is divided by. */
const BARS = [
  {
    id: "1.walpool",
    base: "1.raw-per-insert",
    label: "(1) walpool, durability normal, warm writer",
  },
  { id: "1.raw-one-tx", base: "1.raw-per-insert", label: "(1) raw, all rows in one transaction" },
  {
    id: "2.walpool-full",
    base: "2.raw-per-insert-full",
    label: "(2) walpool, durability full, warm writer (vs raw FULL)",
  },
  { id: "3.own-connections", base: "1.raw-per-insert", label: "(3) 4 workers, own connections" },
  {
    id: "3.own-connections-rmw",
    base: "1.raw-per-insert",
    label: "(3) 4 workers, read-then-write transactions",
  },
  { id: "3.naive-worker", base: "1.raw-per-insert", label: "(3) naive single writer worker" },
];
const COLORS = ["#2b6cb0", "#a0aec0", "#2f855a", "#dd6b20", "#c05621", "#805ad5"];

const order = ["deno", "bun", "node"].filter((r) => data.runtimes[r]);
const groups = order.map((key) => {
  const r = data.runtimes[key];
  const rate = (id: string) => r.results.find((x) => x.id === id)?.opsPerSec;
  return {
    name: `${r.runtime} (${r.rawDriver})${r.quick ? ", quick" : ""}`,
    values: BARS.map((b) => {
      const a = rate(b.id), base = rate(b.base);
      return a && base ? a / base : undefined;
    }),
  };
});

// Layout.
const W = 960, H = 470;
const left = 70, right = 20, top = 60, bottom = 130;
const plotW = W - left - right, plotH = H - top - bottom;
const all = groups.flatMap((g) => g.values).filter((v): v is number => v !== undefined);
const lo = Math.pow(10, Math.floor(Math.log10(Math.min(0.5, ...all))));
const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(2, ...all))));
// Coordinates rounded to 0.1 px, so that every runtime writes the same file.
const y = (v: number) =>
  Math.round(
    (top + plotH - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * plotH) *
      10,
  ) / 10;
const groupW = plotW / Math.max(1, groups.length);
const barW = Math.min(36, (groupW - 40) / BARS.length);

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) => v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
const svg: string[] = [];
svg.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="system-ui, sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">` +
    "Write throughput as a multiple of the raw binding, one transaction per insert</text>",
  `<text x="${W / 2}" y="44" text-anchor="middle" fill="#4a5568">` +
    "256 concurrent callers or 4 workers; same machine, same run; log scale; 1× = baseline</text>",
);
// Grid lines at each power of ten (and 2×, 5× between them).
for (let p = lo; p <= hi * 1.0001; p *= 10) {
  for (const m of [1, 2, 5]) {
    const v = p * m;
    if (v > hi * 1.0001) break;
    const major = m === 1;
    svg.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="${
        major ? "#cbd5e0" : "#edf2f7"
      }"/>`,
    );
    if (major || m === 5) {
      svg.push(
        `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end" fill="#4a5568">${
          Number(v.toPrecision(1))
        }×</text>`,
      );
    }
  }
}
svg.push(
  `<line x1="${left}" x2="${W - right}" y1="${y(1)}" y2="${y(1)}" stroke="#1a202c" ` +
    `stroke-dasharray="6 4"/>`,
);
groups.forEach((g, gi) => {
  const x0 = left + gi * groupW + (groupW - barW * BARS.length) / 2;
  g.values.forEach((v, bi) => {
    if (v === undefined) return;
    const x = x0 + bi * barW;
    const [a, b] = [y(Math.max(v, 1)), y(Math.min(v, 1))];
    svg.push(
      `<rect x="${x + 2}" y="${a}" width="${barW - 4}" height="${
        Math.max(1, Math.round((b - a) * 10) / 10)
      }" ` +
        `fill="${COLORS[bi]}"><title>${esc(BARS[bi].label)}: ${fmt(v)}×</title></rect>`,
      `<text x="${x + barW / 2}" y="${v >= 1 ? a - 4 : b + 12}" text-anchor="middle" ` +
        `font-size="10">${fmt(v)}</text>`,
    );
  });
  svg.push(
    `<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 22}" text-anchor="middle" ` +
      `font-weight="bold">${esc(g.name)}</text>`,
  );
});
// Legend.
BARS.forEach((b, i) => {
  const col = i % 2, row = Math.floor(i / 2);
  const x = left + col * (plotW / 2), yy = top + plotH + 50 + row * 22;
  svg.push(
    `<rect x="${x}" y="${yy - 10}" width="14" height="14" fill="${COLORS[i]}"/>`,
    `<text x="${x + 20}" y="${yy + 2}">${esc(b.label)}</text>`,
  );
});
svg.push("</svg>");
writeFileSync(output, svg.join("\n") + "\n");
console.log(`wrote ${output}`);
