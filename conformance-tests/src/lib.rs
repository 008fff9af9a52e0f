//! The shared conformance suite for session stores: every backend of this workspace runs it, and a
//! third-party store checks itself with one macro call.
//!
//! # Layout
//!
//! - `harness`: [`TestStore`] (the store and the capabilities it declares), [`Factory`] and the
//!   per-case [`Namespace`], [`in_process`].
//! - `runner`: the shared runtime, [`run_case`] for one `#[test]`, [`run_all`] and its [`Report`].
//! - `race`: concurrent calls that report whether they overlapped; rounds repeated until the
//!   interleaving a case needs was seen.
//! - `registry`: every case once, by name; [`case_names`].
//! - `check`: what cases use: [`Failure`], assertions, fresh ids, polling with a deadline.
//! - `cases`: the cases by group: `crud`, `ttl`, `isolation`, `values`, `input`, `concurrency`,
//!   `instances` (two instances on one backend), `model`, and the capabilities `subject`,
//!   `cleanup`, `enumerate`.
//!
//! # Use
//!
//! Add `conformance-tests` as a dev-dependency and, in a test file:
//!
//! ```ignore
//! use conformance_tests::{Namespace, TestStore};
//!
//! conformance_tests::store_suite! {
//!     // Each case gets a fresh namespace; keep the store inside it (a table, a key prefix).
//!     factory: |ns: Namespace| async move {
//!         TestStore::builder(MyStore::connect(URL, ns.as_str()).await).subject_index().build()
//!     },
//!     subject_index: true,
//! }
//! ```
//!
//! This expands to a module `conformance` (or the `name:` given) with one `#[test]` per case,
//! named by group (`conformance::crud__overwrite`, `conformance::ttl__get_expires`, ...). The
//! cases run on one shared multi-thread tokio runtime, so the caller needs no tokio macros. Cases
//! of a capability not declared `true` are `#[ignore]`d with the reason, so `cargo test` lists
//! them as ignored by name instead of passing silently; `suite__capabilities_declared` checks the
//! declaration against what the factory's [`TestStore`] has.
//!
//! From outside this repository, a store crate needs two crates, both by git (neither is on
//! crates.io yet): `session-core`, for the trait it implements, and the kit, for its tests:
//!
//! ```toml
//! [dependencies]
//! session-core = { git = "https://example.invalid/session-stores" } # this repository (the workspace's `repository`)
//!
//! [dev-dependencies]
//! conformance-tests = { git = "https://example.invalid/session-stores" } # the same repository
//! ```
//!
//! [`run_all`] runs every case and returns a [`Report`] with all failures; a failure names the
//! case, the contract sentence it checks and the function under [`cases`] that holds it (its doc
//! comment says what it does), without a panic location or backtrace inside the kit.
//!
//! # What the kit cannot check
//!
//! The **I/O timeout** rule of the [`Store`](session_core::Store) contract (an operation never
//! hangs; a store that does I/O answers `Unavailable` when its own timeout passes): the kit only
//! sees the store the factory hands over, and a wrapper that delays calls would test the wrapper,
//! not the store's timeout, which lives in its driver and its connection to the server. Check it
//! with the server gone or stuck: this workspace's backends do it in their `tests/outage.rs`
//! (a killed and restarted server, an exhausted pool, operations stuck behind a lock), asserting
//! `Unavailable` within the store's timeout.
//!
//! # What the factory must do
//!
//! Each case runs in a fresh [`Namespace`] and must see nothing of other cases, so counts, lists
//! and cleanup limits are checked exactly while cases run in parallel: the factory puts the store
//! it makes inside the namespace (a table, key prefix, file or database named after it). Called
//! twice with one namespace, it gives two instances on the same data, as two processes would
//! have: the `instances__` cases and the model case spread one session's operations over both,
//! which catches a store that serializes writes with a lock inside one instance. A store whose
//! data lives in the process (a map) wraps its factory in [`in_process`]. [`Factory`] has the
//! details.
//!
//! What a case writes stays in its namespace after it, unless the factory gives its store a
//! [`teardown`](TestStoreBuilder::teardown): the runner calls it once the case has ended and
//! every instance of it was dropped, so a store with a file, directory or table per namespace
//! leaves nothing behind a run.
//!
//! Concurrency cases repeat their race until the interleaving they need was seen (the calls
//! overlapped, with the outcome that matters) or an 8-second budget ran out, so a racy store is
//! caught in nearly every run rather than now and then. TTL cases use 1.5 s TTLs and poll up to
//! a deadline. The model-based case prints its seed; set `CONFORMANCE_SEED` to replay it.
//!
//! # A complete custom store
//!
//! A store for another database implements [`Store`](session_core::Store) and runs the suite. This
//! one keeps everything in a `Mutex<HashMap>`; it compiles and passes every core case.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//! use std::time::{Duration, Instant};
//!
//! use conformance_tests::session_core::{
//!     async_trait, incremented, validate_key, validate_ttl, Change, KeyKind, Map, SessionId, Store,
//!     StoreError, Value,
//! };
//!
//! #[derive(Default)]
//! struct MyStore(Mutex<HashMap<SessionId, (Map, Instant)>>);
//!
//! impl MyStore {
//!     /// The live session, after dropping it if it expired.
//!     fn live<'a>(map: &'a mut HashMap<SessionId, (Map, Instant)>, id: &SessionId) -> Option<&'a mut (Map, Instant)> {
//!         if map.get(id).is_some_and(|(_, at)| *at <= Instant::now()) {
//!             map.remove(id);
//!         }
//!         map.get_mut(id)
//!     }
//! }
//!
//! #[async_trait]
//! impl Store for MyStore {
//!     async fn get(&self, id: &SessionId, key: &str, touch: Option<Duration>) -> Result<Option<Value>, StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         touch.map(validate_ttl).transpose()?;
//!         let mut map = self.0.lock().unwrap();
//!         let Some((data, at)) = Self::live(&mut map, id) else { return Ok(None) };
//!         if let Some(ttl) = touch { *at = Instant::now() + ttl; }
//!         Ok(data.get(key).cloned())
//!     }
//!     async fn get_all(&self, id: &SessionId, touch: Option<Duration>) -> Result<Option<Map>, StoreError> {
//!         touch.map(validate_ttl).transpose()?;
//!         let mut map = self.0.lock().unwrap();
//!         let Some((data, at)) = Self::live(&mut map, id) else { return Ok(None) };
//!         if let Some(ttl) = touch { *at = Instant::now() + ttl; }
//!         Ok(Some(data.clone()))
//!     }
//!     async fn set(&self, id: &SessionId, key: &str, value: Value, ttl: Duration) -> Result<(), StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap();
//!         Self::live(&mut map, id);
//!         let (data, at) = map.entry(*id).or_insert_with(|| (Map::new(), Instant::now()));
//!         data.insert(key.to_owned(), value);
//!         *at = Instant::now() + ttl;
//!         Ok(())
//!     }
//!     async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         if let Some((data, at)) = Self::live(&mut self.0.lock().unwrap(), id) {
//!             data.remove(key);
//!             *at = Instant::now() + ttl;
//!         }
//!         Ok(())
//!     }
//!     async fn del_all(&self, id: &SessionId) -> Result<(), StoreError> {
//!         self.0.lock().unwrap().remove(id);
//!         Ok(())
//!     }
//!     async fn incr(&self, id: &SessionId, key: &str, delta: i64, ttl: Duration) -> Result<i64, StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap(); // read, decide and write under one lock
//!         let current = Self::live(&mut map, id).and_then(|(data, _)| data.get(key).cloned());
//!         let next = incremented(current.as_ref(), delta)?;
//!         Self::live(&mut map, id);
//!         let (data, at) = map.entry(*id).or_insert_with(|| (Map::new(), Instant::now()));
//!         data.insert(key.to_owned(), next.into());
//!         *at = Instant::now() + ttl;
//!         Ok(next)
//!     }
//!     async fn compare_and_set(&self, id: &SessionId, key: &str, expected: Option<Value>, new: Value, ttl: Duration) -> Result<bool, StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap();
//!         if Self::live(&mut map, id).and_then(|(data, _)| data.get(key).cloned()) != expected {
//!             return Ok(false);
//!         }
//!         let (data, at) = map.entry(*id).or_insert_with(|| (Map::new(), Instant::now()));
//!         data.insert(key.to_owned(), new);
//!         *at = Instant::now() + ttl;
//!         Ok(true)
//!     }
//!     async fn incr_live(&self, id: &SessionId, key: &str, delta: i64, ttl: Duration) -> Result<Option<i64>, StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap();
//!         let Some((data, at)) = Self::live(&mut map, id) else { return Ok(None) };
//!         let next = incremented(data.get(key), delta)?;
//!         data.insert(key.to_owned(), next.into());
//!         *at = Instant::now() + ttl;
//!         Ok(Some(next))
//!     }
//!     async fn compare_and_set_live(&self, id: &SessionId, key: &str, expected: Option<Value>, new: Value, ttl: Duration) -> Result<Option<bool>, StoreError> {
//!         validate_key(key, KeyKind::Store)?;
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap();
//!         let Some((data, at)) = Self::live(&mut map, id) else { return Ok(None) };
//!         if data.get(key) != expected.as_ref() {
//!             return Ok(Some(false));
//!         }
//!         data.insert(key.to_owned(), new);
//!         *at = Instant::now() + ttl;
//!         Ok(Some(true))
//!     }
//!     async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError> {
//!         let mut map = self.0.lock().unwrap();
//!         let live = Self::live(&mut map, id).map(|(data, _)| data.clone());
//!         map.remove(id);
//!         Ok(live)
//!     }
//!     async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
//!         validate_ttl(ttl)?;
//!         let mut map = self.0.lock().unwrap();
//!         let Some((_, at)) = Self::live(&mut map, id) else { return Ok(false) };
//!         *at = Instant::now() + ttl;
//!         Ok(true)
//!     }
//!     async fn update(&self, id: &SessionId, changes: Vec<Change>, ttl: Duration) -> Result<bool, StoreError> {
//!         validate_ttl(ttl)?;
//!         for change in &changes {
//!             validate_key(change.key(), KeyKind::Store)?;
//!         }
//!         let mut map = self.0.lock().unwrap();
//!         let Some((data, at)) = Self::live(&mut map, id) else { return Ok(false) };
//!         for change in changes {
//!             match change {
//!                 Change::Set(key, value) => { data.insert(key, value); }
//!                 Change::Del(key) => { data.remove(&key); }
//!             }
//!         }
//!         *at = Instant::now() + ttl;
//!         Ok(true)
//!     }
//! }
//!
//! // In a test file this is all it takes (a doctest's tests do not run, so here it only compiles).
//! // The data lives in the store itself, so `in_process` hands a case's two instances one store.
//! conformance_tests::store_suite! {
//!     factory: conformance_tests::in_process(|| async {
//!         conformance_tests::TestStore::builder(MyStore::default()).build()
//!     }),
//! }
//! # fn main() {
//! #     // Run the whole suite here instead, and show it passes.
//! #     let report = conformance_tests::run_all(&conformance_tests::in_process(|| async {
//! #         conformance_tests::TestStore::builder(MyStore::default()).build()
//! #     }));
//! #     report.assert_success();
//! #     assert!(report.skipped_names().contains(&"subject__bind_and_list"));
//! # }
//! ```

