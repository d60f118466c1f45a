/**
 * The error codes the docs list agree with the catalogue in src/errors.ts: docs/errors.md's table and its
 * section per code give each code's status and OpenAI type, and README.md's table lists every code with its
 * status. A code added to the catalogue, or a status changed, otherwise leaves the docs behind silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOGUE, type ErrorCode } from '../src/errors.js';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
/** Its status and type are the external picker's, not the catalogue's fallback. */
const PICKERS_OWN: ErrorCode = 'endpoint_picker_rejected';
/** Codes whose type each error sets, as the docs give it: a tenant's 429 names the limit reached, as OpenAI's. */
const OWN_TYPE: Partial<Record<ErrorCode, string>> = { rate_limit_exceeded: '`requests` or `tokens`' };
const typeCell = (code: ErrorCode): string => OWN_TYPE[code] ?? `\`${ERROR_CATALOGUE[code].type}\``;

/** The rows of the first table after `heading`: each row's cells, trimmed, the header and rule left out. */
function tableAfter(text: string, heading: string): string[][] {
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `no "${heading}"`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

const codeOf = (cell: string): string => /`([a-z_]+)`/.exec(cell)?.[1] ?? cell;

test("docs/errors.md's catalogue table gives every code, with the catalogue's status and type", () => {
  const rows = tableAfter(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'), '## Catalogue');
  assert.deepEqual(rows.map((r) => codeOf(r[0]!)).sort(), [...CODES].sort());
  for (const [cell, status, type] of rows) {
    const code = codeOf(cell!) as ErrorCode;
    if (code === PICKERS_OWN) continue;
    assert.equal(status, String(ERROR_CATALOGUE[code].status), code);
    assert.equal(type, typeCell(code), code);
  }
});

test('each code has a section in docs/errors.md that opens with its status and type', () => {
  const text = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  for (const code of CODES) {
    const m = new RegExp(`^### \`${code}\`\\n\\n(.*)$`, 'm').exec(text);
    assert.ok(m, `no section "### \`${code}\`"`);
    if (code === PICKERS_OWN) continue;
    const opening = `**${ERROR_CATALOGUE[code].status}, ${typeCell(code)}`;
    assert.ok(m[1]!.startsWith(opening), `${code}: its section should open with ${opening}, not: ${m[1]!.slice(0, 60)}`);
  }
});

test("README.md's error table gives every code with its status", () => {
  const rows = tableAfter(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Errors');
  assert.deepEqual(rows.map((r) => codeOf(r[0]!)).sort(), [...CODES].sort());
  for (const [cell, status] of rows) {
    const code = codeOf(cell!) as ErrorCode;
    if (code !== PICKERS_OWN) assert.equal(status, String(ERROR_CATALOGUE[code].status), code);
  }
});
