//! A data plane's HTTP API as a store (`--store http://data-plane:9095`), so the control
//! plane, the evaluator and the emitter can run as separate processes while the data
//! plane keeps the embedded SQLite store.
//!
//! Every call maps to one route of `/api/v1/store/...` (see [`crate::api`]); typed store
//! errors travel in the `x-gateway-store-error` header, so a conflict, a fence or a
//! compaction reads back as the same [`StoreError`]. Connection failures and 5xx answers
//! are [`StoreError::Unavailable`]. A watch is one long-lived response of JSON lines.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{
    ConfigStore, Key, Kind, LeaseState, Listing, Record, Revision, StoreError, Txn, Watch,
    redact_url,
};
use crate::api::{STORE_ERROR_HEADER, WatchLine};

/// How long one call may take (watches excepted).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The remote store.
#[derive(Clone)]
pub struct RemoteStore {
    base: String,
    token: Option<String>,
    client: Client,
    watch_client: Client,
}

impl std::fmt::Debug for RemoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteStore")
            .field("base", &redact_url(&self.base))
            .finish()
    }
}

fn unavailable(e: reqwest::Error) -> StoreError {
    // reqwest's errors name the URL; strip credentials from it.
    StoreError::Unavailable(redact_url(&e.without_url().to_string()))
}

impl RemoteStore {
    /// A store at `base` (`http://host:port`), sending `token` as a bearer token.
    pub fn new(base: &str, token: Option<String>) -> Result<RemoteStore, StoreError> {
        let shown = redact_url(base);
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| StoreError::Invalid(format!("store {shown:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(StoreError::Invalid(format!(
                "store {shown:?}: expected http(s)://HOST:PORT"
            )));
        }
        let base = base.trim_end_matches('/').to_owned();
        let client = Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let watch_client = Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(RemoteStore {
            base,
            token,
            client,
            watch_client,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/store/{path}", self.base)
    }

    fn auth(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, StoreError> {
        let response = self.auth(request).send().await.map_err(unavailable)?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(unavailable);
        }
        Err(error_of(response).await)
    }
}

async fn error_of(response: reqwest::Response) -> StoreError {
    let status = response.status();
    if let Some(typed) = response
        .headers()
        .get(STORE_ERROR_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<StoreError>(v).ok())
    {
        return typed;
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect());
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        StoreError::Unavailable(format!("data plane answered {status}: {message}"))
    } else {
        StoreError::Invalid(format!("data plane answered {status}: {message}"))
    }
}

#[derive(serde::Deserialize)]
struct RevisionAnswer {
    revision: Revision,
}

