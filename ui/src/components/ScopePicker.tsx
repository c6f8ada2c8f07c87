// Which documents a new conversation answers from: the whole library, or any set of documents.
// A continued conversation keeps the scope it began with, so the picker then only shows it.
import { useRef } from "preact/hooks";
import type { Document } from "../api";
import { visible } from "../lib/text";

interface Props {
  documents: Document[];
  /** Selected document ids; empty means the whole library. */
  scope: number[];
  onScope: (scope: number[]) => void;
  locked: boolean;
}

/** "Whole library", the one document's title, or "n documents". */
export function scopeLabel(scope: number[], documents: Document[]): string {
  if (scope.length === 0) return "Whole library";
  if (scope.length === 1) {
    const only = documents.find((d) => d.id === scope[0]);
    return only ? visible(only.title) : "1 document";
  }
  return `${scope.length} documents`;
}

export function ScopePicker({ documents, scope, onScope, locked }: Props) {
  const details = useRef<HTMLDetailsElement>(null);
  const label = scopeLabel(scope, documents);
  if (locked) {
    return <span class="scope-picker locked" title="A conversation keeps the documents it began with">In: {label}</span>;
  }
  const toggle = (id: number, on: boolean) =>
    onScope(on ? [...scope, id] : scope.filter((s) => s !== id));
  return (
    <details
      class="scope-picker"
      ref={details}
      onKeyDown={(e) => {
        if (e.key === "Escape" && details.current?.open) {
          e.preventDefault();
          details.current.open = false;
          details.current.querySelector("summary")?.focus();
        }
      }}
    >
      <summary aria-label={`Search in: ${label}`}>In: {label}</summary>
      <fieldset>
        <legend>Answer from</legend>
        <label>
          <input type="checkbox" checked={scope.length === 0} onChange={() => onScope([])} />
          Whole library
        </label>
        {documents.map((d) => (
          <label key={d.id}>
            <input
              type="checkbox"
              checked={scope.includes(d.id)}
              onChange={(e) => toggle(d.id, e.currentTarget.checked)}
            />
            {visible(d.title)}
          </label>
        ))}
      </fieldset>
    </details>
  );
}
