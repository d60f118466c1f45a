/** What a compiled command can load: the modules reachable from its entry point, as the package and image tests walk them. */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Relative module references in compiled JS: static imports and re-exports, literal import(), and `new URL('./x.js', import.meta.url)` (worker files). */
const MODULE_REFERENCES = [/(?:\bfrom|^import)\s*['"](\.{1,2}\/[^'"]+)['"]/gm, /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g, /new URL\(\s*['"](\.{1,2}\/[^'"]+\.js)['"]\s*,\s*import\.meta\.url\s*\)/g];

/** Every compiled module the command can load from `entry`, as paths relative to `root`. */
export function loadableModules(root: string, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    for (const re of MODULE_REFERENCES) for (const m of text.matchAll(re)) {
      const target = relative(root, join(root, dirname(file), m[1]!));
      if (target.endsWith('.js')) stack.push(target);
    }
  }
  return seen;
}

/** A module TypeScript compiled from types alone: nothing but comments and `export {};`. */
export function typesOnly(text: string): boolean {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').trim() === 'export {};';
}
