/** `infergate keys create --name NAME`: a new random API key, printed once, and the keys-file entry (its hash) to paste. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { generateApiKey, hashApiKey } from '../tenancy/api-key.js';

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('API keys for --api-keys (docs/tenancy.md)');
  keys
    .command('create')
    .description('print a new random API key once, and the entry to paste into the --api-keys file (only its SHA-256 hash is stored)')
    .requiredOption('--name <name>', 'the tenant the key names (letters, digits, . _ -)', tenantName)
    .addOption(new Option('--models <list>', 'comma-separated model names or globs the key may use').argParser(modelList).default(['*'], '"*"'))
    .action((flags: { name: string; models: string[] }) => {
      process.stdout.write(keysCreateText(flags.name, flags.models, generateApiKey()));
    });
}

/** What `keys create` prints for `key`: the key itself (shown this once) and the YAML entry holding its hash. */
export function keysCreateText(name: string, models: readonly string[], key: string): string {
  return [
    `API key for tenant ${name} (shown once; the gateway keeps only its hash):`,
    '',
    `  ${key}`,
    '',
    'Add this entry under `keys:` in the --api-keys file (or a Secret labelled infergate.io/api-keys: "true"):',
    '',
    `  - name: ${name}`,
    `    keyHash: ${hashApiKey(key)}`,
    `    models: [${models.map((m) => JSON.stringify(m)).join(', ')}]`,
    '    # requestsPerMinute: 600',
    '    # tokensPerMinute: 100000',
    '    # tokensPerDay: 2000000',
    '    # objective: standard      # or priority: 0',
    '',
  ].join('\n');
}

/**
 * `--models a,b*`: the names or globs, at least one. An empty list would print an entry the keys file refuses
 * (`"models" must list model names or globs`), found only when the gateway reloads it.
 */
export function modelList(v: string): string[] {
  const models = v.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (models.length === 0) throw new InvalidArgumentError('name at least one model or glob, comma-separated (\'*\' for every model)');
  return models;
}

function tenantName(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) throw new InvalidArgumentError('letters, digits, . _ - (at most 63), starting with a letter or digit');
  return v;
}
