//! Word tokenizer for the keyword index that also handles scripts written without spaces.
//!
//! tantivy's default tokenizer makes a whole run of Chinese or Japanese text one token, which its
//! length filter then drops, so such documents were not keyword-searchable at all. Runs of CJK
//! characters are emitted as overlapping bigrams instead (as Lucene's CJK analyzer does); other
//! text splits into alphanumeric words.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Name the analyzer is registered under in the index's tokenizer manager.
pub const TEXT_ANALYZER: &str = "folio_text";
/// Name of the analyzer of the figures field.
pub const FIGURES_ANALYZER: &str = "folio_figures";

/// Words, lower-cased and stemmed (English); CJK as bigrams; years, but no other figures.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordsAndCjkBigrams {
        figures: Figures::Leave,
    })
    .filter(RemoveLongFilter::limit(40))
    .filter(LowerCaser)
    .filter(Stemmer::new(Language::English))
    .build()
}

/// The figures `text_analyzer` leaves out: runs of digits that are not years.
pub fn figures_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordsAndCjkBigrams {
        figures: Figures::Only,
    })
    .filter(RemoveLongFilter::limit(40))
    .build()
}

/// What a tokenizer does with figures (runs of ASCII digits other than years). A table
/// passage is mostly figures: counted among its words, they make it "long" for BM25, whose
/// length normalisation then ranks the table below prose that repeats a question word
/// (docugami-dev: the iPhone net sales row under prose about deferred revenue). So figures are
/// indexed in a field of their own, where a search for "39,669" still finds them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Figures {
    Leave,
    Only,
}

/// A run of digits that is not a year (1900–2099): a figure, a part of one, a note number.
fn is_figure(word: &str) -> bool {
    let is_year = word.len() == 4 && (word.starts_with("19") || word.starts_with("20"));
    word.bytes().all(|b| b.is_ascii_digit()) && !is_year
}

#[derive(Clone, Copy)]
pub struct WordsAndCjkBigrams {
    pub figures: Figures,
}

pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }
    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .index
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

/// Han, Hiragana, Katakana and Hangul: scripts where words are not separated by spaces.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{20000}'..='\u{2FA1F}')
}

impl Tokenizer for WordsAndCjkBigrams {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut tokens = Vec::new();
        let push = |from: usize, to: usize, tokens: &mut Vec<Token>| {
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: tokens.len(),
                text: text[from..to].to_string(),
                position_length: 1,
            });
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |&(b, _)| b);
        let mut i = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            if is_cjk(c) && self.figures == Figures::Only {
                i += 1;
            } else if is_cjk(c) {
                let mut j = i;
                while j + 1 < chars.len() && is_cjk(chars[j + 1].1) {
                    j += 1;
                }
                if i == j {
                    push(start, end_of(i), &mut tokens);
                } else {
                    for (k, &(from, _)) in chars.iter().enumerate().take(j).skip(i) {
                        push(from, end_of(k + 1), &mut tokens);
                    }
                }
                i = j + 1;
            } else if c.is_alphanumeric() {
                let mut j = i;
                while j + 1 < chars.len()
                    && chars[j + 1].1.is_alphanumeric()
                    && !is_cjk(chars[j + 1].1)
                {
                    j += 1;
                }
                let figure = is_figure(&text[start..end_of(j)]);
                if figure == (self.figures == Figures::Only) {
                    push(start, end_of(j), &mut tokens);
                }
                i = j + 1;
            } else {
                i += 1;
            }
        }
        VecTokenStream { tokens, index: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    fn tokens(text: &str) -> Vec<String> {
        analysed(text_analyzer(), text)
    }

    #[test]
    fn latin_words_are_lowercased_and_stemmed() {
        assert_eq!(
            tokens("Revenues grew, net-sales 4,255"),
            vec!["revenu", "grew", "net", "sale"]
        );
    }

    #[test]
    fn figures_go_to_their_own_field_and_years_stay_with_the_words() {
        let text = "iPhone $ 39,669 in fiscal 2023 (Q3, Note 10); 字 12";
        assert_eq!(
            tokens(text),
            vec!["iphon", "in", "fiscal", "2023", "q3", "note", "字"]
        );
        assert_eq!(
            analysed(figures_analyzer(), text),
            vec!["39", "669", "10", "12"]
        );
    }

    #[test]
    fn cjk_runs_become_bigrams_and_mixed_text_splits() {
        assert_eq!(tokens("安徽安利"), vec!["安徽", "徽安", "安利"]);
        assert_eq!(tokens("版本3の"), vec!["版本", "の"]);
        assert_eq!(tokens("字"), vec!["字"]);
    }
}
