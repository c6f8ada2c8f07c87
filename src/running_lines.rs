//! Running headers and footers: lines repeated at the top or bottom of most pages ("Apple Inc. |
//! Q2 2023 Form 10-Q | 12", a lone page number).
//!
//! Left in the page text they end up in whichever passage closes the page, so that passage
//! matches every question naming the document, and the model echoes them as if they were
//! content. They are taken out of the page text at ingest; what they say about the document
//! (its company, form and period) is kept once, as the document's running title, which both
//! indexes see above every passage of the document.

use std::collections::{HashMap, HashSet};

/// How many non-empty lines at each end of a page may be running lines.
const EDGE_LINES: usize = 2;
/// A line runs when it is at an edge of at least this share of the pages with text.
const RUNNING_SHARE: f32 = 0.5;
/// Fewer pages with text than this and nothing counts as running.
const MIN_PAGES: usize = 4;
/// Longest line that may be a running line (a header, not a paragraph).
const MAX_LINE_CHARS: usize = 120;
/// Longest running title kept (all running lines with words, joined).
const MAX_TITLE_CHARS: usize = 160;

/// A line with every run of digits replaced by `#`, so that page numbers and other changing
/// numbers do not keep a footer from matching itself across pages.
fn line_shape(line: &str) -> String {
    let mut shape = String::with_capacity(line.len());
    let mut in_digits = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                shape.push('#');
            }
            in_digits = true;
        } else {
            shape.push(c);
            in_digits = false;
        }
    }
    shape
}

/// Which end of a page a line sits at: a header line only matches header lines.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Top,
    Bottom,
}

/// Indices (into `lines`) of the first and last `EDGE_LINES` non-empty lines of a page, with
/// the end each sits at (the top, for a page of few lines).
fn edge_lines(lines: &[&str]) -> Vec<(usize, Edge)> {
    let filled: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    let mut edges: Vec<(usize, Edge)> = filled
        .iter()
        .take(EDGE_LINES)
        .map(|&i| (i, Edge::Top))
        .collect();
    for &i in filled.iter().rev().take(EDGE_LINES) {
        if !edges.iter().any(|(j, _)| *j == i) {
            edges.push((i, Edge::Bottom));
        }
    }
    edges
}

/// A line's shape and the edge it sits at.
type Shape = (Edge, String);

/// A line's shape at its edge, or None when the line is too long to be a header or footer.
fn edge_shape(line: &str, edge: Edge) -> Option<Shape> {
    (line.chars().count() <= MAX_LINE_CHARS).then(|| (edge, line_shape(line)))
}

/// Removes the running lines from `pages` (normalised page texts, paragraphs separated by a
/// blank line) and returns the document's running title: the words its running lines with
/// letters keep on every page ("Apple Inc. | Q2 2023 Form 10-Q"), empty when there are none.
pub fn remove_running_lines(pages: &mut [String]) -> String {
    let with_text = pages.iter().filter(|p| !p.trim().is_empty()).count();
    if with_text < MIN_PAGES {
        return String::new();
    }
    let mut pages_with_shape: HashMap<Shape, usize> = HashMap::new();
    for page in pages.iter() {
        let lines: Vec<&str> = page.split('\n').collect();
        let shapes: HashSet<Shape> = edge_lines(&lines)
            .into_iter()
            .filter_map(|(i, edge)| edge_shape(lines[i].trim(), edge))
            .collect();
        for shape in shapes {
            *pages_with_shape.entry(shape).or_default() += 1;
        }
    }
    let needed = ((with_text as f32 * RUNNING_SHARE).ceil() as usize).max(3);
    let running: HashSet<Shape> = pages_with_shape
        .into_iter()
        .filter(|(_, n)| *n >= needed)
        .map(|(shape, _)| shape)
        .collect();
    if running.is_empty() {
        return String::new();
    }
    // Each running shape's occurrences, word by word, in page order of first appearance.
    let mut occurrences: Vec<(Shape, Vec<Vec<String>>)> = Vec::new();
    for page in pages.iter_mut() {
        let lines: Vec<&str> = page.split('\n').collect();
        let running_here: Vec<(usize, Shape)> = edge_lines(&lines)
            .into_iter()
            .filter_map(|(i, edge)| Some((i, edge_shape(lines[i].trim(), edge)?)))
            .filter(|(_, shape)| running.contains(shape))
            .collect();
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !running_here.iter().any(|(j, _)| j == i))
            .map(|(_, line)| *line)
            .collect();
        // A page that is nothing but its repeated lines (test pages, a form's blank copies)
        // keeps them: they are its content.
        if running_here.is_empty() || kept.iter().all(|line| line.trim().is_empty()) {
            continue;
        }
        for (i, shape) in running_here {
            let words = lines[i].split_whitespace().map(str::to_string).collect();
            match occurrences.iter_mut().find(|(s, _)| *s == shape) {
                Some((_, seen)) => seen.push(words),
                None => occurrences.push((shape, vec![words])),
            }
        }
        *page = tidy_blank_lines(&kept.join("\n"));
    }
    let titles: Vec<String> = occurrences
        .iter()
        .map(|(_, seen)| constant_words(seen))
        .filter(|title| names_something(title))
        .collect();
    let mut title = titles.join(" | ");
    if let Some((cut, _)) = title.char_indices().nth(MAX_TITLE_CHARS) {
        title.truncate(cut);
    }
    title
}

