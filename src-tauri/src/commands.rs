//! The commands the UI calls. Each one checks its arguments, calls the core, and maps errors
//! to `{code, message}`; streams (ingest progress, answer tokens) go out through a `Channel`.

use std::path::PathBuf;

use folio::answer::{checked_question, Answer, AnswerEvent, AnswerOptions};
use folio::conversation::{Conversation, StoredMessage};
use folio::ingest::{AddOptions, AddReport, IngestEvent};
use folio::llm::ModelInfo;
use folio::location::{folder_use, location_record, relocate_library, FolderUse};
use folio::models::InstalledModel;
use folio::session::ModelChoice;
use folio::{Document, SearchMode, SearchOptions, SearchResults};
use serde::{Deserialize, Serialize};
use tauri::ipc::{Channel, Response};
use tauri::{AppHandle, State};

use crate::error::{ShellError, ShellResult};
use crate::state::AppState;
use crate::watch::Watcher;

/// Most passages a user may ask to be given to the model.
pub const MAX_SOURCES: usize = 8;
const SETTINGS_KEY: &str = "desktop.retrieval";

/// Where things are, for the settings and privacy pages.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub library_dir: String,
    /// `FOLIO_HOME` sets the library folder, so the settings cannot change it.
    pub library_dir_from_env: bool,
    pub models_dir: String,
    pub watched_folders: Vec<String>,
}

/// Retrieval settings the user can change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetrievalSettings {
    /// Passages given to the model per question.
    pub sources: usize,
    pub mode: SearchMode,
}

impl Default for RetrievalSettings {
    fn default() -> Self {
        let defaults = AnswerOptions::default();
        RetrievalSettings {
            sources: defaults.max_sources,
            mode: defaults.mode,
        }
    }
}

