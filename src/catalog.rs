//! The SQLite catalog: documents, pages and chunks. It is the source of truth; both search
//! indexes are derived from it (see `index`), and every chunk keeps its page and char span.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, SqlitePool};

use crate::chunk::page_heading;
use crate::error::{Error, Result};

/// Where a document stands. The first four are live states of a readable document; the rest
/// record why a file could not be indexed, so the user keeps seeing it (and can retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocStatus {
    /// Text and chunks are in the catalog; not yet in the keyword index.
    Extracted,
    /// In the keyword index; some vectors are still being computed.
    Searchable,
    /// In both indexes.
    Indexed,
    /// Being removed from the indexes (finished on the next open if interrupted).
    Removing,
    Encrypted,
    Damaged,
    NoTextLayer,
    TooLarge,
    TimedOut,
}

impl DocStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Extracted => "extracted",
            DocStatus::Searchable => "searchable",
            DocStatus::Indexed => "indexed",
            DocStatus::Removing => "removing",
            DocStatus::Encrypted => "encrypted",
            DocStatus::Damaged => "damaged",
            DocStatus::NoTextLayer => "no_text_layer",
            DocStatus::TooLarge => "too_large",
            DocStatus::TimedOut => "timed_out",
        }
    }

    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            DocStatus::Extracted | DocStatus::Searchable | DocStatus::Indexed | DocStatus::Removing
        )
    }
}

impl FromStr for DocStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "extracted" => DocStatus::Extracted,
            "searchable" => DocStatus::Searchable,
            "indexed" => DocStatus::Indexed,
            "removing" => DocStatus::Removing,
            "encrypted" => DocStatus::Encrypted,
            "damaged" => DocStatus::Damaged,
            "no_text_layer" => DocStatus::NoTextLayer,
            "too_large" => DocStatus::TooLarge,
            "timed_out" => DocStatus::TimedOut,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown document status {other:?}"
                )))
            }
        })
    }
}

/// A document row as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: i64,
    pub file: String,
    pub sha256: String,
    pub title: String,
    /// What its running headers and footers say about it (see `running_lines`); may be empty.
    pub running_title: String,
    pub pages: i64,
    pub size_bytes: i64,
    pub mtime_ns: i64,
    pub status: DocStatus,
    pub extractor: String,
    pub pages_without_text: i64,
    pub warnings: Vec<String>,
    pub chunks: i64,
    pub chunks_embedded: i64,
}

/// A chunk of one page: `char_start..char_end` index the page text in Unicode scalar values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    pub page: u32,
    pub char_start: u32,
    pub char_end: u32,
    pub text: String,
}

/// Everything the catalog stores for a new document, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub file: String,
    pub sha256: String,
    pub title: String,
    /// See `running_lines`; empty when the document has no running header or footer.
    pub running_title: String,
    pub size_bytes: i64,
    pub mtime_ns: i64,
    pub status: DocStatus,
    pub extractor: String,
    pub pages: Vec<String>,
    pub pages_without_text: i64,
    pub warnings: Vec<String>,
    pub chunks: Vec<NewChunk>,
}

/// A chunk with what a search hit or citation needs to point at its passage.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkRecord {
    pub chunk_id: i64,
    pub document_id: i64,
    pub file: String,
    pub title: String,
    /// The document's running title (see `running_lines`); may be empty.
    pub running_title: String,
    pub page: i64,
    pub char_start: i64,
    pub char_end: i64,
    pub text: String,
}

/// Counts that tell whether the derived indexes match the catalog.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CatalogCounts {
    pub documents: i64,
    /// Chunks of documents that should be in the keyword index.
    pub keyword_chunks: i64,
    /// Chunks whose vector should be in LanceDB.
    pub embedded_chunks: i64,
    /// Chunks of searchable documents still waiting for their vector.
    pub pending_chunks: i64,
}

/// What a search needs to know of the library before it runs (see `Catalog::search_state`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchState {
    pub has_passages: bool,
    pub has_vectors: bool,
    /// Passages of searchable documents still wait for their vector.
    pub has_pending: bool,
}

