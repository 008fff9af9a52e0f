//! The suite is shown to catch real bugs: a correct reference store passes, and each deliberately
//! broken variant fails the cases for the rule it breaks, with `run_all` reporting every failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance_tests::session_core::{
    Change, Enumerate, ExpiredCleanup, KeyKind, Map, SessionId, Store, StoreError, SubjectIndex,
    Value, async_trait, incremented, validate_key, validate_subject, validate_ttl,
};
use conformance_tests::{
    CaseReport, Factory, Namespace, Outcome, Report, TestStore, case_names, run_all, run_named,
};

/// The bug a [`RefStore`] carries.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// Every write takes a lock inside this instance, and `set` reads the whole session, yields
    /// and writes it back: correct for one instance, lossy for two on one backend.
    InstanceLock,
    /// `update` extends the session (checking it is live), yields, then writes its changes,
    /// creating the session if it went away in between: a racing `del_all` is undone.
    UpdateExtendsThenWrites,
    /// `count` and `ids` include sessions that expired but were not cleaned up yet.
    CountsExpired,
    /// `delete_expired` removes every expired session, whatever its batch limit.
    CleanupIgnoresBatch,
    /// `incr_live` and `compare_and_set_live` are `incr` and `compare_and_set`: they create a
    /// missing session.
    LiveCreates,
    /// `incr` and `compare_and_set` on an expired session reset its keys but keep its subject,
    /// as a SQL store that resets the data column and forgets the subject column would.
    CreatingWriteKeepsBinding,
    /// `get_many` moves each value out of the session it read: a key asked twice answers `None`
    /// the second time.
    GetManyTakes,
}