/// Whether what a running line keeps says something about the document: a word of three letters
/// or more other than a page label's ("Page 3 of 12" keeps "Page of", which says nothing).
fn names_something(title: &str) -> bool {
    title
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .any(|w| !["page", "seite", "pagina", "página"].contains(&w.to_lowercase().as_str()))
}

/// The words in the same place in every occurrence of a line, trimmed of separators left
/// dangling at either end ("Apple Inc. | Q2 2023 Form 10-Q |" → "Apple Inc. | Q2 2023 Form 10-Q").
fn constant_words(occurrences: &[Vec<String>]) -> String {
    let Some(first) = occurrences.first() else {
        return String::new();
    };
    let kept: Vec<&str> = first
        .iter()
        .enumerate()
        .filter(|(i, word)| occurrences.iter().all(|o| o.get(*i) == Some(*word)))
        .map(|(_, word)| word.as_str())
        .collect();
    kept.join(" ")
        .trim_matches(|c: char| c.is_whitespace() || "|-–—·•:,".contains(c))
        .to_string()
}

/// Drops blank lines at either end and collapses runs of blank lines into one paragraph break.
fn tidy_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.split('\n') {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        blank = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADINGS: [&str; 4] = ["Net sales", "Gross margin", "Operating expenses", "Taxes"];

    /// `count` pages of body text that differs from page to page, between `header(n)` and
    /// `footer(n)` (each left out when empty).
    fn pages_between(
        count: usize,
        header: impl Fn(usize) -> String,
        footer: impl Fn(usize) -> String,
    ) -> Vec<String> {
        (1..=count)
            .map(|n| {
                let heading = HEADINGS[n % HEADINGS.len()];
                let body = format!("{heading}\n{heading} changed.\nMore on {heading}.");
                [header(n), body, footer(n)]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .collect()
    }

    fn filing(pages: usize) -> Vec<String> {
        pages_between(
            pages,
            |_| String::new(),
            |n| format!("Apple Inc. | Q2 2023 Form 10-Q | {n}"),
        )
    }

    #[test]
    fn removes_a_footer_with_page_numbers_and_keeps_its_constant_words() {
        let mut pages = filing(6);
        let title = remove_running_lines(&mut pages);
        assert_eq!(title, "Apple Inc. | Q2 2023 Form 10-Q");
        assert_eq!(pages[2], "Taxes\nTaxes changed.\nMore on Taxes.");
    }

    #[test]
    fn removes_lone_page_numbers_without_making_them_a_title() {
        let mut pages = pages_between(5, |n| n.to_string(), |_| String::new());
        assert_eq!(remove_running_lines(&mut pages), "");
        assert_eq!(
            pages[0],
            "Gross margin\nGross margin changed.\nMore on Gross margin."
        );
    }

    #[test]
    fn page_labels_are_removed_without_making_them_a_title() {
        let mut pages = pages_between(5, |_| String::new(), |n| format!("Page {n} of 5"));
        assert_eq!(remove_running_lines(&mut pages), "");
        assert_eq!(
            pages[1],
            "Operating expenses\nOperating expenses changed.\nMore on Operating expenses."
        );
    }

    #[test]
    fn a_line_on_few_pages_stays() {
        let mut pages = filing(6);
        pages[0] = "Apple Inc.\nCONDENSED CONSOLIDATED STATEMENTS\nFigures".into();
        pages[1] = "Apple Inc.\nCONDENSED CONSOLIDATED BALANCE SHEETS\nFigures".into();
        let before = pages[0].clone();
        remove_running_lines(&mut pages);
        assert_eq!(pages[0], before);
    }

    #[test]
    fn pages_of_nothing_but_a_repeated_line_keep_it() {
        let mut pages: Vec<String> = (1..=5).map(|n| format!("Page {n}")).collect();
        let before = pages.clone();
        assert_eq!(remove_running_lines(&mut pages), "");
        assert_eq!(pages, before);
    }

    #[test]
    fn short_documents_are_left_alone() {
        let mut pages = filing(3);
        let before = pages.clone();
        assert_eq!(remove_running_lines(&mut pages), "");
        assert_eq!(pages, before);
    }

    #[test]
    fn a_repeated_line_inside_the_page_is_not_an_edge() {
        let mut pages: Vec<String> = (1..=5)
            .map(|n| format!("Top {n}\nSecond line {n}\nTotal net sales\nBottom {n}.\nLast words"))
            .collect();
        remove_running_lines(&mut pages);
        assert!(pages.iter().all(|p| p.contains("Total net sales")));
    }
}
