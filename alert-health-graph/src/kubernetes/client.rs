//! The [`KubeSource`] over a Kubernetes API server (feature `kubernetes`).
//!
//! The `kube` crate does what a Kubernetes client must get right and this crate should
//! not repeat: kubeconfig files (contexts, clusters, users; `token`, `tokenFile`, client
//! certificates, `certificate-authority(-data)`, exec plugins), the in-cluster service
//! account (token re-read as it rotates, the cluster CA), rustls with the CA, and the API
//! server's `Status` errors. This adapter only builds the LIST path
//! ([`Resource::list_path`](super::resource::Resource::list_path)) with `labelSelector`
//! and `fieldSelector`, sends it through `kube::Client::request_text`, and hands back the
//! list's `items` as JSON. Objects stay JSON (see [`object`](super::object) for why), so
//! `k8s-openapi`'s typed structs are not used, only the version feature `kube` requires.
//!
//! Errors name the server and what was listed, and carry the `Status` message; the
//! bearer token is never part of one (nor of `Debug`).

use async_trait::async_trait;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::params::ListParams;
use serde_json::Value;

use super::source::{KubeSource, ListRequest};
use crate::error::{Error, Result};

/// Lists from a Kubernetes API server.
#[derive(Clone)]
pub struct KubeApiSource {
    client: kube::Client,
    server: String,
}

impl std::fmt::Debug for KubeApiSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KubeApiSource({})", self.server)
    }
}

fn config_error(at: &str, e: impl std::fmt::Display) -> Error {
    Error::Kubernetes {
        server: at.to_owned(),
        what: "reading the client configuration".to_owned(),
        reason: alert_core::redact_urls(&e.to_string()),
    }
}

impl KubeApiSource {
    /// A source for the kubeconfig at `path` (its current context), or, without a path,
    /// as `kubectl` finds one: `$KUBECONFIG`, `~/.kube/config`, then the in-cluster
    /// service account. Needs a tokio runtime (exec plugins and token files are read).
    pub async fn connect(path: Option<&std::path::Path>) -> Result<KubeApiSource> {
        let config = match path {
            Some(p) => {
                let shown = p.display().to_string();
                let file = Kubeconfig::read_from(p).map_err(|e| config_error(&shown, e))?;
                kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| config_error(&shown, e))?
            }
            None => kube::Config::infer()
                .await
                .map_err(|e| config_error("kubeconfig or in-cluster configuration", e))?,
        };
        KubeApiSource::from_config(config)
    }

    /// A source for a `kube` configuration built by the caller.
    pub fn from_config(config: kube::Config) -> Result<KubeApiSource> {
        let server = alert_core::redact_urls(&config.cluster_url.to_string());
        let client = kube::Client::try_from(config).map_err(|e| config_error(&server, e))?;
        Ok(KubeApiSource { client, server })
    }

    /// The API server's URL (without credentials).
    pub fn server(&self) -> &str {
        &self.server
    }
}

#[async_trait]
impl KubeSource for KubeApiSource {
    async fn list(&self, request: &ListRequest) -> Result<Vec<Value>> {
        let fail = |reason: String| Error::Kubernetes {
            server: self.server.clone(),
            what: request.describe(),
            reason,
        };
        let mut params = ListParams::default();
        if let Some(s) = &request.label_selector {
            params = params.labels(&s.to_string());
        }
        if let Some(f) = &request.field_selector {
            params = params.fields(f);
        }
        let path = request.resource.list_path(request.namespace.as_deref());
        let http = kube::core::Request::new(path)
            .list(&params)
            .map_err(|e| fail(e.to_string()))?;
        let text = self.client.request_text(http).await.map_err(|e| {
            fail(match e {
                kube::Error::Api(status) => {
                    format!("{} {}: {}", status.code, status.reason, status.message)
                }
                other => alert_core::redact_urls(&other.to_string()),
            })
        })?;
        let mut list: Value =
            serde_json::from_str(&text).map_err(|e| fail(format!("not JSON: {e}")))?;
        match list.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => Ok(items),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(other) => Err(fail(format!("items: expected an array, got {other}"))),
        }
    }
}