/// The data every instance on one namespace shares.
#[derive(Default)]
struct Backend {
    sessions: Mutex<HashMap<Vec<u8>, Entry>>,
    /// With `Flaw::BindingOutlivesSession`, the bindings, by session key.
    bindings: Mutex<HashMap<Vec<u8>, String>>,
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

/// One instance of the reference store, on a backend other instances may share.
struct RefStore {
    flaw: Flaw,
    backend: Arc<Backend>,
    /// With `Flaw::InstanceLock`, what every write of this instance (and no other) holds.
    instance_lock: tokio::sync::Mutex<()>,
}

impl RefStore {
    fn on(backend: Arc<Backend>, flaw: Flaw) -> Self {
        Self {
            flaw,
            backend,
            instance_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.backend.sessions.lock().unwrap()
    }

    /// With `Flaw::InstanceLock`, this instance's write lock.
    async fn serialized(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.flaw {
            Flaw::InstanceLock => Some(self.instance_lock.lock().await),
            _ => None,
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
        match self.flaw {
            Flaw::ReturnsExpired => {}
            // An expired row stays until a write replaces it, as in a SQL table.
            Flaw::CreatingWriteKeepsBinding if expired => return None,
            _ if expired => drop(map.remove(&key)),
            _ => {}
        }
        map.get_mut(&key)
    }

    /// With `Flaw::CreatingWriteKeepsBinding`, the subject of `id`'s entry, expired or not.
    fn kept_subject(&self, map: &HashMap<Vec<u8>, Entry>, id: &SessionId) -> Option<String> {
        let entry = map.get(&self.key(id))?;
        (self.flaw == Flaw::CreatingWriteKeepsBinding)
            .then(|| entry.subject.clone())
            .flatten()
    }

    /// The entry of `id` in a locked map, created when missing or expired (with `kept` as its
    /// subject), its expiry moved.
    fn entry_for_write<'a>(
        &self,
        map: &'a mut HashMap<Vec<u8>, Entry>,
        id: &SessionId,
        ttl: Duration,
        kept: Option<String>,
    ) -> &'a mut Entry {
        if self.live(map, id).is_none() {
            let fresh = Entry {
                subject: kept,
                ..Entry::empty()
            };
            map.insert(self.key(id), fresh);
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
        let mut map = self.sessions();
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

    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> Result<Option<Vec<Option<Value>>>, StoreError> {
        for key in keys {
            validate_key(key, KeyKind::Store)?;
        }
        let Some(mut map) = self.get_all(id, touch).await? else {
            return Ok(None);
        };
        Ok(Some(
            keys.iter()
                .map(|key| match self.flaw {
                    Flaw::GetManyTakes => map.remove(*key),
                    _ => map.get(*key).cloned(),
                })
                .collect(),
        ))
    }

    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError> {
        let mut map = self.sessions();
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
        let _serial = self.serialized().await;
        if matches!(self.flaw, Flaw::ReadModifyWrite | Flaw::InstanceLock) {
            let mut whole = self.get_all(id, None).await?.unwrap_or_default();
            whole.insert(key.to_owned(), value);
            tokio::task::yield_now().await;
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
        let _serial = self.serialized().await;
        self.write(id, ttl, false, |data| {
            data.remove(key);
        });
        Ok(())
    }

    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
        let _serial = self.serialized().await;
        self.sessions().remove(&self.key(id));
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
        let _serial = self.serialized().await;
        if self.flaw == Flaw::TakeNotAtomic {
            let taken = self.get_all(id, None).await?;
            tokio::task::yield_now().await;
            self.del_all(id).await?;
            return Ok(taken);
        }
        let mut map = self.sessions();
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
        let _serial = self.serialized().await;
        if self.flaw == Flaw::ReadThenWrite {
            let current = self.get(id, key, None).await?;
            let next = incremented(current.as_ref(), delta)?;
            tokio::task::yield_now().await;
            self.write(id, ttl, true, |data| {
                data.insert(key.to_owned(), next.into());
            });
            return Ok(next);
        }
        let mut map = self.sessions();
        let kept = self.kept_subject(&map, id);
        let current = self
            .live(&mut map, id)
            .and_then(|e| e.data.get(key).cloned());
        let next = incremented(current.as_ref(), delta)?;
        self.entry_for_write(&mut map, id, ttl, kept)
            .data
            .insert(key.to_owned(), next.into());
        Ok(next)
    }

    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        if self.flaw == Flaw::LiveCreates {
            return self.incr(id, key, delta, ttl).await.map(Some);
        }
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let _serial = self.serialized().await;
        let mut map = self.sessions();
        let Some(entry) = self.live(&mut map, id) else {
            return Ok(None);
        };
        let next = incremented(entry.data.get(key), delta)?;
        entry.data.insert(key.to_owned(), next.into());
        entry.expires = Instant::now() + ttl;
        Ok(Some(next))
    }

    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        if self.flaw == Flaw::LiveCreates {
            return self
                .compare_and_set(id, key, expected, new, ttl)
                .await
                .map(Some);
        }
        validate_key(key, KeyKind::Store)?;
        validate_ttl(ttl)?;
        let _serial = self.serialized().await;
        let mut map = self.sessions();
        let Some(entry) = self.live(&mut map, id) else {
            return Ok(None);
        };
        if entry.data.get(key) != expected.as_ref() {
            return Ok(Some(false));
        }
        entry.data.insert(key.to_owned(), new);
        entry.expires = Instant::now() + ttl;
        Ok(Some(true))
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
        let _serial = self.serialized().await;
        if self.flaw == Flaw::ReadThenWrite {
            if self.get(id, key, None).await? != expected {
                return Ok(false);
            }
            tokio::task::yield_now().await;
            self.write(id, ttl, true, |data| {
                data.insert(key.to_owned(), new);
            });
            return Ok(true);
        }
        let mut map = self.sessions();
        let kept = self.kept_subject(&map, id);
        let current = self
            .live(&mut map, id)
            .and_then(|e| e.data.get(key).cloned());
        if current != expected {
            return Ok(false);
        }
        self.entry_for_write(&mut map, id, ttl, kept)
            .data
            .insert(key.to_owned(), new);
        Ok(true)
    }

    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        validate_ttl(ttl)?;
        let _serial = self.serialized().await;
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
        let _serial = self.serialized().await;
        if self.flaw == Flaw::UpdateExtendsThenWrites {
            if !self.write(id, ttl, false, |_| ()) {
                return Ok(false);
            }
            tokio::task::yield_now().await;
            self.write(id, ttl, true, |data| {
                for change in changes {
                    match change {
                        Change::Set(key, value) => data.insert(key, value),
                        Change::Del(key) => data.remove(&key),
                    };
                }
            });
            return Ok(true);
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
        let mut map = self.sessions();
        let Some(entry) = self.live(&mut map, id) else {
            return Ok(false);
        };
        if self.flaw == Flaw::BindingOutlivesSession {
            self.backend
                .bindings
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
        let mut map = self.sessions();
        let now = Instant::now();
        let id_of = |key: &Vec<u8>| SessionId::from_bytes(key.as_slice().try_into().unwrap());
        if self.flaw == Flaw::BindingOutlivesSession {
            let bindings = self.backend.bindings.lock().unwrap();
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
            let mut bindings = self.backend.bindings.lock().unwrap();
            let mut map = self.sessions();
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
        let mut map = self.sessions();
        for id in &ids {
            map.remove(&self.key(id));
        }
        Ok(ids.len() as u64)
    }
}

/// A factory of reference stores with `flaw`: one backend per namespace, a new instance on it
/// per call; declaring every capability when `capabilities`.
fn factory(flaw: Flaw, capabilities: bool) -> impl Factory {
    let backends: Arc<Mutex<HashMap<Namespace, Arc<Backend>>>> = Arc::default();
    move |ns: Namespace| {
        let backend = backends.lock().unwrap().entry(ns).or_default().clone();
        async move {
            let builder = TestStore::builder(RefStore::on(backend, flaw));
            match capabilities {
                true => builder.subject_index().cleanup().enumerate().build(),
                false => builder.build(),
            }
        }
    }
}

#[async_trait]
impl Enumerate for RefStore {
    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.ids().await?.len() as u64)
    }

