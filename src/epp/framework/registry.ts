/** The plugin registry: plugin type string -> factory from YAML parameters, as llm-d's `plugin.Register`. */
import type { Plugin } from './plugin.js';
import { ParamReader, PluginConfigError, closest, type PluginSite } from './param-reader.js';

export { ParamReader, PluginConfigError, type PluginSite } from './param-reader.js';

/**
 * Builds one plugin instance. `params` is the raw `parameters` mapping (never null); read it through `r`,
 * which checks types and remembers which keys were asked for, so every parameter a factory does not read is
 * rejected as unknown. Factories read every parameter they accept up-front, even when its value is ignored.
 */
export type PluginFactory = (name: string, params: Record<string, unknown>, r: ParamReader) => Plugin;

export interface CreateOptions {
  /** Where the plugin is declared, for messages: `plugins[2]`; default `plugin`. */
  at?: string;
  /** Receives deprecation notes and other warnings the factory raises. */
  warn?: (message: string) => void;
}

/** Maps plugin type strings to factories. No global instance: the composition root builds one. */
export class PluginRegistry {
  #factories = new Map<string, PluginFactory>();
  #notBuilt = new Map<string, string>();

  register(type: string, factory: PluginFactory): this {
    if (this.#factories.has(type)) throw new Error(`plugin type \`${type}\` is registered twice`);
    this.#factories.set(type, factory);
    return this;
  }

  /**
   * Types other pickers (llm-d, GIE) register that this registry does not build, each with what to do instead:
   * said when a config names one, rather than leaving the reader to find out from the list of registered types.
   */
  notBuilt(types: readonly string[], why: string): this {
    for (const t of types) {
      if (this.#factories.has(t)) throw new Error(`plugin type \`${t}\` is registered and marked not built`);
      this.#notBuilt.set(t, why);
    }
    return this;
  }

  has(type: string): boolean {
    return this.#factories.has(type);
  }

  /** Why a type marked `notBuilt` is not built, and what to do instead; undefined for any other type. */
  whyNotBuilt(type: string): string | undefined {
    return this.#notBuilt.get(type);
  }

  /** Registered types, sorted, for messages and docs. */
  types(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /**
   * Creates a plugin named `name` of `type`. Throws PluginConfigError naming the plugin and the parameter when
   * the type is unknown (with the nearest registered type, or why a type marked `notBuilt` is not), a parameter
   * is invalid, or a parameter is not one the plugin knows.
   */
  create(type: string, name: string, params: Record<string, unknown> = {}, options: CreateOptions = {}): Plugin {
    const site: PluginSite = { at: options.at ?? 'plugin', name, type };
    const factory = this.#factories.get(type);
    if (!factory) {
      const why = this.#notBuilt.get(type);
      const hint = closest(type, this.types());
      const detail = why !== undefined ? `: ${why}` : hint !== undefined ? ` (did you mean ${hint}?)` : '';
      throw new PluginConfigError(site, 'type', `unknown plugin type \`${type}\`${detail}; registered types: ${this.types().join(', ')}`);
    }
    const r = new ParamReader(site, params, options.warn);
    const plugin = factory(name, params, r);
    r.finish();
    // A factory returning another type or name would make config references and traces lie.
    if (plugin.type !== type || plugin.name !== name) {
      throw new Error(`factory for \`${type}\` built ${plugin.type}/${plugin.name}, expected ${type}/${name}`);
    }
    return plugin;
  }
}
