//! The assistant commands: `ask`, `chat`, `chats`, `models`, `summarize`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

use folio::answer::{Answer, AnswerEvent, AnswerOptions, Citation};
use folio::llm::{check_fit, Fit, GenerationParams};
use folio::models::ModelStore;
use folio::session::{Assistant, ModelChoice};
use folio::{Access, Library, LibraryPaths};

use crate::terminal::{short_name, terminal_safe};

/// How a question is answered; shared by `ask` and `chat`.
#[derive(Args, Clone)]
pub struct AnswerArgs {
    /// Model name from `folio models` (or a GGUF path) [default: routed between the default and the larger model]
    #[arg(long)]
    model: Option<String>,
    /// Only use this document (id, path, file name or title fragment); repeat for several
    #[arg(long)]
    scope: Vec<String>,
    /// Most passages given to the model
    #[arg(long, default_value_t = AnswerOptions::default().max_sources)]
    sources: usize,
    /// Longest answer, in tokens
    #[arg(long, default_value_t = 384)]
    max_tokens: usize,
    /// Sampling temperature; 0 = deterministic (greedy)
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Show the model, routing, prompt budget, sources used and timings
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Args)]
pub struct AskArgs {
    /// The question (an empty one is refused)
    question: String,
    #[command(flatten)]
    answer: AnswerArgs,
    /// Print the answer, citations, model and timings as JSON
    #[arg(long)]
    json: bool,
}

impl AskArgs {
    pub fn question(&self) -> &str {
        &self.question
    }
}

#[derive(Args)]
pub struct ChatArgs {
    /// Continue a stored conversation (id from `folio chats`)
    #[arg(long)]
    resume: Option<i64>,
    #[command(flatten)]
    answer: AnswerArgs,
}

#[derive(Subcommand)]
pub enum ChatsCommand {
    /// List stored conversations
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print a conversation as Markdown with its citations
    Export {
        id: i64,
        /// Write to this file instead of the terminal
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Rename a conversation
    Rename { id: i64, title: String },
    /// Delete a conversation
    Delete { id: i64 },
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// List installed models (the default when no subcommand is given)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Import a local GGUF file into the models folder
    Add { file: PathBuf },
    /// Choose the default answer model
    Default { name: String },
    /// Choose the larger model that hard questions are routed to
    Large { name: String },
}

fn answer_options(args: &AnswerArgs, scope: Vec<i64>) -> AnswerOptions {
    AnswerOptions {
        max_sources: args.sources.max(1),
        scope,
        generation: GenerationParams {
            max_tokens: args.max_tokens.max(1),
            temperature: args.temperature,
            ..GenerationParams::default()
        },
        ..AnswerOptions::default()
    }
}

fn model_choice(args: &AnswerArgs) -> ModelChoice {
    match &args.model {
        Some(name) => ModelChoice::Named(name.clone()),
        None => ModelChoice::Auto,
    }
}

/// Cancels `token` on Ctrl-C until the returned guard is dropped.
fn cancel_on_ctrl_c(token: &CancellationToken) -> tokio::task::JoinHandle<()> {
    let token = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            token.cancel();
        }
    })
}

/// Streams one answer to the terminal and returns it.
async fn answer_in_terminal(
    assistant: &Assistant,
    library: &Library,
    question: &str,
    options: &AnswerOptions,
    args: &AnswerArgs,
    quiet: bool,
) -> Result<Answer> {
    let cancel = CancellationToken::new();
    let ctrl_c = cancel_on_ctrl_c(&cancel);
    let mut stdout = std::io::stdout();
    let verbose = args.verbose;
    let result = assistant
        .ask(
            library,
            question,
            options,
            &model_choice(args),
            &cancel,
            &mut |event| match event {
                AnswerEvent::Sources { sources } if verbose => {
                    for s in &sources {
                        eprintln!(
                            "source [{}] {}, p. {} (score {:.4})",
                            s.n,
                            short_name(&s.file),
                            s.page,
                            s.score
                        );
                    }
                }
                AnswerEvent::Token { text } if !quiet => {
                    let _ = write!(stdout, "{}", terminal_safe(&text));
                    let _ = stdout.flush();
                }
                AnswerEvent::Retry { model, reason } if !quiet => {
                    let _ = writeln!(
                        stdout,
                        "\n\n[{}; asking {}]\n",
                        terminal_safe(&reason),
                        terminal_safe(&model)
                    );
                    let _ = stdout.flush();
                }
                _ => {}
            },
        )
        .await;
    ctrl_c.abort();
    let answer = result?;
    if !quiet {
        println!();
        if answer.cancelled {
            println!("[stopped]");
        }
        print_sources(&answer);
    }
    if verbose {
        print_details(&answer);
    }
    Ok(answer)
}