    async fn ids(&self) -> Result<Vec<SessionId>, StoreError> {
        let now = Instant::now();
        let sessions = self.sessions();
        let listed = sessions
            .iter()
            .filter(|(_, e)| self.flaw == Flaw::CountsExpired || e.expires > now);
        Ok(listed
            .map(|(key, _)| SessionId::from_bytes(key.as_slice().try_into().unwrap()))
            .collect())
    }
}

#[async_trait]
impl ExpiredCleanup for RefStore {
    async fn delete_expired(&self, batch: usize) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut sessions = self.sessions();
        let limit = match self.flaw {
            Flaw::CleanupIgnoresBatch => usize::MAX,
            _ => batch,
        };
        let expired: Vec<Vec<u8>> = sessions
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(key, _)| key.clone())
            .take(limit)
            .collect();
        for key in &expired {
            sessions.remove(key);
        }
        Ok(expired.len() as u64)
    }
}

fn report(flaw: Flaw) -> Report {
    let report = run_all(&factory(flaw, false));
    println!("{report}");
    report
}

/// As [`report`], the store declaring every capability.
fn report_with_capabilities(flaw: Flaw) -> Report {
    let report = run_all(&factory(flaw, true));
    println!("{report}");
    report
}

/// Runs the case `name` alone 20 times against a store with `flaw`, and asserts it failed at
/// least 19 times: a race is caught, not sampled.
fn caught_19_of_20(flaw: Flaw, name: &str) {
    caught_at_least(flaw, name, false, 19);
}

/// Runs the case `name` alone 20 times against a store with `flaw` (declaring every capability
/// when `capabilities`), and asserts it failed at least `wanted` times.
fn caught_at_least(flaw: Flaw, name: &str, capabilities: bool, wanted: usize) {
    let factory = factory(flaw, capabilities);
    let outcomes: Vec<CaseReport> = (0..20).map(|_| run_named(&factory, name)).collect();
    let caught = outcomes
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
        .count();
    println!("{name}: caught in {caught} of 20 runs");
    assert!(
        caught >= wanted,
        "{name} caught {flaw:?} in only {caught} of 20 runs; the last: {:?}",
        outcomes.last().map(|c| &c.outcome)
    );
}

