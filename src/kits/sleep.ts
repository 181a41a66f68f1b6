// Waiting without a runtime API: a timer promise (Bun.sleep and Deno's std delay are the same thing).
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
