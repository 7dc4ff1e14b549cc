//! Detection state that survives restarts. A checkpoint holds every asset's
//! learned state as of one moment; the journal holds every batch detection
//! took since, written before the batch's message can be acknowledged. A
//! start restores the checkpoint and replays the journal, so after a
//! kill -9 detection carries on exactly where the acknowledged stream left
//! it (the broker redelivers the rest, which the windows take once).
//!
//! Both files carry a format version and checksums. A checkpoint that is
//! missing, corrupt, truncated or of another version or setting is
//! reported and skipped (assets warm up anew); a journal's torn tail is cut.
//! Files are written with plain writes (safe against a killed process); the
//! checkpoint is also synced to disk, so a power loss costs at most the
//! journal written since it.

mod frame;
mod internal_events;
mod saver;

pub use frame::FrameError;
pub use internal_events::{CheckpointFailed, CheckpointFailure, CheckpointMetrics, SavedStateRejected};
pub use saver::{Board, Commits, Saver};

use super::asset::AssetState;
use super::dataflow::AssetBatch;
use crate::model::{AssetId, ModelId};
use crate::telemetry::InternalEvent;
use frame::{encode, read_file, write_header, Reader, HEADER_LEN};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHECKPOINT_MAGIC: &[u8; 8] = b"UPKCKPT1";
const JOURNAL_MAGIC: &[u8; 8] = b"UPKJRNL1";
const CHECKPOINT_FILE: &str = "detection.ckpt";
const JOURNAL_FILE: &str = "detection.journal";

/// Where and how often, resolved from `[checkpoint]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dir: PathBuf,
    pub every: Duration,
    /// A checkpoint is also taken once the journal holds this many bytes.
    pub journal_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {source}")]
    Frame { path: PathBuf, source: FrameError },
    #[error("{path}: taken with other detection settings ({saved}); this engine runs {current}")]
    Settings { path: PathBuf, saved: String, current: String },
    #[error("{path}: holds {found} of the {expected} assets it announces")]
    Incomplete { path: PathBuf, found: u64, expected: u64 },
}

/// One asset's saved detection state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedAsset {
    pub asset: AssetId,
    pub model: ModelId,
    pub state: AssetState,
}

/// The same, borrowed: workers write their assets without copying them.
#[derive(Serialize)]
pub struct SavedAssetRef<'a> {
    pub asset: &'a AssetId,
    pub model: &'a ModelId,
    pub state: &'a AssetState,
}

/// The first record of a checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    /// The detection settings the state was learned with.
    settings: String,
    taken_at_ms: i64,
    assets: u64,
}

/// What a checkpoint holds, as `upkeep` and the tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub generation: u64,
    pub taken_at_ms: i64,
    pub assets: u64,
    /// Readings the saved windows took, over all assets.
    pub readings: u64,
}

/// What a start finds on disk: the saved assets and the batches after
/// them, those whose findings were committed (replayed for their state
/// only) and those whose findings may not be.
#[derive(Debug, Default)]
pub struct Restored {
    pub assets: Vec<SavedAsset>,
    pub settled: Vec<AssetBatch>,
    pub unsettled: Vec<AssetBatch>,
}

/// One journal record.
#[derive(Debug, Serialize, Deserialize)]
enum Entry<B> {
    /// A batch, before it entered detection.
    Batch(B),
    /// A process started: the seqs of later batches start again.
    Start,
    /// The findings of this process's batches up to this seq are committed
    /// (and, since a process commits its replay first, all earlier ones).
    Committed(u64),
}

/// Serializes assets for `Checkpoints::save` (each worker its own).
pub fn encode_assets<'a>(out: &mut Vec<u8>, assets: impl Iterator<Item = SavedAssetRef<'a>>) -> u64 {
    let mut n = 0;
    for a in assets {
        encode(out, &a);
        n += 1;
    }
    n
}