/// What both indexes see of a chunk: its document's title and running title as a header line,
/// the headings its page opens with when it is not the page's first passage, then its text. A
/// passage rarely names its document ("net sales rose 8%") or its table ("Statements of Cash
/// Flows"), while questions do. The columns are (header, page opening or NULL, text), joined by
/// `indexed_rows`.
const INDEXED_TEXT: &str = "d.title || \
     CASE WHEN d.running_title = '' THEN '' ELSE ' | ' || d.running_title END, \
     (SELECT f.text FROM chunks f WHERE f.document_id = c.document_id \
      AND f.page_number = c.page_number AND f.id < c.id ORDER BY f.id LIMIT 1), \
     c.text";

/// Rows of (chunk id, a second id or number, then the `INDEXED_TEXT` columns) as (chunk id,
/// second id, indexed text).
fn indexed_rows(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<(i64, i64, String)>> {
    rows.iter()
        .map(|r| {
            let header: String = r.try_get(2)?;
            let opening: Option<String> = r.try_get(3)?;
            let text: String = r.try_get(4)?;
            let heading = opening.as_deref().map(page_heading).unwrap_or_default();
            let indexed = if heading.is_empty() {
                format!("{header}\n{text}")
            } else {
                format!("{header}\n{heading}\n{text}")
            };
            Ok((r.try_get(0)?, r.try_get(1)?, indexed))
        })
        .collect()
}

/// Rows of (chunk id, a second id or number, text), as several chunk queries return them.
fn chunk_triples(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<(i64, i64, String)>> {
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Chunks of searchable documents still waiting for their vector.
const PENDING_CHUNKS: &str =
    "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id \
     WHERE c.embedded = 0 AND d.status = 'searchable'";

const DOC_COLUMNS: &str =
    "d.id, d.path, d.sha256, d.title, d.running_title, d.page_count, d.size_bytes, d.mtime_ns, d.status, \
     d.extractor, d.pages_without_text, d.warnings, \
     (SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id) AS n_chunks, \
     (SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id AND c.embedded = 1) AS n_embedded";

#[derive(Clone)]
pub struct Catalog {
    pub(crate) pool: SqlitePool,
}

impl Catalog {
    /// Opens (creating if needed) the catalog file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Another process may hold the write lock briefly (WAL allows one writer).
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Catalog { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a consistent copy of the catalog (committed transactions, write-ahead log
    /// included) to `dest`, which must not exist.
    pub async fn copy_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_str().ok_or_else(|| {
            Error::InvalidInput(format!("{} is not a plain-text path", dest.display()))
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn document_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Document> {
        let warnings: String = row.try_get("warnings")?;
        let status: String = row.try_get("status")?;
        Ok(Document {
            id: row.try_get("id")?,
            file: row.try_get("path")?,
            sha256: row.try_get("sha256")?,
            title: row.try_get("title")?,
            running_title: row.try_get("running_title")?,
            pages: row.try_get("page_count")?,
            size_bytes: row.try_get("size_bytes")?,
            mtime_ns: row.try_get("mtime_ns")?,
            status: status.parse()?,
            extractor: row.try_get("extractor")?,
            pages_without_text: row.try_get("pages_without_text")?,
            warnings: serde_json::from_str(&warnings).unwrap_or_default(),
            chunks: row.try_get("n_chunks")?,
            chunks_embedded: row.try_get("n_embedded")?,
        })
    }

    async fn documents_where(&self, condition: &str, bind: Option<&str>) -> Result<Vec<Document>> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents d WHERE {condition} ORDER BY d.id");
        let mut query = sqlx::query(&sql);
        if let Some(value) = bind {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(Self::document_from_row).collect()
    }

    /// All documents except those being removed, in insertion order.
    pub async fn documents(&self) -> Result<Vec<Document>> {
        self.documents_where("d.status <> 'removing'", None).await
    }

    /// Id and title of every document except those being removed (what search needs to tell
    /// which documents a question names, without the rest of each row).
    pub async fn document_titles(&self) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, title FROM documents WHERE status <> 'removing' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    pub async fn document_by_path(&self, path: &str) -> Result<Option<Document>> {
        Ok(self
            .documents_where("d.status <> 'removing' AND d.path = ?", Some(path))
            .await?
            .into_iter()
            .next())
    }

    /// A readable document with this content, if any (problem records do not count).
    pub async fn readable_document_by_sha256(&self, sha256: &str) -> Result<Option<Document>> {
        Ok(self
            .documents_where(
                "d.status IN ('extracted', 'searchable', 'indexed') AND d.sha256 = ?",
                Some(sha256),
            )
            .await?
            .into_iter()
            .next())
    }

    pub async fn documents_with_status(&self, status: DocStatus) -> Result<Vec<Document>> {
        self.documents_where("d.status = ?", Some(status.as_str()))
            .await
    }

    /// Inserts a document with its pages and chunks in one transaction. A previous live row for
    /// the same path (`replaces`) is marked `removing` in the same transaction, so a crash
    /// leaves either the old or the new document, never neither.
    pub async fn insert_document(&self, doc: &NewDocument, replaces: Option<i64>) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        if let Some(old) = replaces {
            sqlx::query("UPDATE documents SET status = 'removing' WHERE id = ?")
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        let warnings = serde_json::to_string(&doc.warnings).unwrap_or_else(|_| "[]".into());
        let id: i64 = sqlx::query(
            "INSERT INTO documents (path, sha256, title, running_title, page_count, size_bytes, mtime_ns, \
             status, extractor, pages_without_text, warnings, added_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unixepoch()) RETURNING id",
        )
        .bind(&doc.file)
        .bind(&doc.sha256)
        .bind(&doc.title)
        .bind(&doc.running_title)
        .bind(doc.pages.len() as i64)
        .bind(doc.size_bytes)
        .bind(doc.mtime_ns)
        .bind(doc.status.as_str())
        .bind(&doc.extractor)
        .bind(doc.pages_without_text)
        .bind(warnings)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for (index, text) in doc.pages.iter().enumerate() {
            sqlx::query("INSERT INTO pages (document_id, page_number, text) VALUES (?, ?, ?)")
                .bind(id)
                .bind(index as i64 + 1)
                .bind(text)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in &doc.chunks {
            sqlx::query(
                "INSERT INTO chunks (document_id, page_number, char_start, char_end, text) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(chunk.page)
            .bind(chunk.char_start)
            .bind(chunk.char_end)
            .bind(&chunk.text)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn set_status(&self, document_id: i64, status: DocStatus) -> Result<()> {
        sqlx::query("UPDATE documents SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(document_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a document and (by cascade) its pages and chunks.
    pub async fn delete_document(&self, document_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM documents WHERE id = ?")
            .bind(document_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A document's chunks (id, page, text) in reading order.
    pub async fn chunks_of_document(&self, document_id: i64) -> Result<Vec<(i64, i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, page_number, text FROM chunks WHERE document_id = ? ORDER BY id",
        )
        .bind(document_id)
        .fetch_all(&self.pool)
        .await?;
        chunk_triples(&rows)
    }

    /// A document's chunks (id, page, indexed text), as the keyword index stores them.
    pub async fn indexed_chunks_of_document(
        &self,
        document_id: i64,
    ) -> Result<Vec<(i64, i64, String)>> {
        let sql = format!(
            "SELECT c.id, c.page_number, {INDEXED_TEXT} FROM chunks c JOIN documents d ON d.id = c.document_id \
             WHERE c.document_id = ? ORDER BY c.id"
        );
        let rows = sqlx::query(&sql)
            .bind(document_id)
            .fetch_all(&self.pool)
            .await?;
        indexed_rows(&rows)
    }

    /// Up to `limit` chunks (id, document id, indexed text) of keyword-searchable documents that
    /// still need a vector, oldest first.
    pub async fn chunks_awaiting_vectors(&self, limit: i64) -> Result<Vec<(i64, i64, String)>> {
        let sql = format!(
            "SELECT c.id, c.document_id, {INDEXED_TEXT} FROM chunks c JOIN documents d ON d.id = c.document_id \
             WHERE c.embedded = 0 AND d.status = 'searchable' ORDER BY c.id LIMIT ?"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        indexed_rows(&rows)
    }

    /// Records that these chunks have their vectors, and promotes documents whose chunks all do.
    pub async fn mark_embedded(&self, chunk_ids: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        set_embedded(&mut tx, chunk_ids, true).await?;
        sqlx::query(
            "UPDATE documents SET status = 'indexed' WHERE status = 'searchable' AND NOT EXISTS \
             (SELECT 1 FROM chunks c WHERE c.document_id = documents.id AND c.embedded = 0)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks every chunk of live documents as needing its vector again (after the vector index
    /// was rebuilt or found inconsistent).
    pub async fn reset_embedded(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE chunks SET embedded = 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE documents SET status = 'searchable' WHERE status = 'indexed'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Chunks with their document, for the given ids; ids whose document is gone are skipped.
    pub async fn chunk_records(&self, chunk_ids: &[i64]) -> Result<Vec<ChunkRecord>> {
        let mut records = Vec::with_capacity(chunk_ids.len());
        for ids in chunk_ids.chunks(500) {
            let mut select = QueryBuilder::new(
                "SELECT c.id, c.document_id, d.path, d.title, d.running_title, c.page_number, c.char_start, \
                 c.char_end, c.text \
                 FROM chunks c JOIN documents d ON d.id = c.document_id \
                 WHERE d.status IN ('searchable', 'indexed') AND c.id IN (",
            );
            let mut list = select.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
            select.push(")");
            for r in select.build().fetch_all(&self.pool).await? {
                records.push(ChunkRecord {
                    chunk_id: r.try_get(0)?,
                    document_id: r.try_get(1)?,
                    file: r.try_get(2)?,
                    title: r.try_get(3)?,
                    running_title: r.try_get(4)?,
                    page: r.try_get(5)?,
                    char_start: r.try_get(6)?,
                    char_end: r.try_get(7)?,
                    text: r.try_get(8)?,
                });
            }
        }
        Ok(records)
    }

    pub async fn page_text(&self, document_id: i64, page: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT text FROM pages WHERE document_id = ? AND page_number = ?")
            .bind(document_id)
            .bind(page)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Chunks of searchable documents still waiting for their vector (one indexed lookup,
    /// cheap enough to ask after every embedding round).
    pub async fn pending_chunks(&self) -> Result<i64> {
        let row = sqlx::query(PENDING_CHUNKS).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// Whether searchable passages, vectors and passages awaiting their vector exist: what
    /// every search checks, answered from the indexes without counting every chunk (counting
    /// took 3.8 ms a search at 24,000 chunks).
    pub async fn search_state(&self) -> Result<SearchState> {
        let row = sqlx::query(
            "SELECT \
               EXISTS (SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id \
                 WHERE d.status IN ('searchable', 'indexed')), \
               EXISTS (SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id \
                 WHERE c.embedded = 1 AND d.status IN ('searchable', 'indexed')), \
               EXISTS (SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id \
                 WHERE c.embedded = 0 AND d.status = 'searchable')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(SearchState {
            has_passages: row.try_get(0)?,
            has_vectors: row.try_get(1)?,
            has_pending: row.try_get(2)?,
        })
    }

    pub async fn counts(&self) -> Result<CatalogCounts> {
        let sql = format!(
            "SELECT \
               (SELECT COUNT(*) FROM documents WHERE status <> 'removing'), \
               (SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id \
                  WHERE d.status IN ('searchable', 'indexed')), \
               (SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id \
                  WHERE c.embedded = 1 AND d.status IN ('searchable', 'indexed')), \
               ({PENDING_CHUNKS})"
        );
        let row = sqlx::query(&sql).fetch_one(&self.pool).await?;
        Ok(CatalogCounts {
            documents: row.try_get(0)?,
            keyword_chunks: row.try_get(1)?,
            embedded_chunks: row.try_get(2)?,
            pending_chunks: row.try_get(3)?,
        })
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Catalog {
    /// Ids of chunks the catalog says have a vector.
    pub async fn embedded_chunk_ids(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id \
             WHERE c.embedded = 1 AND d.status IN ('searchable', 'indexed')",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Marks chunks as needing a vector again; their documents go back to `searchable`.
    pub async fn requeue_chunks(&self, chunk_ids: &[i64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        set_embedded(&mut tx, chunk_ids, false).await?;
        sqlx::query(
            "UPDATE documents SET status = 'searchable' WHERE status = 'indexed' AND EXISTS \
             (SELECT 1 FROM chunks c WHERE c.document_id = documents.id AND c.embedded = 0)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Sets the `embedded` flag of chunks, in statements of at most 500 ids.
async fn set_embedded(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    chunk_ids: &[i64],
    embedded: bool,
) -> Result<()> {
    for ids in chunk_ids.chunks(500) {
        let mut update = QueryBuilder::new("UPDATE chunks SET embedded = ");
        update.push_bind(embedded).push(" WHERE id IN (");
        let mut list = update.separated(", ");
        for id in ids {
            list.push_bind(id);
        }
        update.push(")");
        update.build().execute(&mut **tx).await?;
    }
    Ok(())
}
