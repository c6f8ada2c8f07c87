// The chat: messages with clickable citation chips, a composer with Stop, and the sources
// behind the latest answer.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Citation, Document } from "../api";
import { citationLabel, segmentAnswer } from "../lib/citations";
import { visible } from "../lib/text";
import { ScopePicker } from "./ScopePicker";

export interface ChatMessage {
  role: "user" | "assistant";
  text: string;
  citations: Citation[];
  sources: Citation[];
  closest: Citation[];
  abstained: boolean;
  streaming: boolean;
  model?: string;
  note?: string;
  error?: string;
}

/** An assistant message with nothing in it yet, changed by `overrides`. */
export function assistantMessage(overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    role: "assistant",
    text: "",
    citations: [],
    sources: [],
    closest: [],
    abstained: false,
    streaming: false,
    ...overrides,
  };
}

interface Props {
  messages: ChatMessage[];
  documents: Document[];
  scope: number[];
  onScope: (scope: number[]) => void;
  scopeLocked: boolean;
  answering: boolean;
  onAsk: (question: string) => void;
  onStop: () => void;
  onOpenCitation: (citation: Citation) => void;
}

export function Chat(props: Props) {
  const { messages, answering, onAsk, onStop, onOpenCitation } = props;
  const [question, setQuestion] = useState("");
  const endRef = useRef<HTMLDivElement>(null);
  useEffect(() => endRef.current?.scrollIntoView({ block: "end" }), [messages]);

  const submit = () => {
    if (!question.trim() || answering) return;
    onAsk(question);
    setQuestion("");
  };
  const last = [...messages].reverse().find((m) => m.role === "assistant");

  return (
    <section class="chat" aria-label="Chat">
      <div class="messages" role="log" aria-live="polite" aria-relevant="additions text">
        {messages.length === 0 && (
          <p class="empty">Ask a question about your documents. Every answer cites the page it comes from.</p>
        )}
        {messages.map((m, i) => (
          <article key={i} class={`message ${m.role}`} aria-busy={m.streaming}>
            {m.role === "user" ? (
              <p>{visible(m.text)}</p>
            ) : (
              <AssistantMessage message={m} onOpenCitation={onOpenCitation} />
            )}
          </article>
        ))}
        <div ref={endRef} />
      </div>
      {last && !last.streaming && <Sources message={last} onOpenCitation={onOpenCitation} />}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <ScopePicker documents={props.documents} scope={props.scope} onScope={props.onScope} locked={props.scopeLocked} />
        <label for="question" class="sr-only">Question</label>
        <textarea
          id="question"
          rows={2}
          value={question}
          placeholder="Ask about your documents (Enter to send, Shift+Enter for a new line)"
          onInput={(e) => setQuestion(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
        />
        {answering ? (
          <button type="button" id="stop" onClick={onStop}>Stop</button>
        ) : (
          <button type="submit" id="ask" disabled={!question.trim()}>Ask</button>
        )}
      </form>
    </section>
  );
}

function AssistantMessage({ message, onOpenCitation }: { message: ChatMessage; onOpenCitation: (c: Citation) => void }) {
  if (message.error) return <p class="error" role="alert">{visible(message.error)}</p>;
  if (message.abstained) {
    return (
      <div class="abstained">
        <p class="not-found">Not found in your documents.</p>
        <p>{visible(message.text)}</p>
        {message.note && <p class="note">{visible(message.note)}</p>}
        {message.closest.length > 0 && <CitationList title="Closest passages" citations={message.closest} onOpenCitation={onOpenCitation} />}
      </div>
    );
  }
  const segments = segmentAnswer(message.text, message.streaming ? message.sources : message.citations.length ? message.citations : message.sources);
  return (
    <div>
      <p class="answer-text">
        {segments.map((s, i) =>
          s.kind === "text" ? (
            visible(s.text)
          ) : s.citation ? (
            <button
              type="button"
              key={i}
              class="chip"
              data-page={s.citation.page}
              title={`${visible(s.citation.title)} — ${citationLabel(s.citation)}`}
              aria-label={`Source ${s.n}: ${citationLabel(s.citation)}`}
              onClick={() => s.citation && onOpenCitation(s.citation)}
            >
              {s.n}
            </button>
          ) : (
            <span key={i} class="chip invalid" title="This marker matches no source">{s.n}</span>
          ),
        )}
        {message.streaming && <span class="cursor" aria-hidden="true">▍</span>}
      </p>
      {message.note && <p class="note">{visible(message.note)}</p>}
      {message.model && !message.streaming && <p class="meta">Answered by {visible(message.model)}</p>}
    </div>
  );
}

function Sources({ message, onOpenCitation }: { message: ChatMessage; onOpenCitation: (c: Citation) => void }) {
  if (message.abstained || message.sources.length === 0) return null;
  return (
    <details class="sources" open>
      <summary>Sources behind this answer ({message.sources.length})</summary>
      <CitationList citations={message.sources} onOpenCitation={onOpenCitation} />
    </details>
  );
}

function CitationList({ title, citations, onOpenCitation }: { title?: string; citations: Citation[]; onOpenCitation: (c: Citation) => void }) {
  return (
    <div>
      {title && <h3>{title}</h3>}
      <ol class="citation-list">
        {citations.map((c) => (
          <li key={`${c.n}-${c.chunk_id}`}>
            <button type="button" class="source" onClick={() => onOpenCitation(c)}>
              <span class="source-head">
                [{c.n}] {visible(c.title)} — {citationLabel(c)} <span class="score">score {c.score.toFixed(3)}</span>
              </span>
              <span class="snippet">{visible(c.snippet)}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}
