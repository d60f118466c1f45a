/** Whether a run may still start requests: closed once, by the deadline, by reaching maxRequests or by the caller. */
export class DispatchGate {
  #open = true;
  #wake: (() => void) | null = null;
  readonly #onClose: () => void;

  /** `onClose` runs synchronously on the first close (the runner arms its grace timer there). */
  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#wake?.();
    this.#onClose();
  }

  /** Waits `ms`, or less if the gate closes meanwhile, so a slow arrival rate cannot hold the run past its end. */
  sleep(ms: number): Promise<void> {
    if (!this.#open) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }
}
