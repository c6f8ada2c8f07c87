// The window: conversations on the left, the chat (or library, settings, privacy) in the
// middle, the PDF viewer on the right when a citation is opened.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { listen } from "@tauri-apps/api/event";
import { save } from "@tauri-apps/plugin-dialog";
import * as api from "./api";
import { assistantMessage, Chat, type ChatMessage } from "./components/Chat";
import { Library } from "./components/Library";
import { Privacy, Settings } from "./components/Settings";
import { Viewer } from "./components/Viewer";
import { applyEvent, startProgress, type IngestProgress } from "./lib/progress";
import { visible } from "./lib/text";

type View = "chat" | "library" | "settings" | "privacy";

function fromStored(m: api.StoredMessage): ChatMessage {
  return assistantMessage({
    role: m.role,
    text: m.content,
    citations: m.citations,
    sources: m.citations,
    abstained: m.abstained,
    model: m.model ?? undefined,
  });
}

export function App() {
  const [view, setView] = useState<View>("chat");
  const [info, setInfo] = useState<api.AppInfo | null>(null);
  const [documents, setDocuments] = useState<api.Document[]>([]);
  const [conversations, setConversations] = useState<api.Conversation[]>([]);
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [scope, setScope] = useState<number[]>([]);
  const [answering, setAnswering] = useState<number | null>(null);
  const [progress, setProgress] = useState<IngestProgress | null>(null);
  const [ingesting, setIngesting] = useState(0);
  const [dropping, setDropping] = useState(false);
  const [opened, setOpened] = useState<api.Citation | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<number | null>(null);
  const nextRequest = useRef(1);

  const fail = useCallback((message: string) => setNotice(message), []);
  const refreshDocuments = useCallback(
    () => api.listDocuments().then(setDocuments).catch((e) => fail(api.errorMessage(e))),
    [fail],
  );
  const refreshConversations = useCallback(
    () => api.listConversations().then(setConversations).catch((e) => fail(api.errorMessage(e))),
    [fail],
  );

  const addPaths = useCallback(
    async (paths: string[], password?: string) => {
      setView("library");
      setIngesting((n) => n + 1);
      setProgress((p) => p ?? startProgress(Date.now()));
      try {
        await api.addPaths(
          paths,
          (event) => {
            setProgress((p) => applyEvent(p ?? startProgress(Date.now()), event, Date.now()));
            if (event.event === "file_finished" || event.event === "embedded") refreshDocuments();
          },
          password,
        );
        api.appInfo().then(setInfo).catch(() => undefined);
      } catch (e) {
        fail(api.errorMessage(e));
      } finally {
        setIngesting((n) => n - 1);
        refreshDocuments();
      }
    },
    [fail, refreshDocuments],
  );

  useEffect(() => {
    api.appInfo().then(setInfo).catch((e) => fail(api.errorMessage(e)));
    refreshDocuments();
    refreshConversations();
    const unlisteners = [
      getCurrentWebview().onDragDropEvent((event) => {
        const payload = event.payload;
        if (payload.type === "enter" || payload.type === "over") setDropping(true);
        else if (payload.type === "leave") setDropping(false);
        else if (payload.type === "drop") {
          setDropping(false);
          if (payload.paths.length) addPaths(payload.paths);
        }
      }),
      listen<{ folder: string; error: string | null }>("folder-synced", (event) => {
        if (event.payload.error) fail(event.payload.error);
        refreshDocuments();
      }),
    ];
    // The CLI may have changed the library while the user was in a terminal.
    const onFocus = () => {
      refreshDocuments();
      refreshConversations();
    };
    window.addEventListener("focus", onFocus);
    return () => {
      window.removeEventListener("focus", onFocus);
      unlisteners.forEach((u) => u.then((f) => f()).catch(() => undefined));
    };
  }, []);

  const openConversation = async (id: number | null) => {
    setConversationId(id);
    setOpened(null);
    setView("chat");
    if (id === null) {
      setMessages([]);
      setScope([]);
      return;
    }
    const conversation = conversations.find((c) => c.id === id);
    setScope(conversation?.scope ?? []);
    api.conversationMessages(id).then((ms) => setMessages(ms.map(fromStored))).catch((e) => fail(api.errorMessage(e)));
  };

  const ask = async (question: string) => {
    const requestId = nextRequest.current++;
    setAnswering(requestId);
    const pending = assistantMessage({ streaming: true });
    setMessages((ms) => [...ms, assistantMessage({ role: "user", text: question }), pending]);
    const updateLast = (change: (m: ChatMessage) => ChatMessage) =>
      setMessages((ms) => ms.map((m, i) => (i === ms.length - 1 ? change(m) : m)));
    try {
      const result = await api.ask({ requestId, question, conversationId, scope, model: null }, (event) => {
        if (event.event === "sources") updateLast((m) => ({ ...m, sources: event.sources }));
        else if (event.event === "retry") updateLast((m) => ({ ...m, text: "", sources: [], model: event.model }));
        else updateLast((m) => ({ ...m, text: m.text + event.text }));
      });
      const a = result.answer;
      updateLast(() => assistantMessage({
        text: a.text,
        citations: a.citations,
        sources: a.sources,
        closest: a.closest,
        abstained: a.abstained,
        model: a.model,
        note: a.cancelled
          ? "Stopped."
          : a.withheld
            ? "The model's answer was withdrawn: none of its figures is in the passages it was given."
            : a.citations_attributed
            ? "The model wrote no citation markers; Folio matched each sentence to the passage it comes from."
            : undefined,
      }));
      setConversationId(result.conversationId);
      refreshConversations();
    } catch (e) {
      updateLast((m) => ({ ...m, streaming: false, error: api.errorMessage(e) }));
    } finally {
      setAnswering(null);
    }
  };

  const exportConversation = async (id: number) => {
    const path = await save({ defaultPath: "conversation.md", filters: [{ name: "Markdown", extensions: ["md"] }] });
    if (path) api.exportConversation(id, path).catch((e) => fail(api.errorMessage(e)));
  };

  return (
    <div class={`app ${opened ? "with-viewer" : ""}`}>
      <aside class="sidebar" aria-label="Conversations and navigation">
        <h1 class="brand">Folio</h1>
        <nav class="views" aria-label="Views">
          {(["chat", "library", "settings", "privacy"] as View[]).map((v) => (
            <button type="button" key={v} aria-current={view === v ? "page" : undefined} onClick={() => setView(v)} id={`nav-${v}`}>
              {v === "chat" ? "Chat" : v === "library" ? `Library (${documents.length})` : v === "settings" ? "Settings" : "Privacy"}
            </button>
          ))}
        </nav>
        <button type="button" class="new-chat" onClick={() => openConversation(null)}>+ New chat</button>
        <ul class="conversations" aria-label="Past conversations">
          {conversations.map((c) => (
            <li key={c.id} aria-current={c.id === conversationId ? "true" : undefined}>
              {renaming === c.id ? (
                <form
                  onSubmit={(e) => {
                    e.preventDefault();
                    const title = new FormData(e.currentTarget).get("title");
                    setRenaming(null);
                    api.renameConversation(c.id, String(title ?? "")).then(refreshConversations).catch((err) => fail(api.errorMessage(err)));
                  }}
                >
                  <input name="title" defaultValue={c.title} aria-label="New title" autoFocus onBlur={() => setRenaming(null)} />
                </form>
              ) : (
                <button type="button" class="conversation" onClick={() => openConversation(c.id)}>{visible(c.title)}</button>
              )}
              <span class="conversation-actions">
                <button type="button" onClick={() => setRenaming(c.id)} aria-label={`Rename ${visible(c.title)}`}>✎</button>
                <button type="button" onClick={() => exportConversation(c.id)} aria-label={`Export ${visible(c.title)} as Markdown`}>⇩</button>
                <button
                  type="button"
                  onClick={() =>
                    api
                      .deleteConversation(c.id)
                      .then(() => {
                        if (c.id === conversationId) openConversation(null);
                        refreshConversations();
                      })
                      .catch((err) => fail(api.errorMessage(err)))
                  }
                  aria-label={`Delete ${visible(c.title)}`}
                >
                  ✕
                </button>
              </span>
            </li>
          ))}
        </ul>
        <p class="offline" title="Folio makes no network connections">● On this device only</p>
      </aside>

      <main class="main">
        {notice && (
          <div class="notice" role="alert">
            <span>{visible(notice)}</span>
            <button type="button" onClick={() => setNotice(null)} aria-label="Dismiss">✕</button>
          </div>
        )}
        {view === "chat" && (
          <Chat
            messages={messages}
            documents={documents.filter((d) => d.chunks > 0)}
            scope={scope}
            onScope={setScope}
            scopeLocked={conversationId !== null}
            answering={answering !== null}
            onAsk={ask}
            onStop={() => answering !== null && api.cancelAnswer(answering)}
            onOpenCitation={setOpened}
          />
        )}
        {view === "library" && (
          <Library
            documents={documents}
            progress={progress}
            busy={ingesting > 0}
            onAdd={addPaths}
            onRemove={(doc) => api.removeDocument(doc.id).then(refreshDocuments).catch((e) => fail(api.errorMessage(e)))}
            onReindex={() => api.reindex().then(refreshDocuments).catch((e) => fail(api.errorMessage(e)))}
          />
        )}
        {view === "settings" && <Settings info={info} onError={fail} />}
        {view === "privacy" && <Privacy info={info} />}
      </main>

      {opened && <Viewer citation={opened} onClose={() => setOpened(null)} />}
      {dropping && (
        <div class="drop-overlay" aria-hidden="true">
          Drop PDFs or folders to add them
        </div>
      )}
    </div>
  );
}
