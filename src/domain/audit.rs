//! The audit chain.
//!
//! Each entry links to the one before it, so an edit, insertion or deletion anywhere in
//! history breaks every later link. Entries of version 2 (every entry written since the
//! chain was keyed) are HMAC-SHA256 links under a key kept outside the database, and cover
//! a digest of every append-only row their transaction wrote: a chain recomputed without
//! the key does not verify, and a row changed behind the service's back no longer matches
//! its entry. Entries of version 1, written before, are `sha256(prev ‖ entry)` links that
//! verify as they always did.
//!
//! Everything here is pure: the database reads and writes are in `db::audit`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `hash = sha256(prev_hash ‖ entry)`: entries written before the chain was keyed.
pub const UNKEYED_VERSION: i32 = 1;
/// `hash = HMAC-SHA256(key, prev_hash ‖ entry ‖ rows)`.
pub const KEYED_VERSION: i32 = 2;

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

/// `sha256(prev_hash ‖ canonical entry)`, hex: the unkeyed link of version-1 entries.
pub fn chain_hash(prev_hash: &str, entry: &AuditFields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(entry.canonical().as_bytes());
    hex::encode(hasher.finalize())
}

// ---------------------------------------------------------------------------------------
// Row digests
// ---------------------------------------------------------------------------------------

/// Builds the digest of one row of an append-only table from its canonical form: the
/// table's name, then every column in a fixed order, each as a type tag, a length and the
/// value's bytes (so no two different rows give the same bytes). Timestamps count in whole
/// microseconds, the precision both databases keep, so a row read back from SQLite or from
/// PostgreSQL digests as it did when it was written.
pub struct RowDigester {
    hasher: Sha256,
}

impl RowDigester {
    pub fn new(table: &str) -> Self {
        let mut d = RowDigester { hasher: Sha256::new() };
        d.hasher.update(b"mmt-row/1");
        d.put(b'T', table.as_bytes());
        d
    }

    /// Adds the next column.
    pub fn field<F: CanonicalField + ?Sized>(&mut self, value: &F) -> &mut Self {
        value.feed(self);
        self
    }

    fn put(&mut self, tag: u8, bytes: &[u8]) {
        self.hasher.update([tag]);
        self.hasher.update((bytes.len() as u64).to_be_bytes());
        self.hasher.update(bytes);
    }

    /// The digest, hex.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// A column value in its canonical form.
pub trait CanonicalField {
    fn feed(&self, d: &mut RowDigester);
}

impl CanonicalField for str {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b's', self.as_bytes());
    }
}

impl CanonicalField for String {
    fn feed(&self, d: &mut RowDigester) {
        self.as_str().feed(d);
    }
}

impl CanonicalField for i64 {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b'i', self.to_string().as_bytes());
    }
}

impl CanonicalField for i32 {
    fn feed(&self, d: &mut RowDigester) {
        i64::from(*self).feed(d);
    }
}

impl CanonicalField for bool {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b'b', if *self { b"1" } else { b"0" });
    }
}

impl CanonicalField for NaiveDate {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b'd', self.format("%Y-%m-%d").to_string().as_bytes());
    }
}

impl CanonicalField for NaiveDateTime {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b't', self.and_utc().timestamp_micros().to_string().as_bytes());
    }
}

impl CanonicalField for [u8] {
    fn feed(&self, d: &mut RowDigester) {
        d.put(b'x', self);
    }
}

impl CanonicalField for Vec<u8> {
    fn feed(&self, d: &mut RowDigester) {
        self.as_slice().feed(d);
    }
}

impl<T: CanonicalField> CanonicalField for Option<T> {
    fn feed(&self, d: &mut RowDigester) {
        match self {
            None => d.put(b'n', b""),
            Some(v) => v.feed(d),
        }
    }
}

/// One row an entry records: its table, its id and its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef<'a> {
    pub table: &'a str,
    pub row_id: &'a str,
    pub digest: &'a str,
}

