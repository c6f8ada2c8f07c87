//! Where Folio keeps its data by default, and process measurements.

use std::path::PathBuf;

/// The platform data folder (`~/.local/share/folio` on Linux), holding `library/` and `models/`.
pub fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "folio")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".folio"))
}

pub fn default_library_dir() -> PathBuf {
    data_dir().join("library")
}

pub fn default_models_dir() -> PathBuf {
    data_dir().join("models")
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
