#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) as its own node process,
// two at a time, each bounded in time; prints each file's result and a closing
// "N passed, N failed" line. Exit status is non-zero if anything failed.
//
// A file that fails is run once more. If it passes then, it is reported as
// FLAKY with the first run's output (so the failure stays visible and can be
// chased) and the second run's counts are used; a file that fails twice fails
// the run. MNEMO_TEST_RETRY=0 turns the second run off.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const FILE_TIMEOUT_MS = Number(process.env.MNEMO_TEST_TIMEOUT_MS || 600_000);
const CONCURRENCY = Number(process.env.MNEMO_TEST_JOBS || 2);
const RETRY = process.env.MNEMO_TEST_RETRY !== "0";
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
  const flakyFiles = [];
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const f = files[next++];
      const first = await runFile(f);
      let r = first;
      let flaky = false;
      if (first.failed > 0 && RETRY) {
        r = await runFile(f);
        flaky = r.failed === 0;
      }
      results.push(r);
      const rel = path.relative(ROOT, r.file);
      const status = flaky ? "FLAKY" : r.failed === 0 ? "ok  " : "FAIL";
      const note = flaky ? `; the first run had ${first.passed} passed, ${first.failed} failed (its output below)` : "";
      process.stdout.write(`${status} ${rel}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)} s)${note}\n`);
      const shown = flaky ? first : r.failed > 0 ? r : null;
      if (shown !== null) {
        const lines = shown.out.split("\n");
        process.stdout.write(lines.slice(-80).map((l) => `    | ${l}`).join("\n") + "\n");
      }
      if (flaky) flakyFiles.push(rel);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  if (flakyFiles.length > 0) process.stdout.write(`\nflaky (failed once, passed on the second run): ${flakyFiles.join(", ")}\n`);
  process.stdout.write(`\n${files.length} test files\n${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 && files.length > 0 ? 0 : 1);
}

main();
