//! The redb file: its tables, opening it (schema check, epoch bump,
//! cluster id) and applying a batch of mutations in one write transaction.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, Table, TableDefinition, WriteTransaction};

use super::error::RegistryError;
use super::mutation::{Mutation, Op, RecordTable, encode_batch};

/// The file's name inside the work dir.
pub const FILE_NAME: &str = "registry.redb";

/// The newest schema this build reads and the one it writes.
pub const SCHEMA_VERSION: u64 = 1;

/// Schema version, epoch and cluster id. Bytes values, so that this table
/// keeps its type in every schema version and the version check can always
/// run before anything else is opened.
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_NAME);
pub(super) const FRAMEWORKS: TableDefinition<&str, &[u8]> = TableDefinition::new(FRAMEWORKS_NAME);
pub(super) const AGENTS: TableDefinition<&str, &[u8]> = TableDefinition::new(AGENTS_NAME);
/// Keyed by (framework id, task id), so a framework's tasks are one range.
pub(super) const TASKS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new(TASKS_NAME);
pub(super) const WEIGHTS: TableDefinition<&str, f64> = TableDefinition::new(WEIGHTS_NAME);
pub(super) const QUOTA: TableDefinition<&str, &[u8]> = TableDefinition::new(QUOTA_NAME);

pub(super) const META_NAME: &str = "meta";
pub(super) const FRAMEWORKS_NAME: &str = "frameworks";
pub(super) const AGENTS_NAME: &str = "agents";
pub(super) const TASKS_NAME: &str = "tasks";
pub(super) const WEIGHTS_NAME: &str = "weights";
pub(super) const QUOTA_NAME: &str = "quota";

pub(super) const SCHEMA_KEY: &str = "schema_version";
pub(super) const EPOCH_KEY: &str = "epoch";
pub(super) const CLUSTER_KEY: &str = "cluster_id";

/// How the registry commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryOptions {
    /// Save redb's allocator state with every commit, so opening after a
    /// crash takes milliseconds instead of a walk of the whole file
    /// (redb's "quick repair"; commits cost a second fsync). Default on.
    pub quick_repair: bool,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions { quick_repair: true }
    }
}

/// The master's durable state: an embedded redb file in the work dir.
#[derive(Debug)]
pub struct Registry {
    pub(super) db: Database,
    pub(super) file: PathBuf,
    options: RegistryOptions,
    pub(super) epoch: u64,
    pub(super) cluster_id: String,
}

impl Registry {
    /// Opens `<dir>/registry.redb`, creating it (and `dir`) if needed, and
    /// starts a new epoch.
    pub fn open(dir: &Path) -> Result<Registry, RegistryError> {
        Registry::open_with(dir, RegistryOptions::default())
    }

