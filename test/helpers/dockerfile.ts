/**
 * The repository's Dockerfile carried out without Docker (none runs where this project is developed): its
 * stages become folders, COPY copies from the build context as .dockerignore filters it (or from an earlier
 * stage's folder), RUN runs in the stage's WORKDIR. Only what cannot run here is swapped, by the caller:
 * `npm ci` needs the registry, so a test links the checkout's node_modules instead.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/** One instruction: its keyword (upper case) and the rest of its line, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
}

/** A built stage: its folder (the image's `/`), its WORKDIR, ENV, ENTRYPOINT and CMD. */
export interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

/** Swaps a RUN command (one `&&` part of it) for one that can run here; returns it unchanged otherwise. */
export type RunSubstitute = (command: string) => string;

/** A .dockerignore read: which paths it leaves out, and which folders may still hold paths it lets in. */
export interface Dockerignore {
  excluded(path: string): boolean;
  walk(dir: string): boolean;
}

/**
 * `.dockerignore` as Docker's pattern matcher reads it: patterns are paths relative to the context, `*` and
 * `?` stay within one path segment, `**` spans any number, `!` re-includes, the last matching pattern decides,
 * and a pattern that matches a folder decides for everything below it.
 */
export function dockerignoreMatcher(text: string): Dockerignore {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const include = l.startsWith('!');
    const pattern = posix.normalize((include ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
    return { include, pattern, re: globToRegExp(pattern) };
  });
  const excluded = (path: string): boolean => {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.include;
          break;
        }
      }
    }
    return excluded;
  };
  // Conservative: any re-include rule whose pattern could reach below `dir` keeps it walked.
  const reincludes = rules.filter((r) => r.include).map((r) => r.pattern);
  const walk = (dir: string): boolean => !excluded(dir) || reincludes.some((p) => p.startsWith(`${dir}/`) || p.startsWith('*'));
  return { excluded, walk };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function instructions(dockerfile: string): Instruction[] {
  const joined = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const space = l.search(/\s/);
    return { keyword: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
  });
}

/** Every file under `dir` that `ignore` lets in (relative, with `/`); folders it shuts out whole are not walked. */
function contextFiles(dir: string, ignore: Dockerignore, under = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
    const rel = under === '' ? e.name : `${under}/${e.name}`;
    if (e.isDirectory()) {
      if (ignore.walk(rel)) out.push(...contextFiles(dir, ignore, rel));
    } else if (!ignore.excluded(rel)) out.push(rel);
  }
  return out;
}

/**
 * Builds every stage of `context`/Dockerfile into folders under `into` and returns them, the last (the image)
 * last. Throws, naming the instruction, when a COPY source is missing from the context or a RUN fails, as
 * `docker build` would stop.
 */
export function buildStages(context: string, into: string, substitute: RunSubstitute = (c) => c): Stage[] {
  const ignore = dockerignoreMatcher(existsSync(join(context, '.dockerignore')) ? readFileSync(join(context, '.dockerignore'), 'utf8') : '');
  const inContext = contextFiles(context, ignore);
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const { keyword, args } of instructions(readFileSync(join(context, 'Dockerfile'), 'utf8'))) {
    if (keyword === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length);
      stage = { name, root: join(into, `stage-${stages.length}`), workdir: '/', env: {}, entrypoint: [], cmd: [] };
      mkdirSync(stage.root, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`${keyword} before FROM`);
    const s = stage;
    const inImage = (p: string): string => join(s.root, posix.resolve(s.workdir, p));
    if (keyword === 'WORKDIR') {
      s.workdir = posix.resolve(s.workdir, args);
      mkdirSync(inImage('.'), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) s.env[k!] = v!;
    } else if (keyword === 'COPY') {
      const words = args.split(/\s+/);
      const from = words[0]?.startsWith('--from=') ? stages.find((t) => t.name === words.shift()!.slice('--from='.length)) : undefined;
      const dest = words.pop()!;
      for (const src of words) {
        const into = words.length > 1 || dest.endsWith('/') ? join(inImage(dest), posix.basename(src)) : inImage(dest);
        if (from) {
          const path = join(from.root, posix.resolve(from.workdir, src));
          if (!existsSync(path)) throw new Error(`COPY --from=${from.name} ${src}: not in that stage`);
          mkdirSync(dirname(into), { recursive: true });
          cpSync(path, into, { recursive: true, verbatimSymlinks: true });
          continue;
        }
        const prefix = posix.normalize(src).replace(/\/+$/, '');
        const matched = inContext.filter((f) => f === prefix || f.startsWith(`${prefix}/`));
        if (matched.length === 0) throw new Error(`COPY ${src}: not in the build context (missing, or left out by .dockerignore)`);
        for (const f of matched) {
          const target = f === prefix ? into : join(inImage(dest), relative(prefix, f));
          mkdirSync(dirname(target), { recursive: true });
          cpSync(join(context, f), target);
        }
      }
    } else if (keyword === 'RUN') {
      const command = args.split('&&').map((c) => substitute(c.trim())).join(' && ');
      try {
        execFileSync('bash', ['-c', command], { cwd: inImage('.'), env: { ...process.env, ...s.env }, stdio: 'pipe', timeout: 300_000 });
      } catch (e) {
        const err = e as Error & { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`RUN ${args} failed in stage ${s.name}:\n${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`);
      }
    } else if (keyword === 'ENTRYPOINT') s.entrypoint = JSON.parse(args) as string[];
    else if (keyword === 'CMD') s.cmd = JSON.parse(args) as string[];
  }
  if (stages.length === 0) throw new Error('the Dockerfile has no FROM');
  return stages;
}

/** `path` inside the stage's image (absolute as the image sees it) as a path on this machine. */
export function hostPath(stage: Stage, path: string): string {
  return join(stage.root, posix.resolve(stage.workdir, path));
}
