//! Figures in text ("$82,959 million", "15.7%"): what an answer claims in numbers, and whether a
//! passage holds them. Used to check that an answer's figures come from its sources, and by the
//! benchmarks to find pages that hold an expected answer's figures.

/// Figures of at least three significant digits, as written ("82,959", "15.7"), first
/// occurrence order; years alone are left out (they are evidence of nothing).
pub fn key_figures(text: &str) -> Vec<String> {
    let mut figures = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || "()$%;:[]".contains(c)) {
        let figure = token.trim_matches(|c: char| !c.is_ascii_digit());
        let digits = figure.chars().filter(char::is_ascii_digit).count();
        let significant = figure
            .trim_start_matches(['0', '.', ','])
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        if digits >= 3 && significant >= 3 && !figures.iter().any(|f| f == figure) {
            let is_year =
                digits == 4 && !figure.contains([',', '.']) && figure.starts_with(['1', '2']);
            if !is_year {
                figures.push(figure.to_string());
            }
        }
    }
    figures
}

/// Whether `text` holds `figure` as a whole number (not inside a longer one).
pub fn contains_figure(text: &str, figure: &str) -> bool {
    text.match_indices(figure).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + figure.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == ',')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The digits of a figure without separators: "82,959" → "82959", "15.7" → "157".
fn digits_of(figure: &str) -> String {
    figure.chars().filter(char::is_ascii_digit).collect()
}

/// Whether `text` supports `figure`: holds it as written, or a number it rounds, truncates or
/// rescales ("$82.96 billion" or "83.0" for "82,959 million": the same leading digits).
pub fn supports_figure(text: &str, figure: &str) -> bool {
    if contains_figure(text, figure) {
        return true;
    }
    let leading = |figure: &str| -> Option<u64> {
        let digits = digits_of(figure);
        let digits = digits.trim_start_matches('0');
        // More digits than any page figure carries: compare the first 15.
        digits.get(..digits.len().min(15))?.parse().ok()
    };
    let Some(wanted) = leading(figure) else {
        return false;
    };
    let wanted_len = wanted.to_string().len() as u32;
    key_figures(text)
        .iter()
        .filter_map(|c| leading(c))
        .any(|candidate| {
            let candidate_len = candidate.to_string().len() as u32;
            let Some(scale) = candidate_len
                .checked_sub(wanted_len)
                .map(|extra| 10u64.pow(extra))
            else {
                return false;
            };
            let truncated = candidate / scale;
            let rounded = (candidate + scale / 2) / scale;
            wanted == truncated || wanted == rounded
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_figures_skip_years_short_numbers_and_markers() {
        assert_eq!(
            key_figures(
                "Net sales were $82,959 million in 2022, up 2% [12] (15.7% margin); 4.255 billion."
            ),
            ["82,959", "15.7", "4.255"]
        );
    }

    #[test]
    fn figures_are_supported_as_written_or_rounded() {
        let source = "Total net sales 82,959 and 94,836; gross margin 43.3%.";
        assert!(supports_figure(source, "82,959"));
        assert!(supports_figure(source, "83.0"));
        assert!(supports_figure(source, "94.8"));
        assert!(supports_figure(source, "43.3"));
        assert!(!supports_figure(source, "1,000"));
        assert!(!supports_figure(source, "84.0"));
        assert!(contains_figure("total 82,959 net", "82,959"));
        assert!(!contains_figure("total 182,959 net", "82,959"));
        assert!(!contains_figure("total 82,9591", "82,959"));
    }
}
