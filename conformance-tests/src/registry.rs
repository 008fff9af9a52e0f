//! Every case once, by name and capability, built from the list in [`__cases!`](crate::__cases).

use std::future::Future;
use std::pin::Pin;

use crate::check::CaseResult;
use crate::{Capability, TestStore, cases};

/// One case of the suite.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) capability: Capability,
    pub(crate) run: fn(TestStore) -> Pin<Box<dyn Future<Output = CaseResult> + Send>>,
}

macro_rules! registry {
    ({} $($name:ident : $cap:ident => $($path:ident)::+),* $(,)?) => {
        pub(crate) static CASES: &[Case] = &[$(
            Case {
                name: stringify!($name),
                capability: Capability::$cap,
                run: |t| Box::pin(cases::$($path)::+(t)),
            }
        ),*];
    };
}

crate::__cases!(registry {});

/// The names of every case, in the suite's order, with the capability each needs.
pub fn case_names() -> impl Iterator<Item = (&'static str, Capability)> {
    CASES.iter().map(|c| (c.name, c.capability))
}
