/**
 * A reflector's local copy of one collection, keyed by namespace and name, each object with its view (what of it
 * matters): a list replaces it whole, a watch event changes one object. Both say whether the change is one a
 * view can see, so an update that touches only a resourceVersion wakes nobody.
 */
import { objectKey, type KubeObject } from './kube-object.js';

interface Entry {
  obj: KubeObject;
  view: string;
}

/** The default view: the whole object but its resourceVersion and managedFields. */
export const defaultView = (obj: KubeObject): string => {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
};

export class ObjectCopy {
  readonly #view: (obj: KubeObject) => string;
  #items = new Map<string, Entry>();

  constructor(view: (obj: KubeObject) => string = defaultView) {
    this.#view = view;
  }

  /** The objects, as the API server sent them: do not mutate them. */
  items(): IterableIterator<KubeObject> {
    return mapIter(this.#items.values(), (e) => e.obj);
  }

  get size(): number {
    return this.#items.size;
  }

  /** Puts `objs` in place of the whole copy, in one step. True when any view differs (or objects came or went). */
  replace(objs: readonly KubeObject[]): boolean {
    const next = new Map<string, Entry>();
    for (const obj of objs) next.set(objectKey(obj), { obj, view: this.#view(obj) });
    let changed = next.size !== this.#items.size;
    if (!changed) for (const [k, e] of next) if (this.#items.get(k)?.view !== e.view) changed = true;
    this.#items = next;
    return changed;
  }

  /** An object added or modified: true when its view is new or differs from the one kept. */
  put(obj: KubeObject): boolean {
    const key = objectKey(obj);
    const view = this.#view(obj);
    const changed = this.#items.get(key)?.view !== view;
    this.#items.set(key, { obj, view });
    return changed;
  }

  /** An object deleted: true when the copy had it. */
  delete(obj: KubeObject): boolean {
    return this.#items.delete(objectKey(obj));
  }
}

function* mapIter<A, B>(it: Iterable<A>, f: (a: A) => B): IterableIterator<B> {
  for (const a of it) yield f(a);
}
