/** FileConfigSource against real files: a valid edit is applied, an invalid one is logged and the last good config stays. */
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../api/config-issue.js';
import { createLogger } from '../logger.js';
import { editGuardFor } from './edit-guard.js';
import { FileConfigSource, loadSnapshotFromPath } from './file-source.js';
import type { ConfigSnapshot } from './snapshot.js';

const poolYaml = (port: number): string => `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma}
spec:
  selector: {matchLabels: {app: gemma}}
  targetPorts: [{number: ${port}}]
`;

const POD = `apiVersion: v1
kind: Pod
metadata: {name: gemma-0, labels: {app: gemma}}
status: {podIP: 10.0.0.1, conditions: [{type: Ready, status: "True"}]}
`;

/** Polls `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

function portOf(s: ConfigSnapshot | undefined): number | undefined {
  return s?.pools.get('default/gemma')?.targetPorts[0];
}

describe('FileConfigSource', () => {
  let dir: string;
  let lines: string[];
  let applied: ConfigSnapshot[];
  let source: FileConfigSource | undefined;
  const apply = async (s: ConfigSnapshot): Promise<void> => {
    applied.push(s);
  };
  const errors = (): string[] => lines.filter((l) => / ERROR /.test(l));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infergate-watch-'));
    lines = [];
    applied = [];
    await writeFile(join(dir, 'pool.yaml'), poolYaml(8000));
    await writeFile(join(dir, 'pods.yaml'), POD);
  });
  afterEach(async () => {
    source?.close();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  test('start() loads and applies the configuration', async () => {
    source = new FileConfigSource(dir, { debounceMs: 20 }, createLogger('debug', (l) => lines.push(l)), apply);
    const first = await source.start();
    assert.deepEqual(applied, [first]);
    assert.equal(portOf(first), 8000);
    assert.deepEqual(first.members.get('default/gemma')?.map((m) => m.pod.meta.name), ['gemma-0']);
  });

  test('a valid edit is applied; an invalid one is logged with the file name and the last good snapshot stays', async () => {
    source = new FileConfigSource(dir, { debounceMs: 20, unfinishedSettleMs: 200 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();

    await writeFile(join(dir, 'pool.yaml'), poolYaml(8001));
    await until(() => portOf(applied.at(-1)) === 8001, 'the edit to be applied');
    await delay(100); // let any second event of the same write settle before taking the reference
    const good = applied.at(-1)!;
    assert.ok(good.version > applied[0]!.version);
    const appliedBefore = applied.length;

    await writeFile(join(dir, 'pool.yaml'), poolYaml(0));
    await until(() => errors().length > 0, 'the rejected change to be logged');
    assert.match(errors()[0]!, /configuration change rejected; the last good configuration stays in force/);
    assert.ok(errors()[0]!.includes(join(dir, 'pool.yaml')), errors()[0]);
    assert.ok(errors()[0]!.includes('spec.targetPorts[0].number'), errors()[0]);
    await delay(100);
    assert.equal(applied.length, appliedBefore, 'an invalid config must not be applied');
    assert.equal(applied.at(-1), good);

    // A YAML syntax error is rejected the same way.
    await writeFile(join(dir, 'pods.yaml'), 'kind: Pod\nmetadata:\n  name: a: b\n');
    const syntaxError = (): string | undefined => errors().find((l) => l.includes(join(dir, 'pods.yaml')));
    await until(() => syntaxError() !== undefined, 'the syntax error to be logged');
    assert.match(syntaxError()!, /YAML syntax error at line 3/);
    assert.equal(applied.length, appliedBefore);
    assert.equal(applied.at(-1), good);

    // Fixing the files recovers.
    await writeFile(join(dir, 'pods.yaml'), POD);
    await writeFile(join(dir, 'pool.yaml'), poolYaml(8002));
    await until(() => portOf(applied.at(-1)) === 8002, 'the fix to be applied');
  });

  test('a new file in the directory is picked up; other files are not watched', async () => {
    source = new FileConfigSource(dir, { debounceMs: 20 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    await writeFile(join(dir, 'notes.txt'), 'not config');
    await delay(150);
    assert.equal(applied.length, 1, 'a non-YAML file must not trigger a reload');
    await writeFile(join(dir, 'more.yml'), POD.replace('gemma-0', 'gemma-1').replace('10.0.0.1', '10.0.0.2'));
    await until(() => applied.length === 2, 'the new file to be applied');
    assert.deepEqual(applied[1]!.members.get('default/gemma')?.map((m) => m.pod.meta.name), ['gemma-1', 'gemma-0']);
  });

  test('a single watched file', async () => {
    const file = join(dir, 'pool.yaml');
    source = new FileConfigSource(file, { debounceMs: 20 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    await writeFile(join(dir, 'pods.yaml'), 'broken: [');
    await delay(150);
    assert.equal(applied.length, 1);
    assert.deepEqual(errors(), [], 'a sibling file is not part of the config');
    await writeFile(file, poolYaml(9000));
    await until(() => portOf(applied.at(-1)) === 9000, 'the edit to be applied');
  });

  test('a single watched file deleted: the rejection says it is gone, not a bare ENOENT, and it applies again once back', async () => {
    const file = join(dir, 'pool.yaml');
    const rejected: string[] = [];
    source = new FileConfigSource(file, { debounceMs: 20, settleMs: 20, onRejected: (m) => rejected.push(m) }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    await rm(file);
    await until(() => rejected.length > 0, 'the deletion to be rejected');
    assert.match(rejected[0]!, /^-f .*pool\.yaml no longer exists \(deleted, or renamed away\); the configuration it gave stays in force until it is back/);
    assert.doesNotMatch(rejected[0]!, /ENOENT/);
    assert.ok(errors().some((l) => l.includes('no longer exists')), 'logged in the same words');
    assert.equal(applied.length, 1);
    await writeFile(`${file}.tmp`, poolYaml(9001));
    await rename(`${file}.tmp`, file);
    await until(() => portOf(applied.at(-1)) === 9001, 'the file renamed back into place to be applied');
  });

  test('a symlinked file whose target lives in another directory: an edit to the target is reloaded, for -f FILE and -f DIR', async () => {
    // `-f /etc/infergate/pool.yaml` linked to a checkout elsewhere: the target's directory gets the events, not the watched one.
    const elsewhere = join(dir, 'checkout');
    const watched = join(dir, 'etc');
    await mkdir(elsewhere);
    await mkdir(watched);
    await writeFile(join(elsewhere, 'pool.yaml'), poolYaml(8000));
    await writeFile(join(watched, 'pods.yaml'), POD);
    await symlink(join(elsewhere, 'pool.yaml'), join(watched, 'pool.yaml'));
    for (const path of [join(watched, 'pool.yaml'), watched]) {
      source = new FileConfigSource(path, { debounceMs: 20, settleMs: 20, directoryCheckMs: 100 }, createLogger('debug', (l) => lines.push(l)), apply);
      await source.start();
      const port = portOf(applied.at(-1))! + 1;
      await writeFile(join(elsewhere, 'pool.yaml'), poolYaml(port));
      await until(() => portOf(applied.at(-1)) === port, `the target's edit to be applied (${path})`);
      const count = applied.length;
      await delay(400);
      assert.equal(applied.length, count, 'files unchanged since they were read are not reloaded again');
      assert.deepEqual(errors(), []);
      source.close();
    }
  });

  test('a ConfigMap volume updated as the kubelet does (a new ..<timestamp> dir, ..data swapped by rename) is reloaded through its symlinks', async () => {
    // The kubelet's layout: pool.yaml -> ..data/pool.yaml, ..data -> ..2026_11_28_19_00_00.1 (a directory).
    const mount = join(dir, 'mount');
    const version = async (name: string, port: number): Promise<void> => {
      await mkdir(join(mount, name));
      await writeFile(join(mount, name, 'pool.yaml'), poolYaml(port));
      await writeFile(join(mount, name, 'pods.yaml'), POD);
    };
    await mkdir(mount);
    await version('..2026_11_28_19_00_00.1', 8000);
    await symlink('..2026_11_28_19_00_00.1', join(mount, '..data'));
    for (const f of ['pool.yaml', 'pods.yaml']) await symlink(join('..data', f), join(mount, f));
    for (const only of [undefined, 'pool.yaml']) {
      const path = only ? join(mount, only) : mount;
      source = new FileConfigSource(path, { debounceMs: 20, settleMs: 20 }, createLogger('debug', (l) => lines.push(l)), apply);
      await source.start();
      const port = portOf(applied.at(-1))! + 1;
      const old = await readlink(join(mount, '..data'));
      const next = `..2026_11_28_19_00_0${port - 8000}.1`;
      await version(next, port);
      await symlink(next, join(mount, '..data_tmp'));
      await rename(join(mount, '..data_tmp'), join(mount, '..data'));
      await rm(join(mount, old), { recursive: true });
      await until(() => portOf(applied.at(-1)) === port, `the swap to be applied (${path})`);
      assert.deepEqual(errors(), []);
      source.close();
    }
  });

  test('the directory moved away and replaced by a copy, or deleted and re-created: logged, watched again, reloaded from the new one', async () => {
    const config = join(dir, 'config');
    await mkdir(config);
    await writeFile(join(config, 'pool.yaml'), poolYaml(8000));
    await writeFile(join(config, 'pods.yaml'), POD);
    const rejected: string[] = [];
    source = new FileConfigSource(config, { debounceMs: 20, settleMs: 20, onRejected: (m) => rejected.push(m) }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    // mv DIR DIR.old && cp -r DIR.old DIR
    await rename(config, `${config}.old`);
    await cp(`${config}.old`, config, { recursive: true });
    await until(() => lines.some((l) => / WARN .*configuration directory .*config (was replaced|is back)/.test(l)), 'the replacement to be logged');
    // An edit to the old copy is not the configuration any more; one to the new directory is.
    await writeFile(join(`${config}.old`, 'pool.yaml'), poolYaml(8600));
    await writeFile(join(config, 'pool.yaml'), poolYaml(8500));
    await until(() => portOf(applied.at(-1)) === 8500, 'the edit in the new directory to be applied');
    await delay(200);
    assert.equal(portOf(applied.at(-1)), 8500);

    // Deleted: the configuration in force stays, the reload is rejected and the log says so; re-created: watched again.
    await rm(config, { recursive: true });
    await until(() => lines.some((l) => / WARN .*configuration directory .*config is gone; the configuration in force stays/.test(l)), 'the deletion to be logged');
    await until(() => rejected.length > 0, 'the missing directory to be reported');
    assert.equal(portOf(applied.at(-1)), 8500);
    await mkdir(config);
    await writeFile(join(config, 'pods.yaml'), POD);
    await writeFile(join(config, 'pool.yaml'), poolYaml(8700));
    await until(() => lines.some((l) => / WARN .*configuration directory .*config is back: watching it/.test(l)), 'the directory coming back to be logged');
    await until(() => portOf(applied.at(-1)) === 8700, 'the re-created directory to be applied');
    await writeFile(join(config, 'pool.yaml'), poolYaml(8800));
    await until(() => portOf(applied.at(-1)) === 8800, 'an edit in the re-created directory to be applied');
  });

  test('a deleted file held back, then restored in an edit that is rejected (another file half-written): the deletion never applies', async () => {
    const log = createLogger('debug', (l) => lines.push(l));
    const guard = editGuardFor('files', { settlePeriodMs: 400 }, log, apply);
    source = new FileConfigSource(dir, { debounceMs: 20, settleMs: 20, unfinishedSettleMs: 50, onRejected: (m) => guard.rejected(m) }, log, (s) => guard.offer(s));
    await source.start();
    await rm(join(dir, 'pods.yaml'));
    await until(() => guard.held !== undefined, 'the deletion to be held back');
    await writeFile(join(dir, 'pods.yaml'), POD);
    await writeFile(join(dir, 'new.yaml'), 'kind: Pod\nmetadata:\n  name: a: b\n');
    await until(() => guard.report()?.rejected !== undefined, 'the syntax error to be rejected');
    await delay(600);
    assert.equal(applied.length, 1, `the held deletion applied although the file was restored:\n${lines.join('\n')}`);
    assert.equal(applied[0]!.members.get('default/gemma')?.length, 1);
    // Fixed, the files are what is in force: nothing is held and nothing removed.
    await rm(join(dir, 'new.yaml'));
    await until(() => applied.length === 2, 'the fixed files to be applied');
    assert.equal(applied[1]!.members.get('default/gemma')?.length, 1);
    assert.equal(guard.held, undefined);
    guard.close();
  });

  test('reload() applies the current files without waiting for an event', async () => {
    source = new FileConfigSource(dir, { debounceMs: 10_000 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    await writeFile(join(dir, 'pool.yaml'), poolYaml(8100));
    await source.reload();
    assert.equal(portOf(applied.at(-1)), 8100);
  });

  test('a file emptied (or left with only comments) is rejected as a write in progress; with allowEmptyFiles it declares nothing', async () => {
    const rejected: string[] = [];
    source = new FileConfigSource(dir, { debounceMs: 20, settleMs: 20, unfinishedSettleMs: 100, onRejected: (m) => rejected.push(m) }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    for (const text of ['', '  \n# nothing here yet\n---\n']) {
      await writeFile(join(dir, 'pool.yaml'), text);
      await until(() => rejected.length > 0, 'the emptied file to be rejected');
      assert.match(rejected[0]!, /pool\.yaml: no YAML documents .* taken as a write in progress.* delete the file/);
      assert.ok(errors().some((l) => l.includes('configuration change rejected') && l.includes('no YAML documents')), lines.join('\n'));
      assert.equal(applied.length, 1, 'the last good configuration stays');
      rejected.length = 0;
    }
    source.close();

    source = new FileConfigSource(dir, { debounceMs: 20, settleMs: 20, unfinishedSettleMs: 100, allowEmptyFiles: true }, createLogger('debug', (l) => lines.push(l)), apply);
    await writeFile(join(dir, 'pool.yaml'), poolYaml(8000));
    await source.start();
    await writeFile(join(dir, 'pool.yaml'), '');
    await until(() => applied.at(-1)?.pools.size === 0, 'the emptied file to be applied');
  });

  test('a file is read only once it has stopped changing: a writer pausing mid-write never has half a file applied', async () => {
    const file = join(dir, 'all.yaml');
    await writeFile(file, `${POD}---\n${poolYaml(8000)}`);
    source = new FileConfigSource(file, { debounceMs: 20, settleMs: 400 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    // The first half declares the pod only: applied alone, it would remove the pool.
    await writeFile(file, POD);
    await delay(150);
    await writeFile(file, `${POD}---\n${poolYaml(8300)}`);
    await until(() => portOf(applied.at(-1)) === 8300, 'the whole file to be applied');
    assert.ok(applied.every((s) => s.pools.size === 1), `a snapshot without the pool was applied: ${applied.map((s) => s.pools.size).join()}`);
  });

  test('a change that looks unfinished (objects removed) waits for the files to be quiet longer: a writer pausing 1 s between documents', async () => {
    const file = join(dir, 'all.yaml');
    await writeFile(file, `${POD}---\n${poolYaml(8000)}`);
    source = new FileConfigSource(file, { debounceMs: 20, settleMs: 50, unfinishedSettleMs: 1500 }, createLogger('debug', (l) => lines.push(l)), apply);
    await source.start();
    // Whole documents: the pod alone is valid YAML and a valid configuration, without the pool.
    await writeFile(file, `${POD}---\n`);
    await delay(1000);
    await writeFile(file, `${POD}---\n${poolYaml(8400)}`);
    await until(() => portOf(applied.at(-1)) === 8400, 'the whole file to be applied', 5000);
    assert.ok(applied.every((s) => s.pools.size === 1), `a snapshot without the pool was applied: ${applied.map((s) => s.pools.size).join()}`);
    // A removal that stays is applied once the files have been quiet that long.
    await writeFile(file, POD);
    await until(() => applied.at(-1)?.pools.size === 0, 'the removal to be applied', 5000);
  });

  test('start() refuses a broken configuration', async () => {
    await writeFile(join(dir, 'pool.yaml'), poolYaml(70000));
    source = new FileConfigSource(dir, {}, createLogger('debug', (l) => lines.push(l)), apply);
    await assert.rejects(source.start(), (e: unknown) => e instanceof ConfigError && e.message.includes(join(dir, 'pool.yaml')));
    assert.deepEqual(applied, []);
  });

  test('loadSnapshotFromPath logs warnings', async () => {
    await writeFile(join(dir, 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: vllm}\n');
    const s = await loadSnapshotFromPath(dir, {}, createLogger('debug', (l) => lines.push(l)));
    assert.equal(portOf(s), 8000);
    assert.equal(lines.filter((l) => / WARN .*apps\/v1\/Deployment/.test(l)).length, 1, lines.join('\n'));
    // Kept with the snapshot for the dashboard's configuration issues (/api/state), not only logged.
    assert.ok(s.warnings.some((w) => /^skipping apps\/v1\/Deployment/.test(w)), s.warnings.join('\n'));
  });
});
