//! A Folio library: one folder holding the catalog (SQLite), the keyword index (tantivy) and
//! the vector index (LanceDB). Opening it for writing takes an exclusive lock and repairs any
//! state a crash left behind; opening it for reading takes no lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::catalog::{Catalog, CatalogCounts, DocStatus, Document};
use crate::embed::{Embedder, MiniLmEmbedder, MINILM_DIR};
use crate::error::{Error, Result};
use crate::index::{KeywordIndex, VectorIndex};

/// all-MiniLM-L6-v2 vectors; the vector table is created with this width.
pub const EMBEDDING_DIMENSION: usize = 384;

/// Whether this process may change the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Where things live: the library folder and the models folder.
#[derive(Debug, Clone)]
pub struct LibraryPaths {
    pub root: PathBuf,
    pub models: PathBuf,
}

impl LibraryPaths {
    pub fn catalog(&self) -> PathBuf {
        self.root.join("catalog.sqlite")
    }
    pub fn keyword_dir(&self) -> PathBuf {
        self.root.join("keyword")
    }
    pub fn vector_dir(&self) -> PathBuf {
        self.root.join("vectors")
    }
    fn lock_file(&self) -> PathBuf {
        self.root.join("write.lock")
    }
    pub fn embedder_dir(&self) -> PathBuf {
        self.models.join(MINILM_DIR)
    }

    /// When the library last changed on disk, by this or another process: the latest commit
    /// to the catalog (its write-ahead log) or the keyword index. A reader that keeps a
    /// library open compares it with the value from before it opened to know when to reopen.
    pub fn last_change(&self) -> Option<std::time::SystemTime> {
        let mut wal = self.catalog().into_os_string();
        wal.push("-wal");
        [
            self.catalog(),
            PathBuf::from(wal),
            self.keyword_dir().join("meta.json"),
        ]
        .iter()
        .filter_map(|file| std::fs::metadata(file).and_then(|m| m.modified()).ok())
        .max()
    }
}

/// What the keyword index stores for a chunk; bump when that changes, so that libraries built
/// before are rebuilt from the catalog on their next open for writing.
/// 2: passages under their document title (`INDEXED_TEXT`).
/// 3: and under the headings their page opens with.
/// 4: figures in a field of their own (`index::tokenizer::Figures`).
const KEYWORD_INDEX_FORMAT: &str = "4";
const KEYWORD_INDEX_FORMAT_KEY: &str = "keyword_index_format";

/// What a repair on open found and fixed (all zero on a clean library).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RepairReport {
    pub removals_finished: usize,
    pub documents_reindexed: usize,
    pub keyword_index_rebuilt: bool,
    pub stray_vectors_deleted: usize,
    pub vectors_requeued: usize,
}

impl RepairReport {
    pub fn is_clean(&self) -> bool {
        *self == RepairReport::default()
    }
}

/// The catalog's counts beside what the indexes hold; equal in a consistent library.
#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    pub catalog: CatalogCounts,
    pub keyword_entries: u64,
    pub vector_rows: usize,
    /// Documents caught between states (extracted but not keyword-indexed, or being removed).
    pub documents_in_transit: usize,
}

impl Consistency {
    pub fn is_consistent(&self) -> bool {
        self.keyword_entries == self.catalog.keyword_chunks as u64
            && self.vector_rows == self.catalog.embedded_chunks as usize
            && self.documents_in_transit == 0
    }
}

pub struct Library {
    pub(crate) paths: LibraryPaths,
    pub(crate) catalog: Catalog,
    pub(crate) keyword: KeywordIndex,
    pub(crate) vectors: VectorIndex,
    embedder: OnceLock<Arc<dyn Embedder>>,
    // Held for the life of a writer; the OS releases it if the process dies.
    _write_lock: Option<File>,
    repair: RepairReport,
}

impl Library {
    /// Opens (creating, migrating and repairing as needed) the library at `paths.root`.
    pub async fn open(paths: LibraryPaths, access: Access) -> Result<Self> {
        let root = paths.root.clone();
        Self::open_at(paths, access)
            .await
            .map_err(|e| e.explain_disk_full(&root))
    }

