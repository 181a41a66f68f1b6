// The SHA256SUMS document of a provider version, in the format `shasum -a 256` and goreleaser write and that
// Terraform/OpenTofu parse: one `<lowercase hex>  <file name>\n` line per archive (two spaces), sorted by file name.
// The bytes must be stable: the signature served beside it is over exactly this text.

export interface ShasumsEntry {
  /** Lowercase hex SHA-256 of the archive. */
  hex: string;
  /** The archive's file name as the download metadata's `filename` reports it. */
  fileName: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
// Clients split each line on whitespace and match the name against `filename`; anything that could break that
// split, or look like a path, has no business in the document.
const FILE_NAME = /^[^\s/\\\0]+$/;

export function shasumsDocument(entries: Iterable<ShasumsEntry>): string {
  const list = [...entries];
  const seen = new Set<string>();
  for (const { hex, fileName } of list) {
    if (!HEX64.test(hex)) throw new Error(`invalid SHA-256 for ${JSON.stringify(fileName)}: expected 64 lowercase hex digits`);
    if (!FILE_NAME.test(fileName) || fileName === "." || fileName === "..") {
      throw new Error(`invalid file name for SHA256SUMS: ${JSON.stringify(fileName)}`);
    }
    if (seen.has(fileName)) throw new Error(`duplicate file name in SHA256SUMS: ${JSON.stringify(fileName)}`);
    seen.add(fileName);
  }
  // Code-unit order, not localeCompare: the result must not depend on the host's locale.
  list.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  return list.map((e) => `${e.hex}  ${e.fileName}\n`).join("");
}
