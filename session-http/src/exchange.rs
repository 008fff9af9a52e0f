//! One request's exchange: [`HttpSessions::begin`] reads the tokens and applies the cross-site
//! guard before the handler; [`HttpSessions::finish`] saves the session once after it and says
//! which token headers the response gets.

use std::time::Duration;

use session_core::{Session, SessionError, StoreError};

use crate::answer::{Outcome, Refusal, ResponseEdits};
use crate::policy::Policy;
use crate::request_session::{RequestSession, Slot};
use crate::signing::Verified;
use crate::{HttpSessions, RequestHead, cookies, cross_site};

/// Where the request's token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Cookie,
    Header,
}

/// A token the request presented. No `Debug`: it holds a token.
#[derive(Clone)]
struct Presented {
    token: String,
    source: Source,
    /// Signed with an older key: the response re-signs it with the newest.
    resign: bool,
}

/// A request under way: its session for the handler, and what the request presented, for
/// [`HttpSessions::finish`].
pub struct Exchange {
    session: RequestSession,
    presented: Vec<Presented>,
}

/// Counts only: a token in a log is a session anyone reading the log can use.
impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("presented", &self.presented.len())
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// The request's session, to hand to the handler (in the framework's request extensions).
    pub fn session(&self) -> &RequestSession {
        &self.session
    }
}

impl HttpSessions {
    /// Starts a request: reads its tokens and, unless the request is refused, gives the session
    /// the handler works with. `device` gives the request's device context (see
    /// [`user_agent_device`](crate::user_agent_device)); it is only called for a request that is
    /// let through. No session I/O happens here.
    ///
    /// # Errors
    /// A [`Refusal`] to answer instead of calling the handler: nothing was read or changed.
    pub fn begin<H: RequestHead + ?Sized>(
        &self,
        head: &H,
        device: impl FnOnce() -> Option<String>,
    ) -> Result<Exchange, Refusal> {
        let policy = &self.inner;
        let presented = presented_tokens(head, policy).map_err(|_| Refusal::TooManyCookies)?;
        if guarded(policy, &presented) && cross_site::refused(head, &policy.cross_site) {
            return Err(Refusal::CrossSite);
        }
        let tokens = presented.iter().map(|p| p.token.clone()).collect();
        let session = RequestSession::new(policy.manager.clone(), tokens, device());
        Ok(Exchange { session, presented })
    }

    /// Ends a request after its handler answered: saves the session once (if the handler
    /// changed it) and says what the response needs: the token set, refreshed or cleared, and
    /// the cache headers of a response rendered from a session; or that the handler's answer
    /// must be replaced (a store failure, a change refused because another request rotated the
    /// session).
    pub async fn finish(&self, exchange: Exchange) -> Outcome {
        finish(&self.inner, exchange).await
    }
}

/// Whether the cross-site guard looks at this request: not when tokens travel in a header only,
/// nor when the request carries a header token and no cookie of ours (another site's form or
/// link can add neither a header nor a cookie it does not have). A request with no token at all
/// is guarded while cookies are on: a cross-site login would plant the attacker's session.
fn guarded(policy: &Policy, presented: &[Presented]) -> bool {
    let by_cookie = presented.iter().any(|p| p.source == Source::Cookie);
    let by_header = presented.iter().any(|p| p.source == Source::Header);
    policy.cookies && (by_cookie || !by_header)
}

/// The tokens a request presents, in the order to try them: every cookie of our name (read from
/// the raw header bytes, see `cookies`), each checked against the signing keys when cookies are
/// signed, then the configured header. Never from the URL. With the `__Host-` prefix (the
/// default), a cookie without it is not ours at all, so a subdomain or a plain-HTTP page cannot
/// plant one.
fn presented_tokens<H: RequestHead + ?Sized>(
    head: &H,
    policy: &Policy,
) -> Result<Vec<Presented>, cookies::TooManyCookies> {
    let name = policy.cookie.cookie_name();
    let mut raw: Vec<(String, Source)> = Vec::new();
    if policy.cookies {
        raw.extend(
            cookies::values(head, &name)?
                .into_iter()
                .map(|value| (value, Source::Cookie)),
        );
    }
    if let Some(value) = policy.header.as_ref().and_then(|h| h.token(head)) {
        raw.push((value, Source::Header));
    }
    Ok(raw
        .into_iter()
        .filter_map(|(value, source)| {
            let (token, resign) = match &policy.signing {
                None => (value, false),
                Some(keys) => match keys.verify(&name, &value)? {
                    Verified::Current(token) => (token, false),
                    Verified::Old(token) => (token, true),
                },
            };
            Some(Presented {
                token,
                source,
                resign,
            })
        })
        .collect())
}

/// How long the cookie should live: as long as the session would without another visit (its
/// idle timeout, cut short by the absolute lifetime); with no session, the manager's idle timeout.
fn max_age(policy: &Policy, session: Option<&Session>) -> Duration {
    session.map_or(policy.manager.config().idle_timeout(), Session::expires_in)
}

