// The library panel: import (drop, pickers, a path field), live ingest progress, and every
// document with its state, pages and chunks.
import { useState } from "preact/hooks";
import { open } from "@tauri-apps/plugin-dialog";
import type { Document } from "../api";
import { documentState, formatEta, type IngestProgress } from "../lib/progress";
import { fileName, visible } from "../lib/text";

interface Props {
  documents: Document[];
  progress: IngestProgress | null;
  busy: boolean;
  onAdd: (paths: string[], password?: string) => void;
  onRemove: (doc: Document) => void;
  onReindex: () => void;
}

const STATE_LABELS: Record<string, string> = {
  indexed: "Indexed",
  embedding: "Embedding",
  indexing: "Indexing",
  removing: "Removing",
  encrypted: "Encrypted — password needed",
  no_text_layer: "No text layer (scanned)",
  damaged: "Damaged",
  too_large: "Too large",
  timed_out: "Timed out",
};

export function Library({ documents, progress, busy, onAdd, onRemove, onReindex }: Props) {
  const [path, setPath] = useState("");
  const [passwordFor, setPasswordFor] = useState<Document | null>(null);
  const [password, setPassword] = useState("");

  const pick = async (directory: boolean) => {
    const chosen = await open({ directory, multiple: true, filters: directory ? undefined : [{ name: "PDF", extensions: ["pdf"] }] });
    const paths = chosen === null ? [] : Array.isArray(chosen) ? chosen : [chosen];
    if (paths.length) onAdd(paths);
  };

  return (
    <section class="library" aria-labelledby="library-title">
      <h2 id="library-title">Library</h2>
      <div class="drop-hint">
        <p>Drop PDFs or folders anywhere on this window, or:</p>
        <div class="row">
          <button type="button" onClick={() => pick(false)}>Add files…</button>
          <button type="button" onClick={() => pick(true)}>Add folder…</button>
          <button type="button" onClick={onReindex} disabled={busy}>Rebuild indexes</button>
        </div>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (path.trim()) onAdd([path.trim()]);
            setPath("");
          }}
        >
          <label for="add-path">Add by path</label>
          <input id="add-path" value={path} onInput={(e) => setPath(e.currentTarget.value)} placeholder="/home/me/Documents/report.pdf" />
          <button type="submit" id="add-path-button">Add</button>
        </form>
      </div>

      {progress && <ProgressView progress={progress} />}

      {passwordFor && (
        <form
          class="password-form"
          aria-label={`Password for ${visible(passwordFor.title)}`}
          onSubmit={(e) => {
            e.preventDefault();
            onAdd([passwordFor.file], password);
            setPasswordFor(null);
            setPassword("");
          }}
        >
          <label for="pdf-password">Password for {visible(passwordFor.title)}</label>
          <input id="pdf-password" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autoFocus />
          <button type="submit">Unlock</button>
          <button type="button" onClick={() => setPasswordFor(null)}>Cancel</button>
        </form>
      )}

      <table class="documents" aria-label="Documents">
        <thead>
          <tr>
            <th scope="col">Document</th>
            <th scope="col">State</th>
            <th scope="col">Pages</th>
            <th scope="col">Passages</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {documents.length === 0 && (
            <tr>
              <td colSpan={5} class="empty">No documents yet.</td>
            </tr>
          )}
          {documents.map((doc) => {
            const state = documentState(doc);
            return (
              <tr key={doc.id} data-state={state} data-file={doc.file}>
                <td title={visible(doc.file)}>
                  <span class="doc-title">{visible(doc.title)}</span>
                  {doc.warnings.length > 0 && <span class="warning" title={visible(doc.warnings.join("\n"))}> ⚠ {doc.warnings.length}</span>}
                </td>
                <td class={`state state-${state}`}>
                  {STATE_LABELS[state] ?? state}
                  {state === "embedding" && ` ${Math.round((100 * doc.chunks_embedded) / Math.max(doc.chunks, 1))}%`}
                  {state === "no_text_layer" || doc.pages_without_text === 0 ? "" : ` (${doc.pages_without_text} pages without text)`}
                </td>
                <td>{doc.pages}</td>
                <td>{doc.chunks}</td>
                <td class="actions">
                  {state === "encrypted" && (
                    <button type="button" onClick={() => setPasswordFor(doc)}>Unlock…</button>
                  )}
                  <button type="button" onClick={() => onRemove(doc)} aria-label={`Remove ${visible(doc.title)}`}>Remove</button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function ProgressView({ progress }: { progress: IngestProgress }) {
  const fraction = progress.files ? progress.finished / progress.files : 0;
  return (
    <div class="progress" role="status" aria-live="polite">
      <div class="row">
        <progress max={1} value={fraction} aria-label="Files read" />
        <span>
          {progress.finished} / {progress.files} files · {progress.pages} pages · {progress.rate.toFixed(1)} files/s{" "}
          {formatEta(progress.etaSeconds)}
        </span>
      </div>
      {progress.current && <p class="current">Reading {fileName(progress.current)}</p>}
      {(progress.embedded > 0 || progress.waiting > 0) && (
        <p>
          Vectors: {progress.embedded} computed, {progress.waiting} waiting (keyword search works meanwhile)
        </p>
      )}
      {progress.warnings.map((w) => (
        <p class="warning" key={w}>{visible(w)}</p>
      ))}
      <ul class="outcomes">
        {progress.outcomes.slice(-8).map((o) => (
          <li key={o.file} data-outcome={o.outcome ?? o.state}>
            {fileName(o.file)} — {o.outcome?.replace(/_/g, " ") ?? "reading…"}
            {o.pages ? ` (${o.pages} pages)` : ""}
          </li>
        ))}
      </ul>
    </div>
  );
}
