export { compareNewestFirst as compareSemverDesc } from "../api/version.ts"; // moved: import from src/api/version.ts (compareNewestFirst)
