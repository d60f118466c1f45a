/**
 * EndpointPickerConfigs that do not load: a pool's `infergate.io/endpoint-picker-config` annotation naming a
 * missing ConfigMap or an invalid config, or an invalid `--epp-config`. Loaded by the gateway's own
 * PoolSchedulers, so validate accepts exactly what `serve` accepts.
 */
import { ConfigError } from '../../api/config-issue.js';
import { isObjectName } from '../../api/object-name.js';
import { keyOf } from '../../api/object-meta.js';
import { EndpointPickerConfigError } from '../../epp/config/epp-config-error.js';
import { loadEndpointPickerConfig } from '../../epp/config/load-endpoint-picker-config.js';
import { registerBuiltins } from '../../epp/plugins/register-builtins.js';
import { EPP_CONFIG_ANNOTATION, PoolSchedulers } from '../../epp/pool-schedulers.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { MISSING_PICKER_WARNING } from './picker-refs.js';

const FIELD = `metadata.annotations.${EPP_CONFIG_ANNOTATION}`;

export const eppConfigs: Check = {
  name: 'epp-configs',
  codes: ['epp-config-missing', 'epp-config-invalid', 'epp-config-warning'],
  run(ctx) {
    const findings: Finding[] = [];
    const flag = ctx.options.eppConfig;
    let flagLoads = true;
    if (flag) {
      // Checked once here rather than for every pool that uses it, with the options PoolSchedulers uses.
      try {
        const loaded = loadEndpointPickerConfig(flag.text, { file: flag.file, registry: registerBuiltins(), implicitServedModelFilter: false });
        for (const w of loaded.warnings) findings.push(fileFinding(flag.file, 'warning', w));
      } catch (e) {
        if (!(e instanceof EndpointPickerConfigError)) throw e;
        findings.push(fileFinding(flag.file, 'error', e.message));
        flagLoads = false;
      }
    }
    // Pools without the annotation use the flag's config (checked above); those with it are checked below.
    const schedulers = new PoolSchedulers(flagLoads ? flag : undefined);
    for (const [key, pool] of ctx.snapshot.pools) {
      const ref = pool.meta.annotations[EPP_CONFIG_ANNOTATION];
      if (ref === undefined) continue;
      const at = { ...subjectOf(pool), field: FIELD };
      const cm = ctx.snapshot.configMaps.get(`${pool.meta.namespace}/${ref}`);
      if (!isObjectName(ref)) {
        findings.push({
          ...at,
          severity: 'error',
          code: 'epp-config-missing',
          message: `${JSON.stringify(ref)} is not a ConfigMap name (lowercase letters, digits, '-' and '.'), so it names none: ${ctx.source === 'files' ? '`serve -f` refuses the configuration' : '`serve --kube` keeps the pool\'s previous EndpointPickerConfig, or the default'}`,
          fix: 'Set the annotation to the name of the ConfigMap in the pool\'s own namespace that holds its EndpointPickerConfig.',
        });
        continue;
      }
      if (!cm) {
        const allowlist = ctx.snapshot.allowlists.find((a) => keyOf(a.meta) === `${pool.meta.namespace}/${ref}`);
        findings.push({
          ...at,
          severity: 'error',
          code: 'epp-config-missing',
          message: `names ConfigMap ${pool.meta.namespace}/${ref}${allowlist ? ', which is an allowlist ConfigMap, not an EndpointPickerConfig' : ', which is not in the configuration'}: ${ctx.source === 'files' ? '`serve -f` refuses the configuration' : '`serve --kube` keeps the pool\'s previous EndpointPickerConfig, or the default'}`,
          fix: `Create ConfigMap ${pool.meta.namespace}/${ref} with the EndpointPickerConfig under data."config.yaml", or correct the annotation's value (a ConfigMap in the pool's own namespace).`,
        });
        continue;
      }
      try {
        const prepared = schedulers.prepare({ ...ctx.snapshot, pools: new Map([[key, pool]]) });
        for (const w of prepared.warnings) {
          if (MISSING_PICKER_WARNING.test(w)) continue; // the picker-refs check's, about the pool's ref, not its config
          findings.push({ ...at, severity: 'warning', code: 'epp-config-warning', message: w.replace(`InferencePool ${key}: `, ''), fix: 'Update the EndpointPickerConfig as the message says; it loads as it is.' });
        }
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const issue of e.issues) {
          findings.push({ ...at, severity: 'error', code: 'epp-config-invalid', message: issue.message, fix: `Correct the EndpointPickerConfig in ConfigMap ${keyOf(cm.meta)} as the message says (plugins and parameters: docs/plugins.md).` });
        }
      }
    }
    return findings;
  },
};

function fileFinding(file: string, severity: 'error' | 'warning', message: string): Finding {
  return {
    severity,
    code: severity === 'error' ? 'epp-config-invalid' : 'epp-config-warning',
    object: null,
    location: { file, document: 1 },
    field: null,
    message: `--epp-config: ${message}`,
    fix: severity === 'error' ? 'Correct the file as the message says (plugins and parameters: docs/plugins.md).' : 'Update the file as the message says; it loads as it is.',
  };
}
