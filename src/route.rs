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

/// Words opening a question that asks whether something happened or how it went, rather than
/// for one figure or name.
const OPEN_OPENINGS: &[&str] = &[
    "has", "have", "had", "is", "are", "was", "were", "does", "do", "did", "can", "could", "how",
];
/// Openings that ask for one quantity even though they start with "how".
const QUANTITY_OPENINGS: &[&str] = &["how many", "how much", "how long", "how often"];
const CHANGE_WORDS: &[&str] = &[
    "trend",
    "trends",
    "change",
    "changes",
    "changed",
    "fluctuated",
];

/// Whether a question is open ("Has there been any change in …?", "How has … fluctuated?",
/// "Can any trends be identified …?") rather than a lookup of one figure or name ("How many
/// stores …?", "What was the net income …?"). Sources about an open question's subject hold
/// an answer to it: what they report on that subject.
pub fn is_open_question(question: &str) -> bool {
    let lower = question.trim().to_lowercase();
    let first_words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .collect();
    let opening = first_words.join(" ");
    if QUANTITY_OPENINGS.contains(&opening.as_str()) {
        return false;
    }
    first_words
        .first()
        .is_some_and(|first| OPEN_OPENINGS.contains(first))
        || has_phrase(question, CHANGE_WORDS).is_some()
}

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
    fn open_questions_are_told_from_lookups() {
        for open in [
            "Has there been any significant change in operating expenses?",
            "How has revenue from iPhone sales fluctuated across quarters?",
            "Can any trends be identified in Services revenue?",
            "Are there any new disclosures in the accounting policies?",
            "What changes in debt were reported?",
        ] {
            assert!(is_open_question(open), "{open}");
        }
        for lookup in [
            "How many employees did NVIDIA have at the end of fiscal year 2020?",
            "How much did Apple spend on R&D?",
            "What was Apple's net income for the quarter?",
            "What percentage of revenue came from Services?",
        ] {
            assert!(!is_open_question(lookup), "{lookup}");
        }
    }

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
