/** Per-request scratch space shared by the plugins of one scheduling cycle (GIE's CycleState). */

export class CycleState {
  #data = new Map<string, unknown>();

  read<T>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.#data.set(key, value);
  }
}
