//! A property test of login, rotation and revocation over real stores (memory and SQLite).
//!
//! Random interleavings of create, load, write, login, rotate, logout, "end all other sessions"
//! and revoke, from several handles and several copies of the same token, some pairs of them
//! racing each other, are checked after every step:
//!
//! - no session that loads as a subject is missing from that subject's `sessions_of`;
//! - once `revoke_all(subject)` ran, no token loads as that subject;
//! - no write whose save returned success is lost: it is in the session it was written to, or in
//!   the session that one was rotated into, unless that session was ended;
//! - a rotation never produces a rotated-out session.
//!
//! `scripts/test` runs it with a fixed seed. A longer run: `LOGIN_PROPERTY_CASES=2000
//! LOGIN_PROPERTY_SEED=<n> cargo test -p session-core --test login_property --release`; a failure
//! prints the seed and the steps.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;
use session_core::{Config, Session, SessionError, SessionId, SessionManager, Store, Token};
use session_test_support::{Rng, env_number};
use support::{Backend, manager_and_store};

const SUBJECTS: [&str; 2] = ["alice", "bob"];
const STEPS: usize = 40;

/// One step: what it did, for the failure report.
#[derive(Debug, Clone)]
enum Op {
    Create,
    Load { token: usize },
    Write { handle: usize },
    Login { handle: usize, subject: usize },
    Rotate { handle: usize },
    Logout { handle: usize },
    EndOthers { handle: usize },
    Revoke { subject: usize },
}

/// What the model knows.
#[derive(Default)]
struct World {
    tokens: Vec<Token>,
    handles: Vec<Session>,
    /// Writes whose save succeeded: (key, value, the id the handle had when it wrote).
    acked: Vec<(String, u64, SessionId)>,
    /// Rotations that succeeded: old id to new id.
    forward: HashMap<SessionId, SessionId>,
    /// Ids that were ended on purpose (logout, end others, revoke).
    ended: HashSet<SessionId>,
    writes: u64,
}

/// What an op did to the model, applied after it (and its racing partner) finished.
enum Effect {
    None,
    Token(Token, Option<Session>),
    Handle(Session),
    Acked(String, u64, SessionId),
    Rotated(SessionId, SessionId, Token),
    Ended(Vec<SessionId>),
}

fn allowed(error: &SessionError) -> bool {
    matches!(error, SessionError::RotatedOut | SessionError::Destroyed)
}

async fn run(manager: &SessionManager, world: &World, op: &Op, n: u64) -> Result<Effect, String> {
    let handle = |i: usize| world.handles[i].clone();
    match *op {
        Op::Create => {
            let session = manager.create().map_err(|e| e.to_string())?;
            session.set("created", &n).map_err(|e| e.to_string())?;
            session.save().await.map_err(|e| e.to_string())?;
            Ok(Effect::Token(session.token(), Some(session)))
        }
        Op::Load { token } => match manager.load(world.tokens[token].as_str()).await {
            Ok(Some(session)) => Ok(Effect::Handle(session)),
            Ok(None) => Ok(Effect::None),
            Err(e) => Err(format!("load failed: {e}")),
        },
        Op::Write { handle: h } => {
            let session = handle(h);
            let id = session.id();
            let key = format!("w{n}");
            match session.set(&key, &n) {
                Ok(()) => {}
                Err(e) if allowed(&e) => return Ok(Effect::None),
                Err(e) => return Err(format!("set failed: {e}")),
            }
            // `Ok(false)` is a success too (a racing save of the same handle wrote the change
            // first): either way the write must be found in the store.
            match session.save().await {
                Ok(_) => Ok(Effect::Acked(key, n, id)),
                Err(e) if allowed(&e) => Ok(Effect::None),
                Err(e) => Err(format!("save failed: {e}")),
            }
        }
        Op::Login { handle: h, subject } => {
            let session = handle(h);
            let old = session.id();
            match session.login(SUBJECTS[subject], json!({"n": n})).await {
                Ok(_) if session.is_rotated_out() => {
                    Err("login produced a rotated-out session".into())
                }
                Ok(token) => Ok(Effect::Rotated(old, session.id(), token)),
                Err(e) if allowed(&e) => Ok(Effect::None),
                Err(e) => Err(format!("login failed: {e}")),
            }
        }
        Op::Rotate { handle: h } => {
            let session = handle(h);
            let old = session.id();
            match session.rotate().await {
                Ok(_) if session.is_rotated_out() => {
                    Err("rotate produced a rotated-out session".into())
                }
                Ok(token) => Ok(Effect::Rotated(old, session.id(), token)),
                Err(e) if allowed(&e) => Ok(Effect::None),
                Err(e) => Err(format!("rotate failed: {e}")),
            }
        }
        Op::Logout { handle: h } => {
            let session = handle(h);
            session
                .destroy(false)
                .await
                .map_err(|e| format!("logout failed: {e}"))?;
            // The id it ended: a racing login through the same handle may have moved it first.
            Ok(Effect::Ended(vec![session.id()]))
        }
        Op::EndOthers { handle: h } => {
            let session = handle(h);
            let Some(subject) = session.subject().await.unwrap() else {
                return Ok(Effect::None);
            };
            let mut ended = Vec::new();
            let infos = manager
                .sessions_of(&subject)
                .await
                .map_err(|e| e.to_string())?;
            for info in infos.into_iter().filter(|i| i.id != session.id()) {
                manager
                    .end_session_of(&subject, &info.id)
                    .await
                    .map_err(|e| e.to_string())?;
                ended.push(info.id);
            }
            Ok(Effect::Ended(ended))
        }
        Op::Revoke { subject } => {
            let subject = SUBJECTS[subject];
            let infos = manager
                .sessions_of(subject)
                .await
                .map_err(|e| e.to_string())?;
            manager
                .revoke_all(subject)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Effect::Ended(infos.into_iter().map(|i| i.id).collect()))
        }
    }
}

