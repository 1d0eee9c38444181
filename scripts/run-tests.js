#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) as its own node process,
// two at a time, each bounded in time; prints each file's result and a closing
// "N passed, N failed" line. Exit status is non-zero if anything failed.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const FILE_TIMEOUT_MS = Number(process.env.MNEMO_TEST_TIMEOUT_MS || 600_000);
const CONCURRENCY = Number(process.env.MNEMO_TEST_JOBS || 2);
const filter = process.argv.slice(2);

function findTests(dir, out) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) findTests(p, out);
    else if (ent.name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, TAP: "1" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n# runner: killed after ${FILE_TIMEOUT_MS} ms\n`;
      child.kill("SIGKILL");
    }, FILE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let passed = 0;
      let failed = 0;
      for (const line of out.split("\n")) {
        if (/^ok \d+/.test(line)) passed++;
        else if (/^not ok \d+/.test(line)) failed++;
      }
      if ((code !== 0 || signal !== null) && failed === 0) failed = 1;
      resolve({ file, passed, failed, code, signal, out, ms: Date.now() - started });
    });
  });
}

async function main() {
  let files = findTests(path.join(ROOT, "dist"), []).sort();
  if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
  const results = [];
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const f = files[next++];
      const r = await runFile(f);
      results.push(r);
      const rel = path.relative(ROOT, r.file);
      const status = r.failed === 0 ? "ok  " : "FAIL";
      process.stdout.write(`${status} ${rel}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)} s)\n`);
      if (r.failed > 0) {
        const lines = r.out.split("\n");
        process.stdout.write(lines.slice(-80).map((l) => `    | ${l}`).join("\n") + "\n");
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  process.stdout.write(`\n${files.length} test files\n${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 && files.length > 0 ? 0 : 1);
}

main();
