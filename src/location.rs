//! Where the library lives when no `--library` / `FOLIO_HOME` says so: a folder chosen in the
//! desktop app's settings, recorded in a one-line file in the platform config folder so that the
//! CLI finds the same library, else the platform data folder. Moving a library copies it whole
//! (catalog and both indexes, so nothing has to be embedded again) into an empty folder.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::library::{Library, LibraryPaths};
use crate::system::default_library_dir;

/// The record of the chosen library folder (`~/.config/folio/library-location` on Linux).
pub fn location_record() -> PathBuf {
    directories::ProjectDirs::from("", "", "folio")
        .map(|dirs| dirs.config_dir().join("library-location"))
        .unwrap_or_else(|| PathBuf::from(".folio-library-location"))
}

/// The library folder to use: the chosen one, else the platform default.
pub fn library_dir() -> PathBuf {
    chosen_library_dir(&location_record()).unwrap_or_else(default_library_dir)
}

/// The folder recorded in `record`, if it holds an absolute path.
pub fn chosen_library_dir(record: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(record).ok()?;
    let dir = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    dir.is_absolute().then_some(dir)
}

/// Records `dir` as the library folder; written whole or not at all (a crash keeps the old one).
pub fn record_library_dir(record: &Path, dir: &Path) -> Result<()> {
    let text = dir.to_str().filter(|t| !t.contains('\n')).ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} cannot be recorded as the library folder: its name is not plain text",
            dir.display()
        ))
    })?;
    if !dir.is_absolute() {
        return Err(Error::InvalidInput(format!(
            "the library folder must be an absolute path, not {}",
            dir.display()
        )));
    }
    if let Some(parent) = record.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut partial = record.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, format!("{text}\n")).map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, record).map_err(|e| Error::io(record, e))
}

/// What a folder offered as the library's new place holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderUse {
    /// A Folio library (it has a catalog): switching to it opens that library.
    Library,
    /// Nothing yet (or it does not exist): the library can be moved or started there.
    Empty,
    /// Other files: Folio will not mix its files into them.
    Occupied,
}

