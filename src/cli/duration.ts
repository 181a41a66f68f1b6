export { parseDuration } from "../kits/duration.ts"; // moved: import from src/kits/duration.ts
