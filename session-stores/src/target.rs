//! Reading a store URL: which backend, where, and with which options. Nothing here connects, and
//! no error repeats the URL (it may hold a password).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::ConnectError;

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// `memory://[?max_sessions=N&shards=N]`
    Memory {
        max_sessions: Option<usize>,
        shards: Option<usize>,
    },
    /// `sqlite://path`, `sqlite:///abs/path`, `sqlite::memory:` (`?pool_size=N&busy_timeout=5s`)
    Sqlite {
        path: Option<PathBuf>,
        pool_size: Option<usize>,
        busy_timeout: Option<Duration>,
    },
    /// `postgres://...` / `postgresql://...` (`schema=`, `table=`; other options go to the
    /// driver, e.g. `sslmode`).
    Postgres {
        url: String,
        schema: Option<String>,
        table: Option<String>,
    },
    /// `mysql://...` / `mariadb://...` (`table=`; other options go to the driver, e.g.
    /// `ssl-mode`).
    MySql { url: String, table: Option<String> },
    /// `redis://...` / `rediss://...` (`prefix=`, `cache=N` sessions in the client-side cache,
    /// `cache_staleness=100ms`; other options go to the driver).
    Redis {
        url: String,
        prefix: Option<String>,
        cache: Option<usize>,
        cache_staleness: Option<Duration>,
    },
    /// `redis+cluster://host:port,host:port` (`prefix=`, `cache=`, `cache_staleness=`),
    /// `rediss+cluster://` for TLS.
    RedisCluster {
        nodes: Vec<String>,
        prefix: Option<String>,
        cache: Option<usize>,
        cache_staleness: Option<Duration>,
    },
}

impl Target {
    /// The cargo feature that builds this backend.
    pub(crate) fn feature(&self) -> &'static str {
        match self {
            Self::Memory { .. } => "memory",
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
            Self::MySql { .. } => "mysql",
            Self::Redis { .. } | Self::RedisCluster { .. } => "redis",
        }
    }
}

/// The URL's scheme, lower-cased; `sqlite::memory:` counts as `sqlite`.
fn scheme(url: &str) -> Result<String, ConnectError> {
    let (scheme, _) = url.split_once(':').ok_or(ConnectError::InvalidUrl(
        "no scheme: a store URL looks like memory://, sqlite://path, postgres://..., mysql://..., redis://..."
            .into(),
    ))?;
    Ok(scheme.to_ascii_lowercase())
}

/// The options of a query string, refusing a name given twice.
fn options(query: &str, scheme: &str) -> Result<BTreeMap<String, String>, ConnectError> {
    let mut options = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if options
            .insert(name.to_string(), value.to_string())
            .is_some()
        {
            return Err(ConnectError::InvalidOption {
                scheme: scheme.to_owned(),
                option: name.to_string(),
                reason: "given twice".into(),
            });
        }
    }
    Ok(options)
}

fn number(scheme: &str, name: &str, value: &str) -> Result<usize, ConnectError> {
    value.parse().map_err(|_| ConnectError::InvalidOption {
        scheme: scheme.to_owned(),
        option: name.to_owned(),
        reason: "not a whole number".into(),
    })
}

fn duration(scheme: &str, name: &str, value: &str) -> Result<Duration, ConnectError> {
    humantime::parse_duration(value).map_err(|_| ConnectError::InvalidOption {
        scheme: scheme.to_owned(),
        option: name.to_owned(),
        reason: "not a duration (e.g. 5s, 250ms)".into(),
    })
}

/// Refuses any option left over.
fn none_left(scheme: &str, options: BTreeMap<String, String>) -> Result<(), ConnectError> {
    match options.into_keys().next() {
        None => Ok(()),
        Some(option) => Err(ConnectError::InvalidOption {
            scheme: scheme.to_owned(),
            option,
            reason: "unknown for this backend".into(),
        }),
    }
}

/// Takes the Redis client-side cache's options (`cache=N`, `cache_staleness=100ms`) out of
/// `options`, refusing a staleness bound without the cache.
fn cache_options(
    scheme: &str,
    options: &mut BTreeMap<String, String>,
) -> Result<(Option<usize>, Option<Duration>), ConnectError> {
    let cache = options
        .remove("cache")
        .map(|v| number(scheme, "cache", &v))
        .transpose()?;
    let staleness = options
        .remove("cache_staleness")
        .map(|v| duration(scheme, "cache_staleness", &v))
        .transpose()?;
    if staleness.is_some() && cache.is_none_or(|sessions| sessions == 0) {
        return Err(ConnectError::InvalidOption {
            scheme: scheme.to_owned(),
            option: "cache_staleness".into(),
            reason: "needs the cache on (cache=10000)".into(),
        });
    }
    Ok((cache, staleness))
}

