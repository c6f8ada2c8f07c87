//! Shared test helpers: PDF generation, the sample library, and library set-up.
#![allow(dead_code)]

pub mod pdf;
pub mod samples;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use folio::{Access, Library, LibraryPaths};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples_dir() -> PathBuf {
    repo_root().join("assets/samples")
}

/// The models folder: `FOLIO_MODELS_DIR`, else the default data dir (where scripts/fetch-models puts them).
pub fn models_dir() -> PathBuf {
    std::env::var_os("FOLIO_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(folio::system::default_models_dir)
}

/// The shared evaluation material, next to the project (never copied into it).
pub fn eval_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FOLIO_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/eval"));
    dir.is_dir().then_some(dir)
}

pub fn paths(root: &Path) -> LibraryPaths {
    LibraryPaths {
        root: root.to_path_buf(),
        models: models_dir(),
    }
}

pub async fn open_writer(root: &Path) -> Library {
    match Library::open(paths(root), Access::Write).await {
        Ok(library) => library,
        Err(e) => panic!("opening library at {}: {e}", root.display()),
    }
}

pub fn write_pdf(dir: &Path, name: &str, pages: &[Vec<&str>]) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, pdf::pdf_with_pages(pages)) {
        panic!("writing {}: {e}", path.display());
    }
    path
}

/// The bytes of a committed sample, as the generator makes them.
pub fn sample_pdf(sample: &samples::Sample) -> Vec<u8> {
    let pages: Vec<Vec<&str>> = sample.pages.iter().map(|p| p.to_vec()).collect();
    pdf::pdf_with_pages(&pages)
}

/// The `folio` binary on `library` with the test models, started through `wrapper` (e.g.
/// `unshare --net --`; empty for none). Add the command's own arguments.
pub fn folio_command_under(wrapper: &[&str], library: &Path) -> Command {
    let binary = env!("CARGO_BIN_EXE_folio");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .arg("--library")
        .arg(library)
        .arg("--models")
        .arg(models_dir());
    command
}

pub fn folio_command(library: &Path) -> Command {
    folio_command_under(&[], library)
}

/// Runs `folio ARGS` on `library` to completion.
pub fn folio(library: &Path, args: &[&str]) -> Output {
    match folio_command(library).args(args).output() {
        Ok(output) => output,
        Err(e) => panic!("running folio {args:?}: {e}"),
    }
}

/// Some tests need root (network namespaces, mounts, dropping capabilities); CI runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
