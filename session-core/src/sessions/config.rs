//! `Config`: the manager's policy (timeouts, rotation, persistence, limits) and its defaults.

use std::time::Duration;

use super::SessionError;

/// The default idle timeout: two weeks without a visit ends a session.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// The default idle timeout of a session without a subject (an anonymous visitor's): half an
/// hour, so a flood of cookieless requests cannot keep store space for two weeks.
pub const DEFAULT_ANONYMOUS_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The default touch interval: a session that is only read is written (its expiry pushed) at most
/// once a minute.
pub const DEFAULT_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The default rotation grace: the old token keeps working this long after a rotation, so
/// requests already in flight finish.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(10);

/// The default interval at which live sessions persist their changes.
pub const DEFAULT_PERSIST_INTERVAL: Duration = Duration::from_secs(30);

/// The default time after which a live session that joined by
/// [`resume`](crate::SessionManager::resume) and that no handle outside the manager holds any
/// more is persisted and released.
pub const DEFAULT_RELEASE_RESUMED_AFTER: Duration = Duration::from_secs(5 * 60);

/// The default named events on which a live session persists.
pub const DEFAULT_PERSIST_EVENTS: [&str; 2] = ["disconnect", "shutdown"];

/// The default largest value (as JSON) one key may hold.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 256 * 1024;

/// The default most keys one session may hold.
pub const DEFAULT_MAX_KEYS: usize = 1000;

/// The manager's policy. Build one with [`Config::builder`]; [`Config::default`] has every
/// default.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use session_core::Config;
///
/// let config = Config::builder()
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .absolute_lifetime(Duration::from_secs(12 * 60 * 60))
///     .persist_every("10s")
///     .device_binding(true)
///     .max_sessions_per_subject(5)
///     .build()
///     .expect("valid settings");
/// assert_eq!(config.idle_timeout(), Duration::from_secs(1800));
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) idle_timeout: Duration,
    pub(crate) anonymous_idle_timeout: Duration,
    pub(crate) absolute_lifetime: Option<Duration>,
    pub(crate) touch_interval: Duration,
    pub(crate) rotation_grace: Duration,
    pub(crate) persist_interval: Option<Duration>,
    pub(crate) persist_events: Vec<String>,
    pub(crate) persist_only_dirty: bool,
    pub(crate) release_resumed_after: Option<Duration>,
    pub(crate) renew_after: Option<Duration>,
    pub(crate) device_binding: bool,
    pub(crate) auth_version: bool,
    pub(crate) max_value_bytes: usize,
    pub(crate) max_keys: usize,
    pub(crate) max_sessions_per_subject: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            anonymous_idle_timeout: DEFAULT_ANONYMOUS_IDLE_TIMEOUT,
            absolute_lifetime: None,
            touch_interval: DEFAULT_TOUCH_INTERVAL,
            rotation_grace: DEFAULT_ROTATION_GRACE,
            persist_interval: Some(DEFAULT_PERSIST_INTERVAL),
            persist_events: DEFAULT_PERSIST_EVENTS
                .iter()
                .map(|e| e.to_string())
                .collect(),
            persist_only_dirty: false,
            release_resumed_after: Some(DEFAULT_RELEASE_RESUMED_AFTER),
            renew_after: None,
            device_binding: false,
            auth_version: false,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_keys: DEFAULT_MAX_KEYS,
            max_sessions_per_subject: None,
        }
    }
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
            error: None,
        }
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The idle timeout of sessions without a subject (never longer than
    /// [`idle_timeout`](Self::idle_timeout)).
    pub fn anonymous_idle_timeout(&self) -> Duration {
        self.anonymous_idle_timeout.min(self.idle_timeout)
    }

    /// The absolute lifetime, if any.
    pub fn absolute_lifetime(&self) -> Option<Duration> {
        self.absolute_lifetime
    }

    /// The rotation grace.
    pub fn rotation_grace(&self) -> Duration {
        self.rotation_grace
    }

    /// The persistence interval of live sessions, if any.
    pub fn persist_interval(&self) -> Option<Duration> {
        self.persist_interval
    }

    /// How long a resumed live session nobody holds stays registered, if it is ever released
    /// ([`ConfigBuilder::release_resumed_after`]).
    pub fn release_resumed_after(&self) -> Option<Duration> {
        self.release_resumed_after
    }

    /// The token age after which a load renews it, if any.
    pub fn renew_after(&self) -> Option<Duration> {
        self.renew_after
    }

    /// Whether loads check the subject's auth version ([`ConfigBuilder::auth_version`]).
    pub fn auth_version(&self) -> bool {
        self.auth_version
    }

    /// Whether live sessions persist on the named event.
    pub fn persists_on(&self, event: &str) -> bool {
        self.persist_events.iter().any(|e| e == event)
    }
}

