// The documented embedding (DESIGN.md):
//   import { Engine } from "<package>/engine";
//   const engine = new Engine({ clock: () => Date.now() });
//   const { reply, effects } = engine.execute(["SET", "k", "v"]);
// resolved through package.json "exports", both from inside the repository
// (a package may import itself by name) and from a separate project that
// depends on it.
import t from "tap";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./support/server";

interface PackageJson {
  name: string;
  exports?: Record<string, string>;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;

t.test('package.json "exports" point at built files', async (t) => {
  for (const sub of ["./engine", "./resp"]) {
    const target = pkg.exports?.[sub];
    t.type(target, "string", `exports["${sub}"] is declared`);
    if (typeof target !== "string") continue;
    const js = path.join(ROOT, target);
    t.ok(fs.existsSync(js), `${target} exists`);
    t.ok(fs.existsSync(js.replace(/\.js$/, ".d.ts")), `${target} has its type declarations beside it`);
  }
});

type EngineModule = typeof import("../engine/index");
type RespModule = typeof import("../resp/index");

t.test(`require("${pkg.name}/engine") resolves through "exports" and runs SET with EX`, async (t) => {
  t.equal(require.resolve(`${pkg.name}/engine`), path.join(ROOT, "dist/engine/index.js"));
  const { Engine } = require(`${pkg.name}/engine`) as EngineModule;
  const { encodeReply } = require(`${pkg.name}/resp`) as RespModule;
  const now = 1_700_000_000_000;
  const engine = new Engine({ clock: () => now });
  const set = engine.execute(["SET", "k", "v", "EX", "10"]);
  t.same(set.reply, { kind: "simple", value: "OK" });
  t.same(set.effects, [{ db: 0, argv: ["SET", "k", "v", "PXAT", String(now + 10_000)] }], "the effect carries the absolute expire time");
  t.equal(encodeReply(set.reply, 2).toString(), "+OK\r\n");
  const get = engine.execute(["GET", "k"]);
  t.same(get.reply, { kind: "bulk", value: "v" });
  t.same(get.effects, [], "a read has no effects");
  t.equal(encodeReply(get.reply, 3).toString(), "$1\r\nv\r\n");
  t.throws(() => require(`${pkg.name}/engine/engine`), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" }, "internals stay private");
});

t.test("a separate project that depends on the package runs the documented snippet", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-embed-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(ROOT, path.join(dir, "node_modules", pkg.name), "dir");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, dependencies: { [pkg.name]: "*" } }));
  const script = `
    const { Engine } = require("${pkg.name}/engine");
    const engine = new Engine({ clock: () => 1700000000000 });
    const { reply, effects } = engine.execute(["SET", "k", "v", "EX", "10"]);
    const ttl = engine.execute(["PTTL", "k"]).reply;
    process.stdout.write(JSON.stringify({ reply, effects, ttl }));
  `;
  fs.writeFileSync(path.join(dir, "main.js"), script);
  const out = execFileSync(process.execPath, ["main.js"], { cwd: dir, encoding: "utf8", timeout: 20_000 });
  t.same(JSON.parse(out), {
    reply: { kind: "simple", value: "OK" },
    effects: [{ db: 0, argv: ["SET", "k", "v", "PXAT", "1700000010000"] }],
    ttl: { kind: "int", value: 10_000 },
  });
});