    async fn open_at(paths: LibraryPaths, access: Access) -> Result<Self> {
        std::fs::create_dir_all(&paths.root).map_err(|e| Error::io(&paths.root, e))?;
        let write_lock = match access {
            Access::Write => Some(take_write_lock(&paths)?),
            Access::Read => None,
        };
        let catalog = Catalog::open(&paths.catalog()).await?;
        let keyword = KeywordIndex::open(&paths.keyword_dir(), access == Access::Write)?;
        let vectors = VectorIndex::open(&paths.vector_dir(), EMBEDDING_DIMENSION).await?;
        let mut library = Library {
            paths,
            catalog,
            keyword,
            vectors,
            embedder: OnceLock::new(),
            _write_lock: write_lock,
            repair: RepairReport::default(),
        };
        if access == Access::Write {
            library.repair = library.repair().await?;
        }
        Ok(library)
    }

    pub fn paths(&self) -> &LibraryPaths {
        &self.paths
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether this handle holds the library for writing.
    pub fn is_writer(&self) -> bool {
        self._write_lock.is_some()
    }

    /// What opening for writing had to repair.
    pub fn repair_report(&self) -> RepairReport {
        self.repair
    }

    /// The embedding model, loaded on first use.
    pub fn embedder(&self) -> Result<Arc<dyn Embedder>> {
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder.clone());
        }
        let loaded: Arc<dyn Embedder> = Arc::new(MiniLmEmbedder::load(&self.paths.embedder_dir())?);
        Ok(self.embedder.get_or_init(|| loaded).clone())
    }

    /// Uses a given embedder instead of loading the default one.
    pub fn set_embedder(&self, embedder: Arc<dyn Embedder>) {
        let _ = self.embedder.set(embedder);
    }

    pub async fn documents(&self) -> Result<Vec<Document>> {
        self.catalog.documents().await
    }

    pub async fn counts(&self) -> Result<CatalogCounts> {
        self.catalog.counts().await
    }

    /// Compares the catalog with both indexes.
    pub async fn consistency(&self) -> Result<Consistency> {
        let mut in_transit = 0;
        for status in [DocStatus::Extracted, DocStatus::Removing] {
            in_transit += self.catalog.documents_with_status(status).await?.len();
        }
        Ok(Consistency {
            catalog: self.catalog.counts().await?,
            keyword_entries: self.keyword.len()?,
            vector_rows: self.vectors.len().await?,
            documents_in_transit: in_transit,
        })
    }

    /// Finds a document by id, exact path, file name, or unique title/path substring.
    pub async fn find_document(&self, key: &str) -> Result<Document> {
        let documents = self.catalog.documents().await?;
        if let Ok(id) = key.parse::<i64>() {
            if let Some(doc) = documents.iter().find(|d| d.id == id) {
                return Ok(doc.clone());
            }
        }
        let absolute = std::fs::canonicalize(key)
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        let exact: Vec<&Document> = documents
            .iter()
            .filter(|d| {
                Some(&d.file) == absolute.as_ref()
                    || d.file == key
                    || Path::new(&d.file).file_name().is_some_and(|n| n == key)
            })
            .collect();
        let candidates = if exact.is_empty() {
            let needle = key.to_lowercase();
            documents
                .iter()
                .filter(|d| {
                    d.file.to_lowercase().contains(&needle)
                        || d.title.to_lowercase().contains(&needle)
                })
                .collect()
        } else {
            exact
        };
        match candidates.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NoSuchDocument(key.to_string())),
            _ => Err(Error::AmbiguousDocument(key.to_string())),
        }
    }

    /// The ids of the documents `keys` name (see [`Library::find_document`]), in order, without
    /// repeats; no keys give an empty scope, the whole library.
    pub async fn find_documents(&self, keys: &[String]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            let id = self.find_document(key).await?.id;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Removes a document from both indexes, then from the catalog.
    pub async fn remove_document(&mut self, document_id: i64) -> Result<()> {
        let library = self.paths.root.clone();
        self.indexer()
            .remove_document(document_id)
            .await
            .map_err(|e| e.explain_disk_full(&library))
    }

    /// Borrows the parts that change together when documents are added or removed.
    pub(crate) fn indexer(&mut self) -> Indexer<'_> {
        Indexer {
            catalog: &self.catalog,
            keyword: &mut self.keyword,
            vectors: &self.vectors,
        }
    }

    /// Brings both indexes back in line with the catalog after an interruption.
    async fn repair(&mut self) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        for doc in self
            .catalog
            .documents_with_status(DocStatus::Removing)
            .await?
        {
            self.indexer().purge_document(doc.id).await?;
            report.removals_finished += 1;
        }
        for doc in self
            .catalog
            .documents_with_status(DocStatus::Extracted)
            .await?
        {
            self.indexer().index_keywords(doc.id).await?;
            report.documents_reindexed += 1;
        }
        let counts = self.catalog.counts().await?;
        let format = self.catalog.setting(KEYWORD_INDEX_FORMAT_KEY).await?;
        let outdated = format.as_deref() != Some(KEYWORD_INDEX_FORMAT);
        if self.keyword.len()? != counts.keyword_chunks as u64 || outdated {
            self.rebuild_keyword_index().await?;
            // A new library gets its format recorded without counting as a repair.
            report.keyword_index_rebuilt = counts.keyword_chunks > 0;
        }
        if self.vectors.len().await? != counts.embedded_chunks as usize {
            let (deleted, requeued) = self.reconcile_vectors().await?;
            report.stray_vectors_deleted = deleted;
            report.vectors_requeued = requeued;
        }
        Ok(report)
    }

    async fn rebuild_keyword_index(&mut self) -> Result<()> {
        self.keyword.clear()?;
        for doc in self.catalog.documents().await? {
            if matches!(doc.status, DocStatus::Searchable | DocStatus::Indexed) {
                let chunks = self.catalog.indexed_chunks_of_document(doc.id).await?;
                self.keyword.replace_document(doc.id, &chunks)?;
            }
        }
        self.catalog
            .set_setting(KEYWORD_INDEX_FORMAT_KEY, KEYWORD_INDEX_FORMAT)
            .await
    }

    /// Deletes vectors the catalog does not expect (or holds twice) and requeues chunks whose
    /// vector is missing. Returns (vectors deleted, chunks requeued).
    async fn reconcile_vectors(&mut self) -> Result<(usize, usize)> {
        let expected: std::collections::HashSet<i64> = self
            .catalog
            .embedded_chunk_ids()
            .await?
            .into_iter()
            .collect();
        let mut seen = std::collections::HashMap::<i64, usize>::new();
        for id in self.vectors.chunk_ids().await? {
            *seen.entry(id).or_default() += 1;
        }
        let stray: Vec<i64> = seen
            .iter()
            .filter(|(id, n)| !expected.contains(id) || **n > 1)
            .map(|(id, _)| *id)
            .collect();
        let stray_rows: usize = stray.iter().map(|id| seen[id]).sum();
        self.vectors.delete_chunks(&stray).await?;
        // Duplicated ids were deleted entirely: they, and ids never written, need a new vector.
        let requeue: Vec<i64> = expected
            .iter()
            .filter(|id| seen.get(id).is_none_or(|n| *n > 1))
            .copied()
            .collect();
        self.catalog.requeue_chunks(&requeue).await?;
        Ok((stray_rows, requeue.len()))
    }

    /// Rebuilds both indexes from the catalog. Vectors are recomputed by the next ingest run
    /// (`embed_pending`), which `folio reindex` starts at once.
    pub async fn reindex(&mut self) -> Result<()> {
        let library = self.paths.root.clone();
        let rebuilt = async {
            self.rebuild_keyword_index().await?;
            self.vectors.clear().await?;
            self.catalog.reset_embedded().await
        };
        rebuilt.await.map_err(|e| e.explain_disk_full(&library))
    }

    pub async fn close(self) {
        self.catalog.close().await;
    }
}

