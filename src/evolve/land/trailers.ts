/** The `Moss-Models` trailer value: `role=model` pairs. */
export const modelsTrailer = (models: Record<string, string>) =>
  Object.entries(models)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
