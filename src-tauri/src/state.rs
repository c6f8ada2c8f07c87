//! What the shell keeps between commands: where the library lives, the model session, a
//! read-only view of the library for questions and listings, and the answers in flight.
//!
//! Changes (add, remove, reindex) open the library for writing only while they run, so the CLI
//! can use the same library when the app is idle, and a second change waits its turn. Reads use
//! a separate read-only handle that is reopened after every change (this app's or, seen on
//! disk, another process's such as the CLI), so chatting and searching go on while an ingest
//! runs and never miss what was added.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use folio::embed::{Embedder, MiniLmEmbedder};
use folio::session::Assistant;
use folio::{Access, Library, LibraryPaths};
use tokio::sync::{Mutex, MutexGuard, OnceCell, RwLock};
use tokio_util::sync::CancellationToken;

use crate::error::ShellResult;

pub struct AppState {
    pub paths: LibraryPaths,
    pub assistant: Assistant,
    /// Serialises this app's own changes; the OS file lock guards against other processes.
    changes: Mutex<()>,
    /// The read-only handle and the library's last change seen before it was opened.
    reader: RwLock<Option<(Arc<Library>, Option<SystemTime>)>>,
    reader_stale: AtomicBool,
    /// Loaded once and shared by every handle (reading and writing).
    embedder: OnceCell<Arc<dyn Embedder>>,
    /// Cancellation of answers being generated, by the UI's request id.
    answers: std::sync::Mutex<HashMap<u32, CancellationToken>>,
}

/// The library opened for a change, with this app's change slot held until it is dropped.
pub struct Writer<'a> {
    pub library: Library,
    _turn: MutexGuard<'a, ()>,
}

impl AppState {
    pub fn new(paths: LibraryPaths) -> Self {
        AppState {
            assistant: Assistant::new(paths.models.clone()),
            paths,
            changes: Mutex::new(()),
            reader: RwLock::new(None),
            reader_stale: AtomicBool::new(true),
            embedder: OnceCell::new(),
            answers: std::sync::Mutex::new(HashMap::new()),
        }
    }

    async fn embedder(&self) -> ShellResult<Arc<dyn Embedder>> {
        let dir = self.paths.embedder_dir();
        let embedder = self
            .embedder
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || MiniLmEmbedder::load(&dir))
                    .await
                    .map_err(|e| folio::Error::Task(e.to_string()))?
                    .map(|e| Arc::new(e) as Arc<dyn Embedder>)
            })
            .await?;
        Ok(embedder.clone())
    }

    /// The read-only view, reopened when a change happened since it was opened.
    pub async fn reader(&self) -> ShellResult<Arc<Library>> {
        let current = |slot: &Option<(Arc<Library>, Option<SystemTime>)>| match slot {
            Some((reader, seen)) if !self.reader_stale.load(Ordering::Acquire) => {
                (*seen == self.paths.last_change()).then(|| reader.clone())
            }
            _ => None,
        };
        if let Some(reader) = current(&*self.reader.read().await) {
            return Ok(reader);
        }
        let mut slot = self.reader.write().await;
        if let Some(reader) = current(&slot) {
            return Ok(reader);
        }
        self.reader_stale.store(false, Ordering::Release);
        // Taken before opening: a change made while opening makes the next read reopen.
        let seen = self.paths.last_change();
        let library = Library::open(self.paths.clone(), Access::Read).await?;
        // Without the embedder, search falls back to keywords; the app stays usable.
        if let Ok(embedder) = self.embedder().await {
            library.set_embedder(embedder);
        }
        let library = Arc::new(library);
        *slot = Some((library.clone(), seen));
        Ok(library)
    }

    /// The next read sees the library as it is now.
    pub fn library_changed(&self) {
        self.reader_stale.store(true, Ordering::Release);
    }

    /// Opens the library for a change, after this app's earlier changes have finished.
    pub async fn writer(&self) -> ShellResult<Writer<'_>> {
        let turn = self.changes.lock().await;
        let library = Library::open(self.paths.clone(), Access::Write).await?;
        if let Ok(embedder) = self.embedder().await {
            library.set_embedder(embedder);
        }
        Ok(Writer {
            library,
            _turn: turn,
        })
    }

    /// Closes a writer and lets readers see what it changed.
    pub async fn finish(&self, writer: Writer<'_>) {
        writer.library.close().await;
        self.library_changed();
    }

    pub fn start_answer(&self, request_id: u32) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(request_id, token.clone());
        }
        token
    }

    pub fn end_answer(&self, request_id: u32) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.remove(&request_id);
        }
    }

    /// Stops an answer being generated; false when it had already ended.
    pub fn cancel_answer(&self, request_id: u32) -> bool {
        let token = self
            .answers
            .lock()
            .ok()
            .and_then(|answers| answers.get(&request_id).cloned());
        token.map(|t| t.cancel()).is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;
    use folio::{AddOptions, SearchMode, SearchOptions};

    async fn vector_hits(state: &AppState, query: &str) -> usize {
        let options = SearchOptions {
            mode: SearchMode::Vector,
            ..SearchOptions::default()
        };
        let reader = state.reader().await.unwrap();
        reader.search(query, options).await.unwrap().hits.len()
    }

    /// The app and the CLI on one library: what the CLI adds while the app is open is found
    /// by the app's next search, and while the app changes the library the CLI is told busy.
    #[tokio::test]
    async fn the_app_and_the_cli_share_a_library() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = LibraryPaths {
            root: tmp.path().join("library"),
            models: folio::system::default_models_dir(),
        };
        let app = AppState::new(paths.clone());
        assert_eq!(vector_hits(&app, "resting the dough before salt").await, 0);

        // Another process (the CLI) adds a document while the app sits idle.
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/samples/sourdough-baking-guide.pdf");
        let mut cli = Library::open(paths.clone(), Access::Write).await.unwrap();
        cli.add(&[sample], &AddOptions::default(), &|_| {})
            .await
            .unwrap();
        cli.close().await;
        assert!(vector_hits(&app, "resting the dough before salt").await > 0);

        let change = app.writer().await.unwrap();
        let refused = Library::open(paths.clone(), Access::Write).await.err();
        assert!(
            matches!(refused, Some(folio::Error::Busy(_))),
            "{refused:?}"
        );
        assert!(
            vector_hits(&app, "resting the dough before salt").await > 0,
            "reads go on meanwhile"
        );
        app.finish(change).await;
        assert!(Library::open(paths, Access::Write).await.is_ok());
    }
}
