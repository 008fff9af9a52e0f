//! Finding the session a token names: its own id, else the read-only copy of a rotated-out
//! token; the metadata and the asked keys in one `get_many`; the manager's checks (lifetime,
//! device) before anything is handed out.

use super::SessionError;
use super::auth_version;
use super::grace::grace_id;
use super::meta::{META_KEY, Meta, now_ms};
use super::rotation::{Rotation, grace_keys, settled};
use super::shared::Shared;
use crate::{SessionCount, SessionId, Token, Value};

/// A session found in the store, with the keys read with its metadata.
pub(crate) struct Found {
    pub(crate) token: Token,
    pub(crate) id: SessionId,
    /// The visit is recorded (not yet written).
    pub(crate) meta: Meta,
    pub(crate) values: Vec<(String, Option<Value>)>,
}

/// How many steps a lookup takes at most: renewals followed, rotations waited for.
const MAX_HOPS: usize = 8;

/// What one look at a token's ids found.
enum Lookup {
    Found(Box<Found>),
    Missing,
    /// Renewed: the successor token's session is the one.
    Renewed(Token),
    /// A rotation was under way and has settled: look again.
    Again,
    /// Found past its absolute lifetime, or bound with an older auth version, and ended now.
    Ended,
}

/// The session `token` (whose id is `token_id`) names, with `keys`, or `None` when it has none:
/// unknown, expired, past its absolute lifetime (it is ended then), or with no metadata (only
/// the manager's own sessions are sessions: a record some other writer left under an id, such as
/// a key an `incr` re-created after the session ended, is never handed out as one).
///
/// The token's own id is read first, then its grace id (see `sessions::rotation`): a token whose
/// session was renewed is followed to its successor (the `Found` carries the new token), one
/// rotated out by a login or `rotate` finds the read-only copy, and one whose rotation is under
/// way waits for it to finish, so a valid token never finds nothing mid-rotation.
///
/// # Errors
/// [`SessionError::DeviceMismatch`] when device binding is on and `device` differs from the
/// recorded one (the session is ended); [`SessionError::Store`], `Unavailable` also when a
/// rotation under way does not finish in time.
pub(crate) async fn find(
    shared: &Shared,
    token: &Token,
    token_id: SessionId,
    device: Option<&str>,
    keys: &[&str],
) -> Result<Option<Box<Found>>, SessionError> {
    let mut token = token.clone();
    let mut id = token_id;
    for _ in 0..MAX_HOPS {
        match lookup(shared, &token, id, device, keys).await? {
            Lookup::Found(found) => {
                shared.count(SessionCount::Loaded, 1);
                // Kept boxed: callers hold it across awaits, and a `Found` is large.
                return Ok(Some(found));
            }
            Lookup::Missing => break,
            Lookup::Ended => return Ok(None),
            Lookup::Renewed(next) => {
                id = next.id();
                token = next;
            }
            Lookup::Again => {}
        }
    }
    shared.count(SessionCount::NotFound, 1);
    Ok(None)
}

async fn lookup(
    shared: &Shared,
    token: &Token,
    token_id: SessionId,
    device: Option<&str>,
    keys: &[&str],
) -> Result<Lookup, SessionError> {
    let mut asked = Vec::with_capacity(keys.len() + 1);
    asked.push(META_KEY);
    asked.extend_from_slice(keys);
    if let Some(values) = shared.store.get_many(&token_id, &asked, None).await?
        && let Some(lookup) = checked(shared, token, token_id, device, keys, values).await?
    {
        return Ok(lookup);
    }
    let grace = grace_id(&token_id);
    let Some(mut values) = shared
        .store
        .get_many(&grace, &grace_keys(keys), None)
        .await?
    else {
        return Ok(Lookup::Missing);
    };
    let rotation = values.remove(1).and_then(|r| Rotation::from_stored(&r));
    if let Some(rotation) = rotation {
        if !rotation.is_done() {
            // Boxed, as every rare branch of a lookup: the common request's future stays small.
            Box::pin(settled(shared, &token_id)).await?;
            return Ok(Lookup::Again);
        }
        if let Some(next) = rotation.successor(token) {
            return Ok(Lookup::Renewed(next));
        }
    }
    Ok(checked(shared, token, grace, device, keys, values)
        .await?
        .unwrap_or(Lookup::Missing))
}

/// The session read under `id` (its metadata first, then `keys`), once the manager's checks
/// pass; `None` when it has no metadata.
async fn checked(
    shared: &Shared,
    token: &Token,
    id: SessionId,
    device: Option<&str>,
    keys: &[&str],
    mut values: Vec<Option<Value>>,
) -> Result<Option<Lookup>, SessionError> {
    let Some(mut meta) = values
        .first_mut()
        .and_then(Option::take)
        .and_then(|m| Meta::from_stored(&m))
    else {
        return Ok(None);
    };
    let now = now_ms();
    // The rare branches are boxed: this future is part of every request's.
    if shared.past_lifetime(&meta, now) {
        Box::pin(end(shared, &id)).await?;
        shared.count(SessionCount::ExpiredOnRead, 1);
        return Ok(Some(Lookup::Ended));
    }
    // Only a read that names a device context is checked: one that supplies none (server
    // code resuming a session by token) never ends a session.
    if let (true, Some(recorded), Some(presented)) =
        (shared.config.device_binding, meta.device.as_deref(), device)
        && recorded != presented
    {
        Box::pin(end(shared, &id)).await?;
        shared.count(SessionCount::DeviceMismatch, 1);
        return Err(SessionError::DeviceMismatch);
    }
    if shared.config.auth_version
        && let Some(subject) = &meta.subject
        && !auth_version::matches(
            meta.auth_version,
            Box::pin(auth_version::current(shared, subject)).await?,
        )
    {
        Box::pin(end(shared, &id)).await?;
        shared.count(SessionCount::AuthVersionChanged, 1);
        return Ok(Some(Lookup::Ended));
    }
    if !meta.rotated {
        meta.previous_visit_ms = meta.latest_visit_ms;
        meta.latest_visit_ms = now;
    }
    let values = keys
        .iter()
        .map(|k| (*k).to_owned())
        .zip(values.into_iter().skip(1))
        .collect();
    Ok(Some(Lookup::Found(Box::new(Found {
        token: token.clone(),
        id,
        meta,
        values,
    }))))
}

/// Removes session `id` from the store, retires its live handle if it has one, and tells
/// observers.
pub(crate) async fn end(shared: &Shared, id: &SessionId) -> Result<(), SessionError> {
    shared.store.del_all(id).await?;
    shared.ended(*id);
    Ok(())
}
