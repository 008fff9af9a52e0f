//! Capability `SubjectIndex`: bind, list, revoke; only live sessions are listed.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use session_core::{Change, SessionId, SubjectIndex};

use crate::check::{
    CaseResult, Failure, LONG, SHORT, ensure, ensure_eq, eventually, fresh_id, fresh_subject,
};
use crate::{Capability, TestStore};

pub(crate) fn index(t: &TestStore) -> Result<Arc<dyn SubjectIndex>, Failure> {
    t.subjects
        .clone()
        .ok_or_else(|| Failure(crate::runner::lacks(Capability::SubjectIndex)))
}

pub(crate) async fn listed(
    index: &dyn SubjectIndex,
    subject: &str,
) -> Result<HashSet<SessionId>, Failure> {
    Ok(index.subject_sessions(subject).await?.into_iter().collect())
}

/// Bound sessions are listed under their subject, and only there.
pub async fn bind_and_list(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let (alice, bob) = (fresh_subject(), fresh_subject());
    let (a1, a2, b1) = (fresh_id(), fresh_id(), fresh_id());
    for id in [&a1, &a2, &b1] {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    ensure!(
        index.bind_subject(&a1, &alice).await?,
        "bind of a live session returned false"
    );
    ensure!(
        index.bind_subject(&a2, &alice).await?,
        "bind of a live session returned false"
    );
    ensure!(
        index.bind_subject(&b1, &bob).await?,
        "bind of a live session returned false"
    );
    ensure_eq!(
        listed(&*index, &alice).await?,
        HashSet::from([a1, a2]),
        "alice's sessions"
    );
    ensure_eq!(
        listed(&*index, &bob).await?,
        HashSet::from([b1]),
        "bob's sessions"
    );
    ensure_eq!(
        listed(&*index, &fresh_subject()).await?,
        HashSet::new(),
        "an unknown subject"
    );
    Ok(())
}

/// Binding a missing session returns `false` and lists nothing.
pub async fn bind_missing_is_false(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let subject = fresh_subject();
    let id = fresh_id();
    ensure!(
        !index.bind_subject(&id, &subject).await?,
        "bind of a missing session returned true"
    );
    ensure_eq!(
        listed(&*index, &subject).await?,
        HashSet::new(),
        "sessions after a refused bind"
    );
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        None,
        "bind created a session"
    );
    Ok(())
}

/// Binding a session again moves it to the new subject.
pub async fn rebind_moves_session(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let (first, second) = (fresh_subject(), fresh_subject());
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), LONG).await?;
    index.bind_subject(&id, &first).await?;
    index.bind_subject(&id, &second).await?;
    ensure_eq!(
        listed(&*index, &first).await?,
        HashSet::new(),
        "the old subject's sessions"
    );
    ensure_eq!(
        listed(&*index, &second).await?,
        HashSet::from([id]),
        "the new subject's sessions"
    );
    ensure_eq!(
        index.revoke_subject(&first).await?,
        0,
        "revoke of the old subject"
    );
    ensure!(
        t.store.get_all(&id, None).await?.is_some(),
        "revoking the old subject ended the session"
    );
    Ok(())
}

