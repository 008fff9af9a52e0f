//! Running cases: the shared runtime, one case for a `#[test]`, every case for a [`Report`].

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::runtime::Runtime;

use crate::registry::{CASES, Case, Run};
use crate::{Capability, Factory, Namespace, TestStore};

/// How long one case may take before it counts as a hang and fails.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// How many cases [`run_all`] runs at once.
const PARALLEL_CASES: usize = 8;

/// The one multi-thread runtime every case runs on, built on first use.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("conformance")
            .build()
            .unwrap_or_else(|e| panic!("conformance-tests could not start its tokio runtime: {e}"))
    })
}

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// A check failed, the store errored, the case panicked or timed out; the text says which.
    Failed(String),
    /// The case needs a capability the store did not declare; the text names it.
    Skipped(String),
}

/// One case's name, outcome and duration.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The stable case name, e.g. `crud__overwrite`.
    pub name: &'static str,
    /// The contract sentence the case checks, e.g. `Atomicity: every operation on one key is
    /// atomic; ...`.
    pub rule: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The result of [`run_all`]: every case, in the suite's order.
#[derive(Debug, Clone)]
pub struct Report {
    /// One entry per case.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// The failed cases.
    pub fn failures(&self) -> impl Iterator<Item = &CaseReport> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The names of the failed cases.
    pub fn failed_names(&self) -> Vec<&'static str> {
        self.failures().map(|c| c.name).collect()
    }

    /// The names of the skipped cases.
    pub fn skipped_names(&self) -> Vec<&'static str> {
        let skipped = self
            .cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped(_)));
        skipped.map(|c| c.name).collect()
    }

    /// Whether no case failed (skipped cases are listed by [`Report::skipped_names`]).
    pub fn is_success(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Panics with the whole report unless no case failed.
    pub fn assert_success(&self) {
        assert!(self.is_success(), "conformance failures:\n{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for case in &self.cases {
            match &case.outcome {
                Outcome::Passed => writeln!(f, "ok      {} ({:?})", case.name, case.elapsed)?,
                Outcome::Skipped(why) => writeln!(f, "SKIPPED {}: {why}", case.name)?,
                Outcome::Failed(why) => writeln!(
                    f,
                    "FAILED  {}: {why}\n        the contract: {}",
                    case.name, case.rule
                )?,
            }
        }
        let failed = self.failures().count();
        let skipped = self.skipped_names().len();
        let passed = self.cases.len() - failed - skipped;
        write!(f, "{passed} passed, {failed} failed, {skipped} skipped")
    }
}

/// The message for a case whose capability the store lacks.
pub(crate) fn lacks(capability: Capability) -> String {
    format!(
        "the store does not declare {} (TestStore::builder(..).{}())",
        capability.trait_name(),
        match capability {
            Capability::Core => "build",
            Capability::SubjectIndex => "subject_index",
            Capability::Cleanup => "cleanup",
            Capability::Enumerate => "enumerate",
        }
    )
}

/// Runs `case` in a fresh namespace, with the instances it asks for.
async fn run_one<F: Factory + ?Sized>(factory: &F, case: &'static Case) -> CaseReport {
    let start = Instant::now();
    let namespace = Namespace::fresh();
    let store = make(factory, namespace.clone()).await;
    let teardown = store.teardown.clone();
    let outcome = if !store.has(case.capability) {
        drop(store);
        Outcome::Skipped(lacks(case.capability))
    } else {
        let run = match case.run {
            Run::One(run) => run(store),
            Run::Two(run) => run(store, make(factory, namespace).await),
        };
        let task = tokio::spawn(tokio::time::timeout(CASE_TIMEOUT, run));
        match task.await {
            Ok(Ok(Ok(()))) => Outcome::Passed,
            Ok(Ok(Err(failure))) => Outcome::Failed(failure.0),
            Ok(Err(_)) => Outcome::Failed(format!("timed out after {CASE_TIMEOUT:?}: a hang")),
            Err(join) => Outcome::Failed(format!("panicked: {}", panic_text(join))),
        }
    };
    // Every instance went with the case's future (or with the skip); the namespace can go now.
    if let Some(teardown) = teardown {
        teardown().await;
    }
    CaseReport {
        name: case.name,
        rule: case.rule,
        outcome,
        elapsed: start.elapsed(),
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".into()),
        Err(join) => join.to_string(),
    }
}

