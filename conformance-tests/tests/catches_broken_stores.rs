//! The suite is shown to catch real bugs: a correct reference store passes, and each deliberately
//! broken variant fails the cases for the rule it breaks, with `run_all` reporting every failure.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use conformance_tests::session_core::{
    Change, KeyKind, Map, SessionId, Store, StoreError, SubjectIndex, Value, async_trait,
    incremented, validate_key, validate_subject, validate_ttl,
};
use conformance_tests::{Outcome, Report, TestStore, case_names, run_all};

/// The bug a [`RefStore`] carries.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    /// `set` reads the whole session, yields, and writes the whole session back.
    ReadModifyWrite,
    /// Reads ignore expiry, and a write on an expired session keeps its old keys.
    ReturnsExpired,
    /// Sessions are keyed by the first 8 bytes of their id only.
    PrefixKeyed,
    /// `extend` of a missing session creates it.
    ExtendCreates,
    /// `take` reads the session, yields, then removes it: a write in between is lost.
    TakeNotAtomic,
    /// `incr` and `compare_and_set` read, yield, then write: concurrent callers lose updates, and
    /// several win.
    ReadThenWrite,
    /// `update` applies a batch's sets first, then its removals.
    UpdateSetsFirst,
    /// Subject bindings live beside the sessions, keyed by id: one outlives its session's expiry,
    /// `del_all` or `take`, and comes back when a `set` starts a session under the same id; a
    /// revoke counts every binding, dead ones too.
    BindingOutlivesSession,
}

struct Entry {
    data: Map,
    expires: Instant,
    /// The subject this session is bound to: it ends with the session.
    subject: Option<String>,
}

impl Entry {
    fn empty() -> Self {
        Self {
            data: Map::new(),
            expires: Instant::now(),
            subject: None,
        }
    }
}

struct RefStore {
    flaw: Flaw,
    sessions: Mutex<HashMap<Vec<u8>, Entry>>,
    /// With `Flaw::BindingOutlivesSession`, the bindings, by session key.
    bindings: Mutex<HashMap<Vec<u8>, String>>,
}

impl RefStore {
    fn new(flaw: Flaw) -> Self {
        Self {
            flaw,
            sessions: Mutex::new(HashMap::new()),
            bindings: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, id: &SessionId) -> Vec<u8> {
        let bytes = id.as_bytes();
        if self.flaw == Flaw::PrefixKeyed {
            bytes[..8].to_vec()
        } else {
            bytes.to_vec()
        }
    }

    fn live<'a>(
        &self,
        map: &'a mut HashMap<Vec<u8>, Entry>,
        id: &SessionId,
    ) -> Option<&'a mut Entry> {
        let key = self.key(id);
        let expired = map.get(&key).is_some_and(|e| e.expires <= Instant::now());
        if expired && self.flaw != Flaw::ReturnsExpired {
            map.remove(&key);
        }
        map.get_mut(&key)
    }

    /// The entry of `id` in a locked map, created when missing or expired, its expiry moved.
    fn entry_for_write<'a>(
        &self,
        map: &'a mut HashMap<Vec<u8>, Entry>,
        id: &SessionId,
        ttl: Duration,
    ) -> &'a mut Entry {
        if self.live(map, id).is_none() {
            map.insert(self.key(id), Entry::empty());
        }
        let entry = map.get_mut(&self.key(id)).unwrap();
        entry.expires = Instant::now() + ttl;
        entry
    }

    fn write(
        &self,
        id: &SessionId,
        ttl: Duration,
        create: bool,
        apply: impl FnOnce(&mut Map),
    ) -> bool {
        let mut map = self.sessions.lock().unwrap();
        if self.live(&mut map, id).is_none() {
            if !create {
                return false;
            }
            map.insert(self.key(id), Entry::empty());
        }
        let entry = map.get_mut(&self.key(id)).unwrap();
        entry.expires = Instant::now() + ttl;
        apply(&mut entry.data);
        true
    }
}