pub mod cases;
mod check;
mod harness;
mod race;
mod registry;
mod runner;

pub use check::{CaseResult, Failure};
pub use harness::{
    Capability, Factory, InProcess, Namespace, TestStore, TestStoreBuilder, in_process,
};
pub use registry::case_names;
pub use runner::{
    CASE_TIMEOUT, CaseReport, Outcome, Report, check_declared, run_all, run_case, run_named,
};
pub use session_core;

/// The one list of cases: `name: Capability [twice] => path::in::cases "the contract sentence"`
/// (`twice`: the case takes two instances on one backend). Both the registry behind
/// [`run_all`] and the tests of [`store_suite!`] are generated from it, so they cannot drift.
#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    // `registry` is the crate's own (internal) macro; `tests` is `store_suite!`'s.
    (registry $args:tt) => { $crate::__cases!(@list [registry] $args); };
    (tests $args:tt) => { $crate::__cases!(@list [$crate::__store_suite_tests] $args); };
    (@list [$($callback:tt)*] $args:tt) => {
        $($callback)*! { $args
            crud__missing_session_is_none: Core => crud::missing_session_is_none "Existence: get and get_all on a missing or expired session answer Ok(None), never an error.",
            crud__missing_key_is_none: Core => crud::missing_key_is_none "Existence: a key that was never set reads as None in a live session.",
            crud__set_then_get: Core => crud::set_then_get "Existence: a session exists from its first set; what was set is read back.",
            crud__overwrite: Core => crud::overwrite "Atomicity: every operation on one key is atomic; a set replaces the key's value.",
            crud__del_removes_only_its_key: Core => crud::del_removes_only_its_key "Atomicity: del removes its key and no other.",
            crud__del_missing_is_ok: Core => crud::del_missing_is_ok "Existence: del, del_all, take and extend never create a session.",
            crud__del_last_key_keeps_empty_session: Core => crud::del_last_key_keeps_empty_session "Existence: get_all of a live session with no keys left answers Ok(Some(empty map)).",
            crud__del_all_removes_session: Core => crud::del_all_removes_session "Existence: a session exists until del_all or its expiry.",
            crud__take_returns_and_removes: Core => crud::take_returns_and_removes "Existence: take returns the live session and removes it in one step.",
            crud__set_after_del_all_starts_fresh: Core => crud::set_after_del_all_starts_fresh "Existence: a set after del_all starts an empty session: nothing from before comes back.",
            crud__set_many_applies_in_order: Core => crud::set_many_applies_in_order "Atomicity: a set_many batch applies its changes in order, as one write.",
            crud__set_many_creates_only_by_setting: Core => crud::set_many_creates_only_by_setting "Existence: a session exists from its first set (or a set_many holding a Set).",
            crud__set_many_applies_a_large_batch: Core => crud::set_many_applies_a_large_batch "Atomicity: a set_many batch applies all its changes, however many.",
            crud__update_applies_to_a_live_session: Core => crud::update_applies_to_a_live_session "Existence: update writes only to a live session and answers whether it did.",
            crud__update_never_creates: Core => crud::update_never_creates "Existence: update writes only to a live session and never creates one.",
            crud__update_applies_in_order: Core => crud::update_applies_in_order "Atomicity: an update batch applies its changes in order, as one write.",
            ttl__get_expires: Core => ttl::get_expires "Expiry: expired data is never returned, whether or not any cleanup ran.",
            ttl__get_all_expires: Core => ttl::get_all_expires "Expiry: expired data is never returned, whether or not any cleanup ran.",
            ttl__set_on_expired_starts_empty: Core => ttl::set_on_expired_starts_empty "Expiry: a set on an expired session starts an empty session.",
            ttl__take_of_expired_is_none: Core => ttl::take_of_expired_is_none "Expiry: expired data is never returned (take included).",
            ttl__extend_pushes_deadline: Core => ttl::extend_pushes_deadline "Expiry: extend moves the expiry to now + ttl.",
            ttl__extend_sets_deadline_from_now: Core => ttl::extend_sets_deadline_from_now "Expiry: extend moves the expiry to now + ttl, shorter ones too.",
            ttl__extend_missing_is_false: Core => ttl::extend_missing_is_false "Expiry: extend on a missing or expired session returns false and creates nothing.",
            ttl__touching_read_extends: Core => ttl::touching_read_extends "Expiry: get and get_all move the expiry when touch is Some(ttl).",
            ttl__plain_read_does_not_extend: Core => ttl::plain_read_does_not_extend "Expiry: get and get_all move the expiry only when touch is Some, so a read need not be a write.",
            ttl__writes_move_deadline: Core => ttl::writes_move_deadline "Expiry: set, del, set_many, update and extend move the expiry to now + ttl.",
            isolation__awkward_keys_round_trip: Core => isolation::awkward_keys_round_trip "Fidelity: any key validate_key accepts works, with ':', '*', '%', '_', quotes, dots and emoji.",
            isolation__keys_are_not_patterns: Core => isolation::keys_are_not_patterns "Fidelity: no key is a pattern.",
            isolation__sessions_are_isolated: Core => isolation::sessions_are_isolated "Isolation: a store keys on the whole id; sessions never see each other's data.",
            isolation__ids_sharing_a_prefix_are_isolated: Core => isolation::ids_sharing_a_prefix_are_isolated "Isolation: no prefix or pattern of one id reaches another session.",
            values__edge_values_round_trip: Core => values::edge_values_round_trip "Fidelity: every JSON value round-trips exactly: NUL, Unicode, u64::MAX, i64::MIN, floats.",
            values__deep_nesting_round_trips: Core => values::deep_nesting_round_trips "Fidelity: every JSON value round-trips exactly, deep nesting included.",
            values__one_mebibyte_value: Core => values::one_mebibyte_value "Fidelity: every JSON value round-trips exactly, large values included.",
            values__thousand_keys: Core => values::thousand_keys "Fidelity: a session holds any number of keys, each round-tripping.",
            input__invalid_keys_are_refused: Core => input::invalid_keys_are_refused "Input: keys are checked with validate_key before any I/O; a refused input is InvalidInput or TooLarge and changes nothing.",
            input__reserved_keys_are_storable: Core => input::reserved_keys_are_storable "Fidelity: any key validate_key accepts with KeyKind::Store works, the reserved prefix included.",
            input__invalid_ttls_are_refused: Core => input::invalid_ttls_are_refused "Input: TTLs are checked with validate_ttl before any I/O; a refused input changes nothing.",
            concurrency__distinct_keys_lose_nothing: Core => concurrency::distinct_keys_lose_nothing "Atomicity: writes to different keys of one session never lose each other, under any concurrency.",
            concurrency__disjoint_batches_lose_nothing: Core => concurrency::disjoint_batches_lose_nothing "Atomicity: writes to different keys of one session never lose each other, batches included.",
            concurrency__one_key_ends_with_a_written_value: Core => concurrency::one_key_ends_with_a_written_value "Atomicity: every operation on one key is atomic: concurrent writers leave one whole value.",
            concurrency__set_racing_extend_loses_nothing: Core => concurrency::set_racing_extend_loses_nothing "Atomicity: writes never lose each other, whatever extends or touching reads run beside them.",
            concurrency__del_racing_set_removes_only_its_key: Core => concurrency::del_racing_set_removes_only_its_key "Atomicity: writes to different keys of one session never lose each other (del included).",
            concurrency__many_sessions_in_parallel: Core => concurrency::many_sessions_in_parallel "Isolation: sessions are isolated under concurrency too.",
            concurrency__update_racing_del_all_never_resurrects: Core => concurrency::update_racing_del_all_never_resurrects "Existence: update never creates a session, even racing the del_all that ends it.",
            concurrency__update_racing_take_loses_nothing: Core => concurrency::update_racing_take_loses_nothing "Atomicity: take is atomic: a racing write it did not return was refused, never lost.",
            concurrency__racing_takes_have_one_winner: Core => concurrency::racing_takes_have_one_winner "Atomicity: take is atomic: of concurrent takes one returns the session, and a racing set is either taken or kept.",
            atomic__get_many_reads_the_asked_keys: Core => atomic::get_many_reads_the_asked_keys "Existence: get_many answers the asked keys in order, None for a missing session.",
            atomic__get_many_answers_a_key_asked_twice: Core => atomic::get_many_answers_a_key_asked_twice "Existence: get_many answers every asked key in its place; a key asked twice answers twice.",
            atomic__incr_adds_and_creates: Core => atomic::incr_adds_and_creates "Atomicity: incr adds to an integer key atomically, creating key and session when missing.",
            atomic__live_variants_never_create: Core => atomic::live_variants_never_create "Existence: incr_live and compare_and_set_live write only to a live session and never create one.",
            atomic__incr_refuses_what_it_cannot_add: Core => atomic::incr_refuses_what_it_cannot_add "Input: incr of a non-integer or past i64 is refused and changes nothing.",
            atomic__incr_64_concurrent_lose_none: Core => atomic::incr_64_concurrent_lose_none "Atomicity: incr makes a read-modify-write of one key safe: no increment is lost.",
            atomic__compare_and_set_compares_exactly: Core => atomic::compare_and_set_compares_exactly "Atomicity: compare_and_set writes only when the key holds exactly the expected value.",
            atomic__compare_and_set_claims_a_missing_session_once: Core => atomic::compare_and_set_claims_a_missing_session_once "Atomicity: compare_and_set expecting absent on a missing session has one winner (how a rotation is claimed).",
            atomic__compare_and_set_32_concurrent_one_winner: Core => atomic::compare_and_set_32_concurrent_one_winner "Atomicity: compare_and_set is atomic: of concurrent callers expecting one value, one wins.",
            instances__distinct_keys_lose_nothing: Core twice => instances::distinct_keys_lose_nothing "Atomicity: writes to different keys never lose each other across store instances sharing the backend; a lock inside one instance does not count.",
            instances__incr_loses_none: Core twice => instances::incr_loses_none "Atomicity: incr loses nothing across store instances sharing the backend.",
            instances__compare_and_set_has_one_winner: Core twice => instances::compare_and_set_has_one_winner "Atomicity: compare_and_set has one winner across store instances sharing the backend.",
            instances__update_racing_del_all_never_resurrects: Core twice => instances::update_racing_del_all_never_resurrects "Existence: update never creates a session, across store instances too.",
            instances__expiry_is_seen_from_the_other: Core twice => instances::expiry_is_seen_from_the_other "Expiry: expiry is per session, on one clock for every instance.",
            instances__subject_index_is_shared: SubjectIndex twice => instances::subject_index_is_shared "SubjectIndex: only live sessions are listed; a revoke ends them, for every instance on the backend.",
            model__random_sequences_match_model: Core twice => model::random_sequences_match_model "Store: every rule at once, in random sequences over two instances, against a model.",
            subject__bind_and_list: SubjectIndex => subject::bind_and_list "SubjectIndex: bound live sessions are listed under their subject.",
            subject__bind_missing_is_false: SubjectIndex => subject::bind_missing_is_false "SubjectIndex: binding a missing or expired session returns false and binds nothing.",
            subject__rebind_moves_session: SubjectIndex => subject::rebind_moves_session "SubjectIndex: a session is bound to at most one subject; binding again moves it.",
            subject__revoke_ends_all: SubjectIndex => subject::revoke_ends_all "SubjectIndex: revoke_subject removes every session bound to the subject, as del_all would.",
            subject__dead_sessions_not_listed: SubjectIndex => subject::dead_sessions_not_listed "SubjectIndex: a session that expired or was removed disappears from its subject's list without any cleanup.",
            subject__subjects_are_not_patterns: SubjectIndex => subject::subjects_are_not_patterns "SubjectIndex: subjects are compared exactly; none is a pattern or prefix of another.",
            subject__binding_ends_with_the_session: SubjectIndex => subject::binding_ends_with_the_session "SubjectIndex: a binding ends with its session (expiry, del_all, take); a new session under the id is unbound.",
            subject__sessions_with_reads_the_key: SubjectIndex => subject::sessions_with_reads_the_key "SubjectIndex: subject_sessions_with lists the live bound sessions with the asked key's value.",
            subject__creating_writes_start_unbound: SubjectIndex => subject::creating_writes_start_unbound "SubjectIndex: a session started again under an id by any creating write (set_many, incr, compare_and_set) is unbound.",
            subject__revoke_counts_only_live_sessions: SubjectIndex => subject::revoke_counts_only_live_sessions "SubjectIndex: revoke_subject returns how many live sessions it ended.",
            cleanup__removes_only_expired_in_batches: Cleanup => cleanup::removes_only_expired_in_batches "ExpiredCleanup: only expired sessions are removed, exactly batch per call while that many wait.",
            cleanup__cleanup_spares_extended_sessions: Cleanup => cleanup::cleanup_spares_extended_sessions "ExpiredCleanup: a live session is never touched.",
            enumerate__lists_live_sessions: Enumerate => enumerate::lists_live_sessions "Enumerate: expired and removed sessions are neither counted nor listed.",
        }
    };
}

