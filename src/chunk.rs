//! Splits page text into overlapping, sentence-aligned chunks that never cross a page, each
//! with its exact char span in the page text (so a viewer can highlight it).

use crate::catalog::NewChunk;

/// Chunk sizes in bytes of UTF-8 text: ~900 bytes is ~200–250 word pieces of English prose
/// (and ~300 CJK characters), inside the embedder's 256-token window.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSizes {
    pub target: usize,
    pub max: usize,
    pub overlap: usize,
}

impl ChunkSizes {
    /// Sizes around a target length, with the default's proportions of longest chunk and
    /// overlap.
    pub fn with_target(target: usize) -> Self {
        ChunkSizes {
            target,
            max: target * 4 / 3,
            overlap: target * 8 / 45,
        }
    }
}

impl Default for ChunkSizes {
    fn default() -> Self {
        ChunkSizes::with_target(900)
    }
}

/// A sentence or line: a byte range of the page text, and whether a paragraph starts with it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    paragraph_start: bool,
}

impl Unit {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Chunks one page (1-based `page`).
pub fn chunk_page(text: &str, page: u32, sizes: ChunkSizes) -> Vec<NewChunk> {
    let units = split_units(text, sizes);
    let mut chunks = Vec::new();
    let mut first = 0; // index of the first unit of the chunk being built
    while first < units.len() {
        let mut last = first; // inclusive
        while last + 1 < units.len() {
            let next = units[last + 1];
            let size = next.end - units[first].start;
            let current = units[last].end - units[first].start;
            let paragraph_break = next.paragraph_start && current * 10 >= sizes.target * 6;
            if size > sizes.target || paragraph_break {
                break;
            }
            last += 1;
        }
        let (start, end) = (units[first].start, units[last].end);
        chunks.push(NewChunk {
            page,
            char_start: char_offset(text, start),
            char_end: char_offset(text, end),
            text: text[start..end].to_string(),
        });
        if last + 1 >= units.len() {
            break;
        }
        // Start the next chunk with the trailing sentences that fit in the overlap.
        let mut next_first = last + 1;
        while next_first > first + 1
            && units[last].end - units[next_first - 1].start <= sizes.overlap
        {
            next_first -= 1;
        }
        first = next_first;
    }
    chunks
}

/// The capitalised headings a page opens with ("NVIDIA CORPORATION AND SUBSIDIARIES" /
/// "CONDENSED CONSOLIDATED STATEMENTS OF CASH FLOWS"), joined on one line; empty when the page
/// opens with anything else. A page's later passages are indexed under them: the passage holding
/// "Net cash provided by operating activities 3,393" does not itself say "cash flows". Only
/// upper-case lines count: letting title-case lines ("Gross Margin", "Note 2 – Revenue") in too
/// lowered docugami-dev page recall@1 (0.549 → 0.529, upper case only: 0.588).
pub fn page_heading(page_opening: &str) -> String {
    const MAX_LINES: usize = 4;
    const MAX_LINE_CHARS: usize = 100;
    let is_heading = |line: &str| {
        let letters = line.chars().filter(|c| c.is_alphabetic()).count();
        let upper = line
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase);
        upper && letters >= 4 && line.chars().count() <= MAX_LINE_CHARS
    };
    page_opening
        .lines()
        .take(MAX_LINES)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take_while(|line| is_heading(line))
        .collect::<Vec<_>>()
        .join(" ")
}

fn char_offset(text: &str, byte: usize) -> u32 {
    text[..byte].chars().count() as u32
}

/// Splits text into sentences and lines (trimmed), cutting any unit longer than `max` at
/// whitespace so no chunk exceeds it.
fn split_units(text: &str, sizes: ChunkSizes) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut start = 0;
    let mut paragraph_start = true;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let boundary = c == '\n' || ends_sentence(text, i, c);
        if boundary || next.is_none() {
            let end = i + c.len_utf8();
            if text[start..end].trim().is_empty() {
                paragraph_start = true; // a blank line: the next unit opens a paragraph
            } else {
                push_unit(text, start, end, paragraph_start, sizes, &mut units);
                paragraph_start = false;
            }
            start = end;
        }
    }
    units
}

/// Titles and company suffixes that end with a dot inside a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "nos", "vs", "inc", "corp", "co",
    "ltd", "approx", "fig", "ref", "vol",
];

/// Whether the character `c` at byte `at` of `text` ends a sentence: a full stop, `!` or `?`
/// followed by whitespace (or the end), or a CJK full stop. The dot of an abbreviation ("U.S.
/// dollar", "Apple Inc. and", "J. Smith") does not end one, nor does a dot before a lowercase
/// word.
pub(crate) fn ends_sentence(text: &str, at: usize, c: char) -> bool {
    let after = &text[at + c.len_utf8()..];
    match c {
        '。' | '！' | '？' => true,
        '!' | '?' => after.chars().next().is_none_or(char::is_whitespace),
        '.' => {
            if !after.chars().next().is_none_or(char::is_whitespace) {
                return false;
            }
            if after
                .trim_start()
                .chars()
                .next()
                .is_some_and(char::is_lowercase)
            {
                return false;
            }
            let word = text[..at]
                .rsplit(|ch: char| ch.is_whitespace() || ch == '(' || ch == '"')
                .next()
                .unwrap_or("");
            let initials = !word.is_empty()
                && word
                    .split('.')
                    .all(|part| part.chars().count() == 1 && part.chars().all(char::is_uppercase));
            let dotted = word.contains('.') && word.split('.').all(|part| part.len() <= 2);
            !(initials || dotted || ABBREVIATIONS.contains(&word.to_lowercase().as_str()))
        }
        _ => false,
    }
}