fn apply(world: &mut World, effect: Effect) -> Result<(), String> {
    match effect {
        Effect::None => {}
        Effect::Token(token, handle) => {
            world.tokens.push(token);
            world.handles.extend(handle);
        }
        Effect::Handle(session) => world.handles.push(session),
        Effect::Acked(key, value, id) => world.acked.push((key, value, id)),
        Effect::Rotated(old, new, token) => {
            if old != new {
                world.forward.insert(old, new);
            }
            world.tokens.push(token);
        }
        Effect::Ended(ids) => world.ended.extend(ids),
    }
    Ok(())
}

fn pick_op(rng: &mut Rng, world: &World, racing: bool) -> Op {
    let handles = world.handles.len();
    let handle = |rng: &mut Rng| rng.below(handles);
    loop {
        let roll = rng.below(100);
        let op = match roll {
            _ if handles == 0 || roll < 10 => Op::Create,
            10..30 if !world.tokens.is_empty() => Op::Load {
                token: rng.below(world.tokens.len()),
            },
            30..55 => Op::Write {
                handle: handle(rng),
            },
            55..70 => Op::Login {
                handle: handle(rng),
                subject: rng.below(SUBJECTS.len()),
            },
            70..80 => Op::Rotate {
                handle: handle(rng),
            },
            80..87 => Op::Logout {
                handle: handle(rng),
            },
            87..94 => Op::EndOthers {
                handle: handle(rng),
            },
            // A revocation is checked right after it, alone.
            94..100 if !racing => Op::Revoke {
                subject: rng.below(SUBJECTS.len()),
            },
            _ => continue,
        };
        return op;
    }
}

async fn check(manager: &SessionManager, store: &dyn Store, world: &World) -> Result<(), String> {
    // Nothing that loads as a subject is missing from its list; a rotation never produced a
    // rotated-out session.
    let mut listed: HashMap<&str, HashSet<SessionId>> = HashMap::new();
    for subject in SUBJECTS {
        let ids = manager
            .sessions_of(subject)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|i| i.id)
            .collect();
        listed.insert(subject, ids);
    }
    for token in &world.tokens {
        let Some(session) = manager
            .load(token.as_str())
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        if let Some(subject) = session.subject().await.unwrap()
            && !listed[subject.as_str()].contains(&session.id())
        {
            return Err(format!(
                "a session of {subject} loads but is not in sessions_of (rotated out: {})",
                session.is_rotated_out()
            ));
        }
    }
    // No acknowledged write is lost.
    for (key, value, id) in &world.acked {
        let mut id = *id;
        let mut seen = HashSet::new();
        while let Some(next) = world.forward.get(&id) {
            if !seen.insert(id) {
                return Err("a rotation cycle".into());
            }
            id = *next;
        }
        if world.ended.contains(&id) {
            continue;
        }
        let found = store.get(&id, key, None).await.map_err(|e| e.to_string())?;
        if found != Some(json!(value)) {
            return Err(format!(
                "write {key}={value} returned success but session {} has {found:?}",
                id.short()
            ));
        }
    }
    Ok(())
}

async fn one_case(backend: Backend, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed);
    let grace = [Duration::ZERO, Duration::from_secs(60)][rng.below(2)];
    let (manager, store) = manager_and_store(
        backend,
        Config::builder().rotation_grace(grace).build().unwrap(),
    )
    .await;
    let mut world = World::default();
    let mut log = Vec::new();
    for step in 0..STEPS {
        let racing = step > 2 && rng.below(100) < 25;
        let first = pick_op(&mut rng, &world, racing);
        let second = racing.then(|| pick_op(&mut rng, &world, true));
        world.writes += 2;
        let n = world.writes;
        let (a, b) = match &second {
            None => (run(&manager, &world, &first, n).await, None),
            Some(second) => {
                let (a, b) = tokio::join!(
                    run(&manager, &world, &first, n),
                    run(&manager, &world, second, n + 1)
                );
                (a, Some(b))
            }
        };
        log.push(format!(
            "{step}: {first:?}{}",
            match &second {
                Some(s) => format!(" racing {s:?}"),
                None => String::new(),
            }
        ));
        let fail = |e: String| format!("{e}\n  grace {grace:?}, steps:\n  {}", log.join("\n  "));
        apply(&mut world, a.map_err(fail)?).map_err(fail)?;
        if let Some(b) = b {
            apply(&mut world, b.map_err(fail)?).map_err(fail)?;
        }
        if let Op::Revoke { subject } = first {
            for token in &world.tokens {
                let loaded = manager
                    .load(token.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let subject_now = match loaded {
                    Some(s) => s.subject().await.map_err(|e| e.to_string())?,
                    None => None,
                };
                if subject_now.as_deref() == Some(SUBJECTS[subject]) {
                    return Err(fail(format!(
                        "a token still loads as {} after revoke_all",
                        SUBJECTS[subject]
                    )));
                }
            }
        }
        check(&manager, &*store, &world).await.map_err(fail)?;
    }
    Ok(())
}

async fn property(backend: Backend) {
    let seed = env_number("LOGIN_PROPERTY_SEED", 20_261_124);
    let cases = env_number("LOGIN_PROPERTY_CASES", 40);
    for case in 0..cases {
        let case_seed = seed.wrapping_add(case);
        if let Err(report) = one_case(backend, case_seed).await {
            panic!(
                "{backend:?}: failed with LOGIN_PROPERTY_SEED={seed} (case {case}, case seed {case_seed}):\n{report}"
            );
        }
    }
}

on_every_backend!(property);