/// `revoke_subject` ends every session of the subject, returns how many, and leaves other
/// subjects' sessions alone.
pub async fn revoke_ends_all(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let (alice, bob) = (fresh_subject(), fresh_subject());
    let alices: Vec<SessionId> = (0..3).map(|_| fresh_id()).collect();
    let bobs = fresh_id();
    for id in alices.iter().chain([&bobs]) {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    for id in &alices {
        index.bind_subject(id, &alice).await?;
    }
    index.bind_subject(&bobs, &bob).await?;
    ensure_eq!(index.revoke_subject(&alice).await?, 3, "sessions revoked");
    for id in &alices {
        ensure_eq!(t.store.get_all(id, None).await?, None, "a revoked session");
    }
    ensure_eq!(
        listed(&*index, &alice).await?,
        HashSet::new(),
        "sessions after revoke"
    );
    ensure!(
        t.store.get_all(&bobs, None).await?.is_some(),
        "another subject's session was revoked"
    );
    ensure_eq!(index.revoke_subject(&alice).await?, 0, "a second revoke");
    Ok(())
}

/// Expired and deleted sessions are not listed, with no cleanup having run.
pub async fn dead_sessions_not_listed(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let subject = fresh_subject();
    let (short, deleted, live) = (fresh_id(), fresh_id(), fresh_id());
    t.store.set(&short, "k", json!(1), SHORT).await?;
    t.store.set(&deleted, "k", json!(1), LONG).await?;
    t.store.set(&live, "k", json!(1), LONG).await?;
    for id in [&short, &deleted, &live] {
        index.bind_subject(id, &subject).await?;
    }
    t.store.del_all(&deleted).await?;
    let only_live = eventually!(listed(&*index, &subject).await? == HashSet::from([live]));
    ensure!(
        only_live,
        "expired or deleted sessions are still listed: {:?}",
        listed(&*index, &subject).await?
    );
    Ok(())
}

/// Subjects are compared exactly: one that looks like a pattern or prefix matches only itself.
pub async fn subjects_are_not_patterns(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let base = fresh_subject();
    let id = fresh_id();
    t.store.set(&id, "k", json!(1), LONG).await?;
    index.bind_subject(&id, &base).await?;
    for other in [
        format!("{base}*"),
        format!("{base}%"),
        base[..base.len() - 1].to_string(),
        format!("{base}_"),
    ] {
        ensure_eq!(
            listed(&*index, &other).await?,
            HashSet::new(),
            "sessions of {other:?}"
        );
        ensure_eq!(
            index.revoke_subject(&other).await?,
            0,
            "revoke of {other:?}"
        );
    }
    ensure_eq!(
        listed(&*index, &base).await?,
        HashSet::from([id]),
        "the real subject's sessions"
    );
    Ok(())
}

/// A binding ends with its session: a session that expired, was removed by `del_all` or taken
/// (rotated away), then started again under the same id by a `set`, is not listed under the old
/// subject (the contract: only live sessions bound to the subject are listed).
pub async fn binding_ends_with_the_session(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let subject = fresh_subject();
    let (expired, removed, taken) = (fresh_id(), fresh_id(), fresh_id());
    t.store.set(&expired, "k", json!(1), SHORT).await?;
    for id in [&removed, &taken] {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    for id in [&expired, &removed, &taken] {
        ensure!(
            index.bind_subject(id, &subject).await?,
            "bind of a live session returned false"
        );
    }
    t.store.del_all(&removed).await?;
    t.store.take(&taken).await?;
    let gone = eventually!(t.store.get(&expired, "k", None).await?.is_none());
    ensure!(gone, "the short session never expired");
    for id in [&expired, &removed, &taken] {
        t.store.set(id, "k", json!(2), LONG).await?;
    }
    ensure_eq!(
        listed(&*index, &subject).await?,
        HashSet::new(),
        "sessions started again under ids whose bound sessions ended"
    );
    ensure_eq!(
        index.revoke_subject(&subject).await?,
        0,
        "revoke_subject counted sessions that ended before it"
    );
    for id in [&expired, &removed, &taken] {
        ensure_eq!(
            t.store.get(id, "k", None).await?,
            Some(json!(2)),
            "a revoke of the old subject ended a session started again since"
        );
    }
    Ok(())
}

/// `revoke_subject` counts exactly the live sessions it ended: not expired ones, not removed
/// ones, not another subject's.
pub async fn revoke_counts_only_live_sessions(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let (subject, other) = (fresh_subject(), fresh_subject());
    let (live, expired, removed, others) = (fresh_id(), fresh_id(), fresh_id(), fresh_id());
    t.store.set(&expired, "k", json!(1), SHORT).await?;
    for id in [&live, &removed, &others] {
        t.store.set(id, "k", json!(1), LONG).await?;
    }
    for id in [&live, &expired, &removed] {
        index.bind_subject(id, &subject).await?;
    }
    index.bind_subject(&others, &other).await?;
    t.store.del_all(&removed).await?;
    let gone = eventually!(t.store.get(&expired, "k", None).await?.is_none());
    ensure!(gone, "the short session never expired");
    ensure_eq!(
        index.revoke_subject(&subject).await?,
        1,
        "revoke_subject's count (one live session, one expired, one removed)"
    );
    ensure_eq!(
        t.store.get(&live, "k", None).await?,
        None,
        "the revoked session"
    );
    ensure_eq!(
        t.store.get(&others, "k", None).await?,
        Some(json!(1)),
        "another subject's session"
    );
    Ok(())
}

/// Every creating write (`set_many`, `incr`, `compare_and_set` expecting absent) that starts a
/// session under an id whose bound session ended (expired, `del_all`, `take`) starts it unbound:
/// not listed under the old subject, not counted or ended by its revoke.
pub async fn creating_writes_start_unbound(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let subject = fresh_subject();
    let ends = ["expiry", "del_all", "take"];
    let writes = ["set_many", "incr", "compare_and_set"];
    let ids: Vec<(&str, &str, SessionId)> = ends
        .iter()
        .flat_map(|end| writes.iter().map(move |write| (*end, *write, fresh_id())))
        .collect();
    for (end, _, id) in &ids {
        let ttl = if *end == "expiry" { SHORT } else { LONG };
        t.store.set(id, "k", json!(1), ttl).await?;
        ensure!(
            index.bind_subject(id, &subject).await?,
            "bind of a live session returned false"
        );
    }
    for (end, _, id) in &ids {
        match *end {
            "del_all" => t.store.del_all(id).await?,
            "take" => drop(t.store.take(id).await?),
            _ => {}
        }
    }
    for (end, _, id) in &ids {
        if *end == "expiry" {
            let gone = eventually!(t.store.get(id, "k", None).await?.is_none());
            ensure!(gone, "the short session never expired");
        }
    }
    for (end, write, id) in &ids {
        match *write {
            "set_many" => {
                let batch = vec![Change::Set("n".into(), json!(1))];
                t.store.set_many(id, batch, LONG).await?;
            }
            "incr" => drop(t.store.incr(id, "n", 1, LONG).await?),
            _ => ensure!(
                t.store
                    .compare_and_set(id, "n", None, json!(1), LONG)
                    .await?,
                "compare_and_set expecting absent on a session ended by {end} returned false"
            ),
        }
    }
    let listed = listed(&*index, &subject).await?;
    let bound: Vec<String> = ids
        .iter()
        .filter(|(_, _, id)| listed.contains(id))
        .map(|(end, write, _)| format!("{write} after {end}"))
        .collect();
    ensure!(
        bound.is_empty(),
        "sessions started again by a creating write are listed under the subject of the session \
         that ended: {bound:?}"
    );
    ensure_eq!(
        index.revoke_subject(&subject).await?,
        0,
        "revoke_subject counted sessions that ended before it"
    );
    for (end, write, id) in &ids {
        ensure_eq!(
            t.store.get(id, "n", None).await?,
            Some(json!(1)),
            "a revoke of the old subject ended the session {write} started after {end}"
        );
        ensure_eq!(
            t.store.get(id, "k", None).await?,
            None,
            "{write} after {end} brought back a key of the session that ended"
        );
    }
    Ok(())
}

/// `subject_sessions_with` lists exactly the live sessions `subject_sessions` lists, each with the
/// value of the asked key (`None` where the session lacks it), never an expired, removed or
/// other subject's session, and refuses an invalid key before any I/O.
pub async fn sessions_with_reads_the_key(t: TestStore) -> CaseResult {
    let index = index(&t)?;
    let (subject, other) = (fresh_subject(), fresh_subject());
    let (with, without, expired, removed, others) =
        (fresh_id(), fresh_id(), fresh_id(), fresh_id(), fresh_id());
    t.store
        .set(&with, "m", json!({"device": "ünï", "n": [1, 2]}), LONG)
        .await?;
    t.store.set(&without, "other", json!(1), LONG).await?;
    t.store.set(&expired, "m", json!("old"), SHORT).await?;
    t.store.set(&removed, "m", json!("gone"), LONG).await?;
    t.store.set(&others, "m", json!("theirs"), LONG).await?;
    for id in [&with, &without, &expired, &removed] {
        index.bind_subject(id, &subject).await?;
    }
    index.bind_subject(&others, &other).await?;
    t.store.del_all(&removed).await?;
    let gone = eventually!(t.store.get(&expired, "m", None).await?.is_none());
    ensure!(gone, "the short session never expired");
    let mut listed = index.subject_sessions_with(&subject, "m").await?;
    listed.sort_by_key(|(id, _)| *id);
    let mut expected = vec![
        (with, Some(json!({"device": "ünï", "n": [1, 2]}))),
        (without, None),
    ];
    expected.sort_by_key(|(id, _)| *id);
    ensure_eq!(
        listed,
        expected,
        "the subject's live sessions with their key"
    );
    ensure_eq!(
        index.subject_sessions_with(&fresh_subject(), "m").await?,
        vec![],
        "a subject with no sessions"
    );
    let refused = index.subject_sessions_with(&subject, "").await;
    ensure!(
        matches!(refused, Err(session_core::StoreError::InvalidInput(_))),
        "an empty key was not refused as InvalidInput: {refused:?}"
    );
    Ok(())
}