/// The checkpoint and journal of one engine.
pub struct Checkpoints {
    settings: Settings,
    /// `Debug` of the detection parameters: a checkpoint of other settings is not restored.
    fingerprint: String,
    generation: u64,
    journal: Option<BufWriter<File>>,
    journal_len: u64,
    /// The next checkpoint is due at this time, or at this journal length.
    due_at: Instant,
    due_len: u64,
    metrics: Arc<CheckpointMetrics>,
}

impl Checkpoints {
    /// Opens the directory and reads what a previous run left. Unreadable
    /// saved state is reported and skipped; only a directory or journal
    /// that cannot be written is an error (detection then runs without).
    pub fn open(
        settings: Settings,
        fingerprint: String,
        metrics: Arc<CheckpointMetrics>,
    ) -> Result<(Self, Restored), CheckpointError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CheckpointError::Io { path, source }
        };
        std::fs::create_dir_all(&settings.dir).map_err(io(&settings.dir))?;
        let ckpt = settings.dir.join(CHECKPOINT_FILE);
        let (generation, assets) = match load(&ckpt, Some(&fingerprint)) {
            Ok(Some((summary, assets))) => {
                tracing::info!(path = %ckpt.display(), assets = summary.assets, readings = summary.readings, "detection state restored");
                (summary.generation, assets)
            }
            Ok(None) => (0, Vec::new()),
            Err(e) => {
                SavedStateRejected { path: &ckpt, error: &e }.emit(&metrics);
                let _ = std::fs::rename(&ckpt, ckpt.with_extension("rejected"));
                (0, Vec::new())
            }
        };
        let journal_path = settings.dir.join(JOURNAL_FILE);
        let (settled, unsettled, valid_len) = replay(&journal_path, generation, &metrics);
        if !(settled.is_empty() && unsettled.is_empty()) {
            tracing::info!(settled = settled.len(), unsettled = unsettled.len(), "journal replayed into detection");
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&journal_path)
            .map_err(io(&journal_path))?;
        let now = Instant::now();
        let (due_at, due_len) = (now + settings.every, settings.journal_bytes);
        let mut store =
            Checkpoints { settings, fingerprint, generation, journal: None, journal_len: 0, due_at, due_len, metrics };
        store.reopen_journal(file, valid_len).map_err(io(&journal_path))?;
        store.write_entry(&Entry::<&AssetBatch>::Start);
        store.metrics.restored_assets.store(assets.len() as u64, Relaxed);
        store.metrics.replayed_batches.store((settled.len() + unsettled.len()) as u64, Relaxed);
        Ok((store, Restored { assets, settled, unsettled }))
    }

    /// Continues the journal after its last whole record, or starts it
    /// afresh for this generation.
    fn reopen_journal(&mut self, mut file: File, valid_len: Option<u64>) -> io::Result<()> {
        match valid_len {
            Some(len) => {
                file.set_len(len)?;
                file.seek(SeekFrom::Start(len))?;
                self.journal_len = len;
            }
            None => {
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                write_header(&mut file, JOURNAL_MAGIC, self.generation)?;
                file.sync_data()?;
                self.journal_len = HEADER_LEN;
            }
        }
        self.metrics.journal_bytes.store(self.journal_len as i64, Relaxed);
        self.journal = Some(BufWriter::with_capacity(1 << 20, file));
        Ok(())
    }

    /// Journals a batch before it enters detection.
    pub fn append(&mut self, batch: &AssetBatch) {
        self.write_entry(&Entry::Batch(batch));
    }

    /// Notes that the findings of batches up to `seq` are committed.
    pub fn mark_committed(&mut self, seq: u64) {
        self.write_entry(&Entry::<&AssetBatch>::Committed(seq));
    }

    fn write_entry(&mut self, entry: &Entry<&AssetBatch>) {
        let Some(journal) = &mut self.journal else { return };
        let mut record = Vec::with_capacity(256);
        encode(&mut record, entry);
        if let Err(e) = journal.write_all(&record) {
            self.journal_failed(e);
            return;
        }
        self.journal_len += record.len() as u64;
    }

    /// Hands the journal to the kernel: called before the batches it holds
    /// are reported done (and so may be acknowledged).
    pub fn flush(&mut self) {
        if let Some(Err(e)) = self.journal.as_mut().map(|j| j.flush()) {
            self.journal_failed(e);
        }
        self.metrics.journal_bytes.store(self.journal_len as i64, Relaxed);
    }

    /// Flushes the journal and syncs it to disk (at shutdown).
    pub fn sync_journal(&mut self) {
        self.flush();
        let synced = self.journal.as_mut().map(|j| j.get_ref().sync_data());
        if let Some(Err(e)) = synced {
            self.journal_failed(e);
        }
    }

    /// A journal that cannot be written is given up until the next
    /// checkpoint starts a new one; detection goes on from memory.
    fn journal_failed(&mut self, e: io::Error) {
        let error = format!("{}: {e}", self.settings.dir.display());
        CheckpointFailed { failure: CheckpointFailure::JournalNotWritable, error: &error }.emit(&self.metrics);
        self.journal = None;
    }

    /// Time for a checkpoint: the interval has passed or the journal is large.
    pub fn due(&self) -> bool {
        Instant::now() >= self.due_at || self.journal_len >= self.due_len
    }

    /// Could not take one now (work still being committed): try again soon.
    pub fn postpone(&mut self) {
        self.due_at = Instant::now() + (self.settings.every / 10).max(Duration::from_millis(100));
        self.due_len = self.journal_len + self.settings.journal_bytes / 10;
    }

    /// Writes a checkpoint of `parts` (framed asset records, `assets` in
    /// all), then starts an empty journal. Returns the bytes written.
    pub fn save(&mut self, parts: &[Vec<u8>], assets: u64) -> Result<u64, CheckpointError> {
        let path = self.settings.dir.join(CHECKPOINT_FILE);
        let io = |source| CheckpointError::Io { path: path.clone(), source };
        let meta = Meta { settings: self.fingerprint.clone(), taken_at_ms: crate::model::now_ms(), assets };
        let mut head = Vec::new();
        write_header(&mut head, CHECKPOINT_MAGIC, self.generation + 1).map_err(io)?;
        encode(&mut head, &meta);
        let tmp = path.with_extension("tmp");
        let written = write_synced(&tmp, &head, parts).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        if let Ok(dir) = File::open(&self.settings.dir) {
            let _ = dir.sync_all();
        }
        self.generation += 1;
        let journal_path = self.settings.dir.join(JOURNAL_FILE);
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&journal_path);
        let reset = file.and_then(|f| self.reopen_journal(f, None));
        (self.due_at, self.due_len) = (Instant::now() + self.settings.every, self.settings.journal_bytes);
        reset.map_err(|source| CheckpointError::Io { path: journal_path, source })?;
        Ok(written)
    }
}