fn quote(citation: &Citation) -> String {
    const MAX: usize = 160;
    let one_line = citation
        .snippet
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut text: String = one_line.chars().take(MAX).collect();
    if one_line.chars().count() > MAX {
        text.push('…');
    }
    terminal_safe(&text)
}

fn print_citation(c: &Citation) {
    println!(
        "[{}] {} — {}, p. {}: \"{}\"",
        c.n,
        terminal_safe(&c.title),
        short_name(&c.file),
        c.page,
        quote(c)
    );
}

fn print_sources(answer: &Answer) {
    if answer.abstained {
        if answer.withheld.is_some() {
            println!(
                "\n\nWithdrawn: none of the figures above is in the passages the model was given. {}",
                answer.text
            );
        }
        if !answer.closest.is_empty() {
            println!("\nClosest passages:");
            answer.closest.iter().for_each(print_citation);
        }
        return;
    }
    if answer.citations.is_empty() {
        if !answer.sources.is_empty() {
            println!("\n(The answer cites no source. Passages it was given:)");
            answer.sources.iter().for_each(print_citation);
        }
        return;
    }
    if answer.citations_attributed {
        println!("\nSources (matched by Folio to the answer's sentences; the model cited none):");
    } else {
        println!("\nSources:");
    }
    answer.citations.iter().for_each(print_citation);
}

fn print_details(answer: &Answer) {
    let t = &answer.timings;
    if let Some(route) = &answer.route {
        eprintln!(
            "model: {} ({}: {})",
            answer.model,
            if route.large {
                "larger model"
            } else {
                "default model"
            },
            route.reason
        );
    } else {
        eprintln!("model: {} (chosen)", answer.model);
    }
    eprintln!(
        "prompt: {} tokens, of which sources {} ({} passages); answer {} tokens",
        answer.prompt_tokens,
        answer.source_tokens,
        answer.sources.len(),
        answer.completion_tokens
    );
    eprintln!(
        "timings: model load {:.0} ms (parallel to retrieval), retrieval {:.0} ms, prompt assembly {:.0} ms, first token {:.0} ms, prefill {:.0} tok/s, decode {:.1} tok/s, total {:.0} ms",
        t.model_load_ms,
        t.retrieval_ms,
        t.prompt_ms,
        t.time_to_first_token_ms,
        t.prompt_tokens_per_second,
        t.decode_tokens_per_second,
        t.total_ms
    );
    if let Some(similarity) = answer.top_similarity {
        eprintln!("best passage similarity: {similarity:.3}");
    }
    if !answer.invalid_markers.is_empty() {
        eprintln!("markers with no source: {:?}", answer.invalid_markers);
    }
    if let Some(reason) = &answer.abstain_reason {
        eprintln!("abstained: {reason}");
    }
}

