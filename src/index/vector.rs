//! Vector index (LanceDB, embedded in a library folder): one row per embedded chunk, keyed by
//! chunk id. Derived from the catalog; exact (flat) cosine search.

use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Float32Type;
use arrow_array::{Array, FixedSizeListArray, Float32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::OptimizeAction;
use lancedb::{DistanceType, Table};

use crate::error::{Error, Result};

const TABLE: &str = "chunks";

/// Lance caches the manifest and transaction of every version it has seen, up to 1 GiB by
/// default: ingestion writes a version per embedding round, so that cache grew all through a
/// long ingestion. A few MiB hold what a search needs (the current version's metadata).
const METADATA_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Loaded vector indexes (none yet: search is an exact scan); bounded like the metadata.
const INDEX_CACHE_BYTES: usize = 64 * 1024 * 1024;

pub struct VectorIndex {
    table: Table,
    dimension: usize,
}

/// One vector match: chunk id and cosine similarity (1 = same direction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    pub chunk_id: i64,
    pub similarity: f32,
}

fn schema(dimension: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("chunk_id", DataType::Int64, false),
        Field::new("document_id", DataType::Int64, false),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                dimension as i32,
            ),
            false,
        ),
    ]))
}

fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl VectorIndex {
    /// Opens the table in `dir`, creating it for vectors of `dimension` if needed.
    pub async fn open(dir: &Path, dimension: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let uri = dir.to_str().ok_or_else(|| {
            Error::InvalidInput(format!("library path is not UTF-8: {}", dir.display()))
        })?;
        let session = lance::session::Session::new(
            INDEX_CACHE_BYTES,
            METADATA_CACHE_BYTES,
            Arc::new(lance_io::object_store::ObjectStoreRegistry::default()),
        );
        let db = lancedb::connect(uri)
            .session(Arc::new(session))
            .execute()
            .await?;
        let table = match db.open_table(TABLE).execute().await {
            Ok(table) => table,
            Err(lancedb::Error::TableNotFound { .. }) => {
                match db
                    .create_empty_table(TABLE, schema(dimension))
                    .execute()
                    .await
                {
                    Ok(table) => table,
                    // Another process created it between our two calls.
                    Err(lancedb::Error::TableAlreadyExists { .. }) => {
                        db.open_table(TABLE).execute().await?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(VectorIndex { table, dimension })
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Appends vectors: (chunk id, document id, vector).
    pub async fn add(&self, rows: &[(i64, i64, Vec<f32>)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        if let Some((_, _, bad)) = rows.iter().find(|(_, _, v)| v.len() != self.dimension) {
            return Err(Error::InvalidInput(format!(
                "vector of dimension {} for an index of dimension {}",
                bad.len(),
                self.dimension
            )));
        }
        let chunk_ids = Int64Array::from_iter_values(rows.iter().map(|r| r.0));
        let document_ids = Int64Array::from_iter_values(rows.iter().map(|r| r.1));
        let vectors = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
            rows.iter()
                .map(|r| Some(r.2.iter().map(|&x| Some(x)).collect::<Vec<_>>())),
            self.dimension as i32,
        );
        let batch = RecordBatch::try_new(
            schema(self.dimension),
            vec![
                Arc::new(chunk_ids),
                Arc::new(document_ids),
                Arc::new(vectors),
            ],
        )
        .map_err(|e| Error::InvalidInput(format!("vector batch: {e}")))?;
        self.table.add(batch).execute().await?;
        Ok(())
    }

    pub async fn delete_document(&self, document_id: i64) -> Result<()> {
        self.table
            .delete(format!("document_id = {document_id}").as_str())
            .await?;
        Ok(())
    }

    pub async fn delete_chunks(&self, chunk_ids: &[i64]) -> Result<()> {
        for ids in chunk_ids.chunks(1000) {
            self.table
                .delete(format!("chunk_id IN ({})", id_list(ids)).as_str())
                .await?;
        }
        Ok(())
    }

    pub async fn clear(&self) -> Result<()> {
        self.table.delete("true").await?;
        Ok(())
    }

    pub async fn len(&self) -> Result<usize> {
        Ok(self.table.count_rows(None).await?)
    }

    /// Every chunk id in the table, with repeats (a repeat means a crash left a duplicate).
    pub async fn chunk_ids(&self) -> Result<Vec<i64>> {
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .select(Select::columns(&["chunk_id"]))
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut ids = Vec::new();
        for batch in batches {
            if let Some(column) = batch
                .column_by_name("chunk_id")
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            {
                ids.extend(column.values().iter().copied());
            }
        }
        Ok(ids)
    }

    /// Nearest chunks to `query` by cosine similarity; a non-empty `scope` restricts them to
    /// those documents.
    pub async fn search(
        &self,
        query: &[f32],
        limit: usize,
        scope: &[i64],
    ) -> Result<Vec<VectorHit>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut search = self
            .table
            .query()
            .nearest_to(query)?
            .column("vector")
            .distance_type(DistanceType::Cosine)
            .limit(limit)
            .select(Select::columns(&["chunk_id"]));
        if !scope.is_empty() {
            let ids: Vec<String> = scope.iter().map(i64::to_string).collect();
            search = search.only_if(format!("document_id IN ({})", ids.join(", ")));
        }
        let batches: Vec<RecordBatch> = search.execute().await?.try_collect().await?;
        let mut hits = Vec::new();
        for batch in batches {
            let ids = batch
                .column_by_name("chunk_id")
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>());
            let distances = batch
                .column_by_name("_distance")
                .and_then(|c| c.as_any().downcast_ref::<Float32Array>());
            if let (Some(ids), Some(distances)) = (ids, distances) {
                for i in 0..ids.len() {
                    hits.push(VectorHit {
                        chunk_id: ids.value(i),
                        similarity: 1.0 - distances.value(i),
                    });
                }
            }
        }
        hits.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        Ok(hits)
    }

    /// Merges the small files that many appends leave behind and drops old versions.
    pub async fn compact(&self) -> Result<()> {
        self.table.optimize(OptimizeAction::All).await?;
        Ok(())
    }
}
