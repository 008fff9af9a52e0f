//! The default device context of a request: its `User-Agent`.

use crate::RequestHead;

/// The longest `User-Agent` kept as a device context.
const MAX_DEVICE_LEN: usize = 256;

/// The default device context: the `User-Agent`, shortened, and an empty context when the
/// request has none (so leaving the header out cannot dodge device binding).
pub fn user_agent_device<H: RequestHead + ?Sized>(head: &H) -> Option<String> {
    let agent = head.header_str("user-agent").unwrap_or("");
    Some(agent.chars().take(MAX_DEVICE_LEN).collect())
}
