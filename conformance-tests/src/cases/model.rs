//! Model-based: random sequences of every operation (and of each capability the store declares),
//! each step through one of two instances on one backend, checked step by step against a
//! `HashMap` model, with the seed and a shrunk failing sequence in the report.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use session_core::{Change, Map, SessionId};

use crate::check::{CaseResult, Failure, LONG, fresh_id, fresh_subject};
use crate::{Capability, TestStore};

/// The environment variable that fixes the seed, to replay a reported failure.
pub const SEED_VAR: &str = "CONFORMANCE_SEED";

const SESSIONS: usize = 3;
const SUBJECTS: usize = 2;
const KEYS: [&str; 4] = ["a", "b:*", "%_", "🦀"];
const SEQUENCES: usize = 16;
const STEPS: usize = 60;

/// One step of a sequence; sessions and keys are indices into a small pool.
#[derive(Debug, Clone)]
enum Op {
    Get(usize, &'static str, bool),
    GetAll(usize, bool),
    Set(usize, &'static str, i64),
    Del(usize, &'static str),
    DelAll(usize),
    Extend(usize),
    SetMany(usize, Vec<(&'static str, Option<i64>)>),
    Update(usize, Vec<(&'static str, Option<i64>)>),
    Take(usize),
    GetMany(usize, Vec<&'static str>),
    Incr(usize, &'static str, i64),
    CompareAndSet(usize, &'static str, Option<i64>, i64),
    Bind(usize, usize),
    List(usize),
    Revoke(usize),
    Count,
    Ids,
    Cleanup(usize),
}

/// One step: an operation, through instance `0` or `1`.
#[derive(Debug, Clone)]
struct Step {
    on: usize,
    op: Op,
}

/// What one step answered.
#[derive(Debug, PartialEq)]
enum Answer {
    Done,
    One(Option<Value>),
    All(Option<Map>),
    Extended(bool),
    Many(Option<Vec<Option<Value>>>),
    Counted(i64),
    Swapped(bool),
    Bound(bool),
    Listed(Vec<usize>),
    Revoked(u64),
    Sessions(u64),
    Cleaned(u64),
}

/// The capabilities a sequence may use, as the store declares them.
#[derive(Clone, Copy)]
struct Capabilities {
    subjects: bool,
    enumerate: bool,
    cleanup: bool,
}

fn random_op(rng: &mut StdRng, can: Capabilities) -> Op {
    let s = rng.random_range(0..SESSIONS);
    if can.enumerate && rng.random_bool(0.04) {
        return if rng.random_bool(0.5) {
            Op::Count
        } else {
            Op::Ids
        };
    }
    if can.cleanup && rng.random_bool(0.03) {
        return Op::Cleanup(rng.random_range(1..4));
    }
    if can.subjects && rng.random_bool(0.12) {
        let j = rng.random_range(0..SUBJECTS);
        return match rng.random_range(0..3) {
            0 => Op::Bind(s, j),
            1 => Op::List(j),
            _ => Op::Revoke(j),
        };
    }
    let key = |rng: &mut StdRng| KEYS[rng.random_range(0..KEYS.len())];
    let changes = |rng: &mut StdRng| -> Vec<(&'static str, Option<i64>)> {
        let n = rng.random_range(0..4);
        (0..n)
            .map(|_| {
                (
                    key(rng),
                    rng.random_bool(0.7).then(|| rng.random_range(-5..100)),
                )
            })
            .collect()
    };
    match rng.random_range(0..100) {
        0..14 => Op::Get(s, key(rng), rng.random_bool(0.3)),
        14..20 => Op::GetAll(s, rng.random_bool(0.3)),
        20..26 => {
            let n = rng.random_range(0..4);
            Op::GetMany(s, (0..n).map(|_| key(rng)).collect())
        }
        26..46 => Op::Set(s, key(rng), rng.random_range(-5..100)),
        46..55 => Op::Del(s, key(rng)),
        55..60 => Op::DelAll(s),
        60..65 => Op::Extend(s),
        65..72 => Op::SetMany(s, changes(rng)),
        72..80 => Op::Update(s, changes(rng)),
        80..84 => Op::Take(s),
        84..92 => Op::Incr(s, key(rng), rng.random_range(-3..4)),
        _ => Op::CompareAndSet(
            s,
            key(rng),
            rng.random_bool(0.8).then(|| rng.random_range(-5..10)),
            rng.random_range(-5..10),
        ),
    }
}

/// The reference: sessions that exist, each a map, and the subject each is bound to. Expiry
/// never happens (TTLs are long).
#[derive(Default)]
struct Model {
    sessions: HashMap<usize, Map>,
    bound: HashMap<usize, usize>,
}

impl Model {
    fn end(&mut self, s: usize) -> Option<Map> {
        self.bound.remove(&s);
        self.sessions.remove(&s)
    }

    fn bound_to(&self, j: usize) -> Vec<usize> {
        let mut listed: Vec<usize> = (0..SESSIONS)
            .filter(|s| self.bound.get(s) == Some(&j))
            .collect();
        listed.sort_unstable();
        listed
    }

    fn apply(&mut self, op: &Op) -> Answer {
        match op {
            Op::Get(s, k, _) => Answer::One(self.sessions.get(s).and_then(|m| m.get(*k).cloned())),
            Op::GetAll(s, _) => Answer::All(self.sessions.get(s).cloned()),
            Op::Set(s, k, v) => {
                self.sessions
                    .entry(*s)
                    .or_default()
                    .insert(k.to_string(), json!(v));
                Answer::Done
            }
            Op::Del(s, k) => {
                if let Some(m) = self.sessions.get_mut(s) {
                    m.remove(*k);
                }
                Answer::Done
            }
            Op::DelAll(s) => {
                self.end(*s);
                Answer::Done
            }
            Op::Extend(s) => Answer::Extended(self.sessions.contains_key(s)),
            Op::SetMany(s, changes) => {
                for (k, v) in changes {
                    match v {
                        Some(v) => self.apply(&Op::Set(*s, k, *v)),
                        None => self.apply(&Op::Del(*s, k)),
                    };
                }
                Answer::Done
            }
            Op::Update(s, changes) => {
                let live = self.sessions.contains_key(s);
                if live {
                    self.apply(&Op::SetMany(*s, changes.clone()));
                }
                Answer::Extended(live)
            }
            Op::Take(s) => Answer::All(self.end(*s)),
            Op::GetMany(s, keys) => Answer::Many(
                self.sessions
                    .get(s)
                    .map(|m| keys.iter().map(|k| m.get(*k).cloned()).collect()),
            ),
            Op::Incr(s, k, delta) => {
                let now = self
                    .sessions
                    .get(s)
                    .and_then(|m| m.get(*k))
                    .and_then(Value::as_i64);
                let next = now.unwrap_or(0) + delta;
                self.apply(&Op::Set(*s, k, next));
                Answer::Counted(next)
            }
            Op::CompareAndSet(s, k, expected, new) => {
                let now = self.sessions.get(s).and_then(|m| m.get(*k)).cloned();
                if now != expected.map(|e| json!(e)) {
                    return Answer::Swapped(false);
                }
                self.apply(&Op::Set(*s, k, *new));
                Answer::Swapped(true)
            }
            Op::Bind(s, j) => {
                let live = self.sessions.contains_key(s);
                if live {
                    self.bound.insert(*s, *j);
                }
                Answer::Bound(live)
            }
            Op::List(j) => Answer::Listed(self.bound_to(*j)),
            Op::Count => Answer::Sessions(self.sessions.len() as u64),
            Op::Ids => {
                let mut ids: Vec<usize> = self.sessions.keys().copied().collect();
                ids.sort_unstable();
                Answer::Listed(ids)
            }
            // Nothing expires in a sequence: there is never anything to clean.
            Op::Cleanup(_) => Answer::Cleaned(0),
            Op::Revoke(j) => {
                let ended = self.bound_to(*j);
                for s in &ended {
                    self.end(*s);
                }
                Answer::Revoked(ended.len() as u64)
            }
        }
    }
}

fn changes_of(changes: &[(&'static str, Option<i64>)]) -> Vec<Change> {
    changes
        .iter()
        .map(|(k, v)| match v {
            Some(v) => Change::Set(k.to_string(), json!(v)),
            None => Change::Del(k.to_string()),
        })
        .collect()
}

/// The sessions and subjects of one run of a sequence, fresh each time, and the sessions earlier
/// runs left in the namespace (with `Enumerate`), which counts and lists leave out.
struct Names {
    ids: Vec<SessionId>,
    subjects: Vec<String>,
    earlier: HashSet<SessionId>,
}

/// The sessions `listed` by `what`, as sorted indices into this run's ids; a session the sequence
/// never made (the namespace holds nothing else) fails the case.
fn indices(names: &Names, listed: Vec<SessionId>, what: &str) -> Result<Vec<usize>, Failure> {
    let mut found = Vec::new();
    for id in listed {
        match names.ids.iter().position(|known| *known == id) {
            Some(s) => found.push(s),
            None => {
                return Err(Failure(format!(
                    "{what} listed {id}, a session this sequence never made"
                )));
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

async fn run_op(t: &TestStore, names: &Names, op: &Op) -> Result<Answer, Failure> {
    let (store, ids) = (&*t.store, &names.ids);
    let touch = |t: bool| t.then_some(LONG);
    let index = || crate::cases::subject::index(t);
    let enumerator = || crate::cases::enumerate::enumerator(t);
    let cleaner = || crate::cases::cleanup::cleaner(t);
    Ok(match op {
        Op::Get(s, k, t) => Answer::One(store.get(&ids[*s], k, touch(*t)).await?),
        Op::GetAll(s, t) => Answer::All(store.get_all(&ids[*s], touch(*t)).await?),
        Op::Set(s, k, v) => store
            .set(&ids[*s], k, json!(v), LONG)
            .await
            .map(|_| Answer::Done)?,
        Op::Del(s, k) => store.del(&ids[*s], k, LONG).await.map(|_| Answer::Done)?,
        Op::DelAll(s) => store.del_all(&ids[*s]).await.map(|_| Answer::Done)?,
        Op::Extend(s) => Answer::Extended(store.extend(&ids[*s], LONG).await?),
        Op::SetMany(s, changes) => store
            .set_many(&ids[*s], changes_of(changes), LONG)
            .await
            .map(|_| Answer::Done)?,
        Op::Update(s, changes) => {
            Answer::Extended(store.update(&ids[*s], changes_of(changes), LONG).await?)
        }
        Op::Take(s) => Answer::All(store.take(&ids[*s]).await?),
        Op::GetMany(s, keys) => Answer::Many(store.get_many(&ids[*s], keys, None).await?),
        Op::Incr(s, k, delta) => Answer::Counted(store.incr(&ids[*s], k, *delta, LONG).await?),
        Op::CompareAndSet(s, k, expected, new) => Answer::Swapped(
            store
                .compare_and_set(&ids[*s], k, expected.map(|e| json!(e)), json!(new), LONG)
                .await?,
        ),
        Op::Bind(s, j) => {
            Answer::Bound(index()?.bind_subject(&ids[*s], &names.subjects[*j]).await?)
        }
        Op::List(j) => Answer::Listed(indices(
            names,
            index()?.subject_sessions(&names.subjects[*j]).await?,
            "subject_sessions",
        )?),
        Op::Count => Answer::Sessions(enumerator()?.count().await? - names.earlier.len() as u64),
        Op::Ids => {
            let ids = enumerator()?.ids().await?;
            let new = ids.into_iter().filter(|id| !names.earlier.contains(id));
            Answer::Listed(indices(names, new.collect(), "ids")?)
        }
        Op::Cleanup(batch) => Answer::Cleaned(cleaner()?.delete_expired(*batch).await?),
        Op::Revoke(j) => Answer::Revoked(index()?.revoke_subject(&names.subjects[*j]).await?),
    })
}

/// Runs `steps` on fresh sessions and subjects, each through its instance; on the first
/// disagreement returns its step and both answers.
async fn first_mismatch(
    instances: &[TestStore; 2],
    steps: &[Step],
) -> Result<Option<(usize, String)>, Failure> {
    let earlier = match crate::cases::enumerate::enumerator(&instances[0]) {
        Ok(enumerator) => enumerator.ids().await?.into_iter().collect(),
        Err(_) => HashSet::new(),
    };
    let names = Names {
        ids: (0..SESSIONS).map(|_| fresh_id()).collect(),
        subjects: (0..SUBJECTS).map(|_| fresh_subject()).collect(),
        earlier,
    };
    let mut model = Model::default();
    for (n, step) in steps.iter().enumerate() {
        let actual = run_op(&instances[step.on], &names, &step.op).await?;
        let expected = model.apply(&step.op);
        if actual != expected {
            return Ok(Some((
                n,
                format!(
                    "{:?} through instance {}: store gave {actual:?}, model expected {expected:?}",
                    step.op, step.on
                ),
            )));
        }
    }
    Ok(None)
}

/// Shrinks a failing sequence: drops chunks, then single steps, while it still fails.
async fn shrink(instances: &[TestStore; 2], mut ops: Vec<Step>) -> Result<Vec<Step>, Failure> {
    let mut chunk = ops.len() / 2;
    let mut budget = 400;
    while chunk >= 1 && budget > 0 {
        let mut start = 0;
        while start < ops.len() && budget > 0 {
            budget -= 1;
            let mut candidate = ops.clone();
            candidate.drain(start..(start + chunk).min(ops.len()));
            if first_mismatch(instances, &candidate).await?.is_some() {
                ops = candidate;
            } else {
                start += chunk;
            }
        }
        chunk /= 2;
    }
    Ok(ops)
}

/// Random sequences of every operation (and of each capability the store declares: binding,
/// listing and revoking subjects, counting and listing sessions, cleanup),
/// each step through one of two instances, agree step by step with a `HashMap` model. A failure
/// names the seed (replay it with `CONFORMANCE_SEED`) and prints the shrunk sequence.
pub async fn random_sequences_match_model(a: TestStore, b: TestStore) -> CaseResult {
    let seed = match std::env::var(SEED_VAR) {
        Ok(text) => text
            .parse()
            .map_err(|_| Failure(format!("{SEED_VAR}={text:?} is not a u64")))?,
        Err(_) => rand::rng().random::<u64>(),
    };
    let can = Capabilities {
        subjects: a.has(Capability::SubjectIndex),
        enumerate: a.has(Capability::Enumerate),
        cleanup: a.has(Capability::Cleanup),
    };
    let instances = [a, b];
    let mut rng = StdRng::seed_from_u64(seed);
    for sequence in 0..SEQUENCES {
        let steps: Vec<Step> = (0..STEPS)
            .map(|_| Step {
                on: rng.random_range(0..2),
                op: random_op(&mut rng, can),
            })
            .collect();
        if let Some((step, what)) = first_mismatch(&instances, &steps).await? {
            let shrunk = shrink(&instances, steps).await?;
            let lines: Vec<String> = shrunk
                .iter()
                .map(|step| format!("    {:?} through instance {}", step.op, step.on))
                .collect();
            return Err(Failure(format!(
                "sequence {sequence}, step {step}: {what}\n  seed {seed} (replay with {SEED_VAR}={seed})\n  \
                 shrunk to {} steps (sessions 0..{SESSIONS}, subjects 0..{SUBJECTS}, fresh each run):\n{}",
                shrunk.len(),
                lines.join("\n")
            )));
        }
    }
    Ok(())
}
