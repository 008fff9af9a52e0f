//! An axum-login application on our stores: tower-sessions' layer, axum-login's auth layer, and
//! a [`TowerSessionsStore`] where a tower-sessions store would be. The application code is
//! axum-login's own; only the store line differs.
//!
//! ```text
//! cargo run -p session-tower-sessions --example axum_login [-- STORE_URL]
//! ```
//!
//! `STORE_URL` is any `session-stores` URL (`memory://` by default; `redis://127.0.0.1:6379`,
//! `mysql://root@127.0.0.1/test`, ...). Then, with a cookie jar:
//!
//! ```text
//! curl -c jar -b jar -d 'name=alice&password=correct horse' localhost:3000/login
//! curl -c jar -b jar localhost:3000/protected
//! curl -c jar -b jar -X POST localhost:3000/logout
//! ```
//!
//! The crate's tests drive this very app over HTTP on every backend.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_login::{AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId, login_required};
use serde::Deserialize;
use session_tower_sessions::TowerSessionsStore;
use sha2::{Digest, Sha256};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

/// A user of the example: the password is kept as its SHA-256 (an example; a real application
/// uses a password hash such as Argon2).
#[derive(Clone)]
pub struct User {
    id: i64,
    name: String,
    password_hash: Vec<u8>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the hash.
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish()
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    // axum-login ends a session whose user's hash changed: a password change logs out every
    // session of the user on its next request.
    fn session_auth_hash(&self) -> &[u8] {
        &self.password_hash
    }
}

/// The users, in memory.
#[derive(Clone, Default)]
pub struct Users(Arc<Mutex<HashMap<i64, User>>>);

impl Users {
    /// The example's users: alice (id 1, password "correct horse").
    pub fn example() -> Self {
        let users = Self::default();
        users.set_password(1, "alice", "correct horse");
        users
    }

    /// Adds the user, or changes their password.
    pub fn set_password(&self, id: i64, name: &str, password: &str) {
        let user = User {
            id,
            name: name.to_owned(),
            password_hash: Sha256::digest(password.as_bytes()).to_vec(),
        };
        self.lock().insert(id, user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, User>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the login form sends.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    name: String,
    password: String,
}

impl AuthnBackend for Users {
    type User = User;
    type Credentials = Credentials;
    type Error = std::convert::Infallible;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Self::Error> {
        let given = Sha256::digest(creds.password.as_bytes());
        Ok(self
            .lock()
            .values()
            .find(|u| u.name == creds.name && u.password_hash == given.as_slice())
            .cloned())
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
        Ok(self.lock().get(id).cloned())
    }
}

type AuthSession = axum_login::AuthSession<Users>;

async fn login(mut auth: AuthSession, Form(creds): Form<Credentials>) -> impl IntoResponse {
    match auth.authenticate(creds).await {
        Ok(Some(user)) => match auth.login(&user).await {
            Ok(()) => (StatusCode::OK, format!("welcome {}", user.name)),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
        },
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            "wrong name or password".to_owned(),
        ),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    }
}

async fn logout(mut auth: AuthSession) -> StatusCode {
    match auth.logout().await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn protected(auth: AuthSession) -> String {
    auth.user
        .map(|u| format!("secret for {}", u.name))
        .unwrap_or_default()
}

async fn me(auth: AuthSession) -> String {
    auth.user.map_or_else(|| "anonymous".to_owned(), |u| u.name)
}

/// An anonymous page that keeps something in the session (so a visitor has a session before
/// logging in: the id a fixation attack would plant).
async fn visit(session: Session) -> Result<String, StatusCode> {
    let n: u64 = session
        .get("visits")
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .unwrap_or(0)
        + 1;
    session
        .insert("visits", n)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(n.to_string())
}

#[derive(Deserialize)]
struct Pause {
    ms: Option<u64>,
}

/// Sets one key, after an optional pause with the session loaded (a slow request of the browser).
async fn set_key(
    session: Session,
    Path((key, value)): Path<(String, String)>,
    Query(pause): Query<Pause>,
) -> Result<&'static str, StatusCode> {
    let internal = |_| StatusCode::INTERNAL_SERVER_ERROR;
    session.get_value(&key).await.map_err(internal)?;
    if let Some(ms) = pause.ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    session.insert(&key, value).await.map_err(internal)?;
    Ok("set")
}

/// Reads one key.
async fn get_key(session: Session, Path(key): Path<String>) -> Result<String, StatusCode> {
    let value: Option<String> = session
        .get(&key)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(value.unwrap_or_default())
}

/// The application over `store`: a [`TowerSessionsStore`], or any other tower-sessions store.
pub fn app<S: SessionStore + Clone>(store: S, users: Users) -> Router {
    let sessions = SessionManagerLayer::new(store)
        // The example serves plain HTTP on localhost; behind TLS keep the default (Secure).
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(1)));
    let auth = AuthManagerLayerBuilder::new(users, sessions).build();
    Router::new()
        .route("/protected", get(protected))
        .route_layer(login_required!(Users))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/visit", get(visit))
        .route("/keys/{key}/{value}", post(set_key))
        .route("/keys/{key}", get(get_key))
        .layer(auth)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "memory://".to_owned());
    let store = session_stores::connect(&url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "axum-login on {} at http://127.0.0.1:3000",
        store.backend_name()
    );
    let store = TowerSessionsStore::new(store.store());
    axum::serve(listener, app(store, Users::example())).await?;
    Ok(())
}