pub async fn ask(paths: LibraryPaths, args: AskArgs) -> Result<ExitCode> {
    let library = crate::open(paths.clone(), Access::Read).await?;
    let scope = library.find_documents(&args.answer.scope).await?;
    let assistant = Assistant::new(paths.models.clone());
    let options = answer_options(&args.answer, scope);
    let answer = answer_in_terminal(
        &assistant,
        &library,
        &args.question,
        &options,
        &args.answer,
        args.json,
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    }
    library.close().await;
    Ok(if answer.cancelled {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

const CHAT_HELP: &str = "Type a question and press Enter. Commands: /new (new conversation), \
/list, /resume ID, /export (Markdown of this conversation), /quit. Ctrl-C stops an answer.";

pub async fn chat(paths: LibraryPaths, args: ChatArgs) -> Result<ExitCode> {
    let library = crate::open(paths.clone(), Access::Read).await?;
    let catalog = library.catalog();
    // A new conversation searches what --scope names; a resumed one keeps the scope it began with.
    let new_scope = library.find_documents(&args.answer.scope).await?;
    let mut scope = new_scope.clone();
    let assistant = Assistant::new(paths.models.clone());
    let mut conversation = match args.resume {
        Some(id) => {
            let stored = catalog.conversation(id).await?;
            println!(
                "Resuming \"{}\" ({} messages).",
                terminal_safe(&stored.title),
                stored.messages
            );
            scope = stored.scope;
            Some(id)
        }
        None => None,
    };
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("{CHAT_HELP}");
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            print!("\n> ");
            std::io::stdout().flush()?;
        }
        let line = tokio::select! {
            line = lines.next_line() => line?,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("/quit") | Some("/exit") => break,
            Some("/help") => println!("{CHAT_HELP}"),
            Some("/new") => {
                conversation = None;
                scope = new_scope.clone();
                println!("New conversation.");
            }
            Some("/list") => print_conversations(&library).await?,
            Some("/resume") => match words.next().and_then(|w| w.parse::<i64>().ok()) {
                Some(id) => {
                    let stored = catalog.conversation(id).await?;
                    println!("Resuming \"{}\".", terminal_safe(&stored.title));
                    conversation = Some(id);
                    scope = stored.scope;
                }
                None => println!("usage: /resume ID (see /list)"),
            },
            Some("/export") => match conversation {
                Some(id) => println!("{}", terminal_safe(&catalog.export_conversation(id).await?)),
                None => println!("Nothing to export yet."),
            },
            _ => {
                let id = match conversation {
                    Some(id) => id,
                    None => {
                        let id = catalog.create_conversation(line, &scope).await?;
                        conversation = Some(id);
                        id
                    }
                };
                let mut options = answer_options(&args.answer, scope.clone());
                options.history = catalog.turns(id).await?;
                let answer =
                    answer_in_terminal(&assistant, &library, line, &options, &args.answer, false)
                        .await?;
                catalog.record_turn(id, &answer).await?;
            }
        }
    }
    if let Some(id) = conversation {
        println!("\nConversation {id} saved (`folio chat --resume {id}`).");
    }
    library.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn print_conversations(library: &Library) -> Result<()> {
    let conversations = library.catalog().conversations().await?;
    if conversations.is_empty() {
        println!("No conversations yet. Start one with `folio chat`.");
    }
    for c in &conversations {
        println!(
            "{:>4}  {:>3} messages  {}",
            c.id,
            c.messages,
            terminal_safe(&c.title)
        );
    }
    Ok(())
}

pub async fn chats(paths: LibraryPaths, command: ChatsCommand) -> Result<ExitCode> {
    let library = crate::open(paths, Access::Read).await?;
    let catalog = library.catalog();
    match command {
        ChatsCommand::List { json } => {
            if json {
                for c in catalog.conversations().await? {
                    println!("{}", serde_json::to_string(&c)?);
                }
            } else {
                print_conversations(&library).await?;
            }
        }
        ChatsCommand::Export { id, output } => {
            let markdown = catalog.export_conversation(id).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, markdown)?;
                    println!("wrote {}", path.display());
                }
                None => print!("{}", terminal_safe(&markdown)),
            }
        }
        ChatsCommand::Rename { id, title } => {
            catalog.rename_conversation(id, &title).await?;
            println!("renamed conversation {id}");
        }
        ChatsCommand::Delete { id } => {
            catalog.delete_conversation(id).await?;
            println!("deleted conversation {id}");
        }
    }
    library.close().await;
    Ok(ExitCode::SUCCESS)
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

