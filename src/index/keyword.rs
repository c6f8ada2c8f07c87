//! BM25 keyword index (tantivy) over chunk text: English stemming, CJK bigrams. Derived from the
//! catalog: every entry is keyed by chunk id and document id, and can be rebuilt.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, QueryParser, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument,
    Term, TERMINATED,
};

use super::tokenizer::{figures_analyzer, text_analyzer, FIGURES_ANALYZER, TEXT_ANALYZER};
use crate::error::{Error, Result};

const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// Weight of a passage holding two successive words of the question side by side ("interest
/// expense", "research and development") against the words scored apart: the sequential
/// dependence model of Metzler and Croft, ordered pairs only. On docugami-dev, hybrid page
/// recall@5 0.824 → 0.863 (weights 0.5 to 4 give 0.843 to 0.863).
const WORD_PAIR_BOOST: f32 = 1.0;

/// Words allowed between a pair's two words: the stopword the query dropped ("research and
/// development") or one inserted word.
const WORD_PAIR_SLOP: u32 = 1;

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    document_id: Field,
    text: Field,
    /// The passage's figures (see `tokenizer::Figures`); `None` in an index written before
    /// they had a field of their own, until it is rebuilt.
    figures: Option<Field>,
}

pub struct KeywordIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Option<IndexWriter>,
    /// Passages per document id, for the searcher generation that counted them: counting
    /// walks every passage (2.2 ms a question at 24,000 passages), and the index changes
    /// only when documents are added or removed.
    passages: Mutex<Option<(u64, HashMap<i64, usize>)>>,
}

/// One keyword match: chunk id and BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordHit {
    pub chunk_id: i64,
    pub score: f32,
}

