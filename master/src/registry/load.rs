//! Recovery: reads every table into a [`Snapshot`]. A record that does not
//! decode, or whose id does not match its key, stops the load with an
//! error naming the table and key — nothing is silently dropped.
//!
//! Each table is first copied out of redb in key order, then decoded on
//! every core (decoding JSON is most of a large load's time); the first bad
//! record in key order is the one reported.

use std::collections::BTreeMap;
use std::thread;

use redb::{
    ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use serde::de::DeserializeOwned;

use super::error::RegistryError;
use super::records::{AgentRecord, FrameworkRecord, QuotaRecord, Snapshot, TaskRecord};
use super::store::{
    AGENTS_NAME, FRAMEWORKS_NAME, QUOTA_NAME, Registry, TASKS, TASKS_NAME, WEIGHTS, WEIGHTS_NAME,
};

/// Below this many records a table is decoded on the calling thread.
const PARALLEL_FROM: usize = 4096;

/// A stored record, copied out of the file, not decoded yet.
struct Raw<K> {
    key: K,
    bytes: Vec<u8>,
}

/// The first bad record: its index and what is wrong.
type Bad = (usize, String);

impl Registry {
    /// Reads everything, in key order, for a master's recovery.
    pub fn load(&self) -> Result<Snapshot, RegistryError> {
        let txn = self
            .db
            .begin_read()
            .map_err(self.storage("begin a read transaction"))?;
        let frameworks = self.load_records(&txn, FRAMEWORKS_NAME, |key, r: &FrameworkRecord| {
            check_id(key, r.id().map(|id| id.as_str()))
        })?;
        let agents = self.load_records(&txn, AGENTS_NAME, |key, r: &AgentRecord| {
            check_id(key, r.id().map(|id| id.as_str()))
        })?;
        let quota = self.load_records(&txn, QUOTA_NAME, |_, _: &QuotaRecord| Ok(()))?;
        Ok(Snapshot {
            epoch: self.epoch,
            cluster_id: self.cluster_id.clone(),
            frameworks: frameworks.into_iter().map(|(_, r)| r).collect(),
            agents: agents.into_iter().map(|(_, r)| r).collect(),
            tasks: self.load_tasks(&txn)?,
            weights: self.load_weights(&txn)?,
            quota: quota.into_iter().collect::<BTreeMap<_, _>>(),
        })
    }

    /// Decodes a table with string keys, checking each record against its
    /// key with `check`.
    fn load_records<T: DeserializeOwned + Send>(
        &self,
        txn: &ReadTransaction,
        name: &'static str,
        check: impl Fn(&str, &T) -> Result<(), String> + Sync,
    ) -> Result<Vec<(String, T)>, RegistryError> {
        let op = format!("read table {name}");
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(name);
        let table = txn.open_table(def).map_err(self.storage(&op))?;
        let mut raw = Vec::with_capacity(table.len().map_err(self.storage(&op))? as usize);
        for entry in table.iter().map_err(self.storage(&op))? {
            let (key, value) = entry.map_err(self.storage(&op))?;
            let (key, bytes) = (key.value().to_owned(), value.value().to_vec());
            raw.push(Raw { key, bytes });
        }
        let records = decode_all(&raw, |key: &String, r: &T| check(key, r))
            .map_err(|(i, reason)| self.corrupt(name, &raw[i].key, reason))?;
        Ok(raw.into_iter().map(|r| r.key).zip(records).collect())
    }

    fn load_tasks(&self, txn: &ReadTransaction) -> Result<Vec<TaskRecord>, RegistryError> {
        let op = format!("read table {TASKS_NAME}");
        let table = txn.open_table(TASKS).map_err(self.storage(&op))?;
        let mut raw = Vec::with_capacity(table.len().map_err(self.storage(&op))? as usize);
        for entry in table.iter().map_err(self.storage(&op))? {
            let (key, value) = entry.map_err(self.storage(&op))?;
            let (framework, task) = key.value();
            let key = (framework.to_owned(), task.to_owned());
            raw.push(Raw {
                key,
                bytes: value.value().to_vec(),
            });
        }
        decode_all(&raw, |(framework, task), record: &TaskRecord| {
            let (f, t) = record.key();
            match f.as_str() == framework && t.as_str() == task {
                true => Ok(()),
                false => Err(format!("it holds task {f}/{t}")),
            }
        })
        .map_err(|(i, reason)| {
            let (framework, task) = &raw[i].key;
            self.corrupt(TASKS_NAME, &format!("{framework}/{task}"), reason)
        })
    }

    fn load_weights(&self, txn: &ReadTransaction) -> Result<BTreeMap<String, f64>, RegistryError> {
        let op = format!("read table {WEIGHTS_NAME}");
        let table = txn.open_table(WEIGHTS).map_err(self.storage(&op))?;
        let mut out = BTreeMap::new();
        for entry in table.iter().map_err(self.storage(&op))? {
            let (key, value) = entry.map_err(self.storage(&op))?;
            let (role, weight) = (key.value(), value.value());
            if !(weight.is_finite() && weight > 0.0) {
                let reason = format!("weight {weight} is not a finite positive number");
                return Err(self.corrupt(WEIGHTS_NAME, role, reason));
            }
            out.insert(role.to_owned(), weight);
        }
        Ok(out)
    }
}

/// Decodes and checks `raw` in order, split over the cores when large.
fn decode_all<K: Sync, T: DeserializeOwned + Send>(
    raw: &[Raw<K>],
    check: impl Fn(&K, &T) -> Result<(), String> + Sync,
) -> Result<Vec<T>, Bad> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    if workers < 2 || raw.len() < PARALLEL_FROM {
        return decode_chunk(raw, 0, &check);
    }
    let chunk = raw.len().div_ceil(workers);
    let check = &check;
    thread::scope(|s| {
        let mut pending = Vec::new();
        for (n, part) in raw.chunks(chunk).enumerate() {
            let start = n * chunk;
            let spawned = thread::Builder::new()
                .name("registry-load".to_owned())
                .spawn_scoped(s, move || decode_chunk(part, start, check));
            // Without a thread, decode that part here.
            pending.push(spawned.map_err(|_| decode_chunk(part, start, check)));
        }
        let mut out = Vec::with_capacity(raw.len());
        for (n, part) in pending.into_iter().enumerate() {
            let decoded = match part {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|_| Err((n * chunk, "its decoding thread panicked".into()))),
                Err(inline) => inline,
            };
            out.extend(decoded?);
        }
        Ok(out)
    })
}

fn decode_chunk<K, T: DeserializeOwned>(
    raw: &[Raw<K>],
    start: usize,
    check: impl Fn(&K, &T) -> Result<(), String>,
) -> Result<Vec<T>, Bad> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, Raw { key, bytes }) in raw.iter().enumerate() {
        let record = decode(bytes)
            .and_then(|r| check(key, &r).map(|()| r))
            .map_err(|e| (start + i, e))?;
        out.push(record);
    }
    Ok(out)
}

/// Decodes a record: plain serde_json first (fast), and on failure again
/// through `corral_api::json` for an error naming the field path.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|fast| match corral_api::json::from_slice::<T>(bytes) {
        Err(e) => e.to_string(),
        Ok(_) => fast.to_string(),
    })
}

fn check_id(key: &str, id: Option<&str>) -> Result<(), String> {
    match id {
        Some(id) if id == key => Ok(()),
        Some(id) => Err(format!("it holds id {id:?}")),
        None => Err("it has no id".to_owned()),
    }
}