/// Builds a [`Config`]; every setter names its default. Errors (an unparsable duration, an
/// inconsistent setting) are reported by [`ConfigBuilder::build`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    config: Config,
    error: Option<String>,
}

impl ConfigBuilder {
    /// How long a session lives without a visit (sliding). The default is
    /// [`DEFAULT_IDLE_TIMEOUT`] (two weeks).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long a session without a subject (an anonymous visitor's) lives without a visit; once
    /// it logs in, the idle timeout applies. Never longer than the idle timeout. The default is
    /// [`DEFAULT_ANONYMOUS_IDLE_TIMEOUT`] (half an hour).
    pub fn anonymous_idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.anonymous_idle_timeout = timeout;
        self
    }

    /// How long a session may live in all, however active it is; never extended. The default is
    /// none.
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.absolute_lifetime = Some(lifetime);
        self
    }

    /// At most how often a session that is only read is written to push its expiry. The default
    /// is [`DEFAULT_TOUCH_INTERVAL`]; it must not exceed the idle timeout. A session whose own
    /// idle timeout is shorter (an anonymous one, say) is touched at least that often.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.config.touch_interval = interval;
        self
    }

    /// How long the old token keeps working after a rotation: after [`login`](crate::Session::login)
    /// or [`rotate`](crate::Session::rotate) it reads a copy of the session as it was; after a
    /// renewal ([`renew_after`](Self::renew_after)) it follows to the renewed session. Zero ends
    /// it at once: requests racing a rotation may then find no session. The default is
    /// [`DEFAULT_ROTATION_GRACE`].
    pub fn rotation_grace(mut self, grace: Duration) -> Self {
        self.config.rotation_grace = grace;
        self
    }

    /// How often live sessions persist their changes; `None` turns interval persistence off. The
    /// default is [`DEFAULT_PERSIST_INTERVAL`].
    pub fn persist_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.persist_interval = interval;
        self
    }

    /// As [`persist_interval`](Self::persist_interval), from a human-readable duration such as
    /// `"30s"` or `"5m"` (parsed with `humantime`).
    pub fn persist_every(mut self, interval: &str) -> Self {
        match humantime::parse_duration(interval) {
            Ok(d) => self.config.persist_interval = Some(d),
            Err(e) => self.error = Some(format!("persist interval {interval:?}: {e}")),
        }
        self
    }

    /// The named events on which a live session persists (see
    /// [`Session::notify`](crate::Session::notify)). The default is [`DEFAULT_PERSIST_EVENTS`].
    pub fn persist_on<I: IntoIterator<Item = S>, S: Into<String>>(mut self, events: I) -> Self {
        self.config.persist_events = events.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the interval persists only the live sessions with unsaved changes. The default is
    /// `false`: the interval is a maximum time between persists, so the persistence hook runs on
    /// every tick for every live session (the application's own state, such as a game's user
    /// data, is what the hook writes) and the session saves what changed.
    pub fn persist_only_dirty(mut self, only_dirty: bool) -> Self {
        self.config.persist_only_dirty = only_dirty;
        self
    }

    /// How long a live session that joined by [`resume`](crate::SessionManager::resume) stays
    /// registered once no handle outside the manager holds it (every connection that resumed it
    /// dropped its handle): it then persists (the hook and a save, as at shutdown), emits
    /// `Released` and leaves the registry, and the next resume of its token loads it again. A
    /// session whose persist fails stays, and is tried again later. `None` keeps resumed
    /// sessions until they end or the manager shuts down. Sessions made with
    /// [`create_live`](crate::SessionManager::create_live) are named by the application and are
    /// never released this way. A handle counts as held wherever it is: in a connection, in a
    /// clone the application keeps, in an event a subscriber has not received yet (a subscriber
    /// that stops reading keeps its sessions). The default is [`DEFAULT_RELEASE_RESUMED_AFTER`];
    /// it is checked about twice per period, so a session goes between one and one and a half
    /// periods after its last handle.
    pub fn release_resumed_after(mut self, after: Option<Duration>) -> Self {
        self.config.release_resumed_after = after;
        self
    }

    /// Renews a session's token automatically once it is older than `age`: the load that finds
    /// it so moves it to a new id and returns the handle with the new token, which the HTTP
    /// layer sends in the same response. However many requests (on however many instances)
    /// race the renewal, it mints exactly one new token: the others, and any request presenting
    /// the old token for the rotation grace, carry on in the renewed session (reads and writes
    /// go there, and each response carries the new cookie). The default is never.
    pub fn renew_after(mut self, age: Duration) -> Self {
        self.config.renew_after = Some(age);
        self
    }

    /// Whether a session is bound to the device context it was created with: presented from
    /// another context, it is ended with [`SessionError::DeviceMismatch`]. The default is `false`.
    pub fn device_binding(mut self, on: bool) -> Self {
        self.config.device_binding = on;
        self
    }

    /// Whether every load of a session with a subject checks the subject's auth version, so that
    /// [`SessionManager::bump_auth_version`](crate::SessionManager::bump_auth_version) (at a
    /// password change, say) ends every session of the user, on every instance and any store:
    /// each on its next load. The version a session was bound with is kept in its metadata and
    /// compared in constant time; a mismatch ends the session (the load finds none). It costs
    /// one read of the subject's version record per load of a signed-in session (on Redis with
    /// the client-side cache, usually none). Sessions bound before it was on count as version 0.
    /// The default is `false`.
    pub fn auth_version(mut self, on: bool) -> Self {
        self.config.auth_version = on;
        self
    }

    /// The largest value (as JSON text) a key may hold; larger ones are refused with
    /// `TooLarge` before any I/O. The default is [`DEFAULT_MAX_VALUE_BYTES`].
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.config.max_value_bytes = bytes;
        self
    }

    /// The most keys a session may hold; more are refused with `TooLarge` before any I/O. The
    /// default is [`DEFAULT_MAX_KEYS`].
    ///
    /// It is checked when the handle knows every key of the session (a new or live session, or
    /// after `get_all`); see [`Session::set`](crate::Session::set) for why a handle that read
    /// only some keys is not held to it, and what to do when key names come from input.
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.config.max_keys = keys;
        self
    }

    /// The most sessions one subject may have at once; past it, the oldest are ended when a
    /// session is identified. Needs a store with [`SubjectIndex`](crate::SubjectIndex). The
    /// default is no limit.
    pub fn max_sessions_per_subject(mut self, max: usize) -> Self {
        self.config.max_sessions_per_subject = Some(max);
        self
    }

    /// The finished configuration.
    ///
    /// # Errors
    /// [`SessionError::Config`] for an unparsable duration, a zero or over-long idle timeout or
    /// lifetime, a touch interval longer than the idle timeout, or a zero limit.
    pub fn build(self) -> Result<Config, SessionError> {
        if let Some(error) = self.error {
            return Err(SessionError::Config(error));
        }
        let c = self.config;
        let bad = |what: &str| Err(SessionError::Config(what.to_owned()));
        if crate::validate_ttl(c.idle_timeout).is_err() {
            return bad("idle_timeout must be more than zero and at most MAX_TTL");
        }
        if c.absolute_lifetime
            .is_some_and(|l| crate::validate_ttl(l).is_err())
        {
            return bad("absolute_lifetime must be more than zero and at most MAX_TTL");
        }
        if crate::validate_ttl(c.anonymous_idle_timeout).is_err() {
            return bad("anonymous_idle_timeout must be more than zero and at most MAX_TTL");
        }
        if c.touch_interval > c.idle_timeout {
            return bad("touch_interval must not exceed idle_timeout");
        }
        if c.persist_interval.is_some_and(|i| i.is_zero()) {
            return bad("persist_interval must be more than zero");
        }
        if c.release_resumed_after.is_some_and(|a| a.is_zero()) {
            return bad("release_resumed_after must be more than zero");
        }
        if c.renew_after.is_some_and(|a| a.is_zero()) {
            return bad("renew_after must be more than zero");
        }
        if c.max_keys == 0 || c.max_value_bytes == 0 || c.max_sessions_per_subject == Some(0) {
            return bad("limits must be at least 1");
        }
        Ok(c)
    }
}