/// A text field analysed by `analyzer`, with positions for phrase queries.
fn analysed_by(analyzer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

fn schema() -> Schema {
    let mut builder = Schema::builder();
    let id_options = NumericOptions::default().set_indexed().set_fast();
    builder.add_u64_field("chunk_id", id_options.clone());
    builder.add_u64_field("document_id", id_options);
    builder.add_text_field("text", analysed_by(TEXT_ANALYZER));
    builder.add_text_field("figures", analysed_by(FIGURES_ANALYZER));
    builder.build()
}

fn mmap_dir(dir: &Path) -> Result<tantivy::directory::MmapDirectory> {
    tantivy::directory::MmapDirectory::open(dir)
        .map_err(|e| Error::KeywordIndex(tantivy::TantivyError::from(e)))
}

/// The fields of an index as it was written (an older one may lack the figures field).
fn fields_of(schema: &Schema) -> Result<Fields> {
    let field = |name: &str| schema.get_field(name).map_err(Error::KeywordIndex);
    Ok(Fields {
        chunk_id: field("chunk_id")?,
        document_id: field("document_id")?,
        text: field("text")?,
        figures: schema.get_field("figures").ok(),
    })
}

fn id_term(field: Field, id: i64) -> Term {
    Term::from_field_u64(field, id as u64)
}

impl KeywordIndex {
    /// Opens the index in `dir`, creating it if needed. Writing needs `writable`; a reader only
    /// sees what writers have committed.
    pub fn open(dir: &Path, writable: bool) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let index = match Index::open_or_create(mmap_dir(dir)?, schema()) {
            Ok(index) => index,
            // An index of an older schema is derived data: a writer starts it afresh (the
            // library's repair then refills it from the catalog); a reader searches it as it is.
            Err(_) if writable && mmap_dir(dir).is_ok_and(|d| Index::open(d).is_ok()) => {
                std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                Index::open_or_create(mmap_dir(dir)?, schema())?
            }
            Err(_) if !writable => Index::open(mmap_dir(dir)?)?,
            Err(e) => return Err(e.into()),
        };
        let fields = fields_of(&index.schema())?;
        index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
        index
            .tokenizers()
            .register(FIGURES_ANALYZER, figures_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = if writable {
            Some(index.writer(WRITER_MEMORY)?)
        } else {
            None
        };
        Ok(KeywordIndex {
            index,
            reader,
            fields,
            writer,
            passages: Mutex::new(None),
        })
    }

    fn writer(&mut self) -> Result<&mut IndexWriter> {
        self.writer
            .as_mut()
            .ok_or_else(|| Error::InvalidInput("keyword index opened read-only".into()))
    }

    /// Replaces a document's entries with the given chunks (id, page, text) and commits, so a
    /// repeated call after a crash leaves exactly one copy.
    pub fn replace_document(
        &mut self,
        document_id: i64,
        chunks: &[(i64, i64, String)],
    ) -> Result<()> {
        let fields = self.fields;
        let writer = self.writer()?;
        writer.delete_term(id_term(fields.document_id, document_id));
        for (chunk_id, _page, text) in chunks {
            let mut doc = TantivyDocument::default();
            doc.add_u64(fields.chunk_id, *chunk_id as u64);
            doc.add_u64(fields.document_id, document_id as u64);
            doc.add_text(fields.text, text);
            if let Some(figures) = fields.figures {
                doc.add_text(figures, text);
            }
            writer.add_document(doc)?;
        }
        writer.commit()?;
        Ok(())
    }

    pub fn delete_document(&mut self, document_id: i64) -> Result<()> {
        let field = self.fields.document_id;
        let writer = self.writer()?;
        writer.delete_term(id_term(field, document_id));
        writer.commit()?;
        Ok(())
    }

    pub fn clear(&mut self) -> Result<()> {
        let writer = self.writer()?;
        writer.delete_all_documents()?;
        writer.commit()?;
        Ok(())
    }

    /// Number of live entries (one per chunk).
    pub fn len(&self) -> Result<u64> {
        self.reader.reload()?;
        Ok(self.reader.searcher().num_docs())
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// BM25 search; a non-empty `scope` restricts hits to those documents.
    pub fn search(&self, query: &str, limit: usize, scope: &[i64]) -> Result<Vec<KeywordHit>> {
        if limit == 0 || query.trim().is_empty() {
            return Ok(Vec::new());
        }
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let fields = std::iter::once(self.fields.text).chain(self.fields.figures);
        let parser = QueryParser::for_index(&self.index, fields.collect());
        // Users type questions, not query syntax: take what parses and ignore the rest.
        let (parsed, _errors) = parser.parse_query_lenient(&sanitize_query(query));
        let pairs = self.successive_word_pairs(query)?;
        let parsed: Box<dyn Query> = if pairs.is_empty() {
            parsed
        } else {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, parsed)];
            for pair in pairs {
                let mut phrase = PhraseQuery::new(pair);
                phrase.set_slop(WORD_PAIR_SLOP);
                let boosted = BoostQuery::new(Box::new(phrase), WORD_PAIR_BOOST);
                clauses.push((Occur::Should, Box::new(boosted)));
            }
            Box::new(BooleanQuery::new(clauses))
        };
        let query: Box<dyn Query> = if scope.is_empty() {
            parsed
        } else {
            let documents = scope
                .iter()
                .map(|&document_id| id_term(self.fields.document_id, document_id));
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, parsed),
                (Occur::Must, Box::new(TermSetQuery::new(documents))),
            ]))
        };
        let top: Vec<(f32, DocAddress)> =
            searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let chunk_of = id_reader(&searcher, "chunk_id")?;
        Ok(top
            .into_iter()
            .filter_map(|(score, address)| {
                chunk_of(address).map(|chunk_id| KeywordHit { chunk_id, score })
            })
            .collect())
    }

    /// Each two successive content words of `query`, analysed as the index analyses text.
    fn successive_word_pairs(&self, query: &str) -> Result<Vec<Vec<Term>>> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.text)?;
        let mut terms = Vec::new();
        for word in crate::retrieve::content_words(query) {
            let mut stream = analyzer.token_stream(&word);
            while stream.advance() {
                terms.push(Term::from_field_text(
                    self.fields.text,
                    &stream.token().text,
                ));
            }
        }
        let mut pairs: Vec<Vec<Term>> = terms.windows(2).map(<[Term]>::to_vec).collect();
        pairs.dedup();
        Ok(pairs)
    }

    /// How many passages of each document hold each analysed word of `query`, and how many
    /// passages each document has: which documents a word runs through, not just where it
    /// scores.
    pub fn document_coverage(&self, query: &str) -> Result<DocumentCoverage> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let document_of = id_reader(&searcher, "document_id")?;
        let mut analyzer = self.index.tokenizer_for_field(self.fields.text)?;
        let mut words: Vec<String> = Vec::new();
        let text = sanitize_query(query);
        let mut stream = analyzer.token_stream(&text);
        while stream.advance() {
            let word = stream.token().text.clone();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let mut coverage = DocumentCoverage::default();
        // Nothing to count for a question that writes no names (most searches).
        if words.is_empty() {
            return Ok(coverage);
        }
        coverage.passages = self.passages_per_document(&searcher, &document_of)?;
        // Each word's postings are walked directly: collecting the matches as a set of
        // addresses first cost more than the search itself for names found in most passages.
        let mut per_word: Vec<HashMap<i64, usize>> = vec![HashMap::new(); words.len()];
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.text)?;
            for (word, per_document) in words.iter().zip(per_word.iter_mut()) {
                let term = Term::from_field_text(self.fields.text, word);
                let postings = inverted.read_postings(&term, IndexRecordOption::Basic);
                let Some(mut postings) = postings.map_err(tantivy::TantivyError::from)? else {
                    continue;
                };
                let mut doc_id = postings.doc();
                while doc_id != TERMINATED {
                    if !segment.is_deleted(doc_id) {
                        if let Some(id) = document_of(DocAddress::new(segment_ord as u32, doc_id)) {
                            *per_document.entry(id).or_default() += 1;
                        }
                    }
                    doc_id = postings.advance();
                }
            }
        }
        coverage.words = words.into_iter().zip(per_word).collect();
        Ok(coverage)
    }

    fn passages_per_document(
        &self,
        searcher: &Searcher,
        document_of: &dyn Fn(DocAddress) -> Option<i64>,
    ) -> Result<HashMap<i64, usize>> {
        let generation = searcher.generation().generation_id();
        // A panic elsewhere cannot leave the counts half-written: they are replaced whole.
        let mut cached = self
            .passages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((counted, passages)) = cached.as_ref() {
            if *counted == generation {
                return Ok(passages.clone());
            }
        }
        let mut passages: HashMap<i64, usize> = HashMap::new();
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc_id in segment.doc_ids_alive() {
                if let Some(id) = document_of(DocAddress::new(segment_ord as u32, doc_id)) {
                    *passages.entry(id).or_default() += 1;
                }
            }
        }
        *cached = Some((generation, passages.clone()));
        Ok(passages)
    }

    /// Passages of documents other than `document_id` that may be near-copies of `text`, as
    /// (chunk id, document id), at most `limit`, those sharing the most first: each shares at
    /// least two in three of a sample of the text's words. The sample is the words with the
    /// lowest hashes (min-hashing: a copy holds about the same share of any sample as of all
    /// the words) among those found in two passages or more and in at most half of them: a word
    /// no other passage holds cannot be shared, and one most passages hold is shared by
    /// anything. A dozen such words make a short query however large the library.
    pub fn copy_candidates(
        &self,
        text: &str,
        document_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, i64)>> {
        const SAMPLE: usize = 12;
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let passages = searcher.num_docs();
        let mut analyzer = self.index.tokenizer_for_field(self.fields.text)?;
        let mut words: HashSet<String> = HashSet::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            words.insert(stream.token().text.clone());
        }
        let mut sample: Vec<(u64, Term)> = Vec::new();
        for word in words {
            let term = Term::from_field_text(self.fields.text, &word);
            let holders = searcher.doc_freq(&term)?;
            if holders >= 2 && holders * 2 <= passages {
                sample.push((fnv1a(word.as_bytes()), term));
            }
        }
        sample.sort_unstable_by_key(|(hash, _)| *hash);
        sample.truncate(SAMPLE);
        if sample.len() < SAMPLE / 2 {
            return Ok(Vec::new());
        }
        let required = (sample.len() * 2).div_ceil(3);
        let clauses: Vec<(Occur, Box<dyn Query>)> = sample
            .into_iter()
            .map(|(_, term)| {
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Should, query)
            })
            .collect();
        let query = BooleanQuery::with_minimum_required_clauses(clauses, required);
        let others = BooleanQuery::new(vec![
            (Occur::Must, Box::new(query) as Box<dyn Query>),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    id_term(self.fields.document_id, document_id),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let top = searcher.search(&others, &TopDocs::with_limit(limit).order_by_score())?;
        let chunk_of = id_reader(&searcher, "chunk_id")?;
        let document_of = id_reader(&searcher, "document_id")?;
        Ok(top
            .into_iter()
            .filter_map(|(_, address)| Some((chunk_of(address)?, document_of(address)?)))
            .collect())
    }

    /// Chunk ids indexed for one document (consistency checks).
    pub fn chunk_ids_of(&self, document_id: i64) -> Result<Vec<i64>> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            id_term(self.fields.document_id, document_id),
            IndexRecordOption::Basic,
        );
        let addresses = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
        let chunk_of = id_reader(&searcher, "chunk_id")?;
        let mut ids: Vec<i64> = addresses.into_iter().filter_map(chunk_of).collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