async fn make<F: Factory + ?Sized>(factory: &F, namespace: Namespace) -> TestStore {
    match tokio::spawn(factory.make(namespace)).await {
        Ok(store) => store,
        Err(join) => panic!("the store factory failed: {}", panic_text(join)),
    }
}

/// Runs the case named `name` with stores from `factory` and reports how it ended.
///
/// # Panics
/// When the suite has no case of that name, or the factory panics.
pub fn run_named<F: Factory + ?Sized>(factory: &F, name: &str) -> CaseReport {
    let Some(case) = CASES.iter().find(|c| c.name == name) else {
        panic!("conformance-tests has no case named {name:?}");
    };
    runtime().block_on(run_one(factory, case))
}

/// Runs the case named `name` with stores from `factory`, and panics unless it passed. This
/// is what each `#[test]` of [`store_suite!`](crate::store_suite) calls.
///
/// A capability case run for a store that does not declare the capability fails: the macro only
/// runs it when the capability was declared (or when `--ignored` asks for it).
///
/// A failure names the case, the contract sentence it checks and the function that holds the
/// case (read its doc comment and body to see what it did); it unwinds without the kit's own
/// panic location and backtrace, which would only point inside the kit.
pub fn run_case<F: Factory + ?Sized>(factory: &F, name: &str) {
    let report = run_named(factory, name);
    let function = CASES
        .iter()
        .find(|c| c.name == name)
        .map_or(String::new(), |c| c.function.replace(' ', ""));
    match report.outcome {
        Outcome::Passed => {}
        Outcome::Failed(why) | Outcome::Skipped(why) => {
            let message = format!(
                "{name} failed: {why}\n  the contract: {}\n  the case: conformance_tests::cases::{function}",
                report.rule
            );
            // Printed, then unwound without the panic hook: the test output shows the case, not
            // a location and backtrace inside the kit's runner.
            eprintln!("{message}");
            std::panic::resume_unwind(Box::new(message));
        }
    }
}

/// Checks that the capabilities declared to [`store_suite!`](crate::store_suite) are the ones the
/// factory's [`TestStore`] has, so a capability cannot be forgotten on one side.
pub fn check_declared<F: Factory + ?Sized>(factory: &F, declared: [(Capability, bool); 3]) {
    let store = runtime().block_on(make(factory, Namespace::fresh()));
    let found = declared.map(|(capability, _)| store.has(capability));
    let teardown = store.teardown.clone();
    drop(store);
    if let Some(teardown) = teardown {
        runtime().block_on(teardown());
    }
    for ((capability, said), has) in declared.into_iter().zip(found) {
        assert_eq!(
            said,
            has,
            "store_suite! declares {} = {}, but the factory's TestStore {} it",
            capability.trait_name(),
            if said { "yes" } else { "no" },
            if has { "has" } else { "lacks" },
        );
    }
}

/// Runs every case with stores from `factory` (each case in its own namespace), in parallel, and
/// reports all of them: every failure, not just the first, and each skipped capability case by
/// name.
///
/// Call it from a plain `#[test]` or `main`, not from inside a tokio runtime: it runs on the suite's
/// own runtime.
pub fn run_all<F: Factory + ?Sized>(factory: &F) -> Report {
    runtime().block_on(async {
        let runs = futures::stream::iter(CASES.iter().map(|case| run_one(factory, case)));
        let mut cases: Vec<CaseReport> = runs.buffer_unordered(PARALLEL_CASES).collect().await;
        cases.sort_by_key(|c| CASES.iter().position(|k| k.name == c.name));
        Report { cases }
    })
}