// ---------------------------------------------------------------------------------------
// Keyed links
// ---------------------------------------------------------------------------------------

/// The audit key. It never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey(Vec<u8>);

impl ChainKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        ChainKey(bytes.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts a key of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
    }

    /// A MAC of a fixed text, kept in the database to tell the key the chain was written
    /// with from another one (it reveals nothing of the key).
    pub fn check_value(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"mmt-clinic audit key check/1");
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(***)")
    }
}

/// The keyed link of one entry, fed row by row (an entry may record many rows).
pub struct LinkMac {
    mac: Hmac<Sha256>,
    rows: u64,
}

impl LinkMac {
    pub fn new(key: &ChainKey, prev_hash: &str, entry: &AuditFields<'_>) -> Self {
        let mut mac = key.mac();
        mac.update(b"mmt-audit/2|");
        frame(&mut mac, prev_hash.as_bytes());
        frame(&mut mac, entry.canonical().as_bytes());
        LinkMac { mac, rows: 0 }
    }

    pub fn row(&mut self, row: RowRef<'_>) {
        self.rows += 1;
        frame(&mut self.mac, row.table.as_bytes());
        frame(&mut self.mac, row.row_id.as_bytes());
        frame(&mut self.mac, row.digest.as_bytes());
    }

    /// The link, hex.
    pub fn finish(mut self) -> String {
        self.mac.update(b"rows");
        self.mac.update(&self.rows.to_be_bytes());
        hex::encode(self.mac.finalize().into_bytes())
    }
}

fn frame(mac: &mut Hmac<Sha256>, bytes: &[u8]) {
    mac.update(&(bytes.len() as u64).to_be_bytes());
    mac.update(bytes);
}

/// `HMAC-SHA256(key, prev_hash ‖ entry ‖ rows)`, hex: the link of version-2 entries.
pub fn keyed_link(key: &ChainKey, prev_hash: &str, entry: &AuditFields<'_>, rows: &[RowRef<'_>]) -> String {
    let mut link = LinkMac::new(key, prev_hash, entry);
    for row in rows {
        link.row(*row);
    }
    link.finish()
}

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

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
    pub version: i32,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    pub fn fields(&self) -> AuditFields<'_> {
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
    Gap {
        expected_seq: i64,
        found_seq: i64,
    },
    /// The entry's recorded previous hash is not the hash before it.
    PrevHashMismatch {
        seq: i64,
    },
    /// An unkeyed entry's content no longer matches its hash: it was edited.
    HashMismatch {
        seq: i64,
    },
    /// A keyed entry's MAC does not verify under this key.
    MacMismatch {
        seq: i64,
    },
    /// An unkeyed entry where the chain must be keyed.
    Unkeyed {
        seq: i64,
        keyed_from: i64,
    },
    /// A keyed entry before the point the chain says keying started: that point was moved.
    KeyedTooEarly {
        seq: i64,
        keyed_from: i64,
    },
    UnknownVersion {
        seq: i64,
        version: i32,
    },
    /// Row digests filed under an entry that is not in the chain.
    OrphanRows {
        seq: i64,
    },
    /// The head row names a different end of the chain (entries removed from the end).
    HeadMismatch {
        head_seq: i64,
        last_seq: i64,
    },
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
            ChainBreak::MacMismatch { seq } => write!(
                f,
                "entry {seq} was altered: its MAC does not verify under the audit key (the entry or the rows \
                 it records were changed, or the chain was recomputed without the key)"
            ),
            ChainBreak::Unkeyed { seq, keyed_from } => write!(
                f,
                "entry {seq} is not keyed, but every entry from {keyed_from} on must be (the chain was recomputed \
                 without the key)"
            ),
            ChainBreak::KeyedTooEarly { seq, keyed_from } => write!(
                f,
                "entry {seq} is keyed, but the database says keying starts at entry {keyed_from} (the start of \
                 the keyed chain was moved)"
            ),
            ChainBreak::UnknownVersion { seq, version } => {
                write!(f, "entry {seq} has an unknown version {version}")
            }
            ChainBreak::OrphanRows { seq } => {
                write!(f, "row digests are filed under entry {seq}, which is not in the chain")
            }
            ChainBreak::HeadMismatch { head_seq, last_seq } => {
                write!(f, "the chain's head says it ends at entry {head_seq}, but the last entry is {last_seq}")
            }
        }
    }
}

