//! The Redis store's [`Enumerate`]: a `SCAN` of the prefix's session keys, on every master of a
//! cluster.
//!
//! Redis keeps no count of a prefix's keys, so counting and listing walk the keyspace: each step
//! is one `SCAN` of at most [`SCAN_STEP`] keys (the operation timeout applies to each step, and
//! the server is never blocked for long), and a whole walk costs time in proportion to every key
//! on the server, not only this store's. Keys that expire or appear during the walk may or may
//! not be seen, as `SCAN` promises; a key present throughout is seen once.

use std::collections::HashSet;

use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use session_core::{Enumerate, SessionId, StoreError, async_trait};

use crate::RedisStore;
use crate::connection::Connection;
use crate::error::Result;

/// How many keys one `SCAN` step looks at.
pub(crate) const SCAN_STEP: usize = 1000;

/// Where one walk runs: the standalone server, or the master serving a slot.
#[derive(Debug, Clone, Copy)]
enum Node {
    Single,
    MasterOf(u16),
}

impl RedisStore {
    /// The `SCAN` pattern of this store's session keys: the prefix, glob characters escaped,
    /// then a hash tag of exactly 64 characters (a subject index's key has `subject:` first).
    fn session_pattern(&self) -> String {
        let mut pattern = String::new();
        for c in self.keys.prefix().chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('{');
        pattern.push_str(&"?".repeat(64));
        pattern.push('}');
        pattern
    }

    /// The nodes holding this store's keys: the server, or one slot of every cluster master.
    async fn nodes(&self) -> std::result::Result<Vec<Node>, StoreError> {
        let Connection::Cluster(cluster) = &self.connection else {
            return Ok(vec![Node::Single]);
        };
        let mut cluster = cluster.clone();
        self.op("enumerate", async move {
            // Each entry: start slot, end slot, then the master [host, port, id, ...].
            let slots: Vec<(u16, u16, Vec<redis::Value>)> = redis::from_redis_value(
                cluster
                    .route_command(
                        redis::cmd("CLUSTER").arg("SLOTS").clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
                    )
                    .await?,
            )
            .map_err(redis::RedisError::from)?;
            let mut masters = HashSet::new();
            let mut nodes = Vec::new();
            for (start, _, master) in slots {
                if masters.insert(format!("{master:?}")) {
                    nodes.push(Node::MasterOf(start));
                }
            }
            Ok(nodes)
        })
        .await
    }

    /// One `SCAN` step on `node` from `cursor`: the next cursor and the keys found.
    async fn scan_step(
        &self,
        node: Node,
        cursor: &str,
        pattern: &str,
    ) -> std::result::Result<(String, Vec<Vec<u8>>), StoreError> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(SCAN_STEP)
            .arg("TYPE")
            .arg("hash");
        let connection = self.connection.clone();
        self.op("enumerate", async move {
            let reply = match (connection, node) {
                (Connection::Cluster(mut cluster), Node::MasterOf(slot)) => {
                    let route = Route::new(slot, SlotAddr::Master);
                    cluster
                        .route_command(
                            cmd,
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                        )
                        .await?
                }
                (mut connection, _) => cmd.query_async(&mut connection).await?,
            };
            Result::Ok(redis::from_redis_value(reply).map_err(redis::RedisError::from)?)
        })
        .await
    }

    /// Every live session's id, walking each node with `SCAN`.
    async fn scan_ids(&self) -> std::result::Result<HashSet<SessionId>, StoreError> {
        let pattern = self.session_pattern();
        let tag_start = self.keys.prefix().len() + 1;
        let mut ids = HashSet::new();
        for node in self.nodes().await? {
            let mut cursor = String::from("0");
            loop {
                let (next, keys) = self.scan_step(node, &cursor, &pattern).await?;
                ids.extend(keys.iter().filter_map(|key| {
                    let hex = key.get(tag_start..tag_start + 64)?;
                    SessionId::from_hex(std::str::from_utf8(hex).ok()?).ok()
                }));
                if next == "0" {
                    break;
                }
                cursor = next;
            }
        }
        Ok(ids)
    }
}

#[async_trait]
impl Enumerate for RedisStore {
    async fn count(&self) -> std::result::Result<u64, StoreError> {
        Ok(self.scan_ids().await?.len() as u64)
    }

    async fn ids(&self) -> std::result::Result<Vec<SessionId>, StoreError> {
        Ok(self.scan_ids().await?.into_iter().collect())
    }
}
