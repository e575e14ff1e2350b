/** Prints one benchmark figure with its same-run baseline, ratio and goal (bench/run.ts's `report`). */
export type Report = (
  name: string,
  value: string,
  baseline: string,
  ratio: string,
  goal: string,
  ok: boolean,
) => void;