#[async_trait]
impl ConfigStore for RemoteStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        super::check_key_id(&key.id)?;
        let request = self
            .client
            .get(self.url(&format!("kv/{}/{}", key.kind, key.id)));
        let response = self.auth(request).send().await.map_err(unavailable)?;
        match response.status() {
            StatusCode::NOT_FOUND if response.headers().get(STORE_ERROR_HEADER).is_none() => {
                Ok(None)
            }
            s if s.is_success() => response.json().await.map(Some).map_err(unavailable),
            _ => Err(error_of(response).await),
        }
    }

    async fn list(&self, kind: Kind, at: Option<Revision>) -> Result<Listing, StoreError> {
        let mut request = self.client.get(self.url(&format!("kv/{kind}")));
        if let Some(at) = at {
            request = request.query(&[("revision", at)]);
        }
        self.call(request).await
    }

    async fn txn(&self, txn: Txn) -> Result<Revision, StoreError> {
        txn.check()?;
        let answer: RevisionAnswer = self
            .call(self.client.post(self.url("txn")).json(&txn))
            .await?;
        Ok(answer.revision)
    }

    async fn revision(&self) -> Result<Revision, StoreError> {
        let answer: RevisionAnswer = self.call(self.client.get(self.url("revision"))).await?;
        Ok(answer.revision)
    }

    async fn watch(&self, after: Revision) -> Result<Watch, StoreError> {
        let request = self
            .watch_client
            .get(self.url("watch"))
            .query(&[("after", after)]);
        let response = self.auth(request).send().await.map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        let (sender, watch) = Watch::channel();
        tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut buffer: Vec<u8> = Vec::new();
            // The server sends a progress line every 10 s: silence for long means the
            // connection is gone.
            let silence = crate::api::WATCH_PROGRESS_INTERVAL * 3;
            loop {
                let chunk = tokio::select! {
                    c = tokio::time::timeout(silence, body.next()) => c,
                    () = sender.closed() => return,
                };
                let chunk = match chunk {
                    Ok(Some(Ok(c))) => c,
                    Ok(Some(Err(e))) => {
                        let _ = sender.send(Err(unavailable(e))).await;
                        return;
                    }
                    Ok(None) => {
                        let _ = sender
                            .send(Err(StoreError::Unavailable(
                                "the data plane closed the watch".to_owned(),
                            )))
                            .await;
                        return;
                    }
                    Err(_) => {
                        let _ = sender
                            .send(Err(StoreError::Unavailable(
                                "the watch went silent".to_owned(),
                            )))
                            .await;
                        return;
                    }
                };
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    let item = match serde_json::from_slice::<WatchLine>(&line) {
                        Ok(WatchLine::Event(e)) => Ok(e),
                        Ok(WatchLine::Progress(_)) => continue,
                        Ok(WatchLine::Error(e)) => Err(e),
                        Err(e) => Err(StoreError::Data(format!("watch line: {e}"))),
                    };
                    let stop = item.is_err();
                    if sender.send(item).await.is_err() || stop {
                        return;
                    }
                }
                if buffer.len() > 2 * super::MAX_VALUE_BYTES + 4096 {
                    let _ = sender
                        .send(Err(StoreError::Data("watch line too long".to_owned())))
                        .await;
                    return;
                }
            }
        });
        Ok(watch)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let _: serde_json::Value = self
            .call(
                self.client
                    .post(self.url("compact"))
                    .json(&json!({"revision": revision})),
            )
            .await?;
        Ok(())
    }

    async fn acquire(
        &self,
        election: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseState, StoreError> {
        super::check_election_name(election)?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.call(
            self.client
                .post(self.url(&format!("leases/{election}")))
                .json(&json!({"holder": holder, "ttl_ms": ttl_ms})),
        )
        .await
    }

    async fn release(&self, election: &str, holder: &str, term: u64) -> Result<(), StoreError> {
        super::check_election_name(election)?;
        let _: serde_json::Value = self
            .call(
                self.client
                    .delete(self.url(&format!("leases/{election}")))
                    .query(&[("holder", holder), ("term", &term.to_string())]),
            )
            .await?;
        Ok(())
    }

    fn describe(&self) -> String {
        redact_url(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::api::{ApiOptions, router};
    use crate::store::sqlite::SqliteStore;

    /// A data plane on SQLite served on a free loopback port, and a remote store on it.
    async fn remote() -> (crate::store::SharedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open(&dir.path().join("g.db")).unwrap();
        let options = ApiOptions {
            token: Some("t0ken".into()),
            ..ApiOptions::default()
        };
        let app = router(Arc::new(sqlite), options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let store = RemoteStore::new(&format!("http://{addr}"), Some("t0ken".into())).unwrap();
        (Arc::new(store), dir)
    }

    crate::store_conformance!(super::remote());

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_token_is_unavailable_not_a_conflict() {
        let (good, _dir) = remote().await;
        let base = good.describe();
        let bad = RemoteStore::new(&base, Some("zz-not-the-token-zz".into())).unwrap();
        let err = bad.revision().await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(
            !err.to_string().contains("zz-not-the-token"),
            "the token is not echoed: {err}"
        );
    }
}
