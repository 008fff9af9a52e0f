//! The cases, by group. Each case is one async function with a doc comment naming the rule of the
//! contract it checks; `crate::registry` lists them all once.

pub mod atomic;
pub mod cleanup;
pub mod concurrency;
pub mod crud;
pub mod enumerate;
pub mod input;
pub mod instances;
pub mod isolation;
pub mod model;
pub mod subject;
pub mod ttl;
pub mod values;