/// Asserts `case` failed and, of the rest, only the cases in `also` (which may catch the same
/// bug along the way).
fn assert_caught_by(report: &Report, case: &str, also: &[&str]) {
    assert_fails(report, &[case]);
    for name in report.failed_names() {
        assert!(
            name == case || also.contains(&name),
            "{name} failed:\n{report}"
        );
    }
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
            "atomic__compare_and_set_claims_a_missing_session_once",
        ],
    );
}

#[test]
fn live_variants_that_create_are_caught() {
    let report = report(Flaw::LiveCreates);
    assert_eq!(
        report.failed_names(),
        ["atomic__live_variants_never_create"]
    );
}

#[test]
fn a_take_that_is_not_atomic_is_caught() {
    let report = report(Flaw::TakeNotAtomic);
    assert_eq!(
        report.failed_names(),
        [
            "concurrency__update_racing_take_loses_nothing",
            "concurrency__racing_takes_have_one_winner"
        ]
    );
}

#[test]
fn a_get_many_that_consumes_its_keys_is_caught() {
    let report = report(Flaw::GetManyTakes);
    assert_caught_by(
        &report,
        "atomic__get_many_answers_a_key_asked_twice",
        &["model__random_sequences_match_model"],
    );
}

#[test]
fn a_binding_kept_by_a_creating_write_is_caught() {
    let report = report_with_capabilities(Flaw::CreatingWriteKeepsBinding);
    assert_caught_by(
        &report,
        "subject__creating_writes_start_unbound",
        &["model__random_sequences_match_model"],
    );
}

