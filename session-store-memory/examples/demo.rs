//! The README's demo: a memory store, one session written, read, and left to expire.
//!
//! Run it with `cargo run -p session-store-memory --example demo`.

use std::time::Duration;

use serde_json::json;
use session_core::{Store, StoreError, Token};
use session_store_memory::MemoryStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::builder().max_sessions(1_000).build()?;

    let token = Token::generate()?;
    let id = token.id();
    println!("1. new session: the client holds a token, the store only sees its SHA-256");
    println!(
        "   token: {} base64url characters, never logged;   store id (short form): {}",
        token.as_str().len(),
        id.short()
    );

    let ttl = Duration::from_secs(2);
    store.set(&id, "user", json!("ada"), ttl).await?;
    store.set(&id, "visits", json!(1), ttl).await?;
    println!("2. wrote two keys with a {}s TTL", ttl.as_secs());

    let visits = store.get(&id, "visits", None).await?;
    println!("3. read back visits = {}", visits.unwrap_or_default());
    println!(
        "   whole session = {}",
        json!(store.get_all(&id, None).await?)
    );

    let bad = store.set(&id, "", json!(0), ttl).await;
    if let Err(StoreError::InvalidInput(why)) = bad {
        println!("4. an empty key is refused with a typed error: {why}");
    }

    println!("5. waiting for the session to expire (no cleanup job involved)...");
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    println!(
        "6. after expiry: get_all = {:?}",
        store.get_all(&id, None).await?
    );
    println!(
        "   a client presenting the old token finds no session: {}",
        {
            let again = Token::parse(token.as_str())?;
            store.get_all(&again.id(), None).await?.is_none()
        }
    );
    println!(
        "   a malformed token is refused before any lookup: {:?}",
        Token::parse("'; DROP TABLE").err()
    );
    Ok(())
}
