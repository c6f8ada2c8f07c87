// The only module that talks to the shell: one typed wrapper per Tauri command. Types mirror
// the Rust structs the commands return (serde field names).
import { Channel, invoke } from "@tauri-apps/api/core";

export type DocStatus =
  | "extracted"
  | "searchable"
  | "indexed"
  | "removing"
  | "encrypted"
  | "no_text_layer"
  | "damaged"
  | "too_large"
  | "timed_out"
  | string;

export interface Document {
  id: number;
  file: string;
  sha256: string;
  title: string;
  /** What the document's running headers/footers say ("Apple Inc. | Q2 2023 Form 10-Q"); may be empty. */
  running_title: string;
  pages: number;
  size_bytes: number;
  mtime_ns: number;
  status: DocStatus;
  extractor: string;
  pages_without_text: number;
  warnings: string[];
  chunks: number;
  chunks_embedded: number;
}

export type Outcome =
  | { outcome: "indexed" | "updated" | "unchanged" | "encrypted" | "no_text_layer" | "timed_out" | "not_pdf" }
  | { outcome: "duplicate"; of: string }
  | { outcome: "damaged"; reason: string }
  | { outcome: "too_large"; bytes: number; limit: number }
  | { outcome: "unreadable"; reason: string };

export interface FileReport {
  file: string;
  pages?: number;
  chunks?: number;
  extractor?: string | null;
  [key: string]: unknown;
}

export type IngestEvent =
  | { event: "discovered"; files: number; skipped_non_pdf: number }
  | { event: "file_started"; file: string }
  | { event: "file_finished"; report: FileReport & Outcome }
  | { event: "embedded"; chunks: number; waiting: number }
  | { event: "warning"; message: string };

export interface AddReport {
  files: (FileReport & Outcome)[];
  skipped_non_pdf: number;
  pages_extracted: number;
  chunks_embedded: number;
  chunks_waiting_for_vectors: number;
  total_seconds: number;
}

/** Where a passage is: document, 1-based page, char span in the page text (`ChunkRecord`). */
export interface Passage {
  chunk_id: number;
  document_id: number;
  file: string;
  title: string;
  page: number;
  char_start: number;
  char_end: number;
}

export interface Citation extends Passage {
  n: number;
  snippet: string;
  score: number;
}

export type AnswerEvent =
  | { event: "sources"; sources: Citation[] }
  | { event: "token"; text: string }
  // The default model gave no answer; the larger one answers again (sources and tokens follow).
  | { event: "retry"; model: string; reason: string };

export interface Answer {
  question: string;
  text: string;
  citations: Citation[];
  sources: Citation[];
  closest: Citation[];
  abstained: boolean;
  abstain_reason: string | null;
  /** The model's text when Folio withdrew it: its figures are in none of the sources. */
  withheld: string | null;
  invalid_markers: number[];
  citations_attributed: boolean;
  cancelled: boolean;
  model: string;
  route: { large: boolean; reason: string } | null;
  prompt_tokens: number;
  completion_tokens: number;
  timings: {
    model_load_ms: number;
    retrieval_ms: number;
    time_to_first_token_ms: number;
    decode_tokens_per_second: number;
    total_ms: number;
  };
}

export interface AskResult {
  conversationId: number;
  answer: Answer;
}

export interface Conversation {
  id: number;
  title: string;
  scope: number[];
  created_at: number;
  updated_at: number;
  messages: number;
}

export interface StoredMessage {
  id: number;
  role: "user" | "assistant";
  content: string;
  citations: Citation[];
  model: string | null;
  abstained: boolean;
  created_at: number;
}

export interface InstalledModel {
  name: string;
  path: string;
  architecture: string;
  quantization: string;
  parameters: number | null;
  file_bytes: number;
  context_length: number | null;
  is_default: boolean;
  is_large: boolean;
  supported: boolean;
  estimated_ram: number;
  fit: "fits" | "tight" | "too_large" | "unknown";
}

export type SearchMode = "hybrid" | "keyword" | "vector";