/// Reads an id field (`chunk_id`, `document_id`) of the passages `searcher` finds.
fn id_reader(searcher: &Searcher, field: &str) -> Result<impl Fn(DocAddress) -> Option<i64>> {
    let columns = searcher
        .segment_readers()
        .iter()
        .map(|segment| segment.fast_fields().u64(field))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(move |address: DocAddress| {
        columns
            .get(address.segment_ord as usize)
            .and_then(|column| column.first(address.doc_id))
            .map(|id| id as i64)
    })
}

/// FNV-1a: a fixed hash (the standard library's is seeded per process), so a passage's word
/// sample is the same in every run.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// See `KeywordIndex::document_coverage`.
#[derive(Debug, Clone, Default)]
pub struct DocumentCoverage {
    /// Passages per document id.
    pub passages: HashMap<i64, usize>,
    /// Each analysed query word with its passage count per document id (absent = none).
    pub words: Vec<(String, HashMap<i64, usize>)>,
}

/// Turns free text into terms the query parser accepts: query syntax characters would make a
/// question like `what's "net sales" (Q3)?` fail or mean something else.
fn sanitize_query(query: &str) -> String {
    query
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT" | "IN"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> Result<tempfile::TempDir> {
        tempfile::tempdir().map_err(|e| Error::io(Path::new("tempdir"), e))
    }

    /// A writable index in a new temporary directory (kept alive by the returned guard).
    fn index_in_temp_dir() -> Result<(tempfile::TempDir, KeywordIndex)> {
        let dir = temp_dir()?;
        let index = KeywordIndex::open(dir.path(), true)?;
        Ok((dir, index))
    }

    /// A passage on page 1.
    fn passage(id: i64, text: &str) -> (i64, i64, String) {
        (id, 1, text.to_string())
    }

    #[test]
    fn coverage_counts_passages_per_document_for_each_query_word() -> Result<()> {
        let (_dir, mut index) = index_in_temp_dir()?;
        index.replace_document(
            1,
            &[
                passage(10, "Apple Inc. net sales"),
                passage(11, "Apple Inc. inventories"),
            ],
        )?;
        index.replace_document(2, &[passage(20, "NVIDIA revenue; unlike Apple's")])?;
        index.replace_document(3, &[passage(30, "NVIDIA gaming")])?;
        let coverage = index.document_coverage("Apple's")?;
        let expected: HashMap<i64, usize> = [(1, 2), (2, 1), (3, 1)].into_iter().collect();
        assert_eq!(coverage.passages, expected);
        let apple = coverage.words.iter().find(|(w, _)| w == "appl");
        let expected: HashMap<i64, usize> = [(1, 2), (2, 1)].into_iter().collect();
        assert_eq!(apple.map(|(_, per)| per), Some(&expected));
        Ok(())
    }

    #[test]
    fn passages_with_the_questions_words_side_by_side_rank_first() -> Result<()> {
        let (_dir, mut index) = index_in_temp_dir()?;
        // The same words, the same length: only their order tells the passages apart.
        index.replace_document(1, &[passage(10, "expense of debt; interest of travel")])?;
        index.replace_document(2, &[passage(20, "travel expense; debt interest of")])?;
        index.replace_document(3, &[passage(30, "of debt; interest expense; travel")])?;
        let hits = index.search("What was the interest expense?", 10, &[])?;
        assert_eq!(hits.first().map(|h| h.chunk_id), Some(30));
        assert_eq!(hits.len(), 3);
        // "research and development": the dropped stopword still counts as side by side.
        index.replace_document(4, &[passage(40, "development: research")])?;
        index.replace_document(5, &[passage(50, "research and development")])?;
        let hits = index.search("How much research and development?", 10, &[])?;
        assert_eq!(hits.first().map(|h| h.chunk_id), Some(50));
        Ok(())
    }

    #[test]
    fn near_copies_are_found_in_other_documents() -> Result<()> {
        let (_dir, mut index) = index_in_temp_dir()?;
        let certification = |name: &str, company: &str, date: &str| {
            format!(
                "I, {name}, certify that: 1. I have reviewed this quarterly report on Form 10-Q \
                 of {company}; 2. Based on my knowledge, this report does not contain any untrue \
                 statement of a material fact or omit to state a material fact necessary to make \
                 the statements made, in light of the circumstances under which such statements \
                 were made, not misleading with respect to the period covered by this report. \
                 Date: {date}"
            )
        };
        let own = certification("Luca Maestri", "Apple Inc.", "May 5, 2023");
        let signers = [
            ("Tim Cook", "Apple Inc.", "July 28, 2023"),
            ("Jensen Huang", "NVIDIA Corporation", "May 26, 2023"),
            ("Colette Kress", "NVIDIA Corporation", "August 25, 2023"),
        ];
        let others = [
            "Legal proceedings: the Company is a defendant in a patent suit over its phones.",
            "Net sales by category: iPhone, Mac, iPad, wearables and services grew this quarter.",
            "Gaming revenue was up on strong demand for graphics cards in the third quarter.",
            "Inventories rose ahead of product launches; purchase obligations were unchanged.",
        ];
        index.replace_document(1, &[(10, 1, own.clone()), (11, 2, others[0].to_string())])?;
        for (n, (name, company, date)) in signers.iter().enumerate() {
            let document = n as i64 + 2;
            let passages = [
                (document * 10, 1, certification(name, company, date)),
                (document * 10 + 1, 2, others[n + 1].to_string()),
            ];
            index.replace_document(document, &passages)?;
        }
        index.replace_document(5, &[(50, 1, others[3].to_string())])?;
        let mut found = index.copy_candidates(&own, 1, 10)?;
        found.sort_unstable();
        assert_eq!(found, vec![(20, 2), (30, 3), (40, 4)]);
        assert_eq!(index.copy_candidates(&own, 1, 1)?.len(), 1);
        // Nothing else repeats the legal passage; it is not a copy of the certification.
        assert!(index.copy_candidates(others[0], 1, 10)?.is_empty());
        Ok(())
    }

    #[test]
    fn figures_are_found_in_their_own_field() -> Result<()> {
        let (_dir, mut index) = index_in_temp_dir()?;
        index.replace_document(
            1,
            &[
                passage(10, "Net sales: iPhone $ 39,669 $ 40,665; Mac 6,840 7,382"),
                passage(11, "Net sales of iPhone decreased in fiscal 2023"),
            ],
        )?;
        let ids = |hits: Vec<KeywordHit>| hits.iter().map(|h| h.chunk_id).collect::<Vec<_>>();
        assert_eq!(ids(index.search("39,669", 10, &[])?), vec![10]);
        assert_eq!(
            ids(index.search("iPhone 2023", 10, &[])?).first(),
            Some(&11)
        );
        Ok(())
    }

    #[test]
    fn an_index_of_the_schema_before_figures_is_searched_then_rebuilt() -> Result<()> {
        let dir = temp_dir()?;
        {
            let mut builder = Schema::builder();
            let id_options = NumericOptions::default().set_indexed().set_fast();
            let chunk_id = builder.add_u64_field("chunk_id", id_options.clone());
            let document_id = builder.add_u64_field("document_id", id_options);
            let text = builder.add_text_field("text", analysed_by(TEXT_ANALYZER));
            let index = Index::create(mmap_dir(dir.path())?, builder.build(), Default::default())?;
            index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
            let mut writer: IndexWriter = index.writer(WRITER_MEMORY)?;
            let mut doc = TantivyDocument::default();
            doc.add_u64(chunk_id, 7);
            doc.add_u64(document_id, 1);
            doc.add_text(text, "Gross margin rose");
            writer.add_document(doc)?;
            writer.commit()?;
        }
        let reader = KeywordIndex::open(dir.path(), false)?;
        let hits = reader.search("gross margin", 10, &[])?;
        assert_eq!(hits.iter().map(|h| h.chunk_id).collect::<Vec<_>>(), vec![7]);
        drop(reader);
        let mut writer = KeywordIndex::open(dir.path(), true)?;
        assert_eq!(writer.len()?, 0, "a writer starts an old index afresh");
        writer.replace_document(1, &[(8, 1, "Total $ 36,413".to_string())])?;
        assert_eq!(writer.search("36,413", 10, &[])?.len(), 1);
        Ok(())
    }

    #[test]
    fn sanitized_query_keeps_words_only() {
        assert_eq!(
            sanitize_query("what's \"net sales\" (Q3)? AND -x"),
            "what s net sales Q3 x"
        );
    }
}
