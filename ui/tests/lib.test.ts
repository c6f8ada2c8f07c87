import { describe, expect, it } from "vitest";
import type { Citation } from "../src/api";
import { citationLabel, segmentAnswer } from "../src/lib/citations";
import { itemsToHighlight, words } from "../src/lib/highlight";
import { applyEvent, documentState, formatEta, startProgress } from "../src/lib/progress";

const citation = (n: number, page: number): Citation => ({
  n,
  chunk_id: n * 10,
  document_id: 1,
  file: "/docs/travel policy.pdf",
  title: "travel policy",
  page,
  char_start: 0,
  char_end: 10,
  snippet: "",
  score: 0.5,
});

describe("segmentAnswer", () => {
  it("splits text and markers, keeping unknown markers visible", () => {
    const segments = segmentAnswer("Meals cost 45 EUR [1]. Hotels [2][9].", [citation(1, 3), citation(2, 4)]);
    expect(segments.map((s) => (s.kind === "text" ? s.text : `#${s.n}`))).toEqual([
      "Meals cost 45 EUR ",
      "#1",
      ". Hotels ",
      "#2",
      "#9",
      ".",
    ]);
    const unknown = segments.find((s) => s.kind === "citation" && s.n === 9);
    expect(unknown).toMatchObject({ citation: null });
    expect(segments[1]).toMatchObject({ citation: { page: 3 } });
  });

  it("leaves text without markers whole and names citations by file and page", () => {
    expect(segmentAnswer("No markers here.", [])).toEqual([{ kind: "text", text: "No markers here." }]);
    expect(citationLabel(citation(1, 12))).toBe("travel policy.pdf, p. 12");
  });
});

describe("itemsToHighlight", () => {
  const items = [
    "Chapter 3",
    "Travel within the EU",
    "The daily meal allow-",
    "ance within the European Union is 45 EUR per",
    "day for all staff.",
    "Hotels are booked by the office.",
  ];

  it("finds the run of items holding the passage despite hyphenation", () => {
    const passage = "The daily meal allowance within the European Union is 45 EUR per day for all staff.";
    expect(itemsToHighlight(items, passage)).toEqual([2, 3, 4]);
  });

  it("highlights nothing for a passage that is not on the page", () => {
    expect(itemsToHighlight(items, "Quarterly revenue grew by twelve percent in Asia")).toEqual([]);
    expect(itemsToHighlight(items, "")).toEqual([]);
  });

  it("compares words case- and ligature-insensitively", () => {
    expect(words("Eﬃcient ﬁling, 2024!")).toEqual(["efficient", "filing", "2024"]);
  });
});

describe("ingest progress", () => {
  it("counts files and pages and tells rate and ETA", () => {
    let p = startProgress(0);
    p = applyEvent(p, { event: "discovered", files: 4, skipped_non_pdf: 1 }, 0);
    p = applyEvent(p, { event: "file_started", file: "/a.pdf" }, 500);
    expect(p.outcomes).toEqual([{ file: "/a.pdf", state: "extracting" }]);
    p = applyEvent(p, { event: "file_finished", report: { file: "/a.pdf", outcome: "indexed", pages: 10 } }, 1000);
    p = applyEvent(p, { event: "file_finished", report: { file: "/b.pdf", outcome: "encrypted", pages: 0 } }, 2000);
    expect(p.finished).toBe(2);
    expect(p.pages).toBe(10);
    expect(p.rate).toBeCloseTo(1.0);
    expect(p.etaSeconds).toBeCloseTo(2.0);
    expect(p.outcomes.map((o) => o.outcome)).toEqual(["indexed", "encrypted"]);
    p = applyEvent(p, { event: "embedded", chunks: 64, waiting: 100 }, 2500);
    expect([p.embedded, p.waiting]).toEqual([64, 100]);
  });

  it("formats ETAs and document states", () => {
    expect(formatEta(null)).toBe("");
    expect(formatEta(12.2)).toBe("13 s left");
    expect(formatEta(125)).toBe("2 min 5 s left");
    expect(documentState({ status: "searchable", chunks: 10, chunks_embedded: 3 })).toBe("embedding");
    expect(documentState({ status: "indexed", chunks: 10, chunks_embedded: 10 })).toBe("indexed");
    expect(documentState({ status: "encrypted", chunks: 0, chunks_embedded: 0 })).toBe("encrypted");
  });
});

describe("installStreamIteration", () => {
  it("makes a ReadableStream iterable with for await, as pdf.js expects", async () => {
    const { installStreamIteration } = await import("../src/lib/polyfills");
    const proto = ReadableStream.prototype as unknown as Record<symbol, unknown>;
    const native = proto[Symbol.asyncIterator];
    delete proto[Symbol.asyncIterator];
    try {
      installStreamIteration();
      const stream = new ReadableStream<number>({
        start(controller) {
          [1, 2, 3].forEach((n) => controller.enqueue(n));
          controller.close();
        },
      });
      const seen: number[] = [];
      for await (const n of stream as unknown as AsyncIterable<number>) seen.push(n);
      expect(seen).toEqual([1, 2, 3]);
      expect(stream.locked).toBe(false);
    } finally {
      if (native) proto[Symbol.asyncIterator] = native;
    }
  });
});
