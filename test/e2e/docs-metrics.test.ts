/**
 * The series docs/metrics.md (and flow-control.md's Metrics table) document are the ones the gateway exports:
 * `serve` and `extproc` run as processes, and every family their `/metrics` declare has a table row naming it
 * with its type, and every series a table names is exported by one of them. A family added, renamed or retyped
 * otherwise leaves the reference behind silently. Loopback 127.0.201.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { baseModelRouteYaml, podYaml, poolYaml, tempConfig, type TempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';

const ROOT = repoRoot();
const HOST = '127.0.201.1';

/** name -> type, from a scrape's `# TYPE` lines. */
type Families = Map<string, string>;

/**
 * The series the docs' tables name, with the type their row gives: the cells of the columns whose header
 * says series, twin or metric (llm-d's name and GIE's twin). A cell may shorten further names to their tail
 * (`llm_d_epp_std_dev_kv_cache_utilization`, `_std_dev_queue_size`): `tails` keeps those with the full names
 * they hang off, for the exported names to be found among.
 */
function documented(files: readonly string[]): { full: Map<string, string>; tails: { heads: string[]; tail: string; type: string }[] } {
  const full = new Map<string, string>();
  const tails: { heads: string[]; tail: string; type: string }[] = [];
  for (const file of files) {
    let typeAt = -1;
    let nameAt: number[] = [];
    for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
      if (!line.startsWith('|')) {
        typeAt = -1;
        continue;
      }
      const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
      if (typeAt < 0) {
        typeAt = cells.findIndex((c) => /^type$/i.test(c));
        nameAt = cells.flatMap((c, i) => (/series|twin|metric/i.test(c) ? [i] : []));
        continue;
      }
      const type = cells[typeAt];
      if (type === undefined || !/^(counter|gauge|histogram|summary)$/.test(type)) continue;
      for (const cell of nameAt.map((i) => cells[i] ?? '')) {
        // Label names in a twin's cell (`pod_name` for `endpoint_name`) are not series.
        const names = [...cell.matchAll(/`((?:llm_d|inference|bbr|infergate|process|nodejs)_[a-z0-9_]+|_[a-z0-9_]+)`/g)].map((m) => m[1]!);
        const heads = names.filter((n) => !n.startsWith('_'));
        for (const n of heads) full.set(n, type);
        for (const n of names.filter((x) => x.startsWith('_'))) tails.push({ heads, tail: n, type });
      }
    }
  }
  return { full, tails };
}

/** The documented type of an exported name: its own row, or a tail of a name in the same cell. */
function documentedType(name: string, docs: ReturnType<typeof documented>): string | undefined {
  const own = docs.full.get(name);
  if (own) return own;
  for (const { heads, tail, type } of docs.tails) {
    if (!name.endsWith(tail)) continue;
    const stem = name.slice(0, -tail.length);
    if (heads.some((h) => h.startsWith(`${stem}_`))) return type;
  }
  return undefined;
}

async function families(adminUrl: string): Promise<Families> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

let cfg: TempConfig;
const running: CliProcess[] = [];
let exported: { serve: Families; extproc: Families };

before(async () => {
  // One pool whose pod answers nothing: every family is declared whether or not it has samples yet.
  cfg = await tempConfig({ 'all.yaml': [podYaml('m-0', '127.0.201.2', { app: 'm' }), poolYaml('m', { app: 'm' }, 9), baseModelRouteYaml('m', 'model', [['m', 1]])].join('---\n') });
  const serve = await startCli(['serve', '-f', cfg.dir, '--host', HOST, '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s'], /infergate listening on http:\/\//);
  running.push(serve);
  const extproc = await startCli(
    ['extproc', '-f', cfg.dir, '--host', HOST, '--bbr-port', '0', '--epp-port', '0', '--health-port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--no-secure-serving'],
    /ext_proc servers ready/,
  );
  running.push(extproc);
  const serveAdmin = / admin=(http:\/\/\S+)/.exec(await serve.line(/infergate listening on/))![1]!;
  const extprocAdmin = `http://${HOST}:${/ admin=(\d+)/.exec(await extproc.line(/ext_proc servers ready/))![1]!}`;
  exported = { serve: await families(serveAdmin), extproc: await families(extprocAdmin) };
});

after(async () => {
  for (const p of running) {
    p.kill('SIGTERM');
    await p.exited;
  }
  await cfg?.remove();
});

const DOCS = ['docs/metrics.md', 'docs/flow-control.md'];

test('every family serve and extproc export has a row in the docs with its type', () => {
  const docs = documented(DOCS);
  const wrong: string[] = [];
  for (const [cmd, fams] of Object.entries(exported)) {
    for (const [name, type] of fams) {
      const doc = documentedType(name, docs);
      if (doc === undefined) wrong.push(`${cmd}: ${name} (${type}) is in no table of ${DOCS.join(' or ')}`);
      else if (doc !== type) wrong.push(`${cmd}: ${name} is a ${type}, documented as a ${doc}`);
    }
  }
  assert.ok(exported.serve.size > 100, `serve exported only ${exported.serve.size} families`);
  assert.deepEqual(wrong, []);
});

test('every series a table names is exported by serve or extproc', () => {
  const all = new Set([...exported.serve.keys(), ...exported.extproc.keys()]);
  const { full } = documented(DOCS);
  assert.ok(full.size > 100, `only ${full.size} documented names found: is the scan reading the tables?`);
  assert.deepEqual([...full.keys()].filter((n) => !all.has(n)), []);
});