#[async_trait]
impl Store for RefStore {
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError> {
        validate_key(key, KeyKind::Store)?;
        Ok(self
            .get_all(id, touch)
            .await?
            .and_then(|mut m| m.remove(key)))
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        let mut map = self.sessions.lock().unwrap();
        let entry = self.live(&mut map, id);
        Ok(entry.map(|e| {
            if let Some(ttl) = touch {
                e.expires = Instant::now() + ttl;
            }
            e.data.clone()
        }))
    }

    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        if self.flaw == Flaw::ReadModifyWrite {
            let mut whole = self.get_all(id, None).await?.unwrap_or_default();
            whole.insert(key.to_owned(), value);
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.write(id, ttl, true, |data| *data = whole);
        } else {
            self.write(id, ttl, true, |data| {
                data.insert(key.to_owned(), value);
            });
        }
        Ok(())
    }

    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        self.write(id, ttl, false, |data| {
            data.remove(key);
        });
        Ok(())
    }

    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        self.sessions.lock().unwrap().remove(&self.key(id));
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        if self.flaw == Flaw::TakeNotAtomic {
            let taken = self.get_all(id, None).await?;
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.del_all(id).await?;
            return Ok(taken);
        }
        let mut map = self.sessions.lock().unwrap();
        let taken = self.live(&mut map, id).map(|e| e.data.clone());
        map.remove(&self.key(id));
        Ok(taken)
    }

    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        if self.flaw == Flaw::ReadThenWrite {
            let current = self.get(id, key, None).await?;
            let next = incremented(current.as_ref(), delta)?;
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.write(id, ttl, true, |data| {
                data.insert(key.to_owned(), next.into());
            });
            return Ok(next);
        }
        let mut map = self.sessions.lock().unwrap();
        let current = self
            .live(&mut map, id)
            .and_then(|e| e.data.get(key).cloned());
        let next = incremented(current.as_ref(), delta)?;
        self.entry_for_write(&mut map, id, ttl)
            .data
            .insert(key.to_owned(), next.into());
        Ok(next)
    }

    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        if self.flaw == Flaw::ReadThenWrite {
            if self.get(id, key, None).await? != expected {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.write(id, ttl, true, |data| {
                data.insert(key.to_owned(), new);
            });
            return Ok(true);
        }
        let mut map = self.sessions.lock().unwrap();
        let current = self
            .live(&mut map, id)
            .and_then(|e| e.data.get(key).cloned());
        if current != expected {
            return Ok(false);
        }
        self.entry_for_write(&mut map, id, ttl)
            .data
            .insert(key.to_owned(), new);
        Ok(true)
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        Ok(self.write(id, ttl, self.flaw == Flaw::ExtendCreates, |_| ()))
    }

    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        for change in &changes {
            validate_key(change.key(), KeyKind::Store)?;
        }
        Ok(
            self.write(id, ttl, self.flaw == Flaw::ExtendCreates, |data| {
                let mut changes = changes;
                if self.flaw == Flaw::UpdateSetsFirst {
                    changes.sort_by_key(|c| matches!(c, Change::Del(_)));
                }
                for change in changes {
                    match change {
                        Change::Set(key, value) => data.insert(key, value),
                        Change::Del(key) => data.remove(&key),
                    };
                }
            }),
        )
    }
}

#[async_trait]
impl SubjectIndex for RefStore {
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError> {
        validate_subject(subject)?;
        let mut map = self.sessions.lock().unwrap();
        let Some(entry) = self.live(&mut map, id) else {
            return Ok(false);
        };
        if self.flaw == Flaw::BindingOutlivesSession {
            self.bindings
                .lock()
                .unwrap()
                .insert(self.key(id), subject.to_owned());
        } else {
            entry.subject = Some(subject.to_owned());
        }
        Ok(true)
    }

    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        validate_subject(subject)?;
        let mut map = self.sessions.lock().unwrap();
        let now = Instant::now();
        let id_of = |key: &Vec<u8>| SessionId::from_bytes(key.as_slice().try_into().unwrap());
        if self.flaw == Flaw::BindingOutlivesSession {
            let bindings = self.bindings.lock().unwrap();
            return Ok(bindings
                .iter()
                .filter(|(key, s)| {
                    s.as_str() == subject && map.get(*key).is_some_and(|e| e.expires > now)
                })
                .map(|(key, _)| id_of(key))
                .collect());
        }
        map.retain(|_, e| e.expires > now);
        Ok(map
            .iter()
            .filter(|(_, e)| e.subject.as_deref() == Some(subject))
            .map(|(key, _)| id_of(key))
            .collect())
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        validate_subject(subject)?;
        if self.flaw == Flaw::BindingOutlivesSession {
            let mut bindings = self.bindings.lock().unwrap();
            let mut map = self.sessions.lock().unwrap();
            let keys: Vec<Vec<u8>> = bindings
                .iter()
                .filter(|(_, s)| s.as_str() == subject)
                .map(|(k, _)| k.clone())
                .collect();
            for key in &keys {
                bindings.remove(key);
                map.remove(key);
            }
            return Ok(keys.len() as u64);
        }
        let ids = self.subject_sessions(subject).await?;
        let mut map = self.sessions.lock().unwrap();
        for id in &ids {
            map.remove(&self.key(id));
        }
        Ok(ids.len() as u64)
    }
}

fn report(flaw: Flaw) -> Report {
    let report = run_all(&move || async move { TestStore::builder(RefStore::new(flaw)).build() });
    println!("{report}");
    report
}

