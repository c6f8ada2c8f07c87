//! Folders added as sources stay in sync: file-system events (inotify through `notify`) are
//! gathered until the folder has been quiet for a moment, then the core's `sync_folder` picks
//! up new, changed, renamed and deleted PDFs by content hash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use folio::ingest::AddOptions;
use notify::{EventKind, RecursiveMode, Watcher as _};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::mpsc;

use crate::error::{ShellError, ShellResult};
use crate::state::AppState;

const FOLDERS_KEY: &str = "desktop.watched_folders";
/// Editors and copy tools write a file in several steps; wait until they are done.
const QUIET_PERIOD: Duration = Duration::from_millis(1500);

/// Sent to the UI after a watched folder was brought in line.
#[derive(Debug, Clone, Serialize)]
pub struct FolderSynced {
    pub folder: String,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub error: Option<String>,
}

pub struct Watcher {
    inner: Mutex<Option<notify::RecommendedWatcher>>,
    folders: Mutex<BTreeSet<PathBuf>>,
    changed: mpsc::UnboundedSender<PathBuf>,
}

fn watch_error(folder: &Path, error: impl std::fmt::Display) -> ShellError {
    ShellError {
        code: "watch",
        message: format!(
            "{} was added but will not be kept in sync: {error}",
            folder.display()
        ),
    }
}

impl Watcher {
    /// The watcher and the receiving end of its changed paths (for `run_sync_loop`).
    pub fn new() -> (Self, mpsc::UnboundedReceiver<PathBuf>) {
        let (changed, receiver) = mpsc::unbounded_channel();
        let events = changed.clone();
        let inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // inotify also reports opens and reads, and a sync reads every PDF of the folder:
            // counting those as changes would make each sync schedule the next, forever.
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                let _ = events.send(path);
            }
        })
        .ok();
        let watcher = Watcher {
            inner: Mutex::new(inner),
            folders: Mutex::new(BTreeSet::new()),
            changed,
        };
        (watcher, receiver)
    }

    pub fn folders(&self) -> Vec<String> {
        self.folders
            .lock()
            .map(|f| f.iter().map(|p| p.display().to_string()).collect())
            .unwrap_or_default()
    }

    /// Starts watching a folder (idempotent).
    pub fn watch(&self, folder: &Path) -> ShellResult<()> {
        let folder = std::fs::canonicalize(folder).map_err(|e| watch_error(folder, e))?;
        let mut folders = self.folders.lock().map_err(|e| watch_error(&folder, e))?;
        if folders.contains(&folder) {
            return Ok(());
        }
        let mut inner = self.inner.lock().map_err(|e| watch_error(&folder, e))?;
        let watcher = inner
            .as_mut()
            .ok_or_else(|| watch_error(&folder, "file-system events are not available"))?;
        watcher
            .watch(&folder, RecursiveMode::Recursive)
            .map_err(|e| watch_error(&folder, e))?;
        folders.insert(folder);
        Ok(())
    }

    /// Asks for a sync of this folder as if something in it had changed.
    pub fn request_sync(&self, folder: &Path) {
        let _ = self.changed.send(folder.to_path_buf());
    }

    /// The watched folder holding `path`, if any.
    fn folder_of(&self, path: &Path) -> Option<PathBuf> {
        let folders = self.folders.lock().ok()?;
        folders.iter().find(|f| path.starts_with(f)).cloned()
    }
}

/// Stores the watched folders in the catalog so they are watched again at the next start.
pub async fn remember_folders(state: &AppState, watcher: &Watcher) -> ShellResult<()> {
    let json = serde_json::to_string(&watcher.folders())
        .map_err(|e| ShellError::invalid(e.to_string()))?;
    Ok(state
        .reader()
        .await?
        .catalog()
        .set_setting(FOLDERS_KEY, &json)
        .await?)
}

/// Watches the folders remembered from earlier runs and syncs each once (changes made while
/// the app was closed).
pub async fn restore_folders(state: &AppState, watcher: &Watcher) -> ShellResult<()> {
    let stored = state.reader().await?.catalog().setting(FOLDERS_KEY).await?;
    let folders: Vec<String> = stored
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    for folder in folders.iter().map(PathBuf::from).filter(|f| f.is_dir()) {
        watcher.watch(&folder)?;
        watcher.request_sync(&folder);
    }
    Ok(())
}

/// Gathers changed paths until a quiet period, then syncs each folder they belong to.
pub async fn run_sync_loop(app: AppHandle, mut changed: mpsc::UnboundedReceiver<PathBuf>) {
    while let Some(first) = changed.recv().await {
        let mut paths = vec![first];
        while let Ok(Some(path)) = tokio::time::timeout(QUIET_PERIOD, changed.recv()).await {
            paths.push(path);
        }
        let (state, watcher) = (app.state::<AppState>(), app.state::<Watcher>());
        let folders: BTreeSet<PathBuf> =
            paths.iter().filter_map(|p| watcher.folder_of(p)).collect();
        for folder in folders {
            let synced = sync_one(&state, &folder).await;
            let _ = app.emit("folder-synced", synced);
        }
    }
}

async fn sync_one(state: &AppState, folder: &Path) -> FolderSynced {
    let mut synced = FolderSynced {
        folder: folder.display().to_string(),
        added: 0,
        updated: 0,
        removed: 0,
        error: None,
    };
    let result = async {
        let mut writer = state.writer().await?;
        let result = writer
            .library
            .sync_folder(folder, &AddOptions::default(), &|_| {})
            .await;
        state.finish(writer).await;
        Ok::<_, ShellError>(result?)
    }
    .await;
    match result {
        Ok((report, removed)) => {
            use folio::Outcome;
            synced.added = report
                .files
                .iter()
                .filter(|f| matches!(f.outcome, Outcome::Indexed))
                .count();
            synced.updated = report
                .files
                .iter()
                .filter(|f| matches!(f.outcome, Outcome::Updated))
                .count();
            synced.removed = removed.len();
        }
        Err(e) => synced.error = Some(e.message),
    }
    synced
}