/// The gaps a third-party author's run found (a take that reads then removes, a binding kept by
/// `incr`, a `get_many` that consumes its keys), each caught by its case alone in every one of
/// 20 runs.
#[test]
fn new_gaps_are_caught_in_20_of_20_runs_of_their_case_alone() {
    for (flaw, case, capabilities) in [
        (
            Flaw::TakeNotAtomic,
            "concurrency__racing_takes_have_one_winner",
            false,
        ),
        (
            Flaw::CreatingWriteKeepsBinding,
            "subject__creating_writes_start_unbound",
            true,
        ),
        (
            Flaw::GetManyTakes,
            "atomic__get_many_answers_a_key_asked_twice",
            false,
        ),
    ] {
        caught_at_least(flaw, case, capabilities, 20);
    }
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
fn a_correct_store_with_every_capability_passes() {
    report_with_capabilities(Flaw::None).assert_success();
}

#[test]
fn a_binding_that_outlives_its_session_is_caught() {
    let report = report_with_capabilities(Flaw::BindingOutlivesSession);
    assert_fails(
        &report,
        &[
            "subject__binding_ends_with_the_session",
            "subject__revoke_counts_only_live_sessions",
        ],
    );
    // The model and the two-instance subject case revoke after removals too; nothing else fails.
    for name in report.failed_names() {
        assert!(
            name.starts_with("subject__")
                || name == "instances__subject_index_is_shared"
                || name == "model__random_sequences_match_model",
            "{name} failed:\n{report}"
        );
    }
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

#[test]
fn an_instance_local_lock_is_caught_across_instances_only() {
    let report = report(Flaw::InstanceLock);
    assert_fails(&report, &["instances__distinct_keys_lose_nothing"]);
    for name in report.failed_names() {
        assert!(
            name.starts_with("instances__") || name == "model__random_sequences_match_model",
            "{name} failed, but one instance alone is correct:\n{report}"
        );
    }
}

#[test]
fn an_update_that_extends_then_writes_is_caught() {
    let report = report(Flaw::UpdateExtendsThenWrites);
    assert_fails(
        &report,
        &[
            "concurrency__update_racing_del_all_never_resurrects",
            "instances__update_racing_del_all_never_resurrects",
        ],
    );
}

#[test]
fn races_are_caught_in_19_of_20_runs_of_their_case_alone() {
    for (flaw, case) in [
        (
            Flaw::ReadModifyWrite,
            "concurrency__distinct_keys_lose_nothing",
        ),
        (
            Flaw::ReadModifyWrite,
            "concurrency__del_racing_set_removes_only_its_key",
        ),
        (Flaw::ReadThenWrite, "atomic__incr_64_concurrent_lose_none"),
        (
            Flaw::ReadThenWrite,
            "atomic__compare_and_set_32_concurrent_one_winner",
        ),
        (
            Flaw::ReadThenWrite,
            "atomic__compare_and_set_claims_a_missing_session_once",
        ),
        (
            Flaw::TakeNotAtomic,
            "concurrency__update_racing_take_loses_nothing",
        ),
        (
            Flaw::UpdateExtendsThenWrites,
            "concurrency__update_racing_del_all_never_resurrects",
        ),
        (Flaw::InstanceLock, "instances__distinct_keys_lose_nothing"),
    ] {
        caught_19_of_20(flaw, case);
    }
}

#[test]
fn counting_expired_sessions_is_caught() {
    let report = report_with_capabilities(Flaw::CountsExpired);
    assert_eq!(report.failed_names(), ["enumerate__lists_live_sessions"]);
}

#[test]
fn a_cleanup_that_ignores_its_batch_limit_is_caught() {
    let report = report_with_capabilities(Flaw::CleanupIgnoresBatch);
    assert_eq!(
        report.failed_names(),
        ["cleanup__removes_only_expired_in_batches"]
    );
}

/// A failing case's panic names the case, its contract and the function holding it.
#[test]
fn a_failure_names_the_case_it_came_from() {
    let case = "isolation__ids_sharing_a_prefix_are_isolated";
    let factory = factory(Flaw::PrefixKeyed, false);
    let unwound = std::panic::catch_unwind(|| conformance_tests::run_case(&factory, case));
    let payload = unwound.expect_err("the case passed on a prefix-keyed store");
    let text = payload.downcast_ref::<String>().expect("a text payload");
    assert!(text.starts_with(&format!("{case} failed: ")), "{text}");
    assert!(text.contains("the contract: Isolation:"), "{text}");
    assert!(
        text.contains(
            "the case: conformance_tests::cases::isolation::ids_sharing_a_prefix_are_isolated"
        ),
        "{text}"
    );
}

/// Each case's teardown runs once the case ended and its instances were dropped, for every case
/// (passed, failed or skipped), so a backend with a file or table per namespace is left clean.
#[test]
fn every_case_namespace_is_torn_down_after_its_instances_are_dropped() {
    let backends: Arc<Mutex<HashMap<Namespace, Arc<Backend>>>> = Arc::default();
    let made: Arc<Mutex<Vec<Namespace>>> = Arc::default();
    let torn: Arc<Mutex<Vec<(Namespace, usize)>>> = Arc::default();
    let factory = {
        let (backends, made, torn) = (backends.clone(), made.clone(), torn.clone());
        move |ns: Namespace| {
            let backend = backends
                .lock()
                .unwrap()
                .entry(ns.clone())
                .or_default()
                .clone();
            made.lock().unwrap().push(ns.clone());
            let (backends, torn) = (backends.clone(), torn.clone());
            async move {
                TestStore::builder(RefStore::on(backend, Flaw::None))
                    .teardown(move || {
                        let (backends, torn, ns) = (backends.clone(), torn.clone(), ns.clone());
                        async move {
                            let removed = backends.lock().unwrap().remove(&ns);
                            // The map's reference is the last one: no instance is alive.
                            let holders = removed.map_or(0, |b| Arc::strong_count(&b));
                            torn.lock().unwrap().push((ns, holders));
                        }
                    })
                    .build()
            }
        }
    };
    let report = run_all(&factory);
    report.assert_success();
    let made: std::collections::HashSet<Namespace> = made.lock().unwrap().iter().cloned().collect();
    let torn = torn.lock().unwrap();
    assert_eq!(made.len(), report.cases.len(), "one namespace per case");
    assert_eq!(torn.len(), made.len(), "one teardown per case");
    for (ns, holders) in torn.iter() {
        assert!(made.contains(ns));
        assert_eq!(
            *holders, 1,
            "{ns} was torn down while an instance was alive"
        );
    }
    assert!(backends.lock().unwrap().is_empty(), "a namespace was left");
}
