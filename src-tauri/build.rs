// Each command becomes a permission (`allow-<command>`), so a window can call only the
// commands its capability grants.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_documents",
    "add_paths",
    "remove_document",
    "reindex",
    "search",
    "ask",
    "cancel_answer",
    "list_conversations",
    "conversation_messages",
    "rename_conversation",
    "delete_conversation",
    "export_conversation",
    "list_models",
    "import_model",
    "set_model_role",
    "retrieval_settings",
    "set_retrieval_settings",
    "document_pdf",
    "inspect_library_folder",
    "change_library_folder",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