/// Classifies `dir` for [`FolderUse`].
pub fn folder_use(dir: &Path) -> Result<FolderUse> {
    let probe = LibraryPaths {
        root: dir.to_path_buf(),
        models: PathBuf::new(),
    };
    if probe.catalog().is_file() {
        return Ok(FolderUse::Library);
    }
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(match entries.next() {
            None => FolderUse::Empty,
            Some(_) => FolderUse::Occupied,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FolderUse::Empty),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Makes `dest` the library folder recorded in `record`, instead of `current`. With `copy_from`
/// (the current library, held for writing) the library is copied there first and `dest` must be
/// empty; without it `dest` must hold a library (it is opened from then on) or be empty (a new
/// library starts there). Nothing is recorded when a check or the copy fails.
pub async fn relocate_library(
    record: &Path,
    current: &Path,
    dest: &Path,
    copy_from: Option<&Library>,
) -> Result<()> {
    if !dest.is_absolute() {
        return Err(Error::InvalidInput(format!(
            "the library folder must be an absolute path, not {}",
            dest.display()
        )));
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if same(current, dest) {
        return Err(Error::InvalidInput(format!(
            "{} is already the library folder",
            dest.display()
        )));
    }
    match (folder_use(dest)?, copy_from) {
        (FolderUse::Empty, Some(library)) => library.copy_to(dest).await?,
        (FolderUse::Library | FolderUse::Empty, None) => {}
        (FolderUse::Library, Some(_)) => {
            return Err(Error::InvalidInput(format!(
                "{} already holds a Folio library: open it instead, or choose an empty folder \
                 to move this library to",
                dest.display()
            )))
        }
        (FolderUse::Occupied, _) => {
            return Err(Error::InvalidInput(format!(
                "{} holds other files: choose an empty folder (or one holding a Folio library)",
                dest.display()
            )))
        }
    }
    record_library_dir(record, dest)
}

impl Library {
    /// Copies this library (catalog and indexes) into `dest`, which must be empty or absent. The
    /// caller holds the library for writing, so nothing changes meanwhile; the catalog is copied
    /// by SQLite itself (`VACUUM INTO`), consistent with its write-ahead log. On failure what
    /// was copied is removed again and this library is untouched.
    pub async fn copy_to(&self, dest: &Path) -> Result<()> {
        if !self.is_writer() {
            return Err(Error::InvalidInput(
                "a library is copied only while held for writing".to_string(),
            ));
        }
        if folder_use(dest)? != FolderUse::Empty {
            return Err(Error::InvalidInput(format!(
                "{} is not empty: choose an empty folder to move the library to",
                dest.display()
            )));
        }
        let source = self.paths().clone();
        let target = LibraryPaths {
            root: dest.to_path_buf(),
            models: source.models.clone(),
        };
        std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
        let copied = async {
            self.catalog().copy_to(&target.catalog()).await?;
            let dirs = [
                (source.keyword_dir(), target.keyword_dir()),
                (source.vector_dir(), target.vector_dir()),
            ];
            tokio::task::spawn_blocking(move || {
                dirs.iter().try_for_each(|(from, to)| copy_tree(from, to))
            })
            .await
            .map_err(|e| Error::Task(e.to_string()))?
        }
        .await;
        if copied.is_err() {
            remove_contents(dest);
        }
        copied.map_err(|e| e.explain_disk_full(dest))
    }
}

/// Copies the folder `from` into `to` recursively, leaving out lock files (they belong to the
/// processes holding the original).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            copy_tree(&path, &target)?;
        } else if path.extension().is_some_and(|e| e == "lock") {
            continue;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Empties `dir` after a failed copy into it (it was empty before).
fn remove_contents(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
    use super::*;

    #[test]
    fn the_record_round_trips_and_refuses_relative_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let record = tmp.path().join("config/library-location");
        assert_eq!(chosen_library_dir(&record), None);
        let dir = tmp.path().join("my library");
        record_library_dir(&record, &dir).unwrap();
        assert_eq!(chosen_library_dir(&record), Some(dir.clone()));
        assert!(record_library_dir(&record, Path::new("relative/dir")).is_err());
        assert_eq!(chosen_library_dir(&record), Some(dir));
        std::fs::write(&record, "relative\n").unwrap();
        assert_eq!(chosen_library_dir(&record), None);
    }

    #[test]
    fn folders_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            folder_use(&tmp.path().join("new")).unwrap(),
            FolderUse::Empty
        );
        assert_eq!(folder_use(tmp.path()).unwrap(), FolderUse::Empty);
        std::fs::write(tmp.path().join("notes.txt"), "x").unwrap();
        assert_eq!(folder_use(tmp.path()).unwrap(), FolderUse::Occupied);
        std::fs::write(tmp.path().join("catalog.sqlite"), "").unwrap();
        assert_eq!(folder_use(tmp.path()).unwrap(), FolderUse::Library);
    }

    #[tokio::test]
    async fn only_an_empty_folder_or_another_library_is_recorded() {
        let tmp = tempfile::tempdir().unwrap();
        let record = tmp.path().join("library-location");
        let current = tmp.path().join("current");
        std::fs::create_dir_all(&current).unwrap();
        let occupied = tmp.path().join("occupied");
        std::fs::create_dir_all(&occupied).unwrap();
        std::fs::write(occupied.join("notes.txt"), "x").unwrap();
        for refused in [current.clone(), occupied, PathBuf::from("relative")] {
            assert!(relocate_library(&record, &current, &refused, None)
                .await
                .is_err());
            assert_eq!(chosen_library_dir(&record), None, "{}", refused.display());
        }
        let fresh = tmp.path().join("fresh");
        relocate_library(&record, &current, &fresh, None)
            .await
            .unwrap();
        assert_eq!(chosen_library_dir(&record), Some(fresh));
    }
}
