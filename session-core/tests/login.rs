//! Login and rotation, tried as an attacker would, over real stores (memory and SQLite): each test
//! reproduces a finding against the old shape (bind, then rotate; a rotated-out id that could
//! still write, rotate and log in; device binding that ended sessions on a plain load) and checks
//! the guarantee that replaced it.

mod support;

use std::time::Duration;

use serde_json::json;
use session_core::{Config, EventKind, SessionError};
use support::{Backend, eventually, manager};

/// A long grace, so every check below runs inside it.
fn config() -> Config {
    Config::builder()
        .rotation_grace(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The fixation setup: the attacker's token is planted in the victim's browser, the victim logs
/// in with it. Before the fix the pre-login token was logged in as the victim for the grace,
/// could log in again to mint a hidden 14-day session as the victim, and survived "end all
/// other sessions" and logout.
async fn a_planted_pre_login_token_gains_nothing(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let planted = manager.create().unwrap();
    planted.set("visits", &1).unwrap();
    planted.save().await.unwrap();
    let attacker = planted.token();

    let victim = manager.load(attacker.as_str()).await.unwrap().unwrap();
    let victim_token = victim.login("victim", json!({"name": "V"})).await.unwrap();
    assert_ne!(victim_token, attacker);
    assert_eq!(victim.subject().await.unwrap().as_deref(), Some("victim"));

    // The pre-login token right after login: anonymous and read-only.
    let stolen = manager.load(attacker.as_str()).await.unwrap().unwrap();
    assert_eq!(
        stolen.subject().await.unwrap(),
        None,
        "the pre-login id never carries the subject"
    );
    assert!(stolen.is_rotated_out());
    assert_eq!(stolen.get::<u32>("visits").await.unwrap(), Some(1));
    // Logging in, rotating, binding or writing through it is refused, and creates nothing.
    assert!(matches!(
        stolen.login("victim", json!(null)).await,
        Err(SessionError::RotatedOut)
    ));
    assert!(matches!(
        stolen.rotate().await,
        Err(SessionError::RotatedOut)
    ));
    assert!(matches!(
        stolen.set_user("victim", json!(null)).await,
        Err(SessionError::RotatedOut)
    ));
    assert!(matches!(stolen.set("k", &1), Err(SessionError::RotatedOut)));
    assert!(matches!(stolen.save().await, Err(SessionError::RotatedOut)));

    // The victim's list is exactly the one session; ending the others and logging out leave
    // nothing that loads as the victim.
    let listed = manager.sessions_of("victim").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, victim.id());
    victim.destroy(false).await.unwrap();
    assert!(manager.sessions_of("victim").await.unwrap().is_empty());
    assert!(manager.load(victim_token.as_str()).await.unwrap().is_none());
    let after = manager.load(attacker.as_str()).await.unwrap();
    if let Some(after) = after {
        assert!(after.subject().await.unwrap().is_none());
    }
}

/// A double-clicked login: two requests carry the same pre-login token. Before the fix, the
/// second rotated a rotated-out handle, produced a session marked rotated, and every later save
/// returned `Ok(false)` (the visit counter stopped at 2).
async fn a_double_clicked_login_never_drops_a_write(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let session = manager.create().unwrap();
    session.set("visits", &1).unwrap();
    session.save().await.unwrap();
    let pre_login = session.token();
    let first = manager.load(pre_login.as_str()).await.unwrap().unwrap();
    let second = manager.load(pre_login.as_str()).await.unwrap().unwrap();

    let token = first.login("alice", json!(null)).await.unwrap();
    // The second click, loaded before the first rotated: refused, with a typed error.
    assert!(matches!(
        second.login("alice", json!(null)).await,
        Err(SessionError::RotatedOut)
    ));
    assert!(second.is_rotated_out());
    // A third click, after: loads the read-only copy, also refused.
    let third = manager.load(pre_login.as_str()).await.unwrap().unwrap();
    assert!(matches!(
        third.login("alice", json!(null)).await,
        Err(SessionError::RotatedOut)
    ));

    // The logged-in session keeps counting: every save writes.
    for expected in 2..=5u32 {
        let session = manager.load(token.as_str()).await.unwrap().unwrap();
        assert!(!session.is_rotated_out());
        let visits: u32 = session.get("visits").await.unwrap().unwrap();
        session.set("visits", &(visits + 1)).unwrap();
        session.save().await.unwrap();
        let again = manager.load(token.as_str()).await.unwrap().unwrap();
        assert_eq!(again.get::<u32>("visits").await.unwrap(), Some(expected));
    }
    assert_eq!(manager.sessions_of("alice").await.unwrap().len(), 1);
}

/// A request that loaded the session before another request rotated it: its save must not
/// write to the old id (that would give the old token back its power and push it past its
/// grace), and must say so.
async fn a_handle_loaded_before_a_rotation_cannot_write(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder()
            .rotation_grace(Duration::from_millis(600))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let old = session.token();
    let stale = manager.load(old.as_str()).await.unwrap().unwrap();
    let new = session.rotate().await.unwrap();

    stale.set("k", &2).unwrap();
    assert!(matches!(stale.save().await, Err(SessionError::RotatedOut)));
    assert!(
        stale.is_dirty(),
        "the refused change is still visible as pending"
    );
    assert!(matches!(
        stale.rotate().await,
        Err(SessionError::RotatedOut)
    ));
    let moved = manager.load(new.as_str()).await.unwrap().unwrap();
    assert_eq!(moved.get::<u32>("k").await.unwrap(), Some(1));
    // The old token never outlives its grace.
    assert!(
        eventually(Duration::from_secs(10), || async {
            manager.load(old.as_str()).await.unwrap().is_none()
        })
        .await,
        "the rotated-out token outlived its grace"
    );
    assert!(manager.load(new.as_str()).await.unwrap().is_some());
}

/// Rotating a logged-in session: the old id's read-only copy still names the subject for the
/// grace, so it is listed (marked) and revoked with the rest: nothing hidden.
async fn rotated_out_copies_are_listed_and_revoked(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let session = manager.create().unwrap();
    let first = session.login("bob", json!({"n": 1})).await.unwrap();
    let second = session.rotate().await.unwrap();
    let listed = manager.sessions_of("bob").await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|i| i.rotated_out).count(), 1);
    let old = manager.load(first.as_str()).await.unwrap().unwrap();
    assert!(old.is_rotated_out());
    assert_eq!(old.subject().await.unwrap().as_deref(), Some("bob"));

    assert_eq!(manager.revoke_all("bob").await.unwrap(), 1);
    assert!(manager.load(first.as_str()).await.unwrap().is_none());
    assert!(manager.load(second.as_str()).await.unwrap().is_none());
}