/// Walks the chain incrementally, so the whole trail never has to be in memory: for each
/// entry, [`ChainVerifier::begin`], then its rows, then [`ChainVerifier::end`].
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    key: ChainKey,
    keyed_from: i64,
    expected_seq: i64,
    prev_hash: String,
}

/// One entry being checked.
pub struct EntryCheck {
    seq: i64,
    link: Option<LinkMac>,
    rows: u64,
}

impl EntryCheck {
    pub fn row(&mut self, row: RowRef<'_>) {
        self.rows += 1;
        if let Some(link) = &mut self.link {
            link.row(row);
        }
    }
}

impl ChainVerifier {
    /// `keyed_from`: the first sequence number that must be keyed.
    pub fn new(key: ChainKey, keyed_from: i64) -> Self {
        Self { key, keyed_from, expected_seq: 1, prev_hash: GENESIS_HASH.to_string() }
    }

    /// The sequence number the next entry must have.
    pub fn expected_seq(&self) -> i64 {
        self.expected_seq
    }

    pub fn begin(&self, entry: &StoredEntry) -> Result<EntryCheck, ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected_seq: self.expected_seq, found_seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::PrevHashMismatch { seq: entry.seq });
        }
        let keyed = entry.seq >= self.keyed_from;
        let link = match entry.version {
            UNKEYED_VERSION if keyed => {
                return Err(ChainBreak::Unkeyed { seq: entry.seq, keyed_from: self.keyed_from })
            }
            UNKEYED_VERSION => None,
            KEYED_VERSION if !keyed => {
                return Err(ChainBreak::KeyedTooEarly { seq: entry.seq, keyed_from: self.keyed_from })
            }
            KEYED_VERSION => Some(LinkMac::new(&self.key, &self.prev_hash, &entry.fields())),
            version => return Err(ChainBreak::UnknownVersion { seq: entry.seq, version }),
        };
        Ok(EntryCheck { seq: entry.seq, link, rows: 0 })
    }

    pub fn end(&mut self, check: EntryCheck, entry: &StoredEntry) -> Result<(), ChainBreak> {
        let ok = match check.link {
            Some(link) => link.finish() == entry.hash,
            // An unkeyed entry records no rows.
            None => check.rows == 0 && chain_hash(&self.prev_hash, &entry.fields()) == entry.hash,
        };
        if !ok {
            return Err(if entry.version == KEYED_VERSION {
                ChainBreak::MacMismatch { seq: check.seq }
            } else {
                ChainBreak::HashMismatch { seq: check.seq }
            });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// Checks one entry with all its rows at once.
    pub fn check(&mut self, entry: &StoredEntry, rows: &[RowRef<'_>]) -> Result<(), ChainBreak> {
        let mut check = self.begin(entry)?;
        for row in rows {
            check.row(*row);
        }
        self.end(check, entry)
    }

    /// Checks the head row against the end of the walk; the number of entries.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq || head_hash != self.prev_hash {
            return Err(ChainBreak::HeadMismatch { head_seq, last_seq });
        }
        Ok(last_seq as u64)
    }
}

// ---------------------------------------------------------------------------------------
// The head kept outside the database
// ---------------------------------------------------------------------------------------

/// The chain's head as recorded outside the database (the head file, a printed register):
/// the database must still hold this entry with this MAC, or history was cut or rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadRecord {
    pub seq: i64,
    /// The entry's link, hex; at least [`MIN_MAC_PREFIX`] leading characters of it when
    /// copied from paper.
    pub mac: String,
    /// The first keyed entry, when the record knows it.
    pub keyed_from: Option<i64>,
}

