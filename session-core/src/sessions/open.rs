//! Finding the session a token names: its own id, else the read-only copy of a rotated-out
//! token; the metadata and the asked keys in one `get_many`; the manager's checks (lifetime,
//! device) before anything is handed out.

use super::SessionError;
use super::grace::grace_id;
use super::meta::{META_KEY, Meta, now_ms};
use super::shared::Shared;
use crate::{SessionId, Token, Value};

/// A session found in the store, with the keys read with its metadata.
pub(crate) struct Found {
    pub(crate) token: Token,
    pub(crate) id: SessionId,
    /// The visit is recorded (not yet written).
    pub(crate) meta: Meta,
    pub(crate) values: Vec<(String, Option<Value>)>,
}

/// The session `token` (whose id is `token_id`) names, with `keys`, or `None` when it has none: unknown, expired, past
/// its absolute lifetime (it is ended then), or with no metadata (only the manager's own
/// sessions are sessions: a record some other writer left under an id, such as a key an `incr`
/// re-created after the session ended, is never handed out as one).
///
/// # Errors
/// [`SessionError::DeviceMismatch`] when device binding is on and `device` differs from the
/// recorded one (the session is ended); [`SessionError::Store`].
pub(crate) async fn find(
    shared: &Shared,
    token: &Token,
    token_id: SessionId,
    device: Option<&str>,
    keys: &[&str],
) -> Result<Option<Found>, SessionError> {
    let mut asked = Vec::with_capacity(keys.len() + 1);
    asked.push(META_KEY);
    asked.extend_from_slice(keys);
    for id in [token_id, grace_id(&token_id)] {
        let Some(mut values) = shared.store.get_many(&id, &asked, None).await? else {
            continue;
        };
        let Some(mut meta) = values
            .first_mut()
            .and_then(Option::take)
            .and_then(|m| Meta::from_stored(&m))
        else {
            continue;
        };
        let now = now_ms();
        if shared.past_lifetime(&meta, now) {
            end(shared, &id).await?;
            return Ok(None);
        }
        // Only a read that names a device context is checked: one that supplies none (server
        // code resuming a session by token) never ends a session.
        if let (true, Some(recorded), Some(presented)) =
            (shared.config.device_binding, meta.device.as_deref(), device)
            && recorded != presented
        {
            end(shared, &id).await?;
            return Err(SessionError::DeviceMismatch);
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
        return Ok(Some(Found {
            token: token.clone(),
            id,
            meta,
            values,
        }));
    }
    Ok(None)
}

/// Removes session `id` from the store, retires its live handle if it has one, and tells
/// observers.
pub(crate) async fn end(shared: &Shared, id: &SessionId) -> Result<(), SessionError> {
    shared.store.del_all(id).await?;
    shared.ended(*id);
    Ok(())
}