/// Expands to a module with one `#[test]` per conformance case, for the store the factory
/// makes.
///
/// ```ignore
/// conformance_tests::store_suite! {
///     factory: |ns: Namespace| async move {
///         TestStore::builder(MyStore::connect(URL, ns.as_str()).await).subject_index().build()
///     },
///     subject_index: true,
/// }
///
/// // Options, in any order; only `factory` is required:
/// conformance_tests::store_suite! {
///     name: my_store_on_replica,   // the module's name; `conformance` when left out
///     factory: |ns: Namespace| async move {
///         TestStore::builder(MyStore::replica(ns.as_str()).await).enumerate().build()
///     },
///     subject_index: false,        // each capability: `true` or `false`; left out is `false`
///     cleanup: false,
///     enumerate: true,
/// }
/// ```
///
/// The factory is any `Fn(Namespace) -> impl Future<Output = TestStore>`, or [`in_process`] for a
/// store whose data lives in the process; [`Factory`] has the rules it keeps. It is called once
/// per test with a fresh namespace, and once more with that namespace for the cases that take
/// two instances. Cases of a capability that is not declared `true` are generated `#[ignore]`d
/// with the reason, so `cargo test` lists them by name. Several suites in one file need
/// different `name`s. A misspelt option, a value other than `true`/`false`, or a missing
/// `factory` is a compile error that says so.
///
/// These do not compile, each with a message naming the mistake:
///
/// ```compile_fail
/// # use conformance_tests::TestStore;
/// # fn store() -> TestStore { unimplemented!() }
/// // "`subject_index` takes `true` or `false`, not `yes`"
/// conformance_tests::store_suite! { factory: |_ns: conformance_tests::Namespace| async { store() }, subject_index: yes }
/// ```
///
/// ```compile_fail
/// # use conformance_tests::TestStore;
/// # fn store() -> TestStore { unimplemented!() }
/// // "unknown option `subject_idx`"
/// conformance_tests::store_suite! { factory: |_ns: conformance_tests::Namespace| async { store() }, subject_idx: true }
/// ```
///
/// ```compile_fail
/// // "`factory: ...` is required"
/// conformance_tests::store_suite! { name: no_factory, cleanup: true }
/// ```
#[macro_export]
macro_rules! store_suite {
    // Named options: collected one by one (any order), then checked, then expanded.
    ($option:ident : $($rest:tt)*) => {
        $crate::__suite_options!(
            [name: conformance] [factory:] [si: no] [cl: no] [en: no]
            $option : $($rest)*
        );
    };
}

