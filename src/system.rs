//! Where Folio keeps its data by default, and process measurements.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
    kib_field_bytes("/proc/self/status", "VmHWM:")
}

/// A `Name:   123 kB` line of a Linux /proc file, in bytes.
fn kib_field_bytes(file: &str, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Memory the kernel can hand out now without swapping (Linux `MemAvailable`), in bytes.
pub fn available_memory_bytes() -> Option<u64> {
    kib_field_bytes("/proc/meminfo", "MemAvailable:")
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

/// Resident memory of this process now, in bytes (Linux `VmRSS`), if known.
pub fn resident_bytes() -> Option<u64> {
    kib_field_bytes("/proc/self/status", "VmRSS:")
}

/// Samples this process' resident memory on a background thread until `finish`. The peak
/// (`VmHWM`) is one moment; the samples show the working set the run keeps most of the time.
pub struct ResidentSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<u64>>>,
}

impl ResidentSampler {
    pub fn start(every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                let mut samples = Vec::new();
                while !stopped.load(Ordering::Relaxed) {
                    samples.extend(resident_bytes());
                    std::thread::sleep(every);
                }
                samples
            })
            .ok();
        ResidentSampler { stop, thread }
    }

    /// The samples taken, in order (none where the platform does not report them).
    pub fn finish(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_sampled_until_finished() {
        let held = vec![1u8; 8 << 20];
        let sampler = ResidentSampler::start(Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(60));
        let samples = sampler.finish();
        assert!(held.iter().all(|&b| b == 1));
        if cfg!(target_os = "linux") {
            assert!(samples.len() >= 3, "{} samples", samples.len());
            assert!(samples.iter().all(|&s| s > 8 << 20));
        }
    }
}
