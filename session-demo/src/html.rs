//! The demo's HTML: one page layout with a small stylesheet, escaping, and how a device and a
//! time read to a person.

use std::time::SystemTime;

/// The stylesheet every page shares: readable on a phone and on a desktop.
const STYLE: &str = "\
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f5f6f8;color:#1d2330}\
main{max-width:44rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin-top:2rem}\
.card{background:#fff;border-radius:10px;padding:1rem 1.25rem;box-shadow:0 1px 3px #0002;margin:1rem 0}\
.notice{background:#e8f4ea;border-left:4px solid #2e7d32;padding:.6rem 1rem;border-radius:6px}\
.notice.warn{background:#fff4e5;border-color:#e08a00}\
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.45rem .3rem;border-bottom:1px solid #e3e6ea}\
th{font-size:.85rem;color:#5b6475;font-weight:600}tr.current td{background:#f0f6ff}\
.tag{font-size:.8rem;background:#1f6feb;color:#fff;border-radius:999px;padding:.05rem .55rem;white-space:nowrap}\
.row{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem}.row p{margin:0}\
.actions{margin-top:.8rem}\
button{font:inherit;border:0;border-radius:6px;padding:.4rem .9rem;background:#1f6feb;color:#fff;cursor:pointer}\
button.quiet{background:#e3e6ea;color:#1d2330}input{font:inherit;padding:.35rem .5rem;border:1px solid #c5cad3;border-radius:6px}\
form{display:inline}a{color:#1f6feb}#visits b,#shared{font-size:1.3rem}";

/// A whole page: `title` and the `body` HTML, in the shared layout.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style><main><h1>{title}</h1>{body}</main></html>"
    )
}

/// `text` safe inside HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// "5 minutes ago", to the second.
pub(crate) fn ago(time: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(time)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if secs < 5 {
        return "just now".to_owned();
    }
    format!(
        "{} ago",
        humantime::format_duration(std::time::Duration::from_secs(secs))
    )
}

/// A device context (a `User-Agent`) as a person reads it: "Firefox on Linux".
pub(crate) fn device(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.is_empty()) else {
        return "Unknown device".to_owned();
    };
    match woothee::parser::Parser::new().parse(agent) {
        Some(found) if found.name != woothee::woothee::VALUE_UNKNOWN => {
            if found.os == woothee::woothee::VALUE_UNKNOWN {
                found.name.to_owned()
            } else {
                format!("{} on {}", found.name, found.os)
            }
        }
        _ => "Unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_like_a_person_says_them() {
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            )),
            "Firefox on Linux"
        );
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
            )),
            "Chrome on Windows 10"
        );
        assert_eq!(device(None), "Unknown device");
        assert_eq!(device(Some("curl/8.0")), "HTTP Library");
        assert_eq!(device(Some("zzz")), "Unknown browser");
        assert_eq!(escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
    }

    /// Every id and class the stylesheet names is one the pages use (a rule for
    /// `b#visits-count` matched nothing).
    #[test]
    fn every_selector_matches_something_the_pages_write() {
        let pages = [include_str!("pages.rs"), include_str!("live.rs")].concat();
        let selectors = STYLE
            .split('}')
            .filter_map(|rule| rule.split_once('{'))
            .map(|(s, _)| s);
        for selector in selectors {
            for (at, mark) in selector.match_indices(['#', '.']) {
                let name: String = selector[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let written = match mark {
                    "#" => [format!("id={name}"), format!("id=\\\"{name}\\\"")],
                    _ => [format!("class={name}"), format!(" {name}\\\"")],
                };
                // A class may also be first in a quoted list, or added by a format argument.
                let class_also = [format!("class=\\\"{name}"), format!("\" {name}\"")];
                assert!(
                    written.iter().any(|w| pages.contains(w.as_str()))
                        || (mark == "." && class_also.iter().any(|w| pages.contains(w.as_str()))),
                    "the stylesheet's {selector:?} names {mark}{name}, which no page writes"
                );
            }
        }
    }
}
