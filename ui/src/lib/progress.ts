// Ingest progress as the library panel shows it: per file and overall, with rate and ETA.
import type { IngestEvent } from "../api";

export interface FileProgress {
  file: string;
  state: "queued" | "extracting" | "done";
  outcome?: string;
  pages?: number;
}

export interface IngestProgress {
  files: number;
  finished: number;
  pages: number;
  current: string | null;
  embedded: number;
  waiting: number;
  warnings: string[];
  outcomes: FileProgress[];
  startedAt: number;
  /** Files per second so far. */
  rate: number;
  /** Seconds until every file is read, when it can be told. */
  etaSeconds: number | null;
}

export function startProgress(now: number): IngestProgress {
  return {
    files: 0,
    finished: 0,
    pages: 0,
    current: null,
    embedded: 0,
    waiting: 0,
    warnings: [],
    outcomes: [],
    startedAt: now,
    rate: 0,
    etaSeconds: null,
  };
}

/** The progress after one event (a new object; the old one is left unchanged). */
export function applyEvent(progress: IngestProgress, event: IngestEvent, now: number): IngestProgress {
  const next = { ...progress, outcomes: progress.outcomes };
  switch (event.event) {
    case "discovered":
      next.files = event.files;
      break;
    case "file_started":
      next.current = event.file;
      next.outcomes = [...progress.outcomes, { file: event.file, state: "extracting" }];
      break;
    case "file_finished": {
      const report = event.report;
      next.finished = progress.finished + 1;
      next.pages = progress.pages + (report.pages ?? 0);
      next.current = null;
      const done: FileProgress = {
        file: report.file,
        state: "done",
        outcome: report.outcome,
        pages: report.pages,
      };
      const at = progress.outcomes.findIndex((o) => o.file === report.file && o.state !== "done");
      next.outcomes =
        at >= 0
          ? progress.outcomes.map((o, i) => (i === at ? done : o))
          : [...progress.outcomes, done];
      break;
    }
    case "embedded":
      next.embedded = event.chunks;
      next.waiting = event.waiting;
      break;
    case "warning":
      next.warnings = [...progress.warnings, event.message];
      break;
  }
  const seconds = Math.max((now - progress.startedAt) / 1000, 0.001);
  next.rate = next.finished / seconds;
  next.etaSeconds =
    next.finished > 0 && next.files > next.finished ? (next.files - next.finished) / next.rate : null;
  return next;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.ceil(seconds - minutes * 60)} s left`;
}

/** The state a document row shows. */
export function documentState(doc: { status: string; chunks: number; chunks_embedded: number }): string {
  if (doc.status === "searchable" || (doc.status === "indexed" && doc.chunks_embedded < doc.chunks)) {
    return "embedding";
  }
  if (doc.status === "extracted") return "indexing";
  return doc.status;
}