impl RetrievalSettings {
    pub fn validate(&self) -> ShellResult<()> {
        if self.sources == 0 || self.sources > MAX_SOURCES {
            return Err(ShellError::invalid(format!(
                "sources must be between 1 and {MAX_SOURCES}"
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AskRequest {
    /// Chosen by the UI; `cancel_answer` names the answer by it.
    pub request_id: u32,
    pub question: String,
    /// Continue this conversation (None starts a new one).
    pub conversation_id: Option<i64>,
    /// Documents a new conversation is restricted to (empty: the whole library); a continued
    /// conversation keeps the scope it was created with.
    #[serde(default)]
    pub scope: Vec<i64>,
    /// A model name; None lets Folio route.
    pub model: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AskResult {
    pub conversation_id: i64,
    pub answer: Answer,
}

/// Paths from a drop or a picker: absolute, existing.
pub fn checked_paths(paths: &[String]) -> ShellResult<Vec<PathBuf>> {
    if paths.is_empty() {
        return Err(ShellError::invalid("no files or folders given"));
    }
    paths
        .iter()
        .map(|p| {
            let path = PathBuf::from(p);
            if !path.is_absolute() {
                return Err(ShellError::invalid(format!("{p} is not an absolute path")));
            }
            if !path.exists() {
                return Err(ShellError::invalid(format!("{p} does not exist")));
            }
            Ok(path)
        })
        .collect()
}

#[tauri::command]
pub async fn app_info(
    state: State<'_, AppState>,
    watcher: State<'_, Watcher>,
) -> ShellResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        library_dir: state.paths.root.display().to_string(),
        library_dir_from_env: crate::library_dir_from_env(),
        models_dir: state.paths.models.display().to_string(),
        watched_folders: watcher.folders(),
    })
}

#[tauri::command]
pub async fn list_documents(state: State<'_, AppState>) -> ShellResult<Vec<Document>> {
    Ok(state.reader().await?.documents().await?)
}

/// Adds files and folders; folders are then watched for new, changed and removed PDFs.
#[tauri::command]
pub async fn add_paths(
    state: State<'_, AppState>,
    watcher: State<'_, Watcher>,
    paths: Vec<String>,
    password: Option<String>,
    on_event: Channel<IngestEvent>,
) -> ShellResult<AddReport> {
    let paths = checked_paths(&paths)?;
    let options = AddOptions {
        password: password.filter(|p| !p.is_empty()),
        ..AddOptions::default()
    };
    let report = {
        let mut writer = state.writer().await?;
        let progress = |event: IngestEvent| {
            if matches!(event, IngestEvent::FileFinished { .. }) {
                // New documents become searchable by keyword at once.
                state.library_changed();
            }
            let _ = on_event.send(event);
        };
        let report = writer.library.add(&paths, &options, &progress).await;
        state.finish(writer).await;
        report?
    };
    let folders: Vec<&PathBuf> = paths.iter().filter(|p| p.is_dir()).collect();
    for folder in &folders {
        watcher.watch(folder)?;
    }
    if !folders.is_empty() {
        crate::watch::remember_folders(&state, &watcher).await?;
    }
    Ok(report)
}

#[tauri::command]
pub async fn remove_document(state: State<'_, AppState>, document_id: i64) -> ShellResult<()> {
    let mut writer = state.writer().await?;
    let removed = writer.library.remove_document(document_id).await;
    state.finish(writer).await;
    Ok(removed?)
}

#[tauri::command]
pub async fn reindex(state: State<'_, AppState>) -> ShellResult<()> {
    let mut writer = state.writer().await?;
    let rebuilt = writer.library.reindex().await;
    state.finish(writer).await;
    Ok(rebuilt?)
}

#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    scope: Vec<i64>,
) -> ShellResult<SearchResults> {
    let query = checked_question(&query)?;
    let settings = load_settings(&state).await?;
    let options = SearchOptions {
        mode: settings.mode,
        k: 10,
        scope,
    };
    Ok(state.reader().await?.search(query, options).await?)
}

/// Answers a question, streaming sources and tokens; the conversation is stored.
#[tauri::command]
pub async fn ask(
    state: State<'_, AppState>,
    request: AskRequest,
    on_event: Channel<AnswerEvent>,
) -> ShellResult<AskResult> {
    let question = checked_question(&request.question)?;
    let settings = load_settings(&state).await?;
    let library = state.reader().await?;
    let catalog = library.catalog();
    let (conversation_id, scope) = match request.conversation_id {
        Some(id) => {
            let stored = catalog.conversation(id).await?;
            (stored.id, stored.scope)
        }
        None => {
            let id = catalog
                .create_conversation(question, &request.scope)
                .await?;
            (id, request.scope)
        }
    };
    let options = AnswerOptions {
        max_sources: settings.sources,
        mode: settings.mode,
        scope,
        history: catalog.turns(conversation_id).await?,
        ..AnswerOptions::default()
    };
    let choice = request.model.map_or(ModelChoice::Auto, ModelChoice::Named);
    let cancel = state.start_answer(request.request_id);
    let mut forward = |event: AnswerEvent| {
        let _ = on_event.send(event);
    };
    let answer = state
        .assistant
        .ask(&library, question, &options, &choice, &cancel, &mut forward)
        .await;
    state.end_answer(request.request_id);
    let answer = answer?;
    catalog.record_turn(conversation_id, &answer).await?;
    Ok(AskResult {
        conversation_id,
        answer,
    })
}

/// Stops an answer; what was generated so far is kept. False when it had already ended.
#[tauri::command]
pub fn cancel_answer(state: State<'_, AppState>, request_id: u32) -> bool {
    state.cancel_answer(request_id)
}

#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>) -> ShellResult<Vec<Conversation>> {
    Ok(state.reader().await?.catalog().conversations().await?)
}

#[tauri::command]
pub async fn conversation_messages(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> ShellResult<Vec<StoredMessage>> {
    Ok(state
        .reader()
        .await?
        .catalog()
        .messages(conversation_id)
        .await?)
}

#[tauri::command]
pub async fn rename_conversation(
    state: State<'_, AppState>,
    conversation_id: i64,
    title: String,
) -> ShellResult<()> {
    if title.trim().is_empty() {
        return Err(ShellError::invalid("a conversation needs a title"));
    }
    Ok(state
        .reader()
        .await?
        .catalog()
        .rename_conversation(conversation_id, &title)
        .await?)
}

#[tauri::command]
pub async fn delete_conversation(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> ShellResult<()> {
    Ok(state
        .reader()
        .await?
        .catalog()
        .delete_conversation(conversation_id)
        .await?)
}

/// Writes a conversation as Markdown with its citations to `path` (from a save dialog).
#[tauri::command]
pub async fn export_conversation(
    state: State<'_, AppState>,
    conversation_id: i64,
    path: String,
) -> ShellResult<()> {
    let path = PathBuf::from(path);
    if !path.is_absolute() {
        return Err(ShellError::invalid("choose where to save the export"));
    }
    let markdown = state
        .reader()
        .await?
        .catalog()
        .export_conversation(conversation_id)
        .await?;
    std::fs::write(&path, markdown).map_err(|e| ShellError {
        code: "io",
        message: format!("could not write {}: {e}", path.display()),
    })
}

#[tauri::command]
pub async fn list_models(state: State<'_, AppState>) -> ShellResult<Vec<InstalledModel>> {
    Ok(state.assistant.store().list())
}

#[tauri::command]
pub async fn import_model(state: State<'_, AppState>, path: String) -> ShellResult<ModelInfo> {
    let path = checked_paths(&[path])?.remove(0);
    let store = state.assistant.store();
    Ok(tauri::async_runtime::spawn_blocking({
        let dir = store.dir().to_path_buf();
        move || folio::models::ModelStore::new(dir).import(&path)
    })
    .await
    .map_err(|e| ShellError {
        code: "task",
        message: e.to_string(),
    })??)
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    Default,
    Large,
}

#[tauri::command]
pub async fn set_model_role(
    state: State<'_, AppState>,
    name: String,
    role: ModelRole,
) -> ShellResult<ModelInfo> {
    let store = state.assistant.store();
    Ok(match role {
        ModelRole::Default => store.set_default(&name)?,
        ModelRole::Large => store.set_large(&name)?,
    })
}

async fn load_settings(state: &AppState) -> ShellResult<RetrievalSettings> {
    let stored = state
        .reader()
        .await?
        .catalog()
        .setting(SETTINGS_KEY)
        .await?;
    Ok(stored
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

#[tauri::command]
pub async fn retrieval_settings(state: State<'_, AppState>) -> ShellResult<RetrievalSettings> {
    load_settings(&state).await
}

#[tauri::command]
pub async fn set_retrieval_settings(
    state: State<'_, AppState>,
    settings: RetrievalSettings,
) -> ShellResult<()> {
    settings.validate()?;
    let json = serde_json::to_string(&settings).map_err(|e| ShellError::invalid(e.to_string()))?;
    Ok(state
        .reader()
        .await?
        .catalog()
        .set_setting(SETTINGS_KEY, &json)
        .await?)
}

/// The bytes of a document in the library, for the PDF viewer. Only catalog documents are
/// served: the viewer cannot read any other file.
#[tauri::command]
pub async fn document_pdf(state: State<'_, AppState>, document_id: i64) -> ShellResult<Response> {
    let library = state.reader().await?;
    let document = library
        .documents()
        .await?
        .into_iter()
        .find(|d| d.id == document_id)
        .ok_or_else(|| ShellError::from(folio::Error::NoSuchDocument(document_id.to_string())))?;
    let bytes = tokio::fs::read(&document.file)
        .await
        .map_err(|e| ShellError {
            code: "document_unavailable",
            message: format!(
                "{} cannot be opened ({e}); it may have been moved or deleted since it was added",
                document.file
            ),
        })?;
    Ok(Response::new(bytes))
}

/// A folder offered as the library's new place: an absolute path (it need not exist yet).
pub fn checked_folder(path: &str) -> ShellResult<PathBuf> {
    let folder = PathBuf::from(path);
    if !folder.is_absolute() {
        return Err(ShellError::invalid(format!(
            "{path} is not an absolute path"
        )));
    }
    Ok(folder)
}

/// What a folder holds, so the UI can offer to open, start or move the library there.
#[tauri::command]
pub async fn inspect_library_folder(path: String) -> ShellResult<FolderUse> {
    Ok(folder_use(&checked_folder(&path)?)?)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryFolderChange {
    pub path: String,
    /// Copy the current library there (else open or start the library in that folder).
    pub move_library: bool,
}

/// Records a new library folder (after copying the library there when asked) and restarts
/// the app on it; the old folder is left as it was.
#[tauri::command]
pub async fn change_library_folder(
    app: AppHandle,
    state: State<'_, AppState>,
    change: LibraryFolderChange,
) -> ShellResult<()> {
    if crate::library_dir_from_env() {
        return Err(ShellError::invalid(
            "FOLIO_HOME sets the library folder: start Folio without it to choose one here",
        ));
    }
    let dest = checked_folder(&change.path)?;
    let record = location_record();
    if change.move_library {
        let writer = state.writer().await?;
        let moved =
            relocate_library(&record, &state.paths.root, &dest, Some(&writer.library)).await;
        state.finish(writer).await;
        moved?;
    } else {
        relocate_library(&record, &state.paths.root, &dest, None).await?;
    }
    app.restart()
}

#[cfg(test)]
mod tests {
    use super::*;
    use folio::answer::MAX_QUESTION_CHARS;

    #[test]
    fn a_refused_question_reaches_the_ui_as_invalid_input() {
        let long = "a".repeat(MAX_QUESTION_CHARS + 1);
        for question in ["", " \n ", long.as_str()] {
            let refused = checked_question(question).map_err(ShellError::from);
            assert_eq!(refused.map_err(|e| e.code), Err("invalid_input"));
        }
    }

    #[test]
    fn paths_must_be_absolute_and_exist() {
        assert!(checked_paths(&[]).is_err());
        let relative = checked_paths(&["assets".to_string()]).err();
        assert!(relative.is_some_and(|e| e.message.contains("absolute")));
        let missing = checked_paths(&["/no/such/folio/file.pdf".to_string()]).err();
        assert!(missing.is_some_and(|e| e.message.contains("does not exist")));
        let dir = tempfile::tempdir().ok();
        let here = dir.as_ref().map(|d| d.path().display().to_string());
        assert!(here.is_some_and(|p| checked_paths(&[p]).is_ok()));
    }

    #[test]
    fn a_new_library_folder_must_be_absolute() {
        assert!(checked_folder("relative/library").is_err());
        assert!(checked_folder("/not/yet/there").is_ok());
    }

    #[test]
    fn settings_are_validated() {
        assert!(RetrievalSettings::default().validate().is_ok());
        for sources in [0, MAX_SOURCES + 1] {
            let settings = RetrievalSettings {
                sources,
                ..RetrievalSettings::default()
            };
            assert_eq!(
                settings.validate().map_err(|e| e.code),
                Err("invalid_input")
            );
        }
    }

    #[test]
    fn core_errors_keep_their_code() {
        let error = ShellError::from(folio::Error::NoSuchConversation(7));
        assert_eq!(error.code, "no_such_conversation");
        assert!(error.message.contains('7'));
        let json = serde_json::to_value(&error).ok();
        assert_eq!(
            json.and_then(|v| v.get("code").cloned()),
            Some(serde_json::json!("no_such_conversation"))
        );
    }
}
