//! The vanilla backend: an Alertmanager beside the syncer (opni's sidecar). The syncer
//! writes the configuration file atomically, asks for `POST /-/reload`, and confirms
//! through `GET /api/v2/status` (`config.original`) that the running configuration is
//! the new one.
//!
//! Alertmanager answers `/-/reload` only after it has tried the file, with 500 and the
//! loader's message when it could not load it, and then keeps running the previous
//! configuration. This backend then puts the previous file back, so that a restart does
//! not fail on the rejected one, and reports [`Error::ConfigRejected`].
//!
//! Several Alertmanagers may share one configuration file: each file is written once
//! per call, then every Alertmanager reading it is reloaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use alert_core::TenantId;
use async_trait::async_trait;
use futures::future::join_all;

use crate::client::AlertmanagerClient;
use crate::config_live::covers;
use crate::error::{Error, Result};
use crate::syncer::{ConfigBackend, DesiredConfig};

/// One Alertmanager and the configuration file it reads.
#[derive(Debug, Clone)]
pub struct FileTarget {
    /// The file given to `--config.file`. Template files are written beside it, so
    /// the configuration names them by bare file name.
    pub config_path: PathBuf,
    /// The Alertmanager's API.
    pub client: AlertmanagerClient,
}

/// Configuration files plus `/-/reload`, for one or more tenants, each with one or more
/// Alertmanagers (HA replicas each read their own file, or share one: a shared file is
/// written once per call, then each of them is reloaded).
///
/// ```no_run
/// use alert_cortex_adapter::{AlertmanagerClient, FileReloadBackend, FileTarget, Syncer, DesiredConfig};
/// # async fn run() -> Result<(), alert_cortex_adapter::Error> {
/// let am = AlertmanagerClient::builder("http://127.0.0.1:9093").build()?;
/// let backend = FileReloadBackend::new()
///     .with_target("global".parse()?, FileTarget { config_path: "/etc/alertmanager/alertmanager.yml".into(), client: am });
/// let mut syncer = Syncer::new(backend);
/// syncer.sync(&[DesiredConfig::new("global", "route: {receiver: x}\nreceivers: [{name: x}]\n", "v2")?]).await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct FileReloadBackend {
    targets: HashMap<TenantId, Vec<FileTarget>>,
    fallback: Option<String>,
}

impl FileReloadBackend {
    /// A backend without targets.
    pub fn new() -> FileReloadBackend {
        FileReloadBackend::default()
    }

    /// Adds an Alertmanager (and its file) for a tenant.
    pub fn with_target(mut self, tenant: TenantId, target: FileTarget) -> FileReloadBackend {
        self.targets.entry(tenant).or_default().push(target);
        self
    }

    /// The configuration written when a tenant is removed. Without one, removing a
    /// tenant leaves its last configuration running (an Alertmanager cannot run
    /// without one).
    pub fn with_fallback(mut self, config: impl Into<String>) -> FileReloadBackend {
        self.fallback = Some(config.into());
        self
    }

    fn targets(&self, tenant: &TenantId) -> Result<&[FileTarget]> {
        self.targets
            .get(tenant)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::UnknownTenant {
                tenant: tenant.to_string(),
                reason: "no Alertmanager configuration file is set up for this tenant".into(),
            })
    }

    /// Writes `config` (and templates) to every file of `targets` once, then reloads
    /// every target; files are handled at the same time.
    async fn write_and_reload_all(
        targets: &[FileTarget],
        tenant: &TenantId,
        sync_id: &str,
        config: &str,
        templates: &[(&String, &String)],
    ) -> Result<()> {
        let files = by_file(targets);
        let results = join_all(files.iter().map(|(path, readers)| {
            Self::write_and_reload(path, readers, tenant, sync_id, config, templates)
        }))
        .await;
        results.into_iter().collect()
    }

    /// Writes `config` (and templates) to `path` and reloads every Alertmanager reading
    /// it; when one refuses it, restores the previous file.
    async fn write_and_reload(
        path: &Path,
        readers: &[&FileTarget],
        tenant: &TenantId,
        sync_id: &str,
        config: &str,
        templates: &[(&String, &String)],
    ) -> Result<()> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (name, body) in templates {
            write_atomic(&dir.join(bare_file_name(name)?), body).await?;
        }
        let previous = tokio::fs::read_to_string(path).await.ok();
        write_atomic(path, config).await?;
        let reloads = join_all(readers.iter().map(|t| t.client.reload())).await;
        let mut result = Ok(());
        let mut rejected = false;
        for reload in reloads {
            let outcome = match reload {
                Ok(()) => continue,
                Err(e) if matches!(e.status(), Some(400 | 500)) => {
                    rejected = true;
                    Error::ConfigRejected {
                        tenant: tenant.to_string(),
                        sync_id: sync_id.to_owned(),
                        message: e.server_message().unwrap_or_default().to_owned(),
                    }
                }
                Err(e) => e,
            };
            if result.is_ok() {
                result = Err(outcome);
            }
        }
        if rejected && let Some(old) = previous {
            write_atomic(path, &old).await?;
        }
        result
    }
}

