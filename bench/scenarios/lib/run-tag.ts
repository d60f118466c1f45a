/** How a repeated run is named in the scenario's tables: ` (run 2)` after its rate or label, nothing for a single run. */
export const runTag = (x: { repeat?: number }): string => (x.repeat === undefined ? '' : ` (run ${x.repeat})`);
