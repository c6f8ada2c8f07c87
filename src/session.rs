//! The assistant session: installed models, the ones loaded so far (kept across questions, so
//! follow-ups skip the load), and routing each question to the small or the larger model.
//! Both the CLI and the desktop shell drive answers through this.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::answer::{answer_from, checked_question, Answer, AnswerEvent, AnswerOptions};
use crate::error::Result;
use crate::library::Library;
use crate::llm::{LanguageModel, ModelInfo};
use crate::models::ModelStore;
use crate::route::{route_question, route_retrieved, RouteDecision};

/// Which model answers.
#[derive(Debug, Clone, Default)]
pub enum ModelChoice {
    /// Route between the default and the larger model.
    #[default]
    Auto,
    /// A model name from `folio models` or a path to a GGUF file.
    Named(String),
}

pub struct Assistant {
    store: ModelStore,
    loaded: Mutex<HashMap<PathBuf, Arc<LanguageModel>>>,
}

impl Assistant {
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Assistant {
            store: ModelStore::new(models_dir),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    /// The model at `path`, loading it on first use.
    pub async fn model(&self, path: &Path) -> Result<Arc<LanguageModel>> {
        let mut loaded = self.loaded.lock().await;
        if let Some(model) = loaded.get(path) {
            return Ok(model.clone());
        }
        let owned = path.to_path_buf();
        // Loading is CPU-bound; on its own task it overlaps with retrieval.
        let model =
            Arc::new(tokio::spawn(async move { LanguageModel::load(&owned).await }).await??);
        loaded.insert(path.to_path_buf(), model.clone());
        Ok(model)
    }

    /// The model a question goes to before retrieval, from its wording (or the user's choice).
    fn first_choice(
        &self,
        question: &str,
        choice: &ModelChoice,
    ) -> Result<(ModelInfo, Option<RouteDecision>)> {
        match choice {
            ModelChoice::Named(name) => Ok((self.store.resolve(Some(name))?, None)),
            ModelChoice::Auto => {
                let default = self.store.resolve(None)?;
                let route = route_question(question);
                match (route.large, self.store.large()) {
                    (true, Some(large)) => Ok((large, Some(route))),
                    _ => Ok((default, Some(route))),
                }
            }
        }
    }

    /// Answers a question: the chosen model loads while retrieval runs; weak retrieval may move
    /// the question to the larger model.
    pub async fn ask(
        &self,
        library: &Library,
        question: &str,
        options: &AnswerOptions,
        choice: &ModelChoice,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(AnswerEvent) + Send),
    ) -> Result<Answer> {
        let started = Instant::now();
        let question = checked_question(question)?;
        let (mut info, mut route) = self.first_choice(question, choice)?;
        let timed_load = async {
            let load_started = Instant::now();
            let model = self.model(&info.path).await;
            (model, load_started.elapsed())
        };
        let ((model, mut load_time), retrieved) =
            tokio::join!(timed_load, library.retrieve_for_question(question, options));
        let retrieved = retrieved?;
        let mut model = model?;
        if let (Some(first), ModelChoice::Auto) = (route.clone(), choice) {
            let refined = route_retrieved(first.clone(), &retrieved);
            if refined.large && !first.large {
                if let Some(large) = self.store.large() {
                    let load_started = Instant::now();
                    model = self.model(&large.path).await?;
                    load_time += load_started.elapsed();
                    info = large;
                }
            }
            route = Some(refined);
        }
        let mut answer = answer_from(
            &model,
            question,
            retrieved.clone(),
            options,
            cancel,
            on_event,
            started,
        )
        .await?;
        // The default model sometimes finds nothing in passages that do hold the answer, and
        // the larger one reads them better: with routing, it gets one more try.
        let larger = self.store.large().filter(|large| large.path != info.path);
        if let (ModelChoice::Auto, true, Some(large)) =
            (choice, answer.model_gave_no_answer(), larger)
        {
            let reason = format!(
                "the default model gave no answer ({})",
                answer
                    .abstain_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            );
            on_event(AnswerEvent::Retry {
                model: large.name.clone(),
                reason: reason.clone(),
            });
            let load_started = Instant::now();
            model = self.model(&large.path).await?;
            load_time += load_started.elapsed();
            answer = answer_from(
                &model, question, retrieved, options, cancel, on_event, started,
            )
            .await?;
            info = large;
            route = Some(RouteDecision {
                large: true,
                reason,
            });
        }
        answer.model = info.name;
        answer.timings.model_load_ms = load_time.as_secs_f64() * 1000.0;
        answer.route = route.map(|r| {
            if r.large && self.store.large().is_none_or(|l| l.name != answer.model) {
                RouteDecision {
                    large: false,
                    reason: format!("{} (no larger model installed)", r.reason),
                }
            } else {
                r
            }
        });
        Ok(answer)
    }
}