/// Saves the session once and says how the token is set, refreshed or cleared.
async fn finish(policy: &Policy, exchange: Exchange) -> Outcome {
    let Exchange {
        session: lazy,
        presented,
    } = exchange;
    // Changed before any read: read now (the save would), so which token found the session,
    // and whether it came by cookie or header, is known before answering.
    let slot = lazy.slot().await;
    if let Slot::Present(session) = &slot
        && session.is_unread()
        && session.is_dirty()
        && let Err(error) = session.preload(&[]).await
    {
        return Outcome::Unavailable(error);
    }
    // The token the session came from, else the first one presented.
    let presented = lazy
        .used()
        .await
        .and_then(|i| presented.get(i))
        .or(presented.first())
        .cloned();
    // A read that failed in the store, even one the handler went on without: which session
    // the request has is not known, so its answer must not stand.
    let read_failed = matches!(&slot, Slot::Present(session) if session.read_failed());
    if lazy.failed() || read_failed {
        return Outcome::Unavailable(SessionError::Store(StoreError::timeout(
            "loading the session",
        )));
    }
    let mut edits = Edits {
        policy,
        out: ResponseEdits::default(),
        header_mode: !policy.cookies
            || presented
                .as_ref()
                .is_some_and(|p| p.source == Source::Header),
    };
    let slot = match slot {
        // Handed out but never read or changed: as if never asked for.
        Slot::Present(session) if session.is_unread() && !session.is_dirty() => Slot::Untouched,
        slot => slot,
    };
    if !matches!(slot, Slot::Untouched) {
        edits.private();
    }
    match slot {
        Slot::Untouched => {
            if let Some(p) = presented.filter(|p| p.resign) {
                edits.send_token(&p.token, None);
            }
        }
        Slot::Missing => {
            if presented.is_some() {
                edits.clear_cookie();
            }
        }
        Slot::Present(session) => {
            if session.is_destroyed() {
                edits.clear_cookie();
                return Outcome::Keep(edits.out);
            }
            if session.is_rotated_out() {
                // A request still holding a rotated-out token: it could only read, there is
                // nothing to save, and its cookie is left alone (the response that rotated it
                // carries the new one).
                return Outcome::Keep(edits.out);
            }
            let wrote = match session.save().await {
                Ok(wrote) => wrote,
                Err(SessionError::Destroyed) => {
                    edits.clear_cookie();
                    return Outcome::Keep(edits.out);
                }
                // Another request rotated the session while this one changed it: the change
                // was refused, so the handler's answer must not stand.
                Err(SessionError::RotatedOut) => return Outcome::RotatedOut,
                Err(error) => {
                    tracing::warn!(session = %session.id().short(), %error, "saving the session failed");
                    return Outcome::Unavailable(error);
                }
            };
            if session.is_new() {
                return Outcome::Keep(edits.out); // never written: no cookie, nothing stored
            }
            let token = session.token();
            let changed = presented.as_ref().is_none_or(|p| p.token != token.as_str());
            let resign = presented.as_ref().is_some_and(|p| p.resign);
            if changed || wrote || resign {
                edits.send_token(token.as_str(), Some(&session));
            }
        }
    }
    Outcome::Keep(edits.out)
}

/// The response edits being gathered for one request.
struct Edits<'a> {
    policy: &'a Policy,
    out: ResponseEdits,
    /// The token travels in the header (header-only mode, or a session found by the header).
    header_mode: bool,
}

impl Edits<'_> {
    fn send_token(&mut self, token: &str, session: Option<&Session>) {
        let value = match &self.policy.signing {
            Some(keys) => keys.sign(&self.policy.cookie.cookie_name(), token),
            None => token.to_owned(),
        };
        if self.header_mode {
            if let Some(header) = &self.policy.header {
                self.out.token_header = Some((header.response_name().clone(), value));
                self.out.no_store = true;
            }
            return;
        }
        let cookie = self
            .policy
            .cookie
            .build(value, max_age(self.policy, session));
        self.out.set_cookies.push(cookie.to_string());
        self.out.no_store = true;
    }

    /// Clears the cookie, unless the token travels in the header (the client drops its own).
    fn clear_cookie(&mut self) {
        if !self.header_mode {
            self.out
                .set_cookies
                .push(self.policy.cookie.removal().to_string());
            self.out.no_store = true;
        }
    }

    /// A response rendered from the session is the user's alone: the configured
    /// `Cache-Control` unless the handler chose one, and `Vary` on what carries the token.
    fn private(&mut self) {
        self.out
            .cache_control
            .clone_from(&self.policy.cache_control);
        if self.policy.cookies {
            self.out.vary.push("cookie".to_owned());
        }
        if let Some(header) = &self.policy.header {
            self.out
                .vary
                .push(header.request_name().as_str().to_owned());
        }
    }
}
