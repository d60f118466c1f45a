/** loadConfigFiles and parseText: directories of multi-document YAML into resources, with located problems. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIssue, type ConfigError } from '../api/config-issue.js';
import { DanglingSymlinkError, loadConfigFiles, parseText, type LoadedFiles, type UnknownKinds } from './load-files.js';
import { buildSnapshot } from './snapshot.js';

const POOL = `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma}
spec:
  selector: {matchLabels: {app: gemma}}
  targetPorts: [{number: 8000}]
`;

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gemma}
spec:
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma}]}]
`;

const pod = (name: string, ip: string): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: gemma}}
status: {podIP: ${ip}, conditions: [{type: Ready, status: "True"}]}
`;

const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: vllm}\n';

function emptyOut(): LoadedFiles {
  return { files: [], resources: [], issues: [], warnings: [], readWarnings: [] };
}

describe('loadConfigFiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infergate-load-'));
    await writeFile(join(dir, '01-pool.yaml'), POOL);
    // Several documents, an empty one between separators, and a leading separator.
    await writeFile(join(dir, '02-pods.yml'), `---\n${pod('gemma-0', '10.0.0.1')}---\n---\n${pod('gemma-1', '10.0.0.2')}---\n${DEPLOYMENT}`);
    await writeFile(join(dir, '03-route.YAML'), `# the route\n${ROUTE}---\n${DEPLOYMENT}---\napiVersion: v1\nkind: Secret\nmetadata: {name: epp}\n`);
    await writeFile(join(dir, 'README.md'), '# not config\nkind: Pod\n');
    await writeFile(join(dir, 'values.json'), '{"kind": "Pod"}');
    await writeFile(join(dir, '.hidden.yaml'), 'this: [is broken');
    await writeFile(join(dir, 'empty.yaml'), '');
    await mkdir(join(dir, 'nested'));
    await writeFile(join(dir, 'nested', 'pool.yaml'), POOL);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads every .yaml/.yml document directly in the directory, in file order', async () => {
    const out = await loadConfigFiles(dir);
    assert.deepEqual(
      out.files.map((f) => f.slice(dir.length + 1)),
      ['01-pool.yaml', '02-pods.yml', '03-route.YAML', 'empty.yaml'],
    );
    assert.deepEqual(out.issues, []);
    assert.deepEqual(
      out.resources.map((r) => `${r.kind} ${r.meta.name} ${r.source.file.slice(dir.length + 1)}#${r.source.document}`),
      ['InferencePool gemma 01-pool.yaml#1', 'Pod gemma-0 02-pods.yml#1', 'Pod gemma-1 02-pods.yml#3', 'HTTPRoute gemma 03-route.YAML#1'],
    );
  });

  test('one warning per unknown kind, not per document', async () => {
    const out = await loadConfigFiles(dir);
    assert.equal(out.warnings.length, 2, out.warnings.join('\n'));
    const [deployment, secret] = out.warnings;
    assert.match(deployment!, /^skipping apps\/v1\/Deployment: .*first seen in .*02-pods\.yml \(document 4\)/);
    assert.match(secret!, /^skipping v1\/Secret: .*03-route\.YAML \(document 3\)/);
  });

  test('a single file path', async () => {
    const out = await loadConfigFiles(join(dir, '02-pods.yml'));
    assert.deepEqual(out.files, [join(dir, '02-pods.yml')]);
    assert.deepEqual(out.resources.map((r) => r.meta.name), ['gemma-0', 'gemma-1']);
  });

  test('a directory without YAML files is a warning', async () => {
    const out = await loadConfigFiles(join(dir, 'nested', '..', 'nested', '..', 'nested'));
    assert.equal(out.resources.length, 1);
    const none = await mkdtemp(join(dir, 'none-'));
    const empty = await loadConfigFiles(none);
    assert.deepEqual(empty.files, []);
    assert.deepEqual(empty.warnings, [`${none}: no .yaml or .yml files found`]);
  });

  test('a symlink to nothing (a ConfigMap key whose ..data target is gone) is named as such, not as a bare ENOENT', async () => {
    const linked = await mkdtemp(join(dir, 'linked-'));
    await writeFile(join(linked, 'a.yaml'), POOL);
    await symlink(join('..data', 'routes.yaml'), join(linked, 'routes.yaml'));
    await assert.rejects(loadConfigFiles(linked), (e: Error) => {
      assert.ok(e instanceof DanglingSymlinkError, e.message);
      assert.equal(e.message, `cannot read ${join(linked, 'routes.yaml')}: it is a symlink to ..data/routes.yaml, which does not exist; remove the link, or restore what it points to`);
      return true;
    });
  });

  test('a missing path rejects', async () => {
    await assert.rejects(loadConfigFiles(join(dir, 'absent.yaml')), { code: 'ENOENT' });
  });

  test('a YAML syntax error is located by file, document and line; other files still load', async () => {
    const broken = await mkdtemp(join(dir, 'broken-'));
    await writeFile(join(broken, 'a.yaml'), POOL);
    await writeFile(join(broken, 'b.yaml'), `${pod('gemma-0', '10.0.0.1')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: gemma-1: x\nstatus: {}\n`);
    const out = await loadConfigFiles(broken);
    assert.deepEqual(out.resources.map((r) => r.meta.name), ['gemma', 'gemma-0']);
    assert.ok(out.issues.length >= 1);
    const issue = out.issues[0]!;
    assert.deepEqual(issue.location, { file: join(broken, 'b.yaml'), document: 2 });
    assert.equal(issue.field, null);
    assert.match(issue.message, /^YAML syntax error at line 9, column 9: Nested mappings/);
    assert.ok(formatIssue(issue).startsWith(`${join(broken, 'b.yaml')} (document 2): YAML syntax error at line 9`));
  });
});

/** A YAML document as one item of a list: `- ` before its first line, two spaces before the others. */
function indentItem(doc: string): string {
  return doc
    .trimEnd()
    .split('\n')
    .map((line, i) => (i === 0 ? `  - ${line}` : `    ${line}`))
    .join('\n') + '\n';
}