/// The fewest hex characters of a MAC worth comparing (what the register prints).
pub const MIN_MAC_PREFIX: usize = 12;

const HEAD_FILE_TITLE: &str = "mmt-clinic audit head";

/// The head file's text.
pub fn format_head(head: &HeadRecord) -> String {
    let mut text = format!("{HEAD_FILE_TITLE}\nseq {}\nmac {}\n", head.seq, head.mac);
    if let Some(k) = head.keyed_from {
        text.push_str(&format!("keyed_from {k}\n"));
    }
    text
}

/// The line printed on registers: `审计链 #seq` and the MAC's first 12 characters.
pub fn register_line(seq: i64, mac: &str) -> String {
    format!("审计链 #{seq} {}", mac.get(..MIN_MAC_PREFIX).unwrap_or(mac))
}

/// Reads a head file, or a line copied from a register (`#1234 3fa2b9c01d2e`).
pub fn parse_head(text: &str) -> Result<HeadRecord, String> {
    let mut seq = None;
    let mut mac = None;
    let mut keyed_from = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && *l != HEAD_FILE_TITLE) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("seq"), Some(v)) => seq = Some(parse_seq(v)?),
            (Some("mac"), Some(v)) => mac = Some(v.to_string()),
            (Some("keyed_from"), Some(v)) => keyed_from = Some(parse_seq(v)?),
            _ => {
                // A register's line: … #seq mac
                let hash_at = line.find('#').ok_or_else(|| format!("unreadable line {line:?}"))?;
                let mut rest = line[hash_at + 1..].split_whitespace();
                seq = Some(parse_seq(rest.next().unwrap_or(""))?);
                mac = rest.next().map(str::to_string);
            }
        }
    }
    let seq = seq.ok_or("no sequence number (a line `seq N`)")?;
    let mac = mac.ok_or("no MAC (a line `mac HEX`)")?.to_ascii_lowercase();
    if mac.len() < MIN_MAC_PREFIX || !mac.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("the MAC must be at least {MIN_MAC_PREFIX} hexadecimal characters"));
    }
    Ok(HeadRecord { seq, mac, keyed_from })
}

fn parse_seq(text: &str) -> Result<i64, String> {
    text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| format!("{text:?} is not a sequence number"))
}

/// How the chain in the database disagrees with a head recorded outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadProblem {
    /// The chain ends before the recorded entry: entries were cut from its end.
    ChainTooShort { recorded_seq: i64, last_seq: i64 },
    /// The recorded entry's link is not what was recorded: the chain was rewritten.
    MacDiffers { seq: i64 },
    /// The database's start of the keyed chain is not the recorded one.
    KeyedFromMoved { recorded: i64, found: i64 },
}

impl std::fmt::Display for HeadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadProblem::ChainTooShort { recorded_seq, last_seq } => write!(
                f,
                "the head recorded outside the database is entry {recorded_seq}, but the chain ends at entry \
                 {last_seq}: entries were cut from its end"
            ),
            HeadProblem::MacDiffers { seq } => write!(
                f,
                "entry {seq} is not the entry recorded outside the database (its MAC differs): the chain was \
                 rewritten"
            ),
            HeadProblem::KeyedFromMoved { recorded, found } => write!(
                f,
                "the keyed chain starts at entry {found} in the database, but at entry {recorded} in the head \
                 recorded outside it"
            ),
        }
    }
}