fn push_unit(
    text: &str,
    start: usize,
    end: usize,
    paragraph_start: bool,
    sizes: ChunkSizes,
    units: &mut Vec<Unit>,
) {
    let slice = &text[start..end];
    let trimmed_start = start + (slice.len() - slice.trim_start().len());
    let trimmed_end = start + slice.trim_end().len();
    if trimmed_start >= trimmed_end {
        return;
    }
    let mut unit_start = trimmed_start;
    let mut first = true;
    while trimmed_end - unit_start > sizes.max {
        let window = &text[unit_start..floor_char_boundary(text, unit_start + sizes.target)];
        let cut = window
            .rfind(char::is_whitespace)
            .filter(|&c| c > 0)
            .map(|c| unit_start + c)
            .unwrap_or(unit_start + window.len());
        units.push(Unit {
            start: unit_start,
            end: cut,
            paragraph_start: paragraph_start && first,
        });
        first = false;
        let rest = &text[cut..trimmed_end];
        unit_start = cut + (rest.len() - rest.trim_start().len());
    }
    let unit = Unit {
        start: unit_start,
        end: trimmed_end,
        paragraph_start: paragraph_start && first,
    };
    if unit.len() > 0 {
        units.push(unit);
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_heading_is_its_opening_capitalised_lines() {
        assert_eq!(
            page_heading(
                "NVIDIA CORPORATION AND SUBSIDIARIES\nCONDENSED CONSOLIDATED STATEMENTS OF CASH \
                 FLOWS\n(In millions)\nNet income $ 2,954"
            ),
            "NVIDIA CORPORATION AND SUBSIDIARIES CONDENSED CONSOLIDATED STATEMENTS OF CASH FLOWS"
        );
        assert_eq!(
            page_heading("\nPART II. OTHER INFORMATION\n\nItem 1. Legal Proceedings"),
            "PART II. OTHER INFORMATION"
        );
        // Prose, title case and lines after the first four are not headings.
        assert_eq!(
            page_heading("Sales increases were driven by growth.\nGROSS MARGIN"),
            ""
        );
        assert_eq!(
            page_heading("Gross Margin\n\nProducts and Services gross margin"),
            ""
        );
        assert_eq!(page_heading("\n\n\n\nSIGNATURE"), "");
    }

    fn spans_match(text: &str, chunks: &[NewChunk]) {
        for chunk in chunks {
            let by_chars: String = text
                .chars()
                .skip(chunk.char_start as usize)
                .take((chunk.char_end - chunk.char_start) as usize)
                .collect();
            assert_eq!(by_chars, chunk.text);
        }
    }

    #[test]
    fn short_page_is_one_chunk() {
        let text = "One sentence. Two sentences.";
        let chunks = chunk_page(text, 3, ChunkSizes::default());
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].page, 3);
        assert_eq!(chunks[0].text, text);
    }

    #[test]
    fn long_page_splits_with_overlap_and_exact_spans() {
        let sentence = "Ünïcode sentence number with some words in it. ";
        let text: String = (0..80).map(|i| format!("{i} {sentence}")).collect();
        let text = text.trim_end();
        let sizes = ChunkSizes::default();
        let chunks = chunk_page(text, 1, sizes);
        assert!(chunks.len() > 3);
        for pair in chunks.windows(2) {
            assert!(pair[1].char_start < pair[0].char_end, "chunks overlap");
            assert!(pair[1].char_start > pair[0].char_start, "chunks advance");
        }
        assert!(chunks.iter().all(|c| c.text.len() <= sizes.max));
        assert_eq!(
            chunks.last().map(|c| c.char_end as usize),
            Some(text.chars().count())
        );
        spans_match(text, &chunks);
    }

    #[test]
    fn unbroken_text_is_cut_below_max() {
        let text = "x".repeat(5000);
        let chunks = chunk_page(&text, 1, ChunkSizes::default());
        assert!(chunks.len() >= 5);
        assert!(chunks
            .iter()
            .all(|c| c.text.len() <= ChunkSizes::default().max));
        spans_match(&text, &chunks);
    }

    #[test]
    fn cjk_text_is_split_on_full_stops() {
        let text = "这是一个句子。".repeat(200);
        let chunks = chunk_page(&text, 1, ChunkSizes::default());
        assert!(chunks.len() > 1);
        spans_match(&text, &chunks);
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        let ends = |text: &str| -> Vec<usize> {
            text.char_indices()
                .filter(|&(i, c)| ends_sentence(text, i, c))
                .map(|(i, _)| i)
                .collect()
        };
        assert_eq!(
            ends("Sales fell. Costs rose! Why? Done."),
            vec![10, 22, 27, 33]
        );
        assert_eq!(
            ends("The U.S. dollar rose. Apple Inc. and J. Smith met the U.S. Department."),
            vec![20, 69]
        );
        assert_eq!(ends("Version 2.5 shipped. See e.g. this."), vec![19, 34]);
        assert_eq!(ends("完成。下一个"), vec![6]);
    }

    #[test]
    fn empty_page_has_no_chunks() {
        assert!(chunk_page("  \n\n ", 1, ChunkSizes::default()).is_empty());
    }
}
