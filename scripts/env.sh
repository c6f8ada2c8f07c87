# Shared settings for Folio's scripts (sourced, not run).
# Build artefacts live outside the work tree so CI runs and later sessions reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/folio/target}"
export FOLIO_MODELS_DIR="${FOLIO_MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/folio/models}"
# Folio never downloads at run time; tell every library that might try.
export HF_HUB_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The scripts build the core and the desktop shell in one cargo invocation, so that both share
# one set of compiled dependencies (building them apart compiles most of the graph twice,
# because Tauri turns on extra features of common crates such as proc-macro2 and serde_json).
# `cargo test` alone (the default member) still builds just the core.
FOLIO_CARGO_SCOPE=(--workspace --features folio-desktop/custom-protocol)