/// Compares a recorded head with the chain: `mac_at_recorded` is the link the database
/// holds at the recorded sequence number (None if the chain is shorter). The database may
/// hold more entries than the record.
pub fn compare_head(
    recorded: &HeadRecord,
    mac_at_recorded: Option<&str>,
    last_seq: i64,
    keyed_from: i64,
) -> Result<(), HeadProblem> {
    if let Some(k) = recorded.keyed_from {
        if k != keyed_from {
            return Err(HeadProblem::KeyedFromMoved { recorded: k, found: keyed_from });
        }
    }
    if recorded.seq == 0 {
        return Ok(());
    }
    match mac_at_recorded {
        None => Err(HeadProblem::ChainTooShort { recorded_seq: recorded.seq, last_seq }),
        Some(mac) if mac.len() >= recorded.mac.len() && mac.starts_with(&recorded.mac) => Ok(()),
        Some(_) => Err(HeadProblem::MacDiffers { seq: recorded.seq }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key() -> ChainKey {
        ChainKey::new("k".repeat(32))
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 8, 10, 0).unwrap()
    }

    fn fields<'a>(seq: i64, summary: &'a str) -> AuditFields<'a> {
        AuditFields {
            seq,
            at: at(),
            actor_id: Some("staff-1"),
            action: "dose.give",
            entity: "dose",
            entity_id: Some("d-1"),
            summary,
        }
    }

    fn stored(seq: i64, version: i32, prev: &str, summary: &str, hash: String) -> StoredEntry {
        StoredEntry {
            seq,
            at: at(),
            actor_id: Some("staff-1".into()),
            action: "dose.give".into(),
            entity: "dose".into(),
            entity_id: Some("d-1".into()),
            summary: summary.into(),
            version,
            prev_hash: prev.into(),
            hash,
        }
    }

    fn unkeyed(seq: i64, prev: &str, summary: &str) -> StoredEntry {
        stored(seq, UNKEYED_VERSION, prev, summary, chain_hash(prev, &fields(seq, summary)))
    }

    const ROW: RowRef<'static> = RowRef { table: "doses", row_id: "d-1", digest: "ab" };

    fn keyed(seq: i64, prev: &str, summary: &str, rows: &[RowRef<'_>]) -> StoredEntry {
        stored(seq, KEYED_VERSION, prev, summary, keyed_link(&key(), prev, &fields(seq, summary), rows))
    }

    /// `n` entries, the first `unkeyed_count` unkeyed, each keyed one recording [`ROW`].
    fn chain(n: i64, unkeyed_count: i64) -> Vec<StoredEntry> {
        let mut out: Vec<StoredEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS_HASH.into());
            let summary = format!("entry {seq}");
            out.push(if seq <= unkeyed_count {
                unkeyed(seq, &prev, &summary)
            } else {
                keyed(seq, &prev, &summary, &[ROW])
            });
        }
        out
    }

    fn verify(entries: &[StoredEntry], keyed_from: i64, head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new(key(), keyed_from);
        for e in entries {
            let rows: &[RowRef<'_>] = if e.version == KEYED_VERSION { &[ROW] } else { &[] };
            v.check(e, rows)?;
        }
        v.finish(head_seq, head_hash)
    }

    // --- the unkeyed links of entries written before the chain was keyed

    #[test]
    fn an_intact_unkeyed_chain_verifies() {
        let c = chain(5, 5);
        assert_eq!(verify(&c, 6, 5, &c[4].hash), Ok(5));
    }

    #[test]
    fn an_empty_chain_verifies_against_the_genesis_head() {
        assert_eq!(verify(&[], 1, 0, GENESIS_HASH), Ok(0));
    }

    #[test]
    fn an_edited_summary_is_caught_at_that_entry() {
        let mut c = chain(5, 5);
        c[2].summary = "dose 60 mg".into();
        let head = c[4].hash.clone();
        assert_eq!(verify(&c, 6, 5, &head), Err(ChainBreak::HashMismatch { seq: 3 }));
    }

    #[test]
    fn a_rehashed_edit_is_caught_at_the_next_entry() {
        let mut c = chain(5, 5);
        c[2].summary = "forged".into();
        let prev = c[1].hash.clone();
        c[2].hash = chain_hash(&prev, &c[2].fields());
        let head = c[4].hash.clone();
        assert_eq!(verify(&c, 6, 5, &head), Err(ChainBreak::PrevHashMismatch { seq: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_caught_as_a_gap() {
        let mut c = chain(5, 5);
        c.remove(1);
        let head = c[3].hash.clone();
        assert_eq!(verify(&c, 6, 5, &head), Err(ChainBreak::Gap { expected_seq: 2, found_seq: 3 }));
    }

    #[test]
    fn entries_removed_from_the_end_are_caught_by_the_head() {
        let c = chain(5, 5);
        let head = c[4].hash.clone();
        assert_eq!(verify(&c[..3], 6, 5, &head), Err(ChainBreak::HeadMismatch { head_seq: 5, last_seq: 3 }));
    }

    #[test]
    fn the_canonical_form_separates_fields_unambiguously() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a = AuditFields { seq: 1, at, actor_id: None, action: "a|b", entity: "c", entity_id: None, summary: "" };
        let b = AuditFields { action: "a", entity: "b|c", ..a.clone() };
        assert_ne!(a.canonical(), b.canonical());
    }

    // --- row digests (canonical form)

    fn digest(table: &str, f: impl FnOnce(&mut RowDigester)) -> String {
        let mut d = RowDigester::new(table);
        f(&mut d);
        d.finish()
    }

    fn ts(nanos: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap().and_hms_nano_opt(8, 10, 0, nanos).unwrap()
    }

    #[test]
    fn a_row_digest_changes_with_any_column() {
        let base = digest("doses", |d| {
            d.field("d-1").field(&450i32).field(&ts(0));
        });
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            digest("doses", |d| {
                d.field("d-1").field(&450i32).field(&ts(0));
            }),
            "the same row digests the same"
        );
        assert_ne!(
            base,
            digest("doses", |d| {
                d.field("d-1").field(&10i32).field(&ts(0));
            }),
            "45 mg → 1 mg"
        );
        assert_ne!(
            base,
            digest("withheld_doses", |d| {
                d.field("d-1").field(&450i32).field(&ts(0));
            })
        );
        assert_ne!(
            base,
            digest("doses", |d| {
                d.field("d-2").field(&450i32).field(&ts(0));
            })
        );
    }

    #[test]
    fn timestamps_count_in_whole_microseconds_as_both_databases_store_them() {
        let written = digest("doses", |d| {
            d.field(&ts(123_456_789));
        });
        let read_back = digest("doses", |d| {
            d.field(&ts(123_456_000));
        });
        assert_eq!(written, read_back);
        assert_ne!(
            written,
            digest("doses", |d| {
                d.field(&ts(123_457_000));
            })
        );
    }

    #[test]
    fn the_row_form_tells_null_from_empty_and_keeps_column_boundaries() {
        let none: Option<String> = None;
        assert_ne!(
            digest("t", |d| {
                d.field(&none);
            }),
            digest("t", |d| {
                d.field(&Some(String::new()));
            })
        );
        assert_ne!(
            digest("t", |d| {
                d.field("ab").field("c");
            }),
            digest("t", |d| {
                d.field("a").field("bc");
            })
        );
        // A number and the same digits as text are different values.
        assert_ne!(
            digest("t", |d| {
                d.field(&1i64);
            }),
            digest("t", |d| {
                d.field("1");
            })
        );
        assert_eq!(
            digest("t", |d| {
                d.field(&7i32);
            }),
            digest("t", |d| {
                d.field(&7i64);
            })
        );
        assert_ne!(
            digest("t", |d| {
                d.field(&true);
            }),
            digest("t", |d| {
                d.field(&false);
            })
        );
        let date = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_ne!(
            digest("t", |d| {
                d.field(&date);
            }),
            digest("t", |d| {
                d.field(&date.succ_opt().unwrap());
            })
        );
        assert_ne!(
            digest("t", |d| {
                d.field(&vec![1u8, 2]);
            }),
            digest("t", |d| {
                d.field(&vec![1u8, 3]);
            })
        );
    }

    // --- keyed links (HMAC)

    #[test]
    fn a_keyed_link_depends_on_the_key_the_previous_link_the_entry_and_its_rows() {
        let f = fields(1, "dose given");
        let link = keyed_link(&key(), GENESIS_HASH, &f, &[ROW]);
        assert_eq!(link.len(), 64);
        assert_eq!(link, keyed_link(&key(), GENESIS_HASH, &f, &[ROW]));
        assert_ne!(link, keyed_link(&ChainKey::new("other key of at least 32 bytes..."), GENESIS_HASH, &f, &[ROW]));
        assert_ne!(link, keyed_link(&key(), &"1".repeat(64), &f, &[ROW]));
        assert_ne!(link, keyed_link(&key(), GENESIS_HASH, &fields(1, "dose withheld"), &[ROW]));
        assert_ne!(link, keyed_link(&key(), GENESIS_HASH, &f, &[]));
        assert_ne!(link, keyed_link(&key(), GENESIS_HASH, &f, &[RowRef { digest: "ac", ..ROW }]));
        assert_ne!(link, keyed_link(&key(), GENESIS_HASH, &f, &[ROW, ROW]));
        // Not the unkeyed hash of the same entry.
        assert_ne!(link, chain_hash(GENESIS_HASH, &f));
    }

    #[test]
    fn the_key_never_shows_in_debug_output_and_its_check_value_tells_keys_apart() {
        assert_eq!(format!("{:?}", key()), "ChainKey(***)");
        assert_eq!(key().check_value(), key().check_value());
        assert_ne!(key().check_value(), ChainKey::new("another").check_value());
    }

    #[test]
    fn a_chain_keyed_after_an_unkeyed_start_verifies() {
        let c = chain(6, 3);
        assert_eq!(verify(&c, 4, 6, &c[5].hash), Ok(6));
    }

    #[test]
    fn a_keyed_entry_with_a_changed_row_digest_is_caught() {
        let c = chain(4, 0);
        let mut v = ChainVerifier::new(key(), 1);
        v.check(&c[0], &[ROW]).unwrap();
        assert_eq!(v.check(&c[1], &[RowRef { digest: "ff", ..ROW }]), Err(ChainBreak::MacMismatch { seq: 2 }));
        let mut v = ChainVerifier::new(key(), 1);
        v.check(&c[0], &[ROW]).unwrap();
        assert_eq!(v.check(&c[1], &[]), Err(ChainBreak::MacMismatch { seq: 2 }), "a row dropped from the entry");
    }

    #[test]
    fn a_chain_recomputed_without_the_key_is_caught() {
        let mut c = chain(5, 0);
        // Rewrite from entry 3 on with plain sha256, as someone without the key could.
        c[2].summary = "nothing happened".into();
        for i in 2..5 {
            let prev = c[i - 1].hash.clone();
            c[i].prev_hash = prev.clone();
            c[i].hash = chain_hash(&prev, &c[i].fields());
        }
        let head = c[4].hash.clone();
        assert_eq!(verify(&c, 1, 5, &head), Err(ChainBreak::MacMismatch { seq: 3 }));
        // … and marked unkeyed.
        for e in &mut c[2..] {
            e.version = UNKEYED_VERSION;
        }
        assert_eq!(verify(&c, 1, 5, &head), Err(ChainBreak::Unkeyed { seq: 3, keyed_from: 1 }));
        // … with another key.
        let other = ChainKey::new("a wrong key, also 32 bytes long!");
        let mut d = chain(5, 0);
        for i in 2..5 {
            let prev = d[i - 1].hash.clone();
            d[i].prev_hash = prev.clone();
            d[i].hash = keyed_link(&other, &prev, &d[i].fields(), &[ROW]);
        }
        let head = d[4].hash.clone();
        assert_eq!(verify(&d, 1, 5, &head), Err(ChainBreak::MacMismatch { seq: 3 }));
    }

    #[test]
    fn moving_the_start_of_the_keyed_chain_is_caught() {
        let c = chain(4, 2);
        assert_eq!(verify(&c, 4, 4, &c[3].hash), Err(ChainBreak::KeyedTooEarly { seq: 3, keyed_from: 4 }));
        assert_eq!(verify(&c, 2, 4, &c[3].hash), Err(ChainBreak::Unkeyed { seq: 2, keyed_from: 2 }));
    }

    #[test]
    fn an_unkeyed_entry_with_rows_is_caught() {
        let c = chain(1, 1);
        let mut v = ChainVerifier::new(key(), 2);
        assert_eq!(v.check(&c[0], &[ROW]), Err(ChainBreak::HashMismatch { seq: 1 }));
    }

    // --- the head recorded outside the database

    fn record(seq: i64, mac: &str) -> HeadRecord {
        HeadRecord { seq, mac: mac.into(), keyed_from: Some(1) }
    }

    #[test]
    fn the_head_file_reads_back_what_was_written() {
        let h = record(1234, &"ab12".repeat(16));
        assert_eq!(parse_head(&format_head(&h)), Ok(h.clone()));
        let no_start = HeadRecord { keyed_from: None, ..h };
        assert_eq!(parse_head(&format_head(&no_start)), Ok(no_start));
    }

    #[test]
    fn a_register_line_can_be_checked_like_a_head_file() {
        let mac = "3FA2B9C01D2E".to_string() + &"0".repeat(52);
        let line = register_line(1234, &mac.to_ascii_lowercase());
        assert_eq!(line, "审计链 #1234 3fa2b9c01d2e");
        let parsed = parse_head(&line).unwrap();
        assert_eq!(parsed, HeadRecord { seq: 1234, mac: "3fa2b9c01d2e".into(), keyed_from: None });
        assert_eq!(compare_head(&parsed, Some(&mac.to_ascii_lowercase()), 2000, 1), Ok(()));
    }

    #[test]
    fn unreadable_heads_are_refused() {
        assert!(parse_head("").is_err());
        assert!(parse_head("seq 12\n").is_err());
        assert!(parse_head("seq 12\nmac abc\n").is_err(), "too short to compare");
        assert!(parse_head("seq -1\nmac 0123456789abcdef\n").is_err());
        assert!(parse_head("seq 3\nmac 0123456789abcdeg\n").is_err());
        assert!(parse_head("hello").is_err());
    }

    #[test]
    fn a_longer_chain_than_the_head_is_fine() {
        let mac = "a".repeat(64);
        assert_eq!(compare_head(&record(10, &mac), Some(&mac), 25, 1), Ok(()));
        assert_eq!(compare_head(&record(0, GENESIS_HASH), None, 0, 1), Ok(()));
    }

    #[test]
    fn a_chain_cut_below_the_head_is_caught() {
        let mac = "a".repeat(64);
        assert_eq!(
            compare_head(&record(10, &mac), None, 7, 1),
            Err(HeadProblem::ChainTooShort { recorded_seq: 10, last_seq: 7 })
        );
    }

    #[test]
    fn a_rewritten_entry_at_the_head_is_caught() {
        let mac = "a".repeat(64);
        let other = "b".repeat(64);
        assert_eq!(compare_head(&record(10, &mac), Some(&other), 12, 1), Err(HeadProblem::MacDiffers { seq: 10 }));
        assert_eq!(
            compare_head(&record(10, &mac[..12]), Some(&other), 12, 1),
            Err(HeadProblem::MacDiffers { seq: 10 })
        );
    }

    #[test]
    fn a_moved_start_of_the_keyed_chain_is_caught_by_the_head() {
        let mac = "a".repeat(64);
        assert_eq!(
            compare_head(&record(10, &mac), Some(&mac), 12, 8),
            Err(HeadProblem::KeyedFromMoved { recorded: 1, found: 8 })
        );
    }
}
