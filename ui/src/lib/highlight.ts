// Finds the cited passage among the text pieces pdf.js lays over a page. Folio's page text
// (pdf-extract, normalised) and pdf.js's text items differ in spacing, hyphenation and
// ligatures, so the match is by words: the run of items that covers most of the passage's
// words wins.

const WORD = /[\p{L}\p{N}]+/gu;

export function words(text: string): string[] {
  return (text.normalize("NFKC").toLowerCase().match(WORD) ?? []).filter((w) => w.length > 1);
}

/**
 * Indexes of the text items to highlight for `passage`: the contiguous run of items whose
 * words best cover the passage's words (at least `minCoverage` of them), or none.
 */
export function itemsToHighlight(items: string[], passage: string, minCoverage = 0.5): number[] {
  const wanted = new Set(words(passage));
  if (wanted.size === 0) return [];
  const itemWords = items.map((item) => words(item));
  let best: { start: number; end: number; score: number } | null = null;
  for (let start = 0; start < items.length; start++) {
    if (!itemWords[start].some((w) => wanted.has(w))) continue;
    const covered = new Set<string>();
    let misses = 0;
    for (let end = start; end < items.length; end++) {
      const ws = itemWords[end];
      const hits = ws.filter((w) => wanted.has(w));
      hits.forEach((w) => covered.add(w));
      misses += ws.length - hits.length;
      // A run stops being the passage once it holds more foreign words than passage words.
      if (misses > covered.size + 4) break;
      const score = covered.size - misses * 0.5;
      if (!best || score > best.score) best = { start, end, score };
    }
  }
  if (!best) return [];
  const covered = new Set(itemWords.slice(best.start, best.end + 1).flat().filter((w) => wanted.has(w)));
  if (covered.size / wanted.size < minCoverage) return [];
  const run: number[] = [];
  for (let i = best.start; i <= best.end; i++) if (itemWords[i].length > 0) run.push(i);
  return run;
}