/// Parses `url` as a driver would, and gives back the URL without our own options in it.
fn driver_url(
    url: &str,
    scheme: &str,
    ours: &[&str],
) -> Result<(String, BTreeMap<String, String>), ConnectError> {
    let mut parsed = Url::parse(url).map_err(|e| {
        ConnectError::InvalidUrl(format!("a {scheme}:// URL that does not parse: {e}"))
    })?;
    let all = options(parsed.query().unwrap_or(""), scheme)?;
    let (mine, theirs): (BTreeMap<_, _>, BTreeMap<_, _>) = all
        .into_iter()
        .partition(|(k, _)| ours.contains(&k.as_str()));
    if theirs.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(theirs);
    }
    Ok((parsed.into(), mine))
}

/// Reads a store URL.
pub(crate) fn parse(url: &str) -> Result<Target, ConnectError> {
    let scheme = scheme(url)?;
    match scheme.as_str() {
        "memory" => {
            let rest = url["memory:".len()..].trim_start_matches("//");
            let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
            if !place.is_empty() {
                return Err(ConnectError::InvalidUrl(
                    "memory:// takes no host or path, only options (memory://?max_sessions=10000)"
                        .into(),
                ));
            }
            let mut options = options(query, &scheme)?;
            let max_sessions = options
                .remove("max_sessions")
                .map(|v| number(&scheme, "max_sessions", &v))
                .transpose()?;
            let shards = options
                .remove("shards")
                .map(|v| number(&scheme, "shards", &v))
                .transpose()?;
            none_left(&scheme, options)?;
            Ok(Target::Memory {
                max_sessions,
                shards,
            })
        }
        "sqlite" => {
            let rest = &url["sqlite:".len()..];
            let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
            let path = match place {
                ":memory:" | "//:memory:" => None,
                _ => match place.strip_prefix("//") {
                    Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
                    _ => {
                        return Err(ConnectError::InvalidUrl(
                            "sqlite:// needs a path: sqlite://sessions.db (relative), sqlite:///var/lib/app/sessions.db (absolute) or sqlite::memory:".into(),
                        ));
                    }
                },
            };
            let mut options = options(query, &scheme)?;
            let pool_size = options
                .remove("pool_size")
                .map(|v| number(&scheme, "pool_size", &v))
                .transpose()?;
            let busy_timeout = options
                .remove("busy_timeout")
                .map(|v| duration(&scheme, "busy_timeout", &v))
                .transpose()?;
            none_left(&scheme, options)?;
            Ok(Target::Sqlite {
                path,
                pool_size,
                busy_timeout,
            })
        }
        "postgres" | "postgresql" => {
            let (url, mut mine) = driver_url(url, &scheme, &["schema", "table"])?;
            Ok(Target::Postgres {
                url,
                schema: mine.remove("schema"),
                table: mine.remove("table"),
            })
        }
        "mysql" | "mariadb" => {
            // sqlx knows `mysql://` only; MariaDB speaks the same protocol.
            let url = format!("mysql{}", &url[scheme.len()..]);
            let (url, mut mine) = driver_url(&url, "mysql", &["table"])?;
            Ok(Target::MySql {
                url,
                table: mine.remove("table"),
            })
        }
        "redis" | "rediss" => {
            let (url, mut mine) =
                driver_url(url, &scheme, &["prefix", "cache", "cache_staleness"])?;
            let (cache, cache_staleness) = cache_options(&scheme, &mut mine)?;
            Ok(Target::Redis {
                url,
                prefix: mine.remove("prefix"),
                cache,
                cache_staleness,
            })
        }
        "redis+cluster" | "rediss+cluster" => {
            let node_scheme = scheme.trim_end_matches("+cluster");
            let rest = url[scheme.len() + 1..].trim_start_matches("//");
            let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
            // Credentials before the first host apply to every node.
            let (auth, hosts) = match hosts.rsplit_once('@') {
                Some((auth, hosts)) => (format!("{auth}@"), hosts),
                None => (String::new(), hosts),
            };
            let nodes: Vec<String> = hosts
                .split(',')
                .filter(|h| !h.is_empty())
                .map(|h| format!("{node_scheme}://{auth}{h}"))
                .collect();
            if nodes.is_empty() {
                return Err(ConnectError::InvalidUrl(
                    "redis+cluster:// needs at least one node: redis+cluster://host:port,host:port"
                        .into(),
                ));
            }
            for node in &nodes {
                Url::parse(node).map_err(|e| {
                    ConnectError::InvalidUrl(format!("a cluster node that does not parse: {e}"))
                })?;
            }
            let mut options = options(query, &scheme)?;
            let prefix = options.remove("prefix");
            let (cache, cache_staleness) = cache_options(&scheme, &mut options)?;
            none_left(&scheme, options)?;
            Ok(Target::RedisCluster {
                nodes,
                prefix,
                cache,
                cache_staleness,
            })
        }
        _ => Err(ConnectError::UnknownScheme(scheme)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_parses() {
        assert_eq!(
            parse("memory://?max_sessions=100&shards=4").unwrap(),
            Target::Memory {
                max_sessions: Some(100),
                shards: Some(4)
            }
        );
        assert_eq!(
            parse("memory://").unwrap(),
            Target::Memory {
                max_sessions: None,
                shards: None
            }
        );
        assert_eq!(
            parse("sqlite://data/s.db?pool_size=2&busy_timeout=2s").unwrap(),
            Target::Sqlite {
                path: Some("data/s.db".into()),
                pool_size: Some(2),
                busy_timeout: Some(Duration::from_secs(2))
            }
        );
        assert!(matches!(
            parse("sqlite:///var/s.db").unwrap(),
            Target::Sqlite { path: Some(p), .. } if p == std::path::Path::new("/var/s.db")
        ));
        assert!(matches!(
            parse("sqlite::memory:").unwrap(),
            Target::Sqlite { path: None, .. }
        ));
        assert_eq!(
            parse("postgres://u:p@h/db?schema=app&sslmode=disable").unwrap(),
            Target::Postgres {
                url: "postgres://u:p@h/db?sslmode=disable".into(),
                schema: Some("app".into()),
                table: None
            }
        );
        assert_eq!(
            parse("redis://h:6379/2?prefix=app:").unwrap(),
            Target::Redis {
                url: "redis://h:6379/2".into(),
                prefix: Some("app:".into()),
                cache: None,
                cache_staleness: None,
            }
        );
        assert_eq!(
            parse("redis://:pw@h/0?cache=10000&cache_staleness=50ms&protocol=resp3").unwrap(),
            Target::Redis {
                url: "redis://:pw@h/0?protocol=resp3".into(),
                prefix: None,
                cache: Some(10_000),
                cache_staleness: Some(Duration::from_millis(50)),
            }
        );
        assert_eq!(
            parse("redis+cluster://:pw@a:7000,b:7001?prefix=x").unwrap(),
            Target::RedisCluster {
                nodes: vec!["redis://:pw@a:7000".into(), "redis://:pw@b:7001".into()],
                prefix: Some("x".into()),
                cache: None,
                cache_staleness: None,
            }
        );
    }

    #[test]
    fn bad_urls_name_the_problem_and_never_the_password() {
        for (url, says) in [
            ("nothing", "no scheme"),
            ("mongodb://u:s3cret@h", "mongodb"),
            ("memory://host", "memory:// takes no host"),
            ("memory://?max_sessions=many", "max_sessions"),
            ("memory://?colour=red", "colour"),
            ("sqlite://", "needs a path"),
            ("sqlite://a.db?busy_timeout=soon", "busy_timeout"),
            ("postgres://u:s3cret@h:notaport/db", "does not parse"),
            ("redis+cluster://:s3cret@", "at least one node"),
            (
                "redis+cluster://:s3cret@a:1?prefix=x&prefix=y",
                "given twice",
            ),
            ("redis://:s3cret@h?cache=lots", "cache"),
            ("redis://:s3cret@h?cache_staleness=1s", "needs the cache on"),
            (
                "redis://:s3cret@h?cache=0&cache_staleness=1s",
                "needs the cache on",
            ),
            (
                "redis+cluster://:s3cret@a:1?cache=10&cache_staleness=soon",
                "cache_staleness",
            ),
        ] {
            let error = parse(url).unwrap_err();
            let text = format!("{error} {error:?}");
            assert!(text.contains(says), "{url}: {text}");
            assert!(!text.contains("s3cret"), "{url}: {text}");
        }
    }
}