/// The targets grouped by configuration file, in the order the files first appear.
fn by_file(targets: &[FileTarget]) -> Vec<(&Path, Vec<&FileTarget>)> {
    let mut files: Vec<(&Path, Vec<&FileTarget>)> = Vec::new();
    for t in targets {
        match files
            .iter_mut()
            .find(|(p, _)| *p == t.config_path.as_path())
        {
            Some((_, readers)) => readers.push(t),
            None => files.push((t.config_path.as_path(), vec![t])),
        }
    }
    files
}

#[async_trait]
impl ConfigBackend for FileReloadBackend {
    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    async fn apply(&self, desired: &DesiredConfig) -> Result<()> {
        let targets = self.targets(&desired.tenant)?;
        let templates: Vec<(&String, &String)> = desired.templates.iter().collect();
        Self::write_and_reload_all(
            targets,
            &desired.tenant,
            &desired.sync_id,
            &desired.config,
            &templates,
        )
        .await
    }

    async fn is_live(&self, desired: &DesiredConfig) -> Result<bool> {
        for target in self.targets(&desired.tenant)? {
            let status = target.client.status().await?;
            if !covers(&desired.config, &status.config.original)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn is_stored(&self, desired: &DesiredConfig) -> Result<bool> {
        for target in self.targets(&desired.tenant)? {
            let on_disk = tokio::fs::read_to_string(&target.config_path).await.ok();
            if on_disk.as_deref() != Some(desired.config.as_str()) {
                return Ok(false);
            }
            let dir = target.config_path.parent().unwrap_or(Path::new(""));
            for (name, body) in &desired.templates {
                let t = tokio::fs::read_to_string(dir.join(bare_file_name(name)?))
                    .await
                    .ok();
                if t.as_deref() != Some(body.as_str()) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn remove(&self, tenant: &TenantId) -> Result<()> {
        let Some(fallback) = &self.fallback else {
            return Ok(());
        };
        let targets = self.targets(tenant)?;
        Self::write_and_reload_all(targets, tenant, "fallback", fallback, &[]).await
    }

    async fn running(&self, tenant: &TenantId) -> Result<Option<String>> {
        let Some(first) = self.targets(tenant)?.first() else {
            return Ok(None);
        };
        Ok(Some(first.client.status().await?.config.original))
    }
}

/// A template name must be a bare file name, as Cortex requires
/// (`invalid template name "x/y": the template name cannot contain any path`).
fn bare_file_name(name: &str) -> Result<&str> {
    let p = Path::new(name);
    if name.is_empty()
        || p.file_name().and_then(|f| f.to_str()) != Some(name)
        || name == "."
        || name == ".."
    {
        return Err(Error::Core(alert_core::Error::InvalidField {
            field: "templates".into(),
            value: name.to_owned(),
            expected: "a bare file name: the template name cannot contain any path".into(),
        }));
    }
    Ok(name)
}

/// Numbers the temporary files of [`write_atomic`] within the process.
static TEMP_FILES: AtomicU64 = AtomicU64::new(0);

/// Writes `content` to `path` atomically: a temporary file in the same directory,
/// flushed to disk, renamed over the target. The temporary file's name is unique to the
/// call (`.{name}.tmp-{pid}-{n}`), so concurrent writes of one path do not collide: the
/// last rename wins. It is removed when the write fails.
pub async fn write_atomic(path: &Path, content: &str) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let io = |e: std::io::Error, p: &Path| Error::Io {
        path: p.display().to_string(),
        reason: e.to_string(),
    };
    let file_name = path
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| Error::Io {
            path: path.display().to_string(),
            reason: "not a file path".into(),
        })?;
    let n = TEMP_FILES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}-{n}", std::process::id()));
    let written = async {
        let mut f = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| io(e, &tmp))?;
        f.write_all(content.as_bytes())
            .await
            .map_err(|e| io(e, &tmp))?;
        f.sync_all().await.map_err(|e| io(e, &tmp))?;
        drop(f);
        tokio::fs::rename(&tmp, path).await.map_err(|e| io(e, path))
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_must_be_bare() {
        assert!(bare_file_name("a.tmpl").is_ok());
        assert!(bare_file_name("*.tmpl").is_ok());
        for bad in ["", ".", "..", "x/y", "/abs", "../up"] {
            let err = bare_file_name(bad).unwrap_err().to_string();
            assert!(err.contains("cannot contain any path"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("am.yml");
        write_atomic(&p, "one").await.unwrap();
        write_atomic(&p, "two").await.unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn concurrent_writes_of_one_path_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("am.yml");
        let bodies: Vec<String> = (0..16).map(|i| format!("body {i}")).collect();
        let results = join_all(bodies.iter().map(|b| write_atomic(&p, b))).await;
        for r in results {
            r.unwrap();
        }
        let content = std::fs::read_to_string(&p).unwrap();
        assert!(bodies.contains(&content), "{content}");
        assert_eq!(names(dir.path()), ["am.yml"]);
    }

    /// An Alertmanager API that answers `/-/reload` with `status` and `body`.
    async fn reloader(status: u16, body: &str) -> wiremock::MockServer {
        use wiremock::matchers::{method, path};
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(method("POST"))
            .and(path("/-/reload"))
            .respond_with(wiremock::ResponseTemplate::new(status).set_body_string(body))
            .mount(&server)
            .await;
        server
    }

    async fn reloads(server: &wiremock::MockServer) -> usize {
        server.received_requests().await.unwrap_or_default().len()
    }

    fn target(server: &wiremock::MockServer, config_path: &Path) -> FileTarget {
        FileTarget {
            config_path: config_path.to_path_buf(),
            client: AlertmanagerClient::builder(server.uri()).build().unwrap(),
        }
    }

    #[test]
    fn targets_are_grouped_by_file() {
        let client = AlertmanagerClient::builder("http://127.0.0.1:1")
            .build()
            .unwrap();
        let at = |p: &str| FileTarget {
            config_path: p.into(),
            client: client.clone(),
        };
        let targets = [at("/a.yml"), at("/b.yml"), at("/a.yml")];
        let files: Vec<(&Path, usize)> = by_file(&targets)
            .into_iter()
            .map(|(p, readers)| (p, readers.len()))
            .collect();
        assert_eq!(files, [(Path::new("/a.yml"), 2), (Path::new("/b.yml"), 1)]);
    }

    #[tokio::test]
    async fn targets_sharing_a_file_write_it_once_and_reload_each() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("alertmanager.yml");
        std::fs::write(&shared, "old\n").unwrap();
        let (a, b) = (reloader(200, "").await, reloader(200, "").await);
        let tenant: TenantId = "global".parse().unwrap();
        let backend = FileReloadBackend::new()
            .with_target(tenant.clone(), target(&a, &shared))
            .with_target(tenant.clone(), target(&b, &shared))
            .with_fallback("fallback\n");
        let desired = DesiredConfig::new("global", "new\n", "v1")
            .unwrap()
            .with_template("x.tmpl", "{{ define \"x\" }}x{{ end }}");
        backend.apply(&desired).await.unwrap();
        assert_eq!(std::fs::read_to_string(&shared).unwrap(), "new\n");
        assert_eq!((reloads(&a).await, reloads(&b).await), (1, 1));
        assert_eq!(names(dir.path()), ["alertmanager.yml", "x.tmpl"]);
        assert!(backend.is_stored(&desired).await.unwrap());

        backend.remove(&tenant).await.unwrap();
        assert_eq!(std::fs::read_to_string(&shared).unwrap(), "fallback\n");
        assert_eq!((reloads(&a).await, reloads(&b).await), (2, 2));
        assert_eq!(names(dir.path()), ["alertmanager.yml", "x.tmpl"]);
    }

    #[tokio::test]
    async fn a_shared_file_one_reader_refuses_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("alertmanager.yml");
        std::fs::write(&shared, "old\n").unwrap();
        let ok = reloader(200, "").await;
        let refusing = reloader(500, "failed to reload config: bad\n").await;
        let backend = FileReloadBackend::new()
            .with_target("global".parse().unwrap(), target(&ok, &shared))
            .with_target("global".parse().unwrap(), target(&refusing, &shared));
        let desired = DesiredConfig::new("global", "new\n", "v2").unwrap();
        match backend.apply(&desired).await.unwrap_err() {
            Error::ConfigRejected {
                tenant,
                sync_id,
                message,
            } => {
                assert_eq!((tenant.as_str(), sync_id.as_str()), ("global", "v2"));
                assert_eq!(message, "failed to reload config: bad");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&shared).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["alertmanager.yml"]);
    }
}
