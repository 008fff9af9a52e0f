//! Key names. Every key of one session sits in one cluster slot: the session's hex id is its hash
//! tag (`<prefix>{<id>}`). A subject's index has its own tag (`<prefix>subject:{<subject>}`).
//! Inside a session's hash, fields starting with NUL are the store's own: keys the core accepts
//! never contain NUL, so they cannot collide.

use session_core::SessionId;

/// The field every live session holds, so a session whose keys were all removed still exists.
pub(crate) const MARKER: &str = "\0";

/// The field holding the session's subject, if bound.
pub(crate) const SUBJECT: &str = "\0subject";

/// The Redis Cluster slot of `key`: CRC16 (XMODEM) of its hash tag (the part between the first
/// `{` and the next `}`, when not empty), else of the whole key, modulo 16,384.
pub(crate) fn slot(key: &str) -> u16 {
    let key = key.as_bytes();
    let tag = key.iter().position(|&b| b == b'{').and_then(|open| {
        let close = key[open + 1..].iter().position(|&b| b == b'}')?;
        Some(&key[open + 1..open + 1 + close]).filter(|tag| !tag.is_empty())
    });
    crc16::State::<crc16::XMODEM>::calculate(tag.unwrap_or(key)) % 16_384
}

/// Whether a hash field is the store's own rather than a session key.
pub(crate) fn is_internal(field: &str) -> bool {
    field.starts_with('\0')
}

/// Builds key names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// Prefixes may not contain `{` or `}`, which would change the hash tag.
    pub(crate) fn new(prefix: &str) -> Result<Self, String> {
        if prefix.contains(['{', '}']) {
            return Err(format!(
                "key prefix {prefix:?} may not contain '{{' or '}}'"
            ));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hash of session `id`.
    pub(crate) fn session(&self, id: &SessionId) -> String {
        // Once per operation: one allocation, no formatting machinery.
        let mut key =
            String::with_capacity(self.prefix.len() + 2 + 2 * session_core::SESSION_ID_LEN);
        key.push_str(&self.prefix);
        key.push('{');
        id.push_hex(&mut key);
        key.push('}');
        key
    }

    /// The registry of subjects with an index, scored by when their newest known session would
    /// expire (see `sweep`).
    pub(crate) fn subjects(&self) -> String {
        format!("{}subjects", self.prefix)
    }

    /// The sorted set indexing the sessions of `subject`.
    pub(crate) fn subject(&self, subject: &str) -> String {
        format!("{}subject:{{{subject}}}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::{Keys, slot};

    #[test]
    fn a_session_key_is_the_prefix_and_the_hex_id_in_braces() {
        let id = session_core::SessionId::from_hex(&"ab".repeat(32)).unwrap();
        let key = Keys::new("app:").unwrap().session(&id);
        assert_eq!(key, format!("app:{{{}}}", id.to_hex()));
        assert_eq!(
            key.len(),
            key.capacity(),
            "one allocation of the exact size"
        );
    }

    #[test]
    fn slots_are_the_clusters() {
        // Values from Redis' own `CLUSTER KEYSLOT`.
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("{foo}.bar"), 12182);
        assert_eq!(slot("a{foo}"), 12182);
        assert_eq!(slot("{}foo"), slot("{}foo"));
        assert_ne!(slot("{}foo"), slot("foo"));
        assert_eq!(slot("{user1000}.following"), slot("user1000"));
    }
}
