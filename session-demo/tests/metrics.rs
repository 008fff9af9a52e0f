//! `/metrics`: the session counts and the store operations' latencies and errors, in the
//! Prometheus text format, as the demo serves them (over real HTTP; a real Redis for the outage).

mod support;

use std::sync::Arc;

use session_core::Config;
use session_demo::metrics::DemoMetrics;
use session_demo::{router_with_metrics, serve};
use session_test_support::RedisServer;
use session_tower::CookieConfig;

/// The demo with metrics on the store `url`; its base URL.
async fn serve_with_metrics(url: &str) -> String {
    let metrics = Arc::new(DemoMetrics::new());
    let manager = session_stores::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .manager_with_metrics(Config::default(), metrics.clone())
        .unwrap();
    let app = router_with_metrics(
        manager.clone(),
        CookieConfig::default().secure(false),
        metrics,
    );
    support::serve_app(app, manager, serve::HEADER_READ_TIMEOUT).await
}

/// The value of the sample `line_start` (a metric name with its labels) in `text`.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(line_start)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_sessions_and_store_operations() {
    let base = serve_with_metrics("memory://").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert!(
            browser
                .get(format!("{base}/"))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
    }
    let login = browser
        .post(format!("{base}/login"))
        .form(&[("name", "alice")])
        .send()
        .await
        .unwrap();
    assert!(
        login.status().is_success() || login.status().is_redirection(),
        "{}",
        login.status()
    );
    // A token nobody issued: not found.
    let stranger = reqwest::Client::new();
    stranger
        .get(format!("{base}/"))
        .header(
            "cookie",
            "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .send()
        .await
        .unwrap();

    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert!(response.status().is_success());
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let text = response.text().await.unwrap();
    // The stranger's page load creates a session too.
    assert_eq!(
        sample(&text, "sessions_total{event=\"created\"}"),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "sessions_total{event=\"loaded\"}").unwrap_or(0.0) >= 3.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "sessions_total{event=\"rotated\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "sessions_total{event=\"not_found\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("session_store_operation_seconds_bucket{backend=\"memory\",op=\"get_many\",le=\"0.00001\"}"),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "session_store_operation_seconds_count{backend=\"memory\",op=\"get_many\"}"
        )
        .unwrap()
            >= 3.0
    );
    assert!(!text.contains("session_store_errors_total"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_is_counted_by_kind() {
    let mut redis = RedisServer::start();
    let base = serve_with_metrics(&format!("{}?prefix=metrics:", redis.url())).await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert!(
        browser
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    redis.kill();
    assert_eq!(
        browser
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let errors: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("session_store_errors_total{backend=\"redis\"")
                && l.contains("kind=\"unavailable\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(errors >= 1.0, "no unavailable error counted:\n{text}");
}
