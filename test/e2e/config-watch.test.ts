/**
 * `serve -f DIR` as a process, with DIR changed the ways deployments change it: a Kubernetes ConfigMap volume
 * updated by the kubelet (a `..data` symlink swapped by rename), the directory replaced by a copy. Each change must reload: /readyz's
 * config_version goes up and the log says what is in force. examples/seed-demo with its pods on 127.0.232.x
 * (nothing listens there: reloads do not need the pods).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';

const HOST = '127.0.232.1';
/** A third phi pod: an edit that adds an endpoint (4 -> 5), so nothing in it is held back. */
const EXTRA_POD = `---
apiVersion: v1
kind: Pod
metadata:
  name: ms-phi3-decode-2
  namespace: llm-d
  labels: {llm-d.ai/inferenceServing: "true", llm-d.ai/model-name: phi-3-mini, llm-d.ai/role: decode}
status:
  podIP: 127.0.232.6
  conditions: [{type: Ready, status: "True"}]
`;

let root: string;
/** examples/seed-demo's files, pods moved to 127.0.232.x. */
const seed = new Map<string, string>();
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'infergate-config-watch-'));
  const dir = join(repoRoot(), 'examples/seed-demo');
  for (const f of await readdir(dir)) seed.set(f, (await readFile(join(dir, f), 'utf8')).replaceAll('127.0.0.', '127.0.232.'));
});
after(() => rm(root, { recursive: true, force: true }));

async function serve(dir: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = await startCli(['serve', '-f', dir, '--host', HOST, '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s'], /infergate listening on http:\/\//);
  const url = /listening on (http:\/\/\S+)/.exec(await cli.line(/listening on/))![1]!;
  return { cli, url };
}

async function configVersion(url: string): Promise<number | undefined> {
  try {
    return ((await (await fetch(`${url}/readyz`)).json()) as { config_version?: number }).config_version;
  } catch {
    return undefined;
  }
}

test('a ConfigMap volume updated as the kubelet does: a new ..<timestamp> dir, ..data_tmp renamed over ..data; the reload reads the new files', async () => {
  const dir = join(root, 'configmap');
  await mkdir(dir);
  // The kubelet's layout (pkg/volume/util/atomic_writer.go): every key a symlink through ..data.
  const writeVersion = async (name: string, files: Map<string, string>): Promise<void> => {
    await mkdir(join(dir, name));
    for (const [f, text] of files) await writeFile(join(dir, name, f), text);
  };
  await writeVersion('..2026_11_28_19_00_00.1', seed);
  await symlink('..2026_11_28_19_00_00.1', join(dir, '..data'));
  for (const f of seed.keys()) await symlink(join('..data', f), join(dir, f));
  const { cli, url } = await serve(dir);
  try {
    const before = await configVersion(url);
    assert.ok(before !== undefined);
    assert.ok(cli.lines.some((l) => /configuration in force .*endpoints=4/.test(l)), cli.lines.join('\n'));

    // The update, step by step as the kubelet makes it.
    const old = await readlink(join(dir, '..data'));
    await writeVersion('..2026_11_28_19_05_00.2', new Map([...seed, ['pods.yaml', seed.get('pods.yaml')! + EXTRA_POD]]));
    await symlink('..2026_11_28_19_05_00.2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data')); // mv -T ..data_tmp ..data
    await rm(join(dir, old), { recursive: true });

    assert.ok(await waitFor(async () => ((await configVersion(url)) ?? 0) > before, 5000), `no reload after the ..data swap; the log:\n${cli.lines.join('\n')}`);
    assert.ok(cli.lines.some((l) => /configuration in force .*endpoints=5/.test(l)), `the reload did not read the new pods.yaml:\n${cli.lines.join('\n')}`);
    assert.ok(!cli.lines.some((l) => / ERROR /.test(l)), cli.lines.join('\n'));
  } finally {
    cli.kill('SIGKILL');
    await cli.exited;
  }
});

test('the directory replaced (mv DIR DIR.old && cp -r DIR.old DIR): logged, and an edit in the new DIR reloads', async () => {
  const dir = join(root, 'replaced');
  await mkdir(dir);
  for (const [f, text] of seed) await writeFile(join(dir, f), text);
  const { cli, url } = await serve(dir);
  try {
    const before = await configVersion(url);
    assert.ok(before !== undefined);
    execFileSync('mv', [dir, `${dir}.old`]);
    execFileSync('cp', ['-r', `${dir}.old`, dir]);
    await cli.line(/configuration directory .* (was replaced|is back)/, 5000);
    await writeFile(join(dir, 'pods.yaml'), seed.get('pods.yaml')! + EXTRA_POD);
    assert.ok(await waitFor(() => cli.lines.some((l) => /configuration in force .*endpoints=5/.test(l)), 5000), `the edit in the new directory was not applied:\n${cli.lines.join('\n')}`);
    assert.ok(((await configVersion(url)) ?? 0) > before);
  } finally {
    cli.kill('SIGKILL');
    await cli.exited;
  }
});
