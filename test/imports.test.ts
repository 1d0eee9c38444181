// The layering rules of STYLE.md, checked on the source: resp/ imports nothing
// of ours outside resp/; engine/ never imports log/, cluster/, snapshot/ or
// bin/; log/ never imports engine/. Tests beside the code are held to the
// same rules as the code.
import t from "tap";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./support/server";

const TOP_DIRS = ["resp", "engine", "log", "cluster", "snapshot", "check", "bin", "test"] as const;
type TopDir = (typeof TOP_DIRS)[number];

/** For each layer, the layers it must not import. */
const FORBIDDEN: Partial<Record<TopDir, readonly TopDir[]>> = {
  resp: ["engine", "log", "cluster", "snapshot", "check", "bin", "test"],
  engine: ["log", "cluster", "snapshot", "check", "bin"],
  log: ["engine", "cluster", "snapshot", "check", "bin"],
  cluster: ["check", "bin"],
  // The checker judges servers from the outside: it speaks RESP and the log API only.
  check: ["engine", "cluster", "snapshot", "bin"],
};

/** Every module specifier in a TypeScript source: import/export ... from, import(), require(). */
export function specifiers(source: string): string[] {
  // Comments may mention imports; they do not count.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (let m = re.exec(code); m !== null; m = re.exec(code)) if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The top-level directory a relative specifier from `file` lands in, or null for packages. */
export function targetDir(file: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const resolved = path.relative(ROOT, path.resolve(path.dirname(file), spec));
  return resolved.split(path.sep)[0] ?? "";
}

/** The rule violations in one file (path relative to ROOT), as readable lines. */
export function violations(relFile: string, source: string): string[] {
  const layer = relFile.split("/")[0] as TopDir;
  const banned = FORBIDDEN[layer] ?? [];
  const out: string[] = [];
  for (const spec of specifiers(source)) {
    const dir = targetDir(path.join(ROOT, relFile), spec);
    if (dir === null) {
      // A package import of ourselves would dodge the rule.
      if (/^mnemo(\/|$)/.test(spec) && layer !== "test") out.push(`${relFile}: imports the package itself ("${spec}")`);
      continue;
    }
    if (dir.startsWith("..")) out.push(`${relFile}: imports outside the repository ("${spec}")`);
    else if (layer === "resp" && dir !== "resp") out.push(`${relFile}: resp/ imports ${dir}/ ("${spec}")`);
    else if ((banned as readonly string[]).includes(dir)) out.push(`${relFile}: ${layer}/ imports ${dir}/ ("${spec}")`);
  }
  return out;
}

function sourcesUnder(dir: string, out: string[]): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) sourcesUnder(p, out);
    else if (/\.(ts|mts|cts|js)$/.test(ent.name) && !ent.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

t.test("the checker itself catches what it must", async (t) => {
  const found = specifiers(
    `import { a } from "../engine/x";\nimport type { B } from '../log/y';\nexport * from "./z";\nimport "./side";\nconst m = require("../cluster/c");\nconst d = await import("../bin/m");\n// import { no } from "../log/commented";\n/* import "../log/block" */\nimport {\n  multi,\n  line,\n} from "../snapshot/s";`,
  ).sort();
  t.same(found, ["../bin/m", "../cluster/c", "../engine/x", "../log/y", "../snapshot/s", "./side", "./z"], "every import form, comments ignored");
  t.same(violations("resp/x.ts", `import { E } from "../engine/errors";`), [`resp/x.ts: resp/ imports engine/ ("../engine/errors")`]);
  t.same(violations("resp/x.ts", `import t from "tap";\nimport { y } from "./y";`), [], "packages and resp/ itself are fine");
  t.same(violations("engine/commands/x.ts", `import { c } from "../../cluster/server";`), [`engine/commands/x.ts: engine/ imports cluster/ ("../../cluster/server")`]);
  t.same(violations("engine/x.ts", `import { r } from "../resp/reply";`), [], "engine/ may use resp/");
  t.same(violations("log/raft/x.ts", `import type { Engine } from "../../engine/engine";`), [`log/raft/x.ts: log/ imports engine/ ("../../engine/engine")`]);
  t.same(violations("engine/x.ts", `import { Engine } from "mnemo/engine";`), [`engine/x.ts: imports the package itself ("mnemo/engine")`]);
  t.same(violations("cluster/x.ts", `import { Engine } from "../engine/engine";`), [], "cluster/ may use engine/");
});

t.test("resp/, engine/ and log/ respect the layering", async (t) => {
  const files = ["resp", "engine", "log"].flatMap((d) => sourcesUnder(path.join(ROOT, d), []));
  t.ok(files.some((f) => f.includes(`${path.sep}resp${path.sep}`)), "resp/ sources found");
  t.ok(files.some((f) => f.includes(`${path.sep}engine${path.sep}`)), "engine/ sources found");
  const problems: string[] = [];
  for (const f of files) problems.push(...violations(path.relative(ROOT, f).split(path.sep).join("/"), fs.readFileSync(f, "utf8")));
  t.same(problems, [], `${files.length} files checked`);
});
