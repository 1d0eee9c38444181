#!/usr/bin/env node
'use strict';
// Helper for bench/run.sh. Plain JavaScript, no dependencies.
//
//   node bench/lib.js parse <redis-benchmark-output-file> <exit-code> [test]
//       -> prints "<ops/s>" or "n/a <reason>"; with [test], the CSV row whose name is
//          <test> or starts with "<test> " (case-insensitive) is used if there is one
//          (custom-command runs are named after the command line, e.g.
//          "xadd mystream * field value"), otherwise the last row
//   node bench/lib.js load <port> <nkeys> [host]
//       -> SETs key:0..key:<nkeys-1> (8-byte value "vNNNNNNN") over one
//          pipelined connection; prints "<ok-count> <error-count>"
//   node bench/lib.js loadelems <port> <hash|set|zset> <members> [host]
//       -> one key with <members> members, pipelined, 1000 members per command:
//          HSET h f:N v:N ... | SADD s m:N ... | ZADD z N m:N ...
//          prints "<sum-of-integer-replies> <error-count> [first error]"
//   node bench/lib.js report <results.tsv> <memory.tsv> <machine-info-file> [elements.tsv]
//       -> prints the plain-text table and the markdown block

const fs = require('fs');
const net = require('net');

function parseBenchOutput(file, exitCode, test) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return 'n/a no-output';
  }
  // redis-benchmark -e prints "Error from server: ..." for error replies.
  const errLine = text.split(/\r?\n/).find((l) => /Error from server|^ERR |^-ERR/.test(l));
  if (errLine) return 'n/a error-reply: ' + errLine.trim().slice(0, 120);
  if (String(exitCode) === '124') return 'n/a timeout';
  // CSV rows look like: "SET","123456.79","0.215",...   (header: "test","rps",...)
  let rps = null;
  let named = null;
  const want = test ? String(test).toLowerCase() : null;
  for (const line of text.split(/\r?\n/)) {
    const m = /^"([^"]*)","([0-9.]+)"/.exec(line.trim());
    if (m && m[1] !== 'test') {
      rps = Number(m[2]);
      const name = m[1].toLowerCase();
      if (want && (name === want || name.startsWith(want + ' '))) named = rps;
    }
  }
  if (named !== null) rps = named;
  if (rps === null) {
    const other = text.split(/\r?\n/).find((l) => /error|refused|reset|closed/i.test(l));
    return 'n/a ' + (other ? other.trim().slice(0, 120) : 'unparseable-output exit=' + exitCode);
  }
  if (String(exitCode) !== '0') return 'n/a exit=' + exitCode;
  if (!(rps > 0)) return 'n/a zero-rps';
  return String(rps);
}

