//! Local routing between a small and a larger installed model: simple lookups stay on the
//! small one (fast first token); comparisons, summaries, multi-step reasoning and questions the
//! library answers only weakly go to the larger one. All models are local files.

use serde::Serialize;

use crate::answer::{Retrieved, MIN_SIMILARITY};

/// Which model a question should use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteDecision {
    pub large: bool,
    pub reason: String,
}

const COMPARISON: &[&str] = &[
    "compare",
    "compared",
    "comparison",
    "difference",
    "differences",
    "differ",
    "versus",
    "vs",
    "trend",
    "trends",
    "over time",
    "change over",
    "changed over",
    "between",
];
const SUMMARY: &[&str] = &[
    "summarize",
    "summarise",
    "summary",
    "overview",
    "main points",
    "key points",
];
const REASONING: &[&str] = &[
    "why",
    "explain",
    "impact",
    "implication",
    "implications",
    "cause",
    "caused",
    "affect",
    "affected",
    "what if",
];

fn has_phrase(question: &str, phrases: &[&str]) -> Option<String> {
    let lower = format!(" {} ", question.to_lowercase());
    let spaced: String = lower
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    phrases
        .iter()
        .find(|p| spaced.contains(&format!(" {p} ")))
        .map(|p| (*p).to_string())
}

/// Decides from the question's wording alone (so the model can load while retrieval runs).
pub fn route_question(question: &str) -> RouteDecision {
    let decision = |reason: String| RouteDecision {
        large: true,
        reason,
    };
    if let Some(p) = has_phrase(question, COMPARISON) {
        return decision(format!("comparison (\"{p}\")"));
    }
    if let Some(p) = has_phrase(question, SUMMARY) {
        return decision(format!("summary (\"{p}\")"));
    }
    if let Some(p) = has_phrase(question, REASONING) {
        return decision(format!("reasoning (\"{p}\")"));
    }
    if question.split_whitespace().count() > 40 {
        return decision("long, multi-part question".into());
    }
    RouteDecision {
        large: false,
        reason: "simple lookup".into(),
    }
}

/// Similarity under which retrieval is weak (but not absent): the larger model reads the
/// sources more carefully.
pub const WEAK_SIMILARITY: f32 = MIN_SIMILARITY + 0.15;

/// Refines a decision once the passages are known: weak matches go to the larger model.
pub fn route_retrieved(first: RouteDecision, retrieved: &Retrieved) -> RouteDecision {
    if first.large || retrieved.not_covered.is_some() {
        return first;
    }
    if let Some(similarity) = retrieved.top_similarity {
        if similarity < WEAK_SIMILARITY {
            return RouteDecision {
                large: true,
                reason: format!("low retrieval confidence (similarity {similarity:.2})"),
            };
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording_routes_hard_questions_to_the_larger_model() {
        assert!(!route_question("What was Apple's net income in Q3 2022?").large);
        assert!(route_question("Compare NVIDIA's and Apple's gross margins").large);
        assert!(route_question("How did revenue change over time?").large);
        assert!(route_question("Summarize the risk factors").large);
        assert!(route_question("Why did operating expenses rise?").large);
        // Whole words only: "between" inside another word does not count.
        assert!(!route_question("What is the betweenness score?").large);
    }
}
