//! `TestStore`: the store under test and the capabilities its factory declares; the [`Factory`]
//! that makes it, per case [`Namespace`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use rand::RngExt;
use tokio::sync::OnceCell;

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
    pub(crate) teardown: Option<Teardown>,
}

/// What removes a case's namespace from the backend once the case has ended.
pub(crate) type Teardown = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

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
                teardown: None,
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

    /// Removes what the case left in its namespace (a file, a directory, a table) once the case
    /// has ended, passed or failed, and every store instance of it was dropped. The runner calls
    /// the teardown of the case's first instance, once; make it quiet about a namespace already
    /// gone. Without one, whatever a case wrote stays where it is.
    ///
    /// For a store with a file per namespace:
    /// `.teardown(move || { let file = file.clone(); async move { let _ = tokio::fs::remove_file(&file).await; } })`.
    pub fn teardown<F, Fut>(mut self, teardown: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner.teardown = Some(Arc::new(move || Box::pin(teardown())));
        self
    }

    /// The finished description.
    pub fn build(self) -> TestStore {
        self.inner
    }
}

/// The name of one case's own corner of the backend: a table, a key prefix, a file, a database.
///
/// Every case gets a fresh one, and a store the factory makes for it must see nothing outside it:
/// nothing another case wrote, nothing an earlier run left. That is what lets cases check counts,
/// lists and cleanup limits exactly while they run in parallel.
///
/// It is short ASCII: a lowercase letter, then lowercase letters, digits and `_` (at most 16
/// bytes), so it fits in a table name, a key prefix or a file name as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// A namespace no other case or run uses.
    pub fn fresh() -> Self {
        Self(format!("ns_{:012x}", rand::rng().random::<u64>() >> 16))
    }

    /// The name, e.g. `ns_3fa9c0d1e2b4`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes the stores for a case: any `Fn(Namespace) -> impl Future<Output = TestStore>`, such as
/// `|ns: Namespace| async move { TestStore::builder(MyStore::connect(&url, ns.as_str()).await).build() }`.
///
/// The rules a factory keeps:
///
/// - **One namespace, one backend.** Called with a namespace, it returns a store that sees only
///   the data written under that namespace (a table, key prefix, file or database named after
///   it; the same server for every namespace is fine).
/// - **Called again with the same namespace, it returns another instance on the same data**: a
///   new client, connection pool or handle, as a second process or app server would have. The
///   cases named `instances__...` (and the model case) spread one session's operations over two
///   such instances, which is how a store that serializes writes with a lock inside one instance
///   is caught. A store whose data lives in the process itself (a map in memory) has no second
///   instance to give: wrap its factory in [`in_process`], which hands out the same store for a
///   namespace.
///
/// The future runs on the suite's shared multi-thread runtime, so it may connect to servers. A
/// factory that cannot make its store should panic with a message that says why; the case then
/// fails with that message.
pub trait Factory: Send + Sync {
    /// One store instance for the case that owns `namespace`.
    fn make(
        &self,
        namespace: Namespace,
    ) -> Pin<Box<dyn Future<Output = TestStore> + Send + 'static>>;
}

impl<F, Fut> Factory for F
where
    F: Fn(Namespace) -> Fut + Send + Sync,
    Fut: Future<Output = TestStore> + Send + 'static,
{
    fn make(
        &self,
        namespace: Namespace,
    ) -> Pin<Box<dyn Future<Output = TestStore> + Send + 'static>> {
        Box::pin(self(namespace))
    }
}

/// A [`Factory`] for a store that keeps its data in the process: `make()` runs once per
/// namespace, and both instances a case asks for are that one store. See [`in_process`].
pub struct InProcess<F> {
    make: Arc<F>,
    made: Arc<Mutex<HashMap<Namespace, Arc<OnceCell<TestStore>>>>>,
}

/// Wraps the factory of an in-process store (one that takes no namespace, since each store it
/// makes is empty and private): each case gets a store of its own, and a case's second instance
/// is the same store.
///
/// ```
/// # use conformance_tests::{in_process, TestStore};
/// # fn my_store() -> TestStore { unimplemented!() }
/// let factory = in_process(|| async { my_store() });
/// # let _ = factory;
/// ```
pub fn in_process<F, Fut>(make: F) -> InProcess<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TestStore> + Send + 'static,
{
    InProcess {
        make: Arc::new(make),
        made: Arc::default(),
    }
}

impl<F, Fut> Factory for InProcess<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TestStore> + Send + 'static,
{
    fn make(
        &self,
        namespace: Namespace,
    ) -> Pin<Box<dyn Future<Output = TestStore> + Send + 'static>> {
        let cell = self
            .made
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(namespace)
            .or_default()
            .clone();
        let make = self.make.clone();
        Box::pin(async move { cell.get_or_init(|| make()).await.clone() })
    }
}
