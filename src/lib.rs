//! Folio core: a private, on-device document library. PDFs are read page by page into a SQLite
//! catalog (the source of truth), indexed for BM25 (tantivy) and vector search (LanceDB), and
//! searched with hybrid retrieval that cites document, page and char span.
//!
//! The core never depends on the desktop shell; see ARCHITECTURE.md for the map.

pub mod answer;
pub mod bench;
pub mod bert;
pub mod catalog;
pub mod chunk;
pub mod conversation;
pub mod embed;
pub mod error;
pub mod extract;
pub mod figures;
pub mod index;
pub mod ingest;
pub mod library;
pub mod llm;
pub mod location;
pub mod models;
pub mod retrieve;
pub mod route;
pub mod running_lines;
pub mod session;
pub mod summarize;
pub mod system;

pub use catalog::{ChunkRecord, DocStatus, Document};
pub use error::{Error, Result};
pub use ingest::{AddOptions, AddReport, FileReport, IngestEvent, Outcome};
pub use library::{Access, Consistency, Library, LibraryPaths, RepairReport};
pub use retrieve::{SearchHit, SearchMode, SearchOptions, SearchResults, SearchTimings};
