//! The installed language models: every `.gguf` in the models folder, the user's choice of a
//! default and of a larger model for hard questions (`folio-models.json` beside them), and
//! importing a GGUF file from elsewhere on the disk.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::llm::{check_fit, Fit, ModelInfo};

const SETTINGS_FILE: &str = "folio-models.json";

/// Answer model used when the user has not chosen one (fetched by `scripts/fetch-models`).
pub const PREFERRED_DEFAULT: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m";
/// Larger model for routing when the user has not chosen one (`scripts/fetch-models large`).
pub const PREFERRED_LARGE: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelSettings {
    pub default: Option<String>,
    pub large: Option<String>,
}

/// An installed model with its role and whether it fits in memory now.
#[derive(Debug, Clone, Serialize)]
pub struct InstalledModel {
    #[serde(flatten)]
    pub info: ModelInfo,
    pub is_default: bool,
    pub is_large: bool,
    pub supported: bool,
    pub estimated_ram: u64,
    pub fit: Fit,
}

pub struct ModelStore {
    dir: PathBuf,
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn settings(&self) -> ModelSettings {
        std::fs::read(self.dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn save_settings(&self, settings: &ModelSettings) -> Result<()> {
        let path = self.dir.join(SETTINGS_FILE);
        let json =
            serde_json::to_vec_pretty(settings).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(|e| Error::io(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))
    }

    /// The GGUF files in the folder, sorted by size (smallest first).
    fn files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(u64, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
            })
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.len(), p)))
            .collect();
        files.sort();
        files.into_iter().map(|(_, p)| p).collect()
    }

    /// Every installed model; files that are not readable GGUF are skipped.
    pub fn list(&self) -> Vec<InstalledModel> {
        let infos: Vec<ModelInfo> = self
            .files()
            .iter()
            .filter_map(|p| ModelInfo::inspect(p).ok())
            .collect();
        let default = self.pick_default(&infos).map(|m| m.name.clone());
        let large = self.pick_large(&infos).map(|m| m.name.clone());
        infos
            .into_iter()
            .map(|info| {
                let estimate = info.memory_estimate(info.usable_context());
                InstalledModel {
                    is_default: Some(&info.name) == default.as_ref(),
                    is_large: Some(&info.name) == large.as_ref(),
                    supported: info.is_supported(),
                    estimated_ram: estimate.total,
                    fit: check_fit(&estimate).0,
                    info,
                }
            })
            .collect()
    }

    fn pick_default<'a>(&self, infos: &'a [ModelInfo]) -> Option<&'a ModelInfo> {
        let chosen = self.settings().default;
        let by_name = |name: &str| infos.iter().find(|m| m.name == name);
        chosen
            .as_deref()
            .and_then(by_name)
            .or_else(|| by_name(PREFERRED_DEFAULT))
            .or_else(|| {
                infos
                    .iter()
                    .rev()
                    .find(|m| m.is_supported() && !self.is_preferred_large(m))
            })
            .or_else(|| infos.iter().rev().find(|m| m.is_supported()))
    }

    fn is_preferred_large(&self, info: &ModelInfo) -> bool {
        info.name == PREFERRED_LARGE || self.settings().large.as_deref() == Some(&info.name)
    }

    /// The larger model for hard questions: chosen, or the preferred one when installed. Never the
    /// default model itself.
    fn pick_large<'a>(&self, infos: &'a [ModelInfo]) -> Option<&'a ModelInfo> {
        let default = self.pick_default(infos)?;
        let by_name = |name: &str| infos.iter().find(|m| m.name == name);
        self.settings()
            .large
            .as_deref()
            .and_then(by_name)
            .or_else(|| by_name(PREFERRED_LARGE))
            .filter(|m| m.name != default.name && m.is_supported())
    }

    /// The model to answer with: `name` (a name from `folio models` or a path to a GGUF file)
    /// when given, else the default.
    pub fn resolve(&self, name: Option<&str>) -> Result<ModelInfo> {
        if let Some(name) = name {
            let as_path = Path::new(name);
            if as_path.is_file() {
                return ModelInfo::inspect(as_path);
            }
            return self
                .list()
                .into_iter()
                .find(|m| m.info.name == name || m.info.name.eq_ignore_ascii_case(name))
                .map(|m| m.info)
                .ok_or_else(|| Error::NoSuchModel(name.to_string()));
        }
        let infos: Vec<ModelInfo> = self.list().into_iter().map(|m| m.info).collect();
        self.pick_default(&infos)
            .cloned()
            .ok_or_else(|| Error::NoModel(self.dir.clone()))
    }

    /// The larger routing model, when one is installed.
    pub fn large(&self) -> Option<ModelInfo> {
        let infos: Vec<ModelInfo> = self.list().into_iter().map(|m| m.info).collect();
        self.pick_large(&infos).cloned()
    }

    /// Copies a GGUF file into the models folder after checking that it is one Folio can run.
    pub fn import(&self, source: &Path) -> Result<ModelInfo> {
        let info = ModelInfo::inspect(source)?;
        if !info.is_supported() {
            return Err(Error::UnsupportedModel {
                path: source.to_path_buf(),
                architecture: info.architecture,
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let Some(file_name) = source.file_name() else {
            return Err(Error::InvalidInput(format!(
                "not a file: {}",
                source.display()
            )));
        };
        let mut target = self.dir.join(file_name);
        if target
            .extension()
            .is_none_or(|x| !x.eq_ignore_ascii_case("gguf"))
        {
            target.set_extension("gguf");
        }
        if target.exists() {
            return Err(Error::InvalidInput(format!(
                "a model named {} is already installed",
                target.display()
            )));
        }
        // Copy under a temporary name: a half-copied file must never look like a model.
        let partial = target.with_extension("gguf.partial");
        if std::fs::hard_link(source, &partial).is_err() {
            std::fs::copy(source, &partial).map_err(|e| Error::io(&partial, e))?;
        }
        std::fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
        ModelInfo::inspect(&target)
    }

    pub fn set_default(&self, name: &str) -> Result<ModelInfo> {
        let info = self.resolve(Some(name))?;
        let mut settings = self.settings();
        if settings.large.as_deref() == Some(info.name.as_str()) {
            settings.large = None;
        }
        settings.default = Some(info.name.clone());
        self.save_settings(&settings)?;
        Ok(info)
    }

    pub fn set_large(&self, name: &str) -> Result<ModelInfo> {
        let info = self.resolve(Some(name))?;
        let mut settings = self.settings();
        settings.large = Some(info.name.clone());
        self.save_settings(&settings)?;
        Ok(info)
    }
}