/// As [`report`], the store declaring its subject index.
fn report_with_subjects(flaw: Flaw) -> Report {
    let report = run_all(&move || async move {
        TestStore::builder(RefStore::new(flaw))
            .subject_index()
            .build()
    });
    println!("{report}");
    report
}

fn assert_fails(report: &Report, expected: &[&str]) {
    let failed = report.failed_names();
    for name in expected {
        assert!(
            failed.contains(name),
            "{name} should have failed; the report:\n{report}"
        );
    }
}

#[test]
fn a_correct_store_passes_and_capability_cases_are_skipped_by_name() {
    let report = report(Flaw::None);
    report.assert_success();
    let capability_cases: Vec<&str> = case_names()
        .filter(|(_, cap)| *cap != conformance_tests::Capability::Core)
        .map(|(name, _)| name)
        .collect();
    assert!(!capability_cases.is_empty());
    assert_eq!(report.skipped_names(), capability_cases);
    let text = report.to_string();
    assert!(
        text.contains("SKIPPED subject__bind_and_list: the store does not declare SubjectIndex")
    );
}

#[test]
fn whole_session_read_modify_write_is_caught() {
    assert_fails(
        &report(Flaw::ReadModifyWrite),
        &[
            "concurrency__distinct_keys_lose_nothing",
            "concurrency__disjoint_batches_lose_nothing",
            "concurrency__set_racing_extend_loses_nothing",
            "concurrency__del_racing_set_removes_only_its_key",
        ],
    );
}

#[test]
fn returning_expired_data_is_caught() {
    assert_fails(
        &report(Flaw::ReturnsExpired),
        &[
            "ttl__get_expires",
            "ttl__get_all_expires",
            "ttl__set_on_expired_starts_empty",
            "ttl__extend_sets_deadline_from_now",
            "ttl__extend_missing_is_false",
            "ttl__plain_read_does_not_extend",
        ],
    );
}

#[test]
fn leaking_across_id_prefixes_is_caught() {
    let report = report(Flaw::PrefixKeyed);
    assert_fails(&report, &["isolation__ids_sharing_a_prefix_are_isolated"]);
    // Everything else still passes: the failure points at the one broken rule.
    assert_eq!(
        report.failed_names(),
        ["isolation__ids_sharing_a_prefix_are_isolated"]
    );
}

#[test]
fn increments_and_compare_and_set_that_are_not_atomic_are_caught() {
    assert_fails(
        &report(Flaw::ReadThenWrite),
        &[
            "atomic__incr_64_concurrent_lose_none",
            "atomic__compare_and_set_32_concurrent_one_winner",
        ],
    );
}

#[test]
fn a_take_that_is_not_atomic_is_caught() {
    let report = report(Flaw::TakeNotAtomic);
    assert_eq!(
        report.failed_names(),
        ["concurrency__update_racing_take_loses_nothing"]
    );
}

#[test]
fn an_update_that_reorders_its_batch_is_caught() {
    let report = report(Flaw::UpdateSetsFirst);
    assert_fails(&report, &["crud__update_applies_in_order"]);
    // The model case, which calls `update` with random batches, may catch it too; nothing else.
    for name in report.failed_names() {
        assert!(
            [
                "crud__update_applies_in_order",
                "model__random_sequences_match_model"
            ]
            .contains(&name),
            "{name} failed:\n{report}"
        );
    }
}

#[test]
fn a_correct_subject_index_passes() {
    report_with_subjects(Flaw::None).assert_success();
}

#[test]
fn a_binding_that_outlives_its_session_is_caught() {
    let report = report_with_subjects(Flaw::BindingOutlivesSession);
    assert_eq!(
        report.failed_names(),
        [
            "subject__binding_ends_with_the_session",
            "subject__revoke_counts_only_live_sessions",
        ]
    );
}

#[test]
fn the_model_case_reports_its_seed_and_a_shrunk_sequence() {
    let report = report(Flaw::ExtendCreates);
    assert_fails(
        &report,
        &[
            "crud__del_all_removes_session",
            "ttl__extend_missing_is_false",
        ],
    );
    let model = report
        .cases
        .iter()
        .find(|c| c.name == "model__random_sequences_match_model")
        .unwrap();
    let Outcome::Failed(text) = &model.outcome else {
        panic!("the model case passed:\n{report}")
    };
    assert!(text.contains("replay with CONFORMANCE_SEED="), "{text}");
    // Two steps suffice to show the bug (extend a missing session, then read it); the shrinker
    // must get close to that from 60.
    let steps: usize = text
        .split("shrunk to ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(steps <= 4, "shrunk only to {steps} steps: {text}");
}