fn write_synced(path: &Path, head: &[u8], parts: &[Vec<u8>]) -> io::Result<u64> {
    let mut f = BufWriter::with_capacity(1 << 20, File::create(path)?);
    f.write_all(head)?;
    for p in parts {
        f.write_all(p)?;
    }
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(head.len() as u64 + parts.iter().map(|p| p.len() as u64).sum::<u64>())
}

/// Reads a checkpoint (`None` if there is none), checking that it was
/// taken with the `fingerprint` settings when one is given.
fn load(path: &Path, fingerprint: Option<&str>) -> Result<Option<(Summary, Vec<SavedAsset>)>, CheckpointError> {
    let frame = |source| CheckpointError::Frame { path: path.to_owned(), source };
    let Some(bytes) = read_file(path).map_err(|source| CheckpointError::Io { path: path.to_owned(), source })? else {
        return Ok(None);
    };
    let (mut reader, generation) = Reader::open(&bytes, CHECKPOINT_MAGIC, "checkpoint").map_err(frame)?;
    let meta: Meta = reader.next().map_err(frame)?.ok_or(frame(FrameError::Truncated { at: reader.position() }))?;
    if let Some(current) = fingerprint.filter(|f| *f != meta.settings) {
        let (path, current) = (path.to_owned(), current.to_owned());
        return Err(CheckpointError::Settings { path, saved: meta.settings, current });
    }
    let mut assets = Vec::with_capacity(meta.assets.min(1 << 20) as usize);
    while let Some(a) = reader.next::<SavedAsset>().map_err(frame)? {
        assets.push(a);
    }
    if assets.len() as u64 != meta.assets {
        let found = assets.len() as u64;
        return Err(CheckpointError::Incomplete { path: path.to_owned(), found, expected: meta.assets });
    }
    let readings = assets.iter().map(|a| a.state.accepted()).sum();
    let summary = Summary { generation, taken_at_ms: meta.taken_at_ms, assets: meta.assets, readings };
    Ok(Some((summary, assets)))
}