describe('parseText', () => {
  const cases: { name: string; text: string; resources: string[]; issues: string[]; unknown: string[] }[] = [
    { name: 'empty text', text: '', resources: [], issues: [], unknown: [] },
    { name: 'only comments and separators', text: '# nothing\n---\n---\n', resources: [], issues: [], unknown: [] },
    { name: 'two documents', text: `${POOL}---\n${ROUTE}`, resources: ['InferencePool/gemma#1', 'HTTPRoute/gemma#2'], issues: [], unknown: [] },
    { name: 'empty documents keep their index', text: `---\n---\n${POOL}`, resources: ['InferencePool/gemma#2'], issues: [], unknown: [] },
    { name: 'an invalid object is an issue, its neighbours still load', text: `${POOL.replace('8000', '0')}---\n${ROUTE}`, resources: ['InferencePool/gemma#1', 'HTTPRoute/gemma#2'], issues: ['#1 spec.targetPorts[0].number'], unknown: [] },
    { name: 'unknown kinds recorded once', text: `${DEPLOYMENT}---\n${DEPLOYMENT}`, resources: [], issues: [], unknown: ['apps/v1/Deployment'] },
    { name: 'a scalar document', text: `${POOL}---\nhello\n`, resources: ['InferencePool/gemma#1'], issues: ['#2 (document)'], unknown: [] },
    {
      name: 'a `kubectl get -o yaml` List: its items are read',
      text: `apiVersion: v1\nkind: List\nitems:\n${indentItem(POOL)}${indentItem(ROUTE)}${indentItem(DEPLOYMENT)}`,
      resources: ['InferencePool/gemma#1', 'HTTPRoute/gemma#1'],
      issues: [],
      unknown: ['apps/v1/Deployment'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = emptyOut();
      const unknown: UnknownKinds = new Map();
      parseText('inline.yaml', c.text, out, unknown);
      assert.deepEqual(out.resources.map((r) => `${r.kind}/${r.meta.name}#${r.source.document}`), c.resources);
      assert.deepEqual(out.issues.map((i) => `#${i.location.document} ${i.field}`), c.issues);
      assert.deepEqual([...unknown.keys()], c.unknown);
    });
  }

  test('a Service is read for its clusterIP and ports (an external endpoint picker\'s address), leniently', () => {
    const out = emptyOut();
    parseText('inline.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: epp, namespace: llm}\nspec: {clusterIP: 127.0.89.9, ports: [{port: 9002, targetPort: grpc}, {name: odd}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: bare}\nspec: nonsense\n', out);
    assert.deepEqual(out.issues, []);
    assert.deepEqual(
      out.resources.map((r) => (r.kind === 'Service' ? { name: r.meta.name, type: r.type, ports: r.ports, clusterIP: r.clusterIP } : r.kind)),
      [
        { name: 'epp', type: 'ClusterIP', ports: [9002], clusterIP: '127.0.89.9' },
        { name: 'bare', type: 'ClusterIP', ports: [], clusterIP: undefined },
      ],
    );
  });

  test('a List\'s items are located by their index: an invalid item, a duplicate and an unknown kind name the item, not only document 1', () => {
    const out = emptyOut();
    const unknown: UnknownKinds = new Map();
    parseText('export.yaml', `apiVersion: v1\nkind: List\nitems:\n${indentItem(POOL)}${indentItem(DEPLOYMENT)}${indentItem(POOL.replace('8000', '0'))}`, out, unknown);
    assert.deepEqual(out.resources.map((r) => r.source.item), [0, 2]);
    assert.deepEqual(out.issues.map(formatIssue), ['export.yaml (document 1, items[2]) InferencePool default/gemma: field spec.targetPorts[0].number: must be an integer from 1 to 65535, got number 0']);
    assert.equal(unknown.get('apps/v1/Deployment')?.where, 'export.yaml (document 1, items[1])');
    assert.deepEqual(out.readWarnings.map((w) => w.location.item), [1]);
    // Both items declare InferencePool default/gemma: the duplicate names the other one's item.
    assert.throws(() => buildSnapshot(out.resources), (e: ConfigError) => {
      assert.deepEqual(e.issues.map(formatIssue), ['export.yaml (document 1, items[2]) InferencePool default/gemma: field metadata.name: duplicate InferencePool default/gemma; also declared in export.yaml (document 1, items[0])']);
      return true;
    });
  });

  test('a List whose items are no list says so, and one with no items holds no objects', () => {
    const out = emptyOut();
    parseText('export.yaml', 'apiVersion: v1\nkind: List\nitems: {kind: Pod}\n---\napiVersion: v1\nkind: PodList\n---\napiVersion: v1\nkind: List\nitems:\n', out);
    assert.deepEqual(out.issues.map(formatIssue), ['export.yaml (document 1): field items: a List holds its objects in items, a YAML list; got a mapping']);
    assert.deepEqual(out.readWarnings, []);
    assert.deepEqual(out.resources, []);
  });

  test('a syntax error names its line', () => {
    const out = emptyOut();
    parseText('inline.yaml', 'kind: Pod\nmetadata: {name: a\n', out);
    assert.equal(out.issues.length, 1);
    assert.match(out.issues[0]!.message, /^YAML syntax error at line \d+, column \d+: /);
  });
});
