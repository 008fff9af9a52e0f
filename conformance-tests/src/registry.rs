//! Every case once, by name and capability, built from the list in [`__cases!`](crate::__cases).

use std::future::Future;
use std::pin::Pin;

use crate::check::CaseResult;
use crate::{Capability, TestStore, cases};

type CaseFuture = Pin<Box<dyn Future<Output = CaseResult> + Send>>;

/// How a case takes its stores.
pub(crate) enum Run {
    /// One instance.
    One(fn(TestStore) -> CaseFuture),
    /// Two instances on one backend (the factory called twice with one namespace).
    Two(fn(TestStore, TestStore) -> CaseFuture),
}

/// One case of the suite.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) capability: Capability,
    /// The contract sentence the case checks, named by its rule.
    pub(crate) rule: &'static str,
    /// The case's function, as `stringify!` spells its path: `crud :: overwrite` (under
    /// `conformance_tests::cases`).
    pub(crate) function: &'static str,
    pub(crate) run: Run,
}

macro_rules! run {
    (twice $path:path) => {
        Run::Two(|a, b| Box::pin($path(a, b)))
    };
    ($path:path) => {
        Run::One(|a| Box::pin($path(a)))
    };
}

macro_rules! registry {
    ({} $($name:ident : $cap:ident $($twice:ident)? => $($path:ident)::+ $rule:literal),* $(,)?) => {
        pub(crate) static CASES: &[Case] = &[$(
            Case {
                name: stringify!($name),
                capability: Capability::$cap,
                rule: $rule,
                function: stringify!($($path)::+),
                run: run!($($twice)? cases::$($path)::+),
            }
        ),*];
    };
}

crate::__cases!(registry {});

/// The names of every case, in the suite's order, with the capability each needs.
pub fn case_names() -> impl Iterator<Item = (&'static str, Capability)> {
    CASES.iter().map(|c| (c.name, c.capability))
}
