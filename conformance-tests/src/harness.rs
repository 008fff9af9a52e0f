//! `TestStore`: the store under test and the capabilities its factory declares.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use session_core::{Enumerate, ExpiredCleanup, Store, SubjectIndex};

/// An optional capability a store may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// The [`Store`] trait alone: every store has it.
    Core,
    /// [`SubjectIndex`].
    SubjectIndex,
    /// [`ExpiredCleanup`].
    Cleanup,
    /// [`Enumerate`].
    Enumerate,
}

impl Capability {
    /// The trait's name, as reports print it.
    pub fn trait_name(self) -> &'static str {
        match self {
            Self::Core => "Store",
            Self::SubjectIndex => "SubjectIndex",
            Self::Cleanup => "ExpiredCleanup",
            Self::Enumerate => "Enumerate",
        }
    }
}

/// The store under test, as its factory hands it over: the store, and each capability it declares.
///
/// Build one with [`TestStore::builder`].
#[derive(Clone)]
pub struct TestStore {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) subjects: Option<Arc<dyn SubjectIndex>>,
    pub(crate) cleanup: Option<Arc<dyn ExpiredCleanup>>,
    pub(crate) enumerate: Option<Arc<dyn Enumerate>>,
}

impl TestStore {
    /// Starts describing `store`; declare its capabilities on the builder.
    pub fn builder<S: Store>(store: S) -> TestStoreBuilder<S> {
        Self::builder_from_arc(Arc::new(store))
    }

    /// As [`TestStore::builder`], for a store already in an `Arc`.
    pub fn builder_from_arc<S: Store>(store: Arc<S>) -> TestStoreBuilder<S> {
        TestStoreBuilder {
            inner: TestStore {
                store: store.clone(),
                subjects: None,
                cleanup: None,
                enumerate: None,
            },
            store,
        }
    }

    /// Whether the factory declared `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::Core => true,
            Capability::SubjectIndex => self.subjects.is_some(),
            Capability::Cleanup => self.cleanup.is_some(),
            Capability::Enumerate => self.enumerate.is_some(),
        }
    }
}

/// Declares the capabilities of a [`TestStore`]. Each method only compiles for a store that
/// implements the trait, so a declaration cannot lie.
pub struct TestStoreBuilder<S> {
    inner: TestStore,
    store: Arc<S>,
}

impl<S: Store> TestStoreBuilder<S> {
    /// Runs the [`SubjectIndex`] cases.
    pub fn subject_index(mut self) -> Self
    where
        S: SubjectIndex,
    {
        self.inner.subjects = Some(self.store.clone());
        self
    }

    /// Runs the [`ExpiredCleanup`] cases.
    pub fn cleanup(mut self) -> Self
    where
        S: ExpiredCleanup,
    {
        self.inner.cleanup = Some(self.store.clone());
        self
    }

    /// Runs the [`Enumerate`] cases.
    pub fn enumerate(mut self) -> Self
    where
        S: Enumerate,
    {
        self.inner.enumerate = Some(self.store.clone());
        self
    }

    /// The finished description.
    pub fn build(self) -> TestStore {
        self.inner
    }
}

/// Makes the store for a run: any `Fn() -> impl Future<Output = TestStore>`, such as
/// `|| async { TestStore::builder(MyStore::new()).build() }`.
///
/// The future runs on the suite's shared multi-thread runtime, so it may connect to servers. A
/// factory that cannot make its store should panic with a message that says why; the case then
/// fails with that message.
///
/// It is called once per case, and may hand out stores on one shared backend (one server, one
/// database, one key prefix): every case works on fresh random session ids and subjects and never
/// assumes the backend is empty, so cases run in parallel. A fresh backend per call is fine too.
pub trait Factory: Send + Sync {
    /// One store for one run.
    fn make(&self) -> Pin<Box<dyn Future<Output = TestStore> + Send + 'static>>;
}

impl<F, Fut> Factory for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = TestStore> + Send + 'static,
{
    fn make(&self) -> Pin<Box<dyn Future<Output = TestStore> + Send + 'static>> {
        Box::pin(self())
    }
}
