-- Folio catalog, first schema. The catalog is the source of truth; the tantivy and
-- LanceDB indexes are derived from it and rebuilt by `folio reindex`.

CREATE TABLE documents (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    path               TEXT    NOT NULL,
    sha256             TEXT    NOT NULL,
    title              TEXT    NOT NULL,
    page_count         INTEGER NOT NULL DEFAULT 0,
    size_bytes         INTEGER NOT NULL,
    mtime_ns           INTEGER NOT NULL,
    -- extracted | searchable | indexed | removing  (live states), or a problem:
    -- encrypted | damaged | no_text_layer | too_large | timed_out
    status             TEXT    NOT NULL,
    extractor          TEXT    NOT NULL DEFAULT '',
    pages_without_text INTEGER NOT NULL DEFAULT 0,
    warnings           TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    added_at           INTEGER NOT NULL                -- unix seconds
);
-- One live row per path; a document being removed may coexist with its replacement.
CREATE UNIQUE INDEX documents_live_path ON documents(path) WHERE status <> 'removing';
CREATE INDEX documents_sha256 ON documents(sha256);

CREATE TABLE pages (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page_number INTEGER NOT NULL,   -- 1-based physical page index
    text        TEXT    NOT NULL,   -- normalised text; chunk spans index into it
    PRIMARY KEY (document_id, page_number)
) WITHOUT ROWID;

CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page_number INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,   -- in Unicode scalar values of the page text
    char_end    INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    embedded    INTEGER NOT NULL DEFAULT 0  -- 1 once its vector is in LanceDB
);
CREATE INDEX chunks_document ON chunks(document_id);
CREATE INDEX chunks_not_embedded ON chunks(id) WHERE embedded = 0;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