/// Device binding: a load that names no device context never ends the session; a different
/// one does.
async fn device_binding_without_traps(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder().device_binding(true).build().unwrap(),
    )
    .await;
    let session = manager.create_with(Some("firefox".into()), None).unwrap();
    let token = session.login("carol", json!(null)).await.unwrap();
    let plain = manager.load(token.as_str()).await.unwrap();
    assert!(plain.is_some(), "a plain load finds the session");
    assert!(
        manager
            .load_with(token.as_str(), Some("firefox"))
            .await
            .unwrap()
            .is_some(),
        "and it was not ended"
    );
    assert!(matches!(
        manager.load_with(token.as_str(), Some("curl")).await,
        Err(SessionError::DeviceMismatch)
    ));
    assert!(manager.load(token.as_str()).await.unwrap().is_none());
}

/// Events: `Rotated` then `Identified` with the user data, both for the new id; nothing says
/// the pre-login id is logged in.
async fn login_events_name_only_the_new_id(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let session = manager.create().unwrap();
    session.set("a", &1).unwrap();
    session.save().await.unwrap();
    let pre_login = session.id();
    let mut events = manager.subscribe();
    session
        .login("dave", json!({"role": "admin"}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].session, session.id());
    assert_eq!(seen[0].kind, EventKind::Rotated { from: pre_login });
    assert_eq!(seen[1].session, session.id());
    assert_eq!(
        seen[1].kind,
        EventKind::Identified {
            subject: "dave".into(),
            user_data: json!({"role": "admin"})
        }
    );
}

/// A login on a session the store does not have yet (a first visit that posts the login form)
/// stores it, bound, under a token the client never saw.
async fn login_on_a_new_session_stores_it(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let session = manager.create().unwrap();
    let before = session.token();
    let token = session.login("erin", json!(null)).await.unwrap();
    assert_ne!(before, token);
    assert!(!session.is_new());
    assert!(manager.load(before.as_str()).await.unwrap().is_none());
    let loaded = manager.load(token.as_str()).await.unwrap().unwrap();
    assert_eq!(loaded.subject().await.unwrap().as_deref(), Some("erin"));
    assert_eq!(manager.sessions_of("erin").await.unwrap().len(), 1);
}