/// Collects [`store_suite!`]'s named options.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_options {
    // Done: the factory is required.
    ([name: $n:ident] [factory:] [si: $si:ident] [cl: $cl:ident] [en: $en:ident] $(,)?) => {
        compile_error!("store_suite!: `factory: |ns: Namespace| async move { TestStore::builder(...).build() }` is required");
    };
    ([name: $n:ident] [factory: $f:expr] [si: $si:ident] [cl: $cl:ident] [en: $en:ident] $(,)?) => {
        $crate::__suite_module!($n, $f, $si, $cl, $en);
    };
    ([name: $_n:ident] $f:tt $si:tt $cl:tt $en:tt name : $n:ident $(, $($rest:tt)*)?) => {
        $crate::__suite_options!([name: $n] $f $si $cl $en $($($rest)*)?);
    };
    ($n:tt [factory:] $si:tt $cl:tt $en:tt factory : $f:expr $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n [factory: $f] $si $cl $en $($($rest)*)?);
    };
    ($n:tt [factory: $_f:expr] $si:tt $cl:tt $en:tt factory : $($rest:tt)*) => {
        compile_error!("store_suite!: `factory` is given twice");
    };
    ($n:tt $f:tt [si: $_v:ident] $cl:tt $en:tt subject_index : true $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f [si: yes] $cl $en $($($rest)*)?);
    };
    ($n:tt $f:tt [si: $_v:ident] $cl:tt $en:tt subject_index : false $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f [si: no] $cl $en $($($rest)*)?);
    };
    ($n:tt $f:tt $si:tt [cl: $_v:ident] $en:tt cleanup : true $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f $si [cl: yes] $en $($($rest)*)?);
    };
    ($n:tt $f:tt $si:tt [cl: $_v:ident] $en:tt cleanup : false $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f $si [cl: no] $en $($($rest)*)?);
    };
    ($n:tt $f:tt $si:tt $cl:tt [en: $_v:ident] enumerate : true $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f $si $cl [en: yes] $($($rest)*)?);
    };
    ($n:tt $f:tt $si:tt $cl:tt [en: $_v:ident] enumerate : false $(, $($rest:tt)*)?) => {
        $crate::__suite_options!($n $f $si $cl [en: no] $($($rest)*)?);
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt subject_index : $other:tt $($rest:tt)*) => {
        compile_error!(concat!("store_suite!: `subject_index` takes `true` or `false`, not `", stringify!($other), "`"));
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt cleanup : $other:tt $($rest:tt)*) => {
        compile_error!(concat!("store_suite!: `cleanup` takes `true` or `false`, not `", stringify!($other), "`"));
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt enumerate : $other:tt $($rest:tt)*) => {
        compile_error!(concat!("store_suite!: `enumerate` takes `true` or `false`, not `", stringify!($other), "`"));
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt name : $other:tt $($rest:tt)*) => {
        compile_error!(concat!("store_suite!: `name` takes a module name, not `", stringify!($other), "`"));
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt $option:ident : $($rest:tt)*) => {
        compile_error!(concat!(
            "store_suite!: unknown option `", stringify!($option),
            "` (the options: name, factory, subject_index, cleanup, enumerate)"
        ));
    };
    ($n:tt $f:tt $si:tt $cl:tt $en:tt $($rest:tt)+) => {
        compile_error!(concat!(
            "store_suite!: expected `option: value`, found `", stringify!($($rest)+), "`"
        ));
    };
}