function load(port, nkeys, host) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: host || '127.0.0.1' });
    sock.setNoDelay(true);
    const WINDOW = 20000; // commands in flight
    const BATCH = 2000; // commands per write
    let sent = 0;
    let replies = 0;
    let ok = 0;
    let errors = 0;
    let firstError = null;
    let pending = Buffer.alloc(0);

    function encode(i) {
      const k = 'key:' + i;
      const v = 'v' + String(i).padStart(7, '0');
      return `*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(k)}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    function pump() {
      while (sent < nkeys && sent - replies < WINDOW) {
        const end = Math.min(nkeys, sent + BATCH);
        let s = '';
        for (let i = sent; i < end; i++) s += encode(i);
        sent = end;
        sock.write(s);
      }
    }
    sock.on('connect', pump);
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const nl = pending.indexOf('\r\n', pos);
        if (nl < 0) break;
        const t = pending[pos];
        if (t === 0x2b /* + */) ok++;
        else {
          errors++;
          if (!firstError) firstError = pending.slice(pos, nl).toString();
        }
        replies++;
        pos = nl + 2;
      }
      pending = pending.slice(pos);
      if (replies >= nkeys) {
        sock.end();
        resolve({ ok, errors, firstError });
      } else pump();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      if (replies < nkeys) reject(new Error(`connection closed after ${replies}/${nkeys} replies`));
    });
  });
}

// Pipelined multi-member writes building one big key. Replies are single-line
// (integer or error); integers are summed (= members added).
function loadElements(port, type, n, host) {
  const PER_CMD = 1000; // members per command
  const WINDOW = 50; // commands in flight
  const bulk = (x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
  const spec = {
    hash: { cmd: 'HSET', key: 'h', per: 2, args: (i) => bulk('f:' + i) + bulk('v:' + i) },
    set: { cmd: 'SADD', key: 's', per: 1, args: (i) => bulk('m:' + i) },
    zset: { cmd: 'ZADD', key: 'z', per: 2, args: (i) => bulk(String(i)) + bulk('m:' + i) },
  }[type];
  if (!spec) return Promise.reject(new Error('unknown type ' + type));
  const ncmds = Math.ceil(n / PER_CMD);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: host || '127.0.0.1' });
    sock.setNoDelay(true);
    let sent = 0; // commands
    let replies = 0;
    let added = 0;
    let errors = 0;
    let firstError = null;
    let pending = Buffer.alloc(0);
    function encode(c) {
      const lo = c * PER_CMD;
      const hi = Math.min(n, lo + PER_CMD);
      let s = `*${2 + (hi - lo) * spec.per}\r\n` + bulk(spec.cmd) + bulk(spec.key);
      for (let i = lo; i < hi; i++) s += spec.args(i);
      return s;
    }
    function pump() {
      let s = '';
      while (sent < ncmds && sent - replies < WINDOW) s += encode(sent++);
      if (s) sock.write(s);
    }
    sock.on('connect', pump);
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const nl = pending.indexOf('\r\n', pos);
        if (nl < 0) break;
        const line = pending.slice(pos, nl).toString();
        if (line[0] === ':') added += Number(line.slice(1));
        else {
          errors++;
          if (!firstError) firstError = line.slice(0, 120);
        }
        replies++;
        pos = nl + 2;
      }
      pending = pending.slice(pos);
      if (replies >= ncmds) {
        sock.end();
        resolve({ added, errors, firstError });
      } else pump();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      if (replies < ncmds) reject(new Error(`connection closed after ${replies}/${ncmds} replies`));
    });
  });
}

function fmtNum(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function ratio(a, b) {
  if (a === null || b === null || !(b > 0)) return 'n/a';
  return (a / b).toFixed(2);
}
function num(s) {
  if (s === undefined || s === '' || s === 'n/a') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function readTsv(file) {
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

function textTable(header, rows) {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < 2 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
function mdTable(header, rows) {
  const align = header.map((_, i) => (i < 2 ? ':--' : '--:'));
  const line = (r) => '| ' + r.join(' | ') + ' |';
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

// elements.tsv: server type members used_before rss_before used_after rss_after card
function elementsTable(file, notes) {
  const rows = readTsv(file);
  if (!rows.length) return null;
  const by = {};
  const types = [];
  for (const [server, type, members, ub, rb, ua, ra, card] of rows) {
    if (!types.includes(type)) types.push(type);
    const m = num(members);
    const c = num(card);
    let ok = c !== null && c === m;
    if (!ok) notes.push(`${server} ${type}: cardinality ${card || 'n/a'}, expected ${members}; no per-element figure`);
    const d = (a, b) => (num(a) !== null && num(b) !== null ? num(a) - num(b) : null);
    const du = d(ua, ub);
    const dr = d(ra, rb);
    by[`${server}|${type}`] = {
      members: m,
      u: ok && du !== null ? du / m : null,
      r: ok && dr !== null ? dr / m : null,
    };
  }
  const header = [
    'type',
    'members',
    'redis used_memory B/elem',
    'mnemo used_memory B/elem',
    'used_memory mnemo/redis',
    'redis RSS B/elem',
    'mnemo RSS B/elem',
    'RSS mnemo/redis',
  ];
  const label = { hash: 'hash (HSET f:N v:N)', set: 'set (SADD m:N)', zset: 'sorted set (ZADD N m:N)' };
  const out = types.map((t) => {
    const r = by[`redis|${t}`] || {};
    const m = by[`mnemo|${t}`] || {};
    const nul = (x) => (x === undefined ? null : x);
    return [
      label[t] || t,
      fmtNum(nul(r.members !== undefined ? r.members : m.members), 0),
      fmtNum(nul(r.u), 1),
      fmtNum(nul(m.u), 1),
      ratio(nul(m.u), nul(r.u)),
      fmtNum(nul(r.r), 1),
      fmtNum(nul(m.r), 1),
      ratio(nul(m.r), nul(r.r)),
    ];
  });
  return { header, rows: out };
}

function report(resultsFile, memFile, infoFile, elemFile) {
  // results.tsv: server test pipeline requests rep ops cpu_sec status
  const runs = readTsv(resultsFile);
  const best = new Map(); // key test|pipeline|server -> {ops, cpu, requests, status}
  const order = [];
  for (const [server, test, pipeline, requests, , ops, cpu, ...status] of runs) {
    const key = `${test}|${pipeline}`;
    if (!order.includes(key)) order.push(key);
    const k = `${key}|${server}`;
    const cur = best.get(k) || { ops: null, cpu: null, requests: Number(requests), na: null };
    const o = num(ops);
    if (o === null) {
      cur.na = cur.na || status.join(' ') || 'n/a';
      // A run with error replies poisons the result for that server/test.
      if (/error-reply/.test(status.join(' '))) cur.errored = true;
    } else if (cur.ops === null || o > cur.ops) {
      cur.ops = o;
      cur.cpu = num(cpu);
      cur.requests = Number(requests);
    }
    best.set(k, cur);
  }
  const header = [
    'test',
    'pipeline',
    'redis ops/s',
    'mnemo ops/s',
    'mnemo/redis',
    'redis µs CPU/req',
    'mnemo µs CPU/req',
    'CPU mnemo/redis',
  ];
  // The floor server (BENCH_FLOOR=1): Mnemo's socket I/O with no parsing and no engine.
  const withFloor = runs.some((run) => run[0] === 'floor');
  if (withFloor) header.push('floor ops/s', 'floor/redis', 'floor µs CPU/req', 'CPU floor/redis');
  const rows = [];
  const notes = [];
  for (const key of order) {
    const [test, pipeline] = key.split('|');
    const get = (server) => {
      const r = best.get(`${key}|${server}`) || { ops: null };
      if (r.errored || r.ops === null) {
        if (r.na) notes.push(`${server} ${test} -P ${pipeline}: ${r.na}`);
        return { ops: null, cpuUs: null };
      }
      return { ops: r.ops, cpuUs: r.cpu === null ? null : (r.cpu / r.requests) * 1e6 };
    };
    const r = get('redis');
    const m = get('mnemo');
    const row = [
      test,
      pipeline,
      fmtNum(r.ops, 0),
      fmtNum(m.ops, 0),
      ratio(m.ops, r.ops),
      fmtNum(r.cpuUs, 2),
      fmtNum(m.cpuUs, 2),
      ratio(m.cpuUs, r.cpuUs),
    ];
    if (withFloor) {
      const f = get('floor');
      row.push(fmtNum(f.ops, 0), ratio(f.ops, r.ops), fmtNum(f.cpuUs, 2), ratio(f.cpuUs, r.cpuUs));
    }
    rows.push(row);
  }

  // memory.tsv: server phase used_memory rss_bytes dbsize
  const mem = readTsv(memFile);
  const memHeader = ['server', 'keys', 'used_memory Δ', 'bytes/key (used_memory)', 'RSS Δ', 'bytes/key (RSS)'];
  const memRows = [];
  const perServer = {};
  for (const [server, phase, used, rss, dbsize, keysrc] of mem) {
    perServer[server] = perServer[server] || {};
    perServer[server][phase] = { used: num(used), rss: num(rss), dbsize: num(dbsize) };
    if (phase === 'after' && keysrc && keysrc !== 'DBSIZE') notes.push(`${server} memory: keys from ${keysrc}`);
    if (phase === 'after' && num(used) === null) notes.push(`${server} memory: no used_memory in INFO memory`);
  }
  const memRatio = {};
  for (const server of ['redis', 'mnemo']) {
    const p = perServer[server];
    if (!p) continue;
    const b = p.before || {};
    const a = p.after || {};
    const keys = a.dbsize;
    const du = a.used !== null && b.used !== null && a.used !== undefined && b.used !== undefined ? a.used - b.used : null;
    const dr = a.rss !== null && b.rss !== null && a.rss !== undefined && b.rss !== undefined ? a.rss - b.rss : null;
    const bpkU = du !== null && keys > 0 ? du / keys : null;
    const bpkR = dr !== null && keys > 0 ? dr / keys : null;
    memRatio[server] = { bpkU, bpkR };
    memRows.push([
      server,
      keys === null || keys === undefined ? 'n/a' : fmtNum(keys, 0),
      du === null ? 'n/a' : fmtNum(du / 1048576, 1) + ' MiB',
      fmtNum(bpkU, 1),
      dr === null ? 'n/a' : fmtNum(dr / 1048576, 1) + ' MiB',
      fmtNum(bpkR, 1),
    ]);
  }
  if (memRatio.redis && memRatio.mnemo) {
    memRows.push([
      'mnemo/redis',
      '',
      '',
      ratio(memRatio.mnemo.bpkU, memRatio.redis.bpkU),
      '',
      ratio(memRatio.mnemo.bpkR, memRatio.redis.bpkR),
    ]);
  }

  const elems = elementsTable(elemFile, notes);
  const elemTitle =
    '=== Memory per element: one key with N members (fresh server process per row, after FLUSHALL; Δ of used_memory / VmRSS) ===';

  const info = fs.existsSync(infoFile) ? fs.readFileSync(infoFile, 'utf8').trim().split('\n') : [];

  const out = [];
  out.push('');
  out.push('=== Throughput and server CPU per request (best of reps by ops/s) ===');
  out.push(textTable(header, rows));
  if (memRows.length) {
    out.push('');
    out.push('=== Memory: 1M small string keys (after FLUSHALL) ===');
    out.push(textTable(memHeader, memRows));
  }
  if (elems) {
    out.push('');
    out.push(elemTitle);
    out.push(textTable(elems.header, elems.rows));
  }
  if (notes.length) {
    out.push('');
    out.push('Notes:');
    for (const n of [...new Set(notes)]) out.push('  ' + n);
  }
  out.push('');
  out.push('=== Markdown (paste into docs/benchmarks.md) ===');
  out.push('');
  out.push('Machine:');
  out.push('');
  for (const l of info) out.push('- ' + l);
  out.push('');
  out.push(mdTable(header, rows));
  if (memRows.length) {
    out.push('');
    out.push(mdTable(memHeader, memRows));
  }
  if (elems) {
    out.push('');
    out.push(mdTable(elems.header, elems.rows));
  }
  if (notes.length) {
    out.push('');
    for (const n of [...new Set(notes)]) out.push('- note: ' + n);
  }
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'parse') {
    console.log(parseBenchOutput(args[0], args[1], args[2]));
  } else if (cmd === 'load') {
    const port = Number(args[0]);
    const n = Number(args[1] || 1000000);
    try {
      const r = await load(port, n, args[2]);
      console.log(`${r.ok} ${r.errors}${r.firstError ? ' ' + r.firstError : ''}`);
    } catch (e) {
      console.log(`0 ${n} ${e.message}`);
      process.exitCode = 1;
    }
  } else if (cmd === 'loadelems') {
    const n = Number(args[2] || 1000000);
    try {
      const r = await loadElements(Number(args[0]), args[1], n, args[3]);
      console.log(`${r.added} ${r.errors}${r.firstError ? ' ' + r.firstError : ''}`);
    } catch (e) {
      console.log(`0 1 ${e.message}`);
      process.exitCode = 1;
    }
  } else if (cmd === 'report') {
    report(args[0], args[1], args[2], args[3]);
  } else {
    console.error('usage: lib.js parse|load|loadelems|report ...');
    process.exitCode = 2;
  }
}

main();