/// The per-subject limit applies at login and never counts the rotated-out copies.
async fn login_applies_the_per_subject_limit(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder()
            .rotation_grace(Duration::from_secs(30))
            .max_sessions_per_subject(2)
            .build()
            .unwrap(),
    )
    .await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let session = manager.create().unwrap();
        tokens.push(session.login("frank", json!(null)).await.unwrap());
    }
    let live: Vec<_> = manager
        .sessions_of("frank")
        .await
        .unwrap()
        .into_iter()
        .filter(|info| !info.rotated_out)
        .collect();
    assert_eq!(live.len(), 2);
    // The newest login is kept; one of the two before it (the oldest: they may share a
    // millisecond) was ended.
    assert!(manager.load(tokens[2].as_str()).await.unwrap().is_some());
    let mut ended = 0;
    for token in &tokens[..2] {
        ended += usize::from(manager.load(token.as_str()).await.unwrap().is_none());
    }
    assert_eq!(ended, 1);
}

/// A session first made by one device and logged in from another lists the device that logged
/// in (the demo showed the one from before login); a login from a request with no device context
/// keeps the one recorded.
async fn login_records_the_device_that_logged_in(backend: Backend) {
    let (manager, _) = manager(backend, config()).await;
    let first = manager
        .open(Vec::<String>::new(), Some("curl/8.0".into()))
        .unwrap();
    first.set("k", &1).unwrap();
    first.save().await.unwrap();
    let token = first.token();
    let later = manager
        .open([token.as_str()], Some("Firefox".into()))
        .unwrap();
    later.login("grace", json!(null)).await.unwrap();
    let listed = manager.sessions_of("grace").await.unwrap();
    let live: Vec<_> = listed.iter().filter(|i| !i.rotated_out).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].device.as_deref(), Some("Firefox"));

    let plain = manager.load(later.token().as_str()).await.unwrap().unwrap();
    plain.login("grace", json!(null)).await.unwrap();
    let listed = manager.sessions_of("grace").await.unwrap();
    let live: Vec<_> = listed.iter().filter(|i| !i.rotated_out).collect();
    assert_eq!(live[0].device.as_deref(), Some("Firefox"));
}

/// A revocation landing between a login's write and its binding (the user changed their
/// password while an attacker with the old one logged in) missed the new session, which stayed
/// alive and bound; now the login sees the revocation, removes its session and answers
/// `Destroyed`, and the pre-login token does not come back either. The same for `set_user`.
/// Plain reads lag here as a client-side cache's may (another instance's revocation heard of
/// late): the login's check of the revocation epoch must not be one of them.
async fn a_revocation_racing_a_login_ends_the_new_session(backend: Backend) {
    let (manager, counts) = manager(backend, config()).await;
    counts.lag_plain_gets();
    for via_set_user in [false, true] {
        let before = manager.create().unwrap();
        before.set("visits", &1).unwrap();
        before.save().await.unwrap();
        let pre_login = before.token();
        let gate = counts.hold_binds().await;
        let login = tokio::spawn({
            let manager = manager.clone();
            async move {
                let session = manager.load(pre_login.as_str()).await.unwrap().unwrap();
                if via_set_user {
                    session
                        .set_user("mallory", json!(null))
                        .await
                        .map(|()| session.token())
                } else {
                    session.login("mallory", json!(null)).await
                }
            }
        });
        counts.bind_arrived().await;
        manager.revoke_all("mallory").await.unwrap();
        drop(gate);
        let outcome = login.await.unwrap();
        assert!(
            matches!(outcome, Err(SessionError::Destroyed)),
            "set_user {via_set_user}: the login racing the revocation answered {outcome:?}"
        );
        let live: Vec<_> = manager
            .sessions_of("mallory")
            .await
            .unwrap()
            .into_iter()
            .filter(|info| !info.rotated_out)
            .collect();
        assert!(
            live.is_empty(),
            "set_user {via_set_user}: {live:?} survived the revocation"
        );
        let old = manager.load(before.token().as_str()).await.unwrap();
        assert!(
            old.is_none_or(|s| s.is_rotated_out()),
            "set_user {via_set_user}: the pre-login session came back writable"
        );
    }
    // With no revocation in between, a login binds as before.
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    session.login("mallory", json!(null)).await.unwrap();
    assert_eq!(manager.revoke_all("mallory").await.unwrap(), 1);
}

on_every_backend!(
    a_revocation_racing_a_login_ends_the_new_session,
    login_records_the_device_that_logged_in,
    a_planted_pre_login_token_gains_nothing,
    a_double_clicked_login_never_drops_a_write,
    a_handle_loaded_before_a_rotation_cannot_write,
    rotated_out_copies_are_listed_and_revoked,
    device_binding_without_traps,
    login_events_name_only_the_new_id,
    login_on_a_new_session_stores_it,
    login_applies_the_per_subject_limit,
);
