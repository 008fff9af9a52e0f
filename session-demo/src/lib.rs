//! The demo app: a visit counter, logging in as a name, the list of your sessions (device,
//! created, last seen) where you can end any of them or all others, and logging out.
//!
//! # Layout
//!
//! - `store`: the backend from a command-line spec ([`manager_for`]).
//! - `pages`: the routes and their small HTML ([`router`]).

mod pages;
mod store;

pub use pages::router;
pub use store::{DEFAULT_STORE, manager_for};
