//! `folio`: the command-line face of the Folio core.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use terminal::{plural, short_name, snippet, terminal_safe};

mod assistant;
mod terminal;

use folio::bench::{self, IngestBenchOptions};
use folio::extract::ExtractLimits;
use folio::location::library_dir;
use folio::system::default_models_dir;
use folio::{
    Access, AddOptions, AddReport, IngestEvent, Library, LibraryPaths, Outcome, SearchMode,
    SearchOptions,
};

// glibc's malloc hands the embedder's large activation buffers back to the kernel and
// page-faults them in again on every layer (a quarter of embedding time); mimalloc reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "folio", version, about = "Private, on-device search and answers over your PDFs", long_about = None)]
struct Cli {
    #[command(flatten)]
    location: Location,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Location {
    /// Library folder (catalog and indexes) [default: the one chosen in the desktop app, else ~/.local/share/folio/library]
    #[arg(long, global = true, env = "FOLIO_HOME")]
    library: Option<PathBuf>,
    /// Models folder, as filled by scripts/fetch-models [default: ~/.local/share/folio/models]
    #[arg(long, global = true, env = "FOLIO_MODELS_DIR")]
    models: Option<PathBuf>,
}

impl Location {
    fn paths(&self) -> LibraryPaths {
        LibraryPaths {
            root: self.library.clone().unwrap_or_else(library_dir),
            models: self.models.clone().unwrap_or_else(default_models_dir),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Add PDF files or folders (recursively) to the library
    Add(AddArgs),
    /// Search the library; prints cited passages
    Search(SearchArgs),
    /// List the documents in the library with their status
    Docs {
        /// Print JSON (one object per document)
        #[arg(long)]
        json: bool,
    },
    /// Remove a document (by id, path, file name or a unique part of its title)
    Remove {
        /// Document id, path, file name, or unique title fragment
        doc: String,
    },
    /// Rebuild the keyword and vector indexes from the catalog
    Reindex,
    /// Answer a question from your documents with a local model, citing pages
    Ask(assistant::AskArgs),
    /// Chat with your documents (multi-turn; conversations are saved)
    Chat(assistant::ChatArgs),
    /// Stored conversations: list, export, rename, delete
    #[command(subcommand)]
    Chats(assistant::ChatsCommand),
    /// Summarize a whole document with citations (map-reduce over its passages)
    Summarize(assistant::SummarizeArgs),
    /// Installed language models: list, import a GGUF, choose default and larger model
    Models {
        #[command(subcommand)]
        command: Option<assistant::ModelsCommand>,
    },
    /// Measure performance
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Args)]
struct AddArgs {
    /// PDF files and folders
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Password for encrypted PDFs
    #[arg(long)]
    password: Option<String>,
    /// Skip files larger than this many MiB
    #[arg(long, default_value_t = 256)]
    max_size_mb: u64,
    /// Give up on a file after this many seconds per reader
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Only extract and index keywords; compute vectors later (next `add` or `reindex`)
    #[arg(long)]
    no_embed: bool,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SearchArgs {
    query: String,
    #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
    mode: Mode,
    /// Number of passages to show
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// Only search this document (id, path, file name or title fragment); repeat for several
    #[arg(long)]
    scope: Vec<String>,
    /// Print JSON (one object per hit)
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Hybrid,
    Keyword,
    Vector,
}

impl From<Mode> for SearchMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Hybrid => SearchMode::Hybrid,
            Mode::Keyword => SearchMode::Keyword,
            Mode::Vector => SearchMode::Vector,
        }
    }
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Ingest a folder of PDFs into a scratch library and report extraction, embedding,
    /// end-to-end and search figures
    Ingest {
        dir: PathBuf,
        /// Search queries to time, one per line or JSONL with a "question" field [default: taken from the text]
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Number of search queries to time
        #[arg(long, default_value_t = 200)]
        searches: usize,
        /// Embed at most this many chunks in the embedding-only measurement
        #[arg(long, default_value_t = 512)]
        embed_sample: usize,
        /// Texts per forward pass in the embedding-only measurement
        #[arg(long, default_value_t = bench::BATCH_SIZE)]
        batch: usize,
        #[arg(long)]
        json: bool,
    },
    /// Hybrid search latency on this library as it is (p50, p95, mean per stage)
    Search {
        /// Questions to search for, one per line or JSONL with a "question" field
        #[arg(long)]
        queries: PathBuf,
        /// Number of searches to time (cycling through the questions)
        #[arg(long, default_value_t = 200)]
        searches: usize,
        #[arg(long)]
        json: bool,
    },
    /// Run a question set through each installed model over the library: time to first token,
    /// prefill and decode speed, peak memory, answers citing a gold page, abstentions
    Models {
        /// JSONL: question, optional answer, evidence [{doc, page}], answerable
        #[arg(long)]
        questions: PathBuf,
        /// Add these PDFs to the library first (unchanged files are skipped)
        #[arg(long)]
        pdfs: Option<PathBuf>,
        /// Only these models (names from `folio models`), comma-separated; `routed` adds a row
        /// where each question is routed between the default and the larger model [default: all]
        #[arg(long, value_delimiter = ',')]
        model: Vec<String>,
        /// Only the first N questions
        #[arg(long)]
        limit: Option<usize>,
        /// Most passages given to the model
        #[arg(long, default_value_t = folio::answer::AnswerOptions::default().max_sources)]
        sources: usize,
        /// Characters kept of each passage, around its best-matching part
        #[arg(long, default_value_t = folio::answer::AnswerOptions::default().source_chars)]
        source_chars: usize,
        /// Token budget for the passages in the prompt (the first passage always goes in)
        #[arg(long, default_value_t = folio::answer::AnswerOptions::default().source_token_budget)]
        source_tokens: usize,
        #[arg(long)]
        json: bool,
    },
    /// Extraction alone (read, normalise, chunk) of the PDFs under DIR, one file at a time
    Extract {
        dir: PathBuf,
        /// Also write the chunk texts there (a JSON array), for `bench embed` and references
        #[arg(long)]
        chunks_out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Embedding alone (all-MiniLM-L6-v2) of the texts in a JSON array; threads = the CPUs
    /// this process may use (restrict with `taskset`)
    Embed {
        /// JSON array of strings, e.g. written by `bench extract --chunks-out`
        #[arg(long)]
        texts: PathBuf,
        /// Texts per forward pass
        #[arg(long, default_value_t = bench::BATCH_SIZE)]
        batch: usize,
        /// Also write the vectors there (a JSON array), to check them against a reference
        #[arg(long)]
        vectors_out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Generation on a fixed prompt: time to first token, prefill and decode tokens/s
    Generate {
        /// Model name from `folio models`, or a GGUF path [default: the default model]
        #[arg(long)]
        model: Option<String>,
        /// File holding the prompt (one user message)
        #[arg(long)]
        prompt: PathBuf,
        #[arg(long, default_value_t = 64)]
        max_tokens: usize,
        /// Timed runs after one warm-up
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long)]
        json: bool,
    },
    /// Page-level recall@k and MRR of each search mode on a QA set with gold pages
    /// (ingests PDFS into the library first; unchanged files are skipped)
    Retrieval {
        /// Folder of the PDFs the questions are about
        pdfs: PathBuf,
        /// JSONL questions with `evidence: [{doc, page}]`
        #[arg(long)]
        qa: PathBuf,
        /// Chunk length to aim for, in bytes, when the PDFs are added (to compare chunkings;
        /// a library keeps the chunks it was built with)
        #[arg(long, default_value_t = folio::chunk::ChunkSizes::default().target)]
        chunk_target: usize,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // Before any thread exists: the environment is not safe to change later.
    folio::system::set_offline_environment();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // `folio search … | head` closes our stdout early: not an error worth a message.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let paths = cli.location.paths();
    match cli.command {
        Command::Add(args) => add(paths, args).await,
        Command::Search(args) => search(paths, args).await,
        Command::Docs { json } => docs(paths, json).await,
        Command::Ask(args) => {
            // Refused before the library or a model is opened.
            folio::answer::checked_question(args.question())?;
            assistant::ask(paths, args).await
        }
        Command::Chat(args) => assistant::chat(paths, args).await,
        Command::Summarize(args) => assistant::summarize(paths, args).await,
        Command::Chats(command) => assistant::chats(paths, command).await,
        Command::Models { command } => assistant::models(&paths, command),
        Command::Remove { doc } => {
            let mut library = open(paths, Access::Write).await?;
            let document = library.find_document(&doc).await?;
            library.remove_document(document.id).await?;
            println!(
                "removed {} ({})",
                terminal_safe(&document.title),
                terminal_safe(&document.file)
            );
            library.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex => {
            let mut library = open(paths, Access::Write).await?;
            library.reindex().await?;
            let counts = library.counts().await?;
            println!("keyword index rebuilt: {} passages", counts.keyword_chunks);
            let bar = embed_bar(&MultiProgress::new(), counts.pending_chunks as u64);
            let embedded = library
                .embed_pending(&|event| {
                    if let IngestEvent::Embedded { chunks, .. } = event {
                        bar.set_position(chunks);
                    }
                })
                .await?;
            bar.finish_and_clear();
            println!("vector index rebuilt: {embedded} passages embedded");
            library.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Ingest {
            dir,
            queries,
            searches,
            embed_sample,
            batch,
            json,
        }) => {
            let options = IngestBenchOptions {
                models: paths.models.clone(),
                queries,
                searches,
                embed_sample,
                batch_size: batch,
            };
            let report = bench::ingest(&dir, &options).await?;
            print_report(&report, json, report.to_table())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Search {
            queries,
            searches,
            json,
        }) => {
            let library = open(paths, Access::Read).await?;
            let report = bench::search(&library, &queries, searches).await;
            library.close().await;
            let report = report?;
            print_report(&report, json, report.to_table())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Extract {
            dir,
            chunks_out,
            json,
        }) => {
            let run = bench::speed::extraction(&bench::pdfs_in(&dir)).await;
            if let Some(out) = chunks_out {
                std::fs::write(&out, serde_json::to_vec(&run.chunk_texts)?)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            let readers: Vec<String> = run
                .reader_seconds
                .iter()
                .map(|(reader, seconds)| format!("{reader} {seconds:.2}s"))
                .collect();
            let table = format!(
                "{} files, {} pages in {:.2}s: {:.1} pages/s ({})\n",
                run.files,
                run.rate.items,
                run.rate.seconds,
                run.rate.per_second,
                readers.join(", ")
            );
            print_report(&run, json, table)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Embed {
            texts,
            batch,
            vectors_out,
            json,
        }) => {
            let raw =
                std::fs::read(&texts).with_context(|| format!("reading {}", texts.display()))?;
            let texts: Vec<String> = serde_json::from_slice(&raw)
                .with_context(|| format!("{} is not a JSON array of strings", texts.display()))?;
            let (rate, vectors) = bench::speed::embedding(&paths.models, &texts, batch)?;
            if let Some(out) = vectors_out {
                std::fs::write(&out, serde_json::to_vec(&vectors)?)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            let table = format!(
                "{} texts in {:.2}s: {:.2} texts/s\n",
                rate.items, rate.seconds, rate.per_second
            );
            print_report(&rate, json, table)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Generate {
            model,
            prompt,
            max_tokens,
            repeats,
            json,
        }) => {
            let prompt = std::fs::read_to_string(&prompt)
                .with_context(|| format!("reading {}", prompt.display()))?;
            let info =
                folio::models::ModelStore::new(paths.models.clone()).resolve(model.as_deref())?;
            let report = bench::speed::generation(&info.path, &prompt, max_tokens, repeats).await?;
            let mut table = format!(
                "{} ({} threads), loaded in {:.0} ms\n",
                report.model, report.threads, report.load_ms
            );
            for run in &report.runs {
                table.push_str(&format!(
                    "prompt {} tokens, TTFT {:.0} ms, prefill {:.1} tok/s, decode {:.1} tok/s ({} tokens)\n",
                    run.prompt_tokens,
                    run.time_to_first_token_ms,
                    run.prefill_tokens_per_second,
                    run.decode_tokens_per_second,
                    run.completion_tokens
                ));
            }
            print_report(&report, json, table)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Models {
            questions,
            pdfs,
            model,
            limit,
            sources,
            source_chars,
            source_tokens,
            json,
        }) => {
            if let Some(pdfs) = pdfs {
                let mut library = open(paths.clone(), Access::Write).await?;
                library
                    .add(&[pdfs], &AddOptions::default(), &|_| {})
                    .await?;
                library.close().await;
            }
            let library = open(paths.clone(), Access::Read).await?;
            let options = bench::models::ModelBenchOptions {
                models_dir: paths.models.clone(),
                questions,
                models: model,
                limit,
                answer: folio::answer::AnswerOptions {
                    max_sources: sources.max(1),
                    source_chars: source_chars.max(100),
                    source_token_budget: source_tokens,
                    ..folio::answer::AnswerOptions::default()
                },
            };
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} questions  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let report = bench::models::run(&library, &options, &|name, done, total| {
                bar.set_message(name.to_string());
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
            bar.finish_and_clear();
            let report = report?;
            print_report(&report, json, report.to_table())?;
            library.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Retrieval {
            pdfs,
            qa,
            chunk_target,
            json,
        }) => {
            let mut library = open(paths, Access::Write).await?;
            let add = AddOptions {
                chunk_sizes: folio::chunk::ChunkSizes::with_target(chunk_target.max(100)),
                ..AddOptions::default()
            };
            let report = bench::retrieval(&mut library, &pdfs, &qa, &add).await?;
            print_report(&report, json, report.to_table())?;
            library.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A bench report: pretty JSON, or its table.
fn print_report(report: &impl serde::Serialize, json: bool, table: String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{table}");
    }
    Ok(())
}

pub(crate) async fn open(paths: LibraryPaths, access: Access) -> Result<Library> {
    let root = paths.root.clone();
    let library = Library::open(paths, access)
        .await
        .with_context(|| format!("opening the library at {}", root.display()))?;
    let repair = library.repair_report();
    if !repair.is_clean() {
        eprintln!(
            "repaired an interrupted run: {}",
            serde_json::to_string(&repair)?
        );
    }
    Ok(library)
}

async fn add(paths: LibraryPaths, args: AddArgs) -> Result<ExitCode> {
    let mut library = open(paths, Access::Write).await?;
    let options = AddOptions {
        password: args.password,
        max_file_bytes: args.max_size_mb * 1024 * 1024,
        limits: ExtractLimits {
            time_limit: Duration::from_secs(args.timeout.max(1)),
        },
        embed: !args.no_embed,
        ..AddOptions::default()
    };
    let bars = MultiProgress::new();
    let files = bars.add(ProgressBar::new(0));
    files.set_style(
        ProgressStyle::with_template(
            "{spinner} reading  [{bar:30}] {pos}/{len} files  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    files.enable_steady_tick(Duration::from_millis(200));
    let embed = embed_bar(&bars, 0);
    let started = std::time::Instant::now();
    let pages = Mutex::new(0usize);
    let report = library
        .add(&args.paths, &options, &|event| match event {
            IngestEvent::Discovered { files: n, .. } => files.set_length(n as u64),
            IngestEvent::FileStarted { file } => files.set_message(short_name(&file)),
            IngestEvent::FileFinished { report } => {
                let mut total = pages.lock().unwrap_or_else(|p| p.into_inner());
                *total += report.pages;
                let rate = *total as f64 / started.elapsed().as_secs_f64().max(1e-3);
                files.inc(1);
                files.set_message(format!("{} pages, {rate:.0} pages/s", *total));
                if report.chunks > 0 && report.outcome.is_added() {
                    embed.inc_length(report.chunks as u64);
                }
            }
            IngestEvent::Embedded { chunks, waiting } => {
                embed.set_length(chunks + waiting);
                embed.set_position(chunks);
            }
            IngestEvent::Warning { message } => {
                let _ = bars.println(format!("warning: {message}"));
            }
        })
        .await;
    files.finish_and_clear();
    embed.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_add_report(&report);
    }
    library.close().await;
    if report.files.is_empty() {
        eprintln!("No PDF files found in the given paths.");
    }
    Ok(if report.anything_added() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn embed_bar(bars: &MultiProgress, length: u64) -> ProgressBar {
    let bar = bars.add(ProgressBar::new(length));
    bar.set_style(
        ProgressStyle::with_template(
            "  embedding [{bar:30}] {pos}/{len} passages  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn print_add_report(report: &AddReport) {
    println!(
        "{:<14} {:>6} {:>7}  {:<22} FILE",
        "OUTCOME", "PAGES", "CHUNKS", "READER"
    );
    for file in &report.files {
        let note = match &file.outcome {
            Outcome::Duplicate { of } => format!("  (same content as {})", terminal_safe(of)),
            Outcome::Damaged { reason } => format!("  ({})", terminal_safe(reason)),
            Outcome::TooLarge { bytes, limit } => {
                format!("  ({} MiB > {} MiB)", bytes >> 20, limit >> 20)
            }
            Outcome::Encrypted => "  (password needed: --password)".to_string(),
            Outcome::Unreadable { reason } => format!("  ({})", terminal_safe(reason)),
            _ if file.pages_without_text > 0 => {
                format!("  ({} pages without text)", file.pages_without_text)
            }
            _ => String::new(),
        };
        println!(
            "{:<14} {:>6} {:>7}  {:<22} {}{}",
            file.outcome.label(),
            file.pages,
            file.chunks,
            file.extractor,
            terminal_safe(&file.file),
            note
        );
    }
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for file in &report.files {
        match tally
            .iter_mut()
            .find(|(label, _)| *label == file.outcome.label())
        {
            Some((_, n)) => *n += 1,
            None => tally.push((file.outcome.label(), 1)),
        }
    }
    let summary: Vec<String> = tally
        .iter()
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    println!(
        "\n{}: {}. {} pages read in {:.1}s; {} passages embedded in {:.1}s.",
        plural(report.files.len(), "file", "files"),
        summary.join(", "),
        report.pages_extracted,
        report.extract_seconds,
        report.chunks_embedded,
        report.embed_seconds
    );
    if report.skipped_non_pdf > 0 {
        let n = report.skipped_non_pdf;
        let verb = if n == 1 {
            "was not a PDF"
        } else {
            "were not PDFs"
        };
        println!(
            "{} in the folders {verb}; skipped.",
            plural(n, "file", "files")
        );
    }
    if report.chunks_waiting_for_vectors > 0 {
        println!(
            "{} passages wait for vectors (keyword search already finds them); run `folio add` again or `folio reindex`.",
            report.chunks_waiting_for_vectors
        );
    }
}

async fn search(paths: LibraryPaths, args: SearchArgs) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let library = open(paths, Access::Read).await?;
    let scope = library.find_documents(&args.scope).await?;
    let results = library
        .search(
            &args.query,
            SearchOptions {
                mode: args.mode.into(),
                k: args.k.max(1),
                scope,
            },
        )
        .await?;
    if args.json {
        for hit in &results.hits {
            writeln!(out, "{}", serde_json::to_string(hit)?)?;
        }
    } else {
        for warning in &results.warnings {
            eprintln!("note: {warning}");
        }
        if results.hits.is_empty() {
            writeln!(out, "No passage matches {:?}.", terminal_safe(&args.query))?;
        }
        let color = std::io::stdout().is_terminal();
        for (i, hit) in results.hits.iter().enumerate() {
            let file = short_name(&hit.chunk.file);
            let ranks = match (hit.keyword_rank, hit.vector_rank) {
                (Some(k), Some(v)) => format!("keyword #{k}, vector #{v}"),
                (Some(k), None) => format!("keyword #{k}"),
                (None, Some(v)) => format!("vector #{v}"),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "[{}] {} — {}, p. {}   score {:.4} ({ranks})",
                i + 1,
                terminal_safe(&hit.chunk.title),
                file,
                hit.chunk.page,
                hit.score
            )?;
            writeln!(
                out,
                "    {}\n",
                snippet(&hit.chunk.text, &hit.highlights, color)
            )?;
        }
    }
    library.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn docs(paths: LibraryPaths, json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let library = open(paths, Access::Read).await?;
    let documents = library.documents().await?;
    if json {
        for doc in &documents {
            writeln!(out, "{}", serde_json::to_string(doc)?)?;
        }
    } else if documents.is_empty() {
        writeln!(
            out,
            "The library is empty. Add PDFs with `folio add PATH...`."
        )?;
    } else {
        writeln!(
            out,
            "{:>4}  {:<13} {:>5} {:>7} {:>8}  {:<22} FILE",
            "ID", "STATUS", "PAGES", "CHUNKS", "VECTORS", "READER"
        )?;
        for doc in &documents {
            writeln!(
                out,
                "{:>4}  {:<13} {:>5} {:>7} {:>8}  {:<22} {}",
                doc.id,
                doc.status.as_str(),
                doc.pages,
                doc.chunks,
                doc.chunks_embedded,
                doc.extractor,
                terminal_safe(&doc.file)
            )?;
            for warning in &doc.warnings {
                writeln!(out, "{:>6}warning: {}", "", terminal_safe(warning))?;
            }
        }
        let counts = library.counts().await?;
        if counts.pending_chunks > 0 {
            writeln!(
                out,
                "\n{} passages wait for vectors.",
                counts.pending_chunks
            )?;
        }
    }
    library.close().await;
    Ok(ExitCode::SUCCESS)
}
