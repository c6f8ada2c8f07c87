// Splits an answer into text and `[n]` citation markers, so markers can become chips.
import type { Citation } from "../api";
import { fileName } from "./text";

export type Segment =
  | { kind: "text"; text: string }
  | { kind: "citation"; n: number; citation: Citation | null };

const MARKER = /\[(\d{1,3})\]/g;

/** Text and markers in order; a marker with no matching source keeps `citation: null`. */
export function segmentAnswer(text: string, citations: Citation[]): Segment[] {
  const byNumber = new Map(citations.map((c) => [c.n, c]));
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const at = match.index ?? 0;
    if (at > last) segments.push({ kind: "text", text: text.slice(last, at) });
    const n = Number(match[1]);
    segments.push({ kind: "citation", n, citation: byNumber.get(n) ?? null });
    last = at + match[0].length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

/** `file.pdf, p. 12` — how a citation is named on a chip and in lists. */
export function citationLabel(citation: Citation): string {
  return `${fileName(citation.file)}, p. ${citation.page}`;
}