    /// [`Registry::open`] with explicit options.
    pub fn open_with(dir: &Path, options: RegistryOptions) -> Result<Registry, RegistryError> {
        std::fs::create_dir_all(dir).map_err(|source| RegistryError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let file = dir.join(FILE_NAME);
        let db = Database::create(&file).map_err(|source| RegistryError::Open {
            file: file.clone(),
            source,
        })?;
        let mut registry = Registry {
            db,
            file,
            options,
            epoch: 0,
            cluster_id: String::new(),
        };
        registry.start_epoch()?;
        Ok(registry)
    }

    /// The registry file.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// This open's epoch (1 for a new registry, one more on each open).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The cluster id chosen when the registry was created.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// Applies `batch` in one write transaction (one commit): all of it or,
    /// on any error, none of it.
    pub fn apply(&self, batch: &[Mutation]) -> Result<(), RegistryError> {
        let ops = encode_batch(batch)?;
        self.write_ops(&ops)
    }

    /// Checks the schema version, bumps the epoch, sets the cluster id on a
    /// new file and creates the tables, in one transaction.
    fn start_epoch(&mut self) -> Result<(), RegistryError> {
        let txn = self.begin_write()?;
        {
            let mut meta = txn
                .open_table(META)
                .map_err(self.storage("open table meta"))?;
            match self.read_u64(&meta, SCHEMA_KEY)? {
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(RegistryError::NewerSchema {
                        file: self.file.clone(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Some(_) => {}
                None => self.put_meta(&mut meta, SCHEMA_KEY, &SCHEMA_VERSION.to_le_bytes())?,
            }
            self.epoch = self
                .read_u64(&meta, EPOCH_KEY)?
                .unwrap_or(0)
                .saturating_add(1);
            self.put_meta(&mut meta, EPOCH_KEY, &self.epoch.to_le_bytes())?;
            self.cluster_id = match self.read_str(&meta, CLUSTER_KEY)? {
                Some(id) => id,
                None => {
                    let id = new_cluster_id();
                    self.put_meta(&mut meta, CLUSTER_KEY, id.as_bytes())?;
                    id
                }
            };
        }
        Tables::open(&txn, self)?;
        txn.commit().map_err(self.storage("commit the new epoch"))
    }

    /// Applies encoded ops in one write transaction.
    pub(super) fn write_ops(&self, ops: &[Op]) -> Result<(), RegistryError> {
        let txn = self.begin_write()?;
        {
            let mut tables = Tables::open(&txn, self)?;
            for op in ops {
                tables.apply(op).map_err(self.storage("write"))?;
            }
        }
        txn.commit().map_err(self.storage("commit"))
    }

    fn begin_write(&self) -> Result<WriteTransaction, RegistryError> {
        let mut txn = self
            .db
            .begin_write()
            .map_err(self.storage("begin a write transaction"))?;
        txn.set_quick_repair(self.options.quick_repair);
        Ok(txn)
    }

    pub(super) fn storage<E: Into<redb::Error>>(
        &self,
        op: impl Into<String>,
    ) -> impl FnOnce(E) -> RegistryError {
        RegistryError::storage(&self.file, op)
    }

    pub(super) fn corrupt(&self, table: &'static str, key: &str, reason: String) -> RegistryError {
        RegistryError::Corrupt {
            file: self.file.clone(),
            table,
            key: format!("{key:?}"),
            reason,
        }
    }

    /// A u64 meta value (8 little-endian bytes).
    pub(super) fn read_u64(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
        key: &str,
    ) -> Result<Option<u64>, RegistryError> {
        let Some(value) = meta.get(key).map_err(self.storage("read table meta"))? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = value.value().try_into().map_err(|_| {
            let len = value.value().len();
            self.corrupt(META_NAME, key, format!("expected 8 bytes, found {len}"))
        })?;
        Ok(Some(u64::from_le_bytes(bytes)))
    }

    /// A UTF-8 meta value.
    pub(super) fn read_str(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
        key: &str,
    ) -> Result<Option<String>, RegistryError> {
        let Some(value) = meta.get(key).map_err(self.storage("read table meta"))? else {
            return Ok(None);
        };
        let text = String::from_utf8(value.value().to_vec())
            .map_err(|e| self.corrupt(META_NAME, key, e.to_string()))?;
        Ok(Some(text))
    }

    fn put_meta(
        &self,
        meta: &mut Table<&'static str, &'static [u8]>,
        key: &str,
        value: &[u8],
    ) -> Result<(), RegistryError> {
        meta.insert(key, value)
            .map_err(self.storage("write table meta"))?;
        Ok(())
    }
}

/// The data tables, open in one write transaction.
struct Tables<'t> {
    frameworks: Table<'t, &'static str, &'static [u8]>,
    agents: Table<'t, &'static str, &'static [u8]>,
    tasks: Table<'t, (&'static str, &'static str), &'static [u8]>,
    weights: Table<'t, &'static str, f64>,
    quota: Table<'t, &'static str, &'static [u8]>,
}

impl<'t> Tables<'t> {
    fn open(txn: &'t WriteTransaction, registry: &Registry) -> Result<Tables<'t>, RegistryError> {
        let open = |name: &str| registry.storage(format!("open table {name}"));
        Ok(Tables {
            frameworks: txn.open_table(FRAMEWORKS).map_err(open(FRAMEWORKS_NAME))?,
            agents: txn.open_table(AGENTS).map_err(open(AGENTS_NAME))?,
            tasks: txn.open_table(TASKS).map_err(open(TASKS_NAME))?,
            weights: txn.open_table(WEIGHTS).map_err(open(WEIGHTS_NAME))?,
            quota: txn.open_table(QUOTA).map_err(open(QUOTA_NAME))?,
        })
    }

    fn apply(&mut self, op: &Op) -> Result<(), redb::StorageError> {
        match op {
            Op::Put(table, key, value) => {
                self.record_table(*table)
                    .insert(key.as_str(), value.as_slice())?;
            }
            Op::Remove(table, key) => {
                self.record_table(*table).remove(key.as_str())?;
            }
            Op::RemoveTasksOf(framework) => self.remove_tasks_of(framework)?,
            Op::PutTask(framework, task, value) => {
                self.tasks
                    .insert((framework.as_str(), task.as_str()), value.as_slice())?;
            }
            Op::RemoveTask(framework, task) => {
                self.tasks.remove((framework.as_str(), task.as_str()))?;
            }
            Op::PutWeight(role, weight) => {
                self.weights.insert(role.as_str(), *weight)?;
            }
            Op::RemoveWeight(role) => {
                self.weights.remove(role.as_str())?;
            }
        }
        Ok(())
    }

    fn record_table(&mut self, table: RecordTable) -> &mut Table<'t, &'static str, &'static [u8]> {
        match table {
            RecordTable::Frameworks => &mut self.frameworks,
            RecordTable::Agents => &mut self.agents,
            RecordTable::Quota => &mut self.quota,
        }
    }

    /// Deletes every task keyed under `framework`: one key range.
    fn remove_tasks_of(&mut self, framework: &str) -> Result<(), redb::StorageError> {
        let mut doomed = Vec::new();
        for entry in self.tasks.range((framework, "")..)? {
            let (key, _) = entry?;
            let (owner, task) = key.value();
            if owner != framework {
                break;
            }
            doomed.push(task.to_owned());
        }
        for task in &doomed {
            self.tasks.remove((framework, task.as_str()))?;
        }
        Ok(())
    }
}

/// A fresh cluster id, UUID-shaped: 128 bits from std's randomly seeded
/// hasher keys mixed with the time and the process id.
fn new_cluster_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (nanos, std::process::id());
    let hi = RandomState::new().hash_one(seed);
    let lo = RandomState::new().hash_one((seed, hi));
    let x = (u128::from(hi) << 64) | u128::from(lo);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        x >> 96,
        (x >> 80) & 0xffff,
        (x >> 64) & 0xffff,
        (x >> 48) & 0xffff,
        x & 0xffff_ffff_ffff
    )
}