export interface RetrievalSettings {
  sources: number;
  mode: SearchMode;
}

export interface AppInfo {
  version: string;
  library_dir: string;
  /** FOLIO_HOME sets the library folder, so the settings cannot change it. */
  library_dir_from_env: boolean;
  models_dir: string;
  watched_folders: string[];
}

export interface SearchHit extends Passage {
  text: string;
  score: number;
  highlights: [number, number][];
}

export interface SearchResults {
  hits: SearchHit[];
  mode: SearchMode;
  chunks_without_vectors: number;
  warnings: string[];
}

/** Errors from the shell: a stable code and a message for people. */
export interface ShellError {
  code: string;
  message: string;
}

export function isShellError(value: unknown): value is ShellError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ShellError).code === "string" &&
    typeof (value as ShellError).message === "string"
  );
}

/** A message for any rejection (shell errors carry one; anything else is stringified). */
export function errorMessage(error: unknown): string {
  return isShellError(error) ? error.message : String(error);
}

export const appInfo = () => invoke<AppInfo>("app_info");

export const listDocuments = () => invoke<Document[]>("list_documents");

export function addPaths(
  paths: string[],
  onEvent: (event: IngestEvent) => void,
  password?: string,
): Promise<AddReport> {
  const channel = new Channel<IngestEvent>(onEvent);
  return invoke<AddReport>("add_paths", { paths, password: password ?? null, onEvent: channel });
}

export const removeDocument = (documentId: number) =>
  invoke<void>("remove_document", { documentId });

export const reindex = () => invoke<void>("reindex");

/** `scope`: document ids to search; empty searches the whole library. */
export const search = (query: string, scope: number[]) =>
  invoke<SearchResults>("search", { query, scope });

export interface AskRequest {
  requestId: number;
  question: string;
  conversationId: number | null;
  /** Documents a new conversation answers from (empty: the whole library); a continued one keeps its own. */
  scope: number[];
  model: string | null;
}

export function ask(request: AskRequest, onEvent: (event: AnswerEvent) => void): Promise<AskResult> {
  const channel = new Channel<AnswerEvent>(onEvent);
  return invoke<AskResult>("ask", { request, onEvent: channel });
}

export const cancelAnswer = (requestId: number) => invoke<boolean>("cancel_answer", { requestId });

export const listConversations = () => invoke<Conversation[]>("list_conversations");

export const conversationMessages = (conversationId: number) =>
  invoke<StoredMessage[]>("conversation_messages", { conversationId });

export const renameConversation = (conversationId: number, title: string) =>
  invoke<void>("rename_conversation", { conversationId, title });

export const deleteConversation = (conversationId: number) =>
  invoke<void>("delete_conversation", { conversationId });

export const exportConversation = (conversationId: number, path: string) =>
  invoke<void>("export_conversation", { conversationId, path });

export const listModels = () => invoke<InstalledModel[]>("list_models");

/** What a folder holds: a Folio library, nothing yet, or other files. */
export type FolderUse = "library" | "empty" | "occupied";

export const inspectLibraryFolder = (path: string) => invoke<FolderUse>("inspect_library_folder", { path });

/** Makes `path` the library folder (copying the library there when `moveLibrary`); the app then restarts on it. */
export const changeLibraryFolder = (path: string, moveLibrary: boolean) =>
  invoke<void>("change_library_folder", { change: { path, moveLibrary } });

export const importModel = (path: string) => invoke<InstalledModel>("import_model", { path });

export const setModelRole = (name: string, role: "default" | "large") =>
  invoke<unknown>("set_model_role", { name, role });

export const retrievalSettings = () => invoke<RetrievalSettings>("retrieval_settings");

export const setRetrievalSettings = (settings: RetrievalSettings) =>
  invoke<void>("set_retrieval_settings", { settings });

/** The PDF's bytes (only documents in the library are served). */
export async function documentPdf(documentId: number): Promise<Uint8Array> {
  const bytes = await invoke<ArrayBuffer | number[]>("document_pdf", { documentId });
  return bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : Uint8Array.from(bytes);
}
