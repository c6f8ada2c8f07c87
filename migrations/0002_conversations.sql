-- Conversations with the assistant. Citations are stored with the file, page, span and
-- snippet they pointed at, so a conversation stays readable after a document is removed.

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL,
    scope       TEXT    NOT NULL DEFAULT '[]',  -- JSON array of document ids; empty = whole library
    created_at  INTEGER NOT NULL,               -- unix seconds
    updated_at  INTEGER NOT NULL
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL,           -- user | assistant
    content         TEXT    NOT NULL,
    citations       TEXT    NOT NULL DEFAULT '[]',  -- JSON array of citations (assistant turns)
    model           TEXT,
    abstained       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
