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

/// Memory the kernel can hand out now without swapping (Linux `MemAvailable`), in bytes.
pub fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The offline switches of the model stack (Hugging Face hub client inside mistral.rs). Folio
/// only ever gives it local paths; these make sure a mistake could never turn into a download
/// or telemetry. Call at process start, before any thread exists (setting the environment is
/// not thread-safe).
pub fn set_offline_environment() {
    for (key, value) in [
        ("HF_HUB_OFFLINE", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
    ] {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value);
        }
    }
}

/// Restarts peak-RSS accounting for this process (Linux: `clear_refs` 5), so a later
/// `peak_rss_bytes` measures only what follows. Best effort.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
