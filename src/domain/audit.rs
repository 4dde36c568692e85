//! The audit chain: each entry's hash covers the previous hash and the entry itself, so an
//! edit, insertion or deletion anywhere in history breaks every later link.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields an audit entry's hash covers.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFields<'a> {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub summary: &'a str,
}

impl AuditFields<'_> {
    /// A canonical, unambiguous text form: each field length-prefixed, so that no two
    /// different entries can produce the same bytes.
    pub fn canonical(&self) -> String {
        let at = self.at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let fields = [
            self.seq.to_string(),
            at,
            self.actor_id.unwrap_or("").to_string(),
            self.action.to_string(),
            self.entity.to_string(),
            self.entity_id.unwrap_or("").to_string(),
            self.summary.to_string(),
        ];
        fields.iter().map(|f| format!("{}:{}|", f.len(), f)).collect()
    }
}

/// `sha256(prev_hash ‖ canonical entry)`, hex.
pub fn chain_hash(prev_hash: &str, entry: &AuditFields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(entry.canonical().as_bytes());
    hex::encode(hasher.finalize())
}

/// A stored entry, as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    fn fields(&self) -> AuditFields<'_> {
        AuditFields {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id.as_deref(),
            action: &self.action,
            entity: &self.entity,
            entity_id: self.entity_id.as_deref(),
            summary: &self.summary,
        }
    }
}

/// Where the chain breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry is missing: the sequence jumps.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The entry's recorded previous hash is not the hash before it.
    PrevHashMismatch { seq: i64 },
    /// The entry's content no longer matches its hash: it was edited.
    HashMismatch { seq: i64 },
    /// The head row names a different end of the chain (entries removed from the end).
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Gap { expected_seq, found_seq } => {
                write!(f, "entry {expected_seq} is missing (the next entry found is {found_seq})")
            }
            ChainBreak::PrevHashMismatch { seq } => {
                write!(f, "entry {seq} does not link to the entry before it")
            }
            ChainBreak::HashMismatch { seq } => {
                write!(f, "entry {seq} was altered: its content no longer matches its hash")
            }
            ChainBreak::HeadMismatch { head_seq, last_seq } => {
                write!(f, "the chain's head says it ends at entry {head_seq}, but the last entry is {last_seq}")
            }
        }
    }
}

/// Walks the chain incrementally, so the whole trail never has to be in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_string() }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, entry: &StoredEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected_seq: self.expected_seq, found_seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::PrevHashMismatch { seq: entry.seq });
        }
        if chain_hash(&self.prev_hash, &entry.fields()) != entry.hash {
            return Err(ChainBreak::HashMismatch { seq: entry.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// Checks the head row against the end of the walk.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || head_hash != self.prev_hash {
            return Err(ChainBreak::HeadMismatch { head_seq, last_seq });
        }
        Ok(last_seq as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(seq: i64, prev: &str, summary: &str) -> StoredEntry {
        let at = Utc.with_ymd_and_hms(2026, 11, 29, 8, 10, 0).unwrap();
        let fields = AuditFields {
            seq,
            at,
            actor_id: Some("staff-1"),
            action: "dose.give",
            entity: "dose",
            entity_id: Some("d-1"),
            summary,
        };
        StoredEntry {
            seq,
            at,
            actor_id: Some("staff-1".into()),
            action: "dose.give".into(),
            entity: "dose".into(),
            entity_id: Some("d-1".into()),
            summary: summary.into(),
            prev_hash: prev.into(),
            hash: chain_hash(prev, &fields),
        }
    }

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut out: Vec<StoredEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS_HASH.into());
            out.push(entry(seq, &prev, &format!("entry {seq}")));
        }
        out
    }

    fn verify(entries: &[StoredEntry], head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head_seq, head_hash)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, 5, &c[4].hash), Ok(5));
    }

    #[test]
    fn an_empty_chain_verifies_against_the_genesis_head() {
        assert_eq!(verify(&[], 0, GENESIS_HASH), Ok(0));
    }

    #[test]
    fn an_edited_summary_is_caught_at_that_entry() {
        let mut c = chain(5);
        c[2].summary = "dose 60 mg".into();
        let head = c[4].hash.clone();
        assert_eq!(verify(&c, 5, &head), Err(ChainBreak::HashMismatch { seq: 3 }));
    }

    #[test]
    fn a_rehashed_edit_is_caught_at_the_next_entry() {
        let mut c = chain(5);
        c[2].summary = "forged".into();
        let prev = c[1].hash.clone();
        c[2].hash = chain_hash(&prev, &c[2].fields());
        let head = c[4].hash.clone();
        assert_eq!(verify(&c, 5, &head), Err(ChainBreak::PrevHashMismatch { seq: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_caught_as_a_gap() {
        let mut c = chain(5);
        c.remove(1);
        let head = c[3].hash.clone();
        assert_eq!(verify(&c, 5, &head), Err(ChainBreak::Gap { expected_seq: 2, found_seq: 3 }));
    }

    #[test]
    fn entries_removed_from_the_end_are_caught_by_the_head() {
        let c = chain(5);
        let head = c[4].hash.clone();
        assert_eq!(verify(&c[..3], 5, &head), Err(ChainBreak::HeadMismatch { head_seq: 5, last_seq: 3 }));
    }

    #[test]
    fn the_canonical_form_separates_fields_unambiguously() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a = AuditFields { seq: 1, at, actor_id: None, action: "a|b", entity: "c", entity_id: None, summary: "" };
        let b = AuditFields { action: "a", entity: "b|c", ..a.clone() };
        assert_ne!(a.canonical(), b.canonical());
    }
}
