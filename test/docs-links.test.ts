/**
 * The documentation's own links: every relative link in README.md, docs/, deploy/ and examples/ names a file
 * that exists, and its `#anchor` a heading of that file as GitHub renders the anchor. Renamed headings and
 * moved sections otherwise break links silently across about 400 of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();

/** GitHub's anchor for a heading: lower case, punctuation (code ticks, dots, slashes, parentheses) dropped, spaces to hyphens. */
function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name));
    }
  };
  for (const dir of ['docs', 'deploy', 'examples']) walk(dir);
  return out;
}

/**
 * Text outside fenced code blocks, where links are not links and `#` lines are not headings. A fence may be
 * indented (a block inside a list item); it closes at the same indent.
 */
function prose(text: string): string {
  return text.replace(/^( *)(```|~~~)[\s\S]*?^\1\2/gm, '');
}

const anchorCache = new Map<string, Set<string>>();
/** The anchors of a Markdown file: one per heading (a repeated one gets -1, -2, ...), and explicit `<a id>`s. */
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set();
  const seen = new Map<string, number>();
  for (const line of prose(readFileSync(join(ROOT, file), 'utf8')).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = headingSlug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/<a (?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  anchorCache.set(file, anchors);
  return anchors;
}

test("headingSlug renders anchors as GitHub does for this project's headings", () => {
  assert.equal(headingSlug('Scenario `overhead`: what a proxy costs (`bench/scenarios/overhead.ts`)'), 'scenario-overhead-what-a-proxy-costs-benchscenariosoverheadts');
  assert.equal(headingSlug('Long answers at full speed, and the approximate picker llm-d measured (`--max-tokens 500`, `--approximate-config`)'), 'long-answers-at-full-speed-and-the-approximate-picker-llm-d-measured---max-tokens-500---approximate-config');
  assert.equal(headingSlug('Under KV pressure, one replica: the rate sweep'), 'under-kv-pressure-one-replica-the-rate-sweep');
});

test('code blocks are left out, indented ones (in a list item) too: their `#` lines make no anchors', () => {
  const text = ['# Title', '- a step:', '  ```sh', '  # not a heading', '  see [x](nope.md)', '  ```', '## After', '```', '# nor this', '```'].join('\n');
  assert.equal(prose(text), ['# Title', '- a step:', '', '## After', ''].join('\n'));
});

test('every relative link in the docs names a file that exists, and a heading of it', () => {
  const broken: string[] = [];
  let links = 0;
  for (const file of markdownFiles()) {
    for (const m of prose(readFileSync(join(ROOT, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
      links++;
      const [path, anchor] = link.split('#');
      const target = path === '' ? file : join(dirname(file), path!);
      if (!existsSync(join(ROOT, target))) broken.push(`${file}: ${link} (no such file)`);
      else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${file}: ${link} (no such heading in ${target})`);
    }
  }
  assert.ok(links > 100, `only ${links} links found: is the scan reading the docs?`);
  assert.deepEqual(broken, []);
});