/// What the latest checkpoint in `dir` holds (`None` if there is none).
pub fn summary(dir: &Path) -> Result<Option<Summary>, CheckpointError> {
    Ok(load(&dir.join(CHECKPOINT_FILE), None)?.map(|(s, _)| s))
}

/// The journal's batches for `generation`, settled and unsettled, and the
/// length up to its last whole record (`None`: start it afresh). A journal
/// of another generation is covered by the checkpoint already (or belongs
/// to a rejected one).
fn replay(
    path: &Path,
    generation: u64,
    metrics: &CheckpointMetrics,
) -> (Vec<AssetBatch>, Vec<AssetBatch>, Option<u64>) {
    let bytes = match read_file(path) {
        Ok(Some(b)) => b,
        Ok(None) => return (Vec::new(), Vec::new(), None),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "journal not readable: starting a new one");
            return (Vec::new(), Vec::new(), None);
        }
    };
    let mut reader = match Reader::open(&bytes, JOURNAL_MAGIC, "journal") {
        Ok((r, g)) if g == generation => r,
        Ok(_) => return (Vec::new(), Vec::new(), None),
        Err(e) => {
            SavedStateRejected { path, error: &e }.emit(metrics);
            return (Vec::new(), Vec::new(), None);
        }
    };
    let mut entries = Vec::new();
    loop {
        match reader.next::<Entry<AssetBatch>>() {
            Ok(Some(e)) => entries.push(e),
            Ok(None) => break,
            Err(e) => {
                let cut = bytes.len() as u64 - reader.position();
                tracing::warn!(path = %path.display(), error = %e, bytes = cut, "journal tail cut (a write the crash interrupted)");
                break;
            }
        }
    }
    let (settled, unsettled) = settle(entries);
    (settled, unsettled, Some(reader.position()))
}

/// Splits journaled batches by the last commit mark: batches of earlier
/// process sections, and of its own section up to its seq, are settled.
fn settle(entries: Vec<Entry<AssetBatch>>) -> (Vec<AssetBatch>, Vec<AssetBatch>) {
    let mut section = 0;
    let mut mark = None;
    for e in &entries {
        match e {
            Entry::Start => section += 1,
            Entry::Committed(seq) => mark = Some((section, *seq)),
            Entry::Batch(_) => {}
        }
    }
    let (mut settled, mut unsettled) = (Vec::new(), Vec::new());
    section = 0;
    for e in entries {
        match e {
            Entry::Start => section += 1,
            Entry::Committed(_) => {}
            Entry::Batch(mut b) => {
                let done = mark.is_some_and(|(s, seq)| section < s || (section == s && b.seq <= seq));
                b.seq = 0;
                if done {
                    settled.push(b)
                } else {
                    unsettled.push(b)
                }
            }
        }
    }
    (settled, unsettled)
}

#[cfg(test)]
mod tests;