/// The module [`store_suite!`] expands to.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_module {
    ($name:ident, $factory:expr, $si:ident, $cl:ident, $en:ident) => {
        #[allow(non_snake_case)]
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The capabilities declared here are the ones the factory's `TestStore` has.
            #[test]
            fn suite__capabilities_declared() {
                $crate::check_declared(
                    &$factory,
                    [
                        ($crate::Capability::SubjectIndex, $crate::__flag!($si)),
                        ($crate::Capability::Cleanup, $crate::__flag!($cl)),
                        ($crate::Capability::Enumerate, $crate::__flag!($en)),
                    ],
                );
            }

            $crate::__cases!(tests {
                $factory,
                $si,
                $cl,
                $en
            });
        }
    };
}

/// `yes`/`no` as a bool.
#[doc(hidden)]
#[macro_export]
macro_rules! __flag {
    (yes) => {
        true
    };
    (no) => {
        false
    };
}

/// One `#[test]` per case of the list; used by [`store_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __store_suite_tests {
    ($args:tt $($name:ident : $cap:ident $($twice:ident)? => $($path:ident)::+ $rule:literal),* $(,)?) => {
        $( $crate::__store_suite_test!($cap $args $name); )*
    };
}

/// One `#[test]`: run when its capability is declared `yes` (or is `Core`), ignored otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_suite_test {
    (Core $args:tt $name:ident) => { $crate::__store_suite_test!(@run $args $name); };
    (SubjectIndex { $f:expr, yes, $cl:ident, $en:ident } $name:ident) => {
        $crate::__store_suite_test!(@run { $f } $name);
    };
    (SubjectIndex { $f:expr, no, $cl:ident, $en:ident } $name:ident) => {
        $crate::__store_suite_test!(@ignored "capability SubjectIndex not declared" { $f } $name);
    };
    (Cleanup { $f:expr, $si:ident, yes, $en:ident } $name:ident) => {
        $crate::__store_suite_test!(@run { $f } $name);
    };
    (Cleanup { $f:expr, $si:ident, no, $en:ident } $name:ident) => {
        $crate::__store_suite_test!(@ignored "capability ExpiredCleanup not declared" { $f } $name);
    };
    (Enumerate { $f:expr, $si:ident, $cl:ident, yes } $name:ident) => {
        $crate::__store_suite_test!(@run { $f } $name);
    };
    (Enumerate { $f:expr, $si:ident, $cl:ident, no } $name:ident) => {
        $crate::__store_suite_test!(@ignored "capability Enumerate not declared" { $f } $name);
    };
    (@run { $f:expr $(, $rest:ident)* } $name:ident) => {
        #[test]
        fn $name() {
            $crate::run_case(&$f, stringify!($name));
        }
    };
    (@ignored $why:literal { $f:expr } $name:ident) => {
        #[test]
        #[ignore = $why]
        fn $name() {
            $crate::run_case(&$f, stringify!($name));
        }
    };
}