/// The catalog and both indexes, borrowed for a change that must keep them consistent.
pub(crate) struct Indexer<'a> {
    pub catalog: &'a Catalog,
    pub keyword: &'a mut KeywordIndex,
    pub vectors: &'a VectorIndex,
}

impl Indexer<'_> {
    /// Marking the document `removing` first makes an interrupted removal finish on the next
    /// open (the indexes are cleaned before the catalog rows go).
    pub async fn remove_document(&mut self, document_id: i64) -> Result<()> {
        self.catalog
            .set_status(document_id, DocStatus::Removing)
            .await?;
        self.purge_document(document_id).await
    }

    pub async fn purge_document(&mut self, document_id: i64) -> Result<()> {
        self.keyword.delete_document(document_id)?;
        self.vectors.delete_document(document_id).await?;
        self.catalog.delete_document(document_id).await
    }

    /// Puts an extracted document into the keyword index and makes it searchable.
    pub async fn index_keywords(&mut self, document_id: i64) -> Result<()> {
        let chunks = self.catalog.indexed_chunks_of_document(document_id).await?;
        self.keyword.replace_document(document_id, &chunks)?;
        self.catalog
            .set_status(document_id, DocStatus::Searchable)
            .await
    }
}

fn take_write_lock(paths: &LibraryPaths) -> Result<File> {
    let path = paths.lock_file();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy(paths.root.clone())),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}
