//! Test machinery every crate's integration tests share: REAL Alertmanager 0.25
//! processes on free loopback ports, a webhook sink, `amtool`, REAL etcd 3.4 members and
//! clusters ([`Etcd`], [`EtcdCluster`]), REAL Prometheus 2.42 processes ([`Prometheus`]),
//! REAL headless Chromium ([`chromium`]), REAL PostgreSQL servers with a fresh database
//! per test ([`postgres::PostgresServer`]), a stand-in for Grafana's alert-rules API
//! ([`grafana::GrafanaFixture`]), and a small HTTP client.
//!
//! Alertmanager is the judge: tests start the real daemon (Debian's
//! `prometheus-alertmanager`) rather than a mock. A test that needs it and cannot find it
//! fails with instructions (`apt-get install -y prometheus-alertmanager`); it never passes
//! silently.
//!
//! ```
//! use std::time::Duration;
//! use alert_testkit::{Alertmanager, WebhookSink};
//!
//! let sink = WebhookSink::start();
//! let am = Alertmanager::start(&format!(
//!     "route: {{receiver: hook, group_wait: 0s, group_interval: 1s}}\n\
//!      receivers: [{{name: hook, webhook_configs: [{{url: '{}'}}]}}]\n",
//!     sink.url()
//! ));
//! am.post_alerts(&serde_json::json!([{"labels": {"alertname": "Test"}}]))
//!     .ensure_success();
//! let got = sink.wait_for(1, Duration::from_secs(10));
//! assert_eq!(got[0].json()["alerts"][0]["labels"]["alertname"], "Test");
//! ```
//!
//! # Synchronous by design
//! Everything here blocks the calling thread, so it works from a plain `#[test]`. It is
//! also safe inside `#[tokio::test]`: the processes are separate and the
//! [`WebhookSink`] runs on its own thread and runtime. The one thing to avoid is
//! blocking a current-thread runtime while something *on that runtime* must answer (a
//! server the test spawned with `tokio::spawn` that Alertmanager calls): wrap the
//! blocking call in `tokio::task::spawn_blocking`, or use
//! `#[tokio::test(flavor = "multi_thread")]`.
//!
//! Each fixture module opens with a line saying what it stands in for.

pub mod alertmanager;
pub mod amtool;
pub mod binaries;
pub mod chromium;
pub mod cluster;
pub mod cortex;
pub mod etcd;
pub mod grafana;
pub mod http;
pub mod kube;
pub mod loki;
pub mod poll;
pub mod ports;
pub mod postgres;
pub mod prometheus;
mod server_thread;
pub mod webhook_sink;

pub use alertmanager::{Alertmanager, AlertmanagerBuilder, MINIMAL_CONFIG};
pub use amtool::{AmtoolOutput, amtool};
pub use binaries::{
    ALPACALERT_INSTALL_HINT, ETCD_INSTALL_HINT, INSTALL_HINT, KUBECTL_INSTALL_HINT,
    PROMETHEUS_INSTALL_HINT, alertmanager_bin, alpacalert_python, amtool_bin, etcd_bin,
    etcdctl_bin, kubectl_bin, prometheus_bin, promtool_bin,
};
pub use cluster::Cluster;
pub use etcd::{Etcd, EtcdBuilder, EtcdCluster};
pub use http::HttpResponse;
pub use poll::{poll_until, wait_until};
pub use ports::{free_port, free_tcp_udp_port};
pub use prometheus::{Prometheus, PrometheusBuilder};
pub use webhook_sink::{ReceivedRequest, WebhookSink};
