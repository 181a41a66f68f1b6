// Just enough XML for the flat documents S3, STS and Azure answer with (errors, upload ids, credentials). Inputs
// are bounded by the caller (readBoundedText); values are entity-decoded and checked by the caller, never trusted.

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] !== "#") return ENTITIES[e] ?? "";
    const code = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : "";
  });
}

const escapeTag = (tag: string) => tag.replace(/[^A-Za-z0-9_.:-]/g, "");

/** Text content of every `<tag>` element (no nested elements expected inside). */
export function xmlTexts(xml: string, tag: string): string[] {
  const t = escapeTag(tag);
  const re = new RegExp(`<${t}(?:\\s[^>]*)?>([^<]*)</${t}>`, "g");
  return [...xml.matchAll(re)].map((m) => decode((m[1] ?? "").trim()));
}

/** Text content of the first `<tag>` element, if any. */
export function xmlText(xml: string, tag: string): string | undefined {
  return xmlTexts(xml, tag)[0];
}

/** Raw inner XML of every `<tag>…</tag>` block (for lists such as S3 `<Upload>` entries). */
export function xmlBlocks(xml: string, tag: string): string[] {
  const t = escapeTag(tag);
  const re = new RegExp(`<${t}(?:\\s[^>]*)?>([\\s\\S]*?)</${t}>`, "g");
  return [...xml.matchAll(re)].map((m) => m[1] ?? "");
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`);
}