pub fn models(paths: &LibraryPaths, command: Option<ModelsCommand>) -> Result<ExitCode> {
    let store = ModelStore::new(paths.models.clone());
    match command.unwrap_or(ModelsCommand::List { json: false }) {
        ModelsCommand::List { json } => {
            let models = store.list();
            if json {
                for m in &models {
                    println!("{}", serde_json::to_string(m)?);
                }
                return Ok(ExitCode::SUCCESS);
            }
            if models.is_empty() {
                println!(
                    "No models in {}. Run `scripts/fetch-models` or `folio models add FILE.gguf`.",
                    store.dir().display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<42} {:<10} {:<7} {:>9} {:>8} {:>8} {:>10}  {:<9} ROLE",
                "NAME", "ARCH", "QUANT", "PARAMS", "SIZE", "CONTEXT", "RAM (est)", "FITS"
            );
            for m in &models {
                let role = match (m.is_default, m.is_large, m.supported) {
                    (_, _, false) => "unsupported architecture",
                    (true, _, _) => "default",
                    (_, true, _) => "larger (routing)",
                    _ => "",
                };
                println!(
                    "{:<42} {:<10} {:<7} {:>8.2}B {:>8} {:>8} {:>10}  {:<9} {}",
                    terminal_safe(&m.info.name),
                    terminal_safe(&m.info.architecture),
                    m.info.quantization,
                    m.info.parameters as f64 / 1e9,
                    mib(m.info.file_bytes),
                    m.info.context_length,
                    mib(m.estimated_ram),
                    fit_label(m.fit),
                    role
                );
            }
            println!(
                "\nRAM is weights + KV cache for a {}-token context + runtime. Models live in {}.",
                folio::llm::DEFAULT_CONTEXT,
                store.dir().display()
            );
        }
        ModelsCommand::Add { file } => {
            let info = store.import(&file)?;
            let estimate = info.memory_estimate(info.usable_context());
            let (fit, available) = check_fit(&estimate);
            println!(
                "installed {} ({}, {}, {}); needs about {}{}",
                info.name,
                info.architecture,
                info.quantization,
                mib(info.file_bytes),
                mib(estimate.total),
                available
                    .map(|a| format!(", {} free now: {}", mib(a), fit_label(fit)))
                    .unwrap_or_default()
            );
            if !info.has_chat_template {
                println!("warning: the file has no chat template; answers may be poorly formatted");
            }
        }
        ModelsCommand::Default { name } => {
            let info = store.set_default(&name)?;
            println!("default model: {}", info.name);
        }
        ModelsCommand::Large { name } => {
            let info = store.set_large(&name)?;
            println!("larger model for hard questions: {}", info.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fit_label(fit: Fit) -> &'static str {
    match fit {
        Fit::Fits => "yes",
        Fit::Tight => "tight",
        Fit::TooLarge => "NO",
        Fit::Unknown => "?",
    }
}

#[derive(Args)]
pub struct SummarizeArgs {
    /// Document id, path, file name or unique title fragment
    doc: String,
    /// Model name from `folio models` (or a GGUF path) [default: the larger model if installed, else the default]
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn summarize(paths: LibraryPaths, args: SummarizeArgs) -> Result<ExitCode> {
    let library = crate::open(paths.clone(), Access::Read).await?;
    let document = library.find_document(&args.doc).await?;
    let assistant = Assistant::new(paths.models.clone());
    let store = assistant.store();
    let info = match &args.model {
        Some(name) => store.resolve(Some(name))?,
        None => match store.large() {
            Some(large) => large,
            None => store.resolve(None)?,
        },
    };
    let model = assistant.model(&info.path).await?;
    let cancel = CancellationToken::new();
    let ctrl_c = cancel_on_ctrl_c(&cancel);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "summarizing [{bar:30}] {pos}/{len} steps  {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut streaming = false;
    let mut stdout = std::io::stdout();
    let json = args.json;
    let result = library
        .summarize(
            &model,
            document.id,
            &folio::summarize::SummaryOptions::default(),
            &cancel,
            &mut |event| match event {
                folio::summarize::SummaryEvent::Progress { done, total } => {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                }
                folio::summarize::SummaryEvent::Token { text } if !json => {
                    if !streaming {
                        bar.finish_and_clear();
                        streaming = true;
                    }
                    let _ = write!(stdout, "{}", terminal_safe(&text));
                    let _ = stdout.flush();
                }
                folio::summarize::SummaryEvent::Token { .. } => {}
            },
        )
        .await;
    ctrl_c.abort();
    bar.finish_and_clear();
    let summary = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!();
        if summary.cancelled {
            println!("[stopped]");
        } else if !summary.citations.is_empty() {
            println!("\nSources:");
            summary.citations.iter().for_each(print_citation);
        }
        eprintln!(
            "{} sections, {} model steps with {} in {:.1} s",
            summary.sections,
            summary.steps,
            summary.model,
            summary.total_ms / 1000.0
        );
    }
    library.close().await;
    Ok(if summary.cancelled {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}
