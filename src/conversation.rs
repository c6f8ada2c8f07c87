//! Conversations with the assistant, kept in the catalog so they survive restarts and can be
//! listed, resumed, deleted and exported as Markdown with their citations.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sqlx::Row;

use crate::answer::{Answer, Citation, Turn};
use crate::catalog::Catalog;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    /// Document ids the conversation is restricted to; empty = the whole library.
    pub scope: Vec<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub messages: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub role: String,
    pub content: String,
    pub citations: Vec<Citation>,
    pub model: Option<String>,
    pub abstained: bool,
    pub created_at: i64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn title_from(question: &str) -> String {
    const MAX: usize = 60;
    let one_line = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        format!("{}…", one_line.chars().take(MAX - 1).collect::<String>())
    }
}

fn conversation_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Conversation> {
    let scope: String = row.try_get("scope")?;
    Ok(Conversation {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        scope: serde_json::from_str(&scope).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        messages: row.try_get("messages")?,
    })
}

/// A statement on one conversation changed nothing: there is no such conversation.
fn found(done: sqlx::sqlite::SqliteQueryResult, id: i64) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::NoSuchConversation(id));
    }
    Ok(())
}

const CONVERSATION_COLUMNS: &str = "c.id, c.title, c.scope, c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS messages";

impl Catalog {
    /// Starts a conversation titled after its first question.
    pub async fn create_conversation(&self, first_question: &str, scope: &[i64]) -> Result<i64> {
        let scope = serde_json::to_string(scope).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let at = now();
        let id = sqlx::query(
            "INSERT INTO conversations (title, scope, created_at, updated_at) VALUES (?, ?, ?, ?)",
        )
        .bind(title_from(first_question))
        .bind(scope)
        .bind(at)
        .bind(at)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    pub async fn conversation(&self, id: i64) -> Result<Conversation> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NoSuchConversation(id))?;
        conversation_from_row(&row)
    }

    pub async fn messages(&self, conversation_id: i64) -> Result<Vec<StoredMessage>> {
        let rows = sqlx::query(
            "SELECT id, role, content, citations, model, abstained, created_at FROM messages \
             WHERE conversation_id = ? ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let citations: String = row.try_get("citations")?;
                Ok(StoredMessage {
                    id: row.try_get("id")?,
                    role: row.try_get("role")?,
                    content: row.try_get("content")?,
                    citations: serde_json::from_str(&citations).unwrap_or_default(),
                    model: row.try_get("model")?,
                    abstained: row.try_get::<i64, _>("abstained")? != 0,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The question/answer pairs of a conversation, oldest first (for follow-ups).
    pub async fn turns(&self, conversation_id: i64) -> Result<Vec<Turn>> {
        let messages = self.messages(conversation_id).await?;
        let mut turns = Vec::new();
        let mut question: Option<String> = None;
        for message in messages {
            match message.role.as_str() {
                "user" => question = Some(message.content),
                _ => {
                    if let Some(q) = question.take() {
                        turns.push(Turn {
                            question: q,
                            answer: message.content,
                        });
                    }
                }
            }
        }
        Ok(turns)
    }

    /// Stores a question and its answer in one transaction.
    pub async fn record_turn(&self, conversation_id: i64, answer: &Answer) -> Result<()> {
        let citations = serde_json::to_string(&answer.citations)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let at = now();
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
            .bind(at)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::NoSuchConversation(conversation_id));
        }
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?, 'user', ?, ?)",
        )
        .bind(conversation_id)
        .bind(&answer.question)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, citations, model, abstained, created_at) \
             VALUES (?, 'assistant', ?, ?, ?, ?, ?)",
        )
        .bind(conversation_id)
        .bind(&answer.text)
        .bind(citations)
        .bind(&answer.model)
        .bind(i64::from(answer.abstained))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn rename_conversation(&self, id: i64, title: &str) -> Result<()> {
        let done = sqlx::query("UPDATE conversations SET title = ? WHERE id = ?")
            .bind(title_from(title))
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done, id)
    }

    pub async fn delete_conversation(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM conversations WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done, id)
    }

    /// The conversation as Markdown: each question, each answer, and its sources with pages.
    pub async fn export_conversation(&self, id: i64) -> Result<String> {
        let conversation = self.conversation(id).await?;
        let messages = self.messages(id).await?;
        let mut out = format!("# {}\n", conversation.title);
        for message in &messages {
            if message.role == "user" {
                out.push_str(&format!("\n## Q: {}\n\n", message.content.trim()));
                continue;
            }
            out.push_str(message.content.trim());
            out.push('\n');
            if let Some(model) = &message.model {
                out.push_str(&format!("\n*Answered by {model}.*\n"));
            }
            if !message.citations.is_empty() {
                out.push_str("\nSources:\n\n");
                for c in &message.citations {
                    let file = std::path::Path::new(&c.file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| c.file.clone());
                    let quote: String = c.snippet.chars().take(200).collect();
                    out.push_str(&format!(
                        "- [{}] {} — {}, p. {}: \"{}…\"\n",
                        c.n,
                        c.title,
                        file,
                        c.page,
                        quote.replace('\n', " ")
                    ));
                }
            }
        }
        Ok(out)
    }
}
