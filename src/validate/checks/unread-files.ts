/**
 * Manifests in a -f directory that are not read: `.json` files and subdirectories, which neither `validate -f`
 * nor `serve -f` reads (only the directory's own *.yaml and *.yml). Without a word, whoever saved a
 * `kubectl get -o json` export beside the YAML, or keeps pools in a subdirectory, takes them for checked.
 */
import type { Check } from '../check.js';
import type { Finding } from '../finding.js';

export const unreadFiles: Check = {
  name: 'unread-files',
  codes: ['file-not-read'],
  run(ctx) {
    return ctx.unread.map(
      (u): Finding => ({
        severity: 'warning',
        code: 'file-not-read',
        object: null,
        location: null,
        field: null,
        message:
          u.kind === 'json'
            ? `${u.path} is not read: -f reads only the *.yaml and *.yml files of a directory, as serve -f does, so its objects are neither checked nor served`
            : `${u.path}/ holds ${u.files === 1 ? 'a manifest file' : `${u.files} manifest files`} (.yaml, .yml or .json), not read: -f does not read subdirectories, as serve -f does not, so their objects are neither checked nor served`,
        fix:
          u.kind === 'json'
            ? `Save it as YAML under a .yaml name (JSON is YAML, so renaming it is enough), or give it to -f on its own; or move it out of the directory if it is not configuration.`
            : `Give ${u.path} to -f on its own (or move its files up); for a kustomize tree, validate the output of kubectl kustomize DIR instead (kubectl kustomize DIR | infergate validate -f -).`,
      }),
    );
  },
};
