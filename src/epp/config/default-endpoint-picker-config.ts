/** llm-d's default scheduling configuration, used when no EndpointPickerConfig is given. */
import type { PluginRegistry } from '../framework/registry.js';
import type { LoadedEndpointPickerConfig } from './build-scheduler-config.js';
import { parseEndpointPickerConfig, type EndpointPickerConfigSpec } from './endpoint-picker-config.js';
import { loadEndpointPickerConfig } from './load-endpoint-picker-config.js';

/**
 * With neither `--config-file` nor `--config-text`, llm-d's EPP logs "A configuration wasn't specified. A
 * default one is being used." (`LoadRawConfig` in pkg/epp/config/loader/configloader.go) and takes
 * `loadDefaultConfig()` (defaults.go): queue-scorer, kv-cache-utilization-scorer and prefix-cache-scorer with
 * default parameters, in one profile named `default`, weights 2, 2 and 3. Its system defaults then add
 * `single-profile-handler` (one profile, no handler) and `max-score-picker` (a profile without picker).
 * This is the same config, spelled out.
 */
export const DEFAULT_ENDPOINT_PICKER_CONFIG_YAML = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
`;

export const DEFAULT_CONFIG_FILE = '<default EndpointPickerConfig>';

/** The default config as a spec (before defaults are applied: no picker, no handler yet), read from the YAML. */
export function defaultEndpointPickerConfig(): EndpointPickerConfigSpec {
  return parseEndpointPickerConfig(DEFAULT_ENDPOINT_PICKER_CONFIG_YAML, DEFAULT_CONFIG_FILE).spec;
}

/** Builds the default config with fresh plugin instances. */
export function loadDefaultEndpointPickerConfig(registry: PluginRegistry): LoadedEndpointPickerConfig {
  return loadEndpointPickerConfig(DEFAULT_ENDPOINT_PICKER_CONFIG_YAML, { file: DEFAULT_CONFIG_FILE, registry });
}
