//! Folio's desktop shell: Tauri commands over the Folio core. No business logic lives here:
//! commands check their arguments, call the core and translate errors and progress.

pub mod commands;
pub mod error;
pub mod state;
pub mod watch;

use folio::LibraryPaths;
use tauri::Manager;

use crate::state::AppState;
use crate::watch::Watcher;

/// Library and models folders: `FOLIO_HOME` / `FOLIO_MODELS_DIR` as for the CLI, else the
/// library folder chosen in the settings and the platform data folder.
pub fn library_paths() -> LibraryPaths {
    LibraryPaths {
        root: from_env("FOLIO_HOME")
            .map(Into::into)
            .unwrap_or_else(folio::location::library_dir),
        models: from_env("FOLIO_MODELS_DIR")
            .map(Into::into)
            .unwrap_or_else(folio::system::default_models_dir),
    }
}

fn from_env(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

/// Whether `FOLIO_HOME` fixes the library folder (the settings cannot change it then).
pub fn library_dir_from_env() -> bool {
    from_env("FOLIO_HOME").is_some()
}

pub fn run() {
    // Before any thread starts: the model stack must never try the network.
    folio::system::set_offline_environment();
    let (watcher, changed) = Watcher::new();
    let built = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(library_paths()))
        .manage(watcher)
        .setup(move |app| {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let (state, watcher) = (handle.state::<AppState>(), handle.state::<Watcher>());
                if let Err(e) = watch::restore_folders(&state, &watcher).await {
                    eprintln!("folio-desktop: watched folders not restored: {}", e.message);
                }
            });
            tauri::async_runtime::spawn(watch::run_sync_loop(app.handle().clone(), changed));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_documents,
            commands::add_paths,
            commands::remove_document,
            commands::reindex,
            commands::search,
            commands::ask,
            commands::cancel_answer,
            commands::list_conversations,
            commands::conversation_messages,
            commands::rename_conversation,
            commands::delete_conversation,
            commands::export_conversation,
            commands::list_models,
            commands::import_model,
            commands::set_model_role,
            commands::retrieval_settings,
            commands::set_retrieval_settings,
            commands::document_pdf,
            commands::inspect_library_folder,
            commands::change_library_folder,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = built {
        eprintln!("folio-desktop: {e}");
        std::process::exit(1);
    }
}
