//! The vanilla backend: an Alertmanager beside the syncer (opni's sidecar). The syncer
//! writes the configuration file atomically, asks for `POST /-/reload`, and confirms
//! through `GET /api/v2/status` (`config.original`) that the running configuration is
//! the new one.
//!
//! Alertmanager answers `/-/reload` only after it has tried the file, with 500 and the
//! loader's message when it could not load it, and then keeps running the previous
//! configuration. This backend then puts the previous file back, so that a restart does
//! not fail on the rejected one, and reports [`Error::ConfigRejected`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
/// Alertmanagers (HA replicas each read their own file).
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

    /// Writes `config` (and templates) to one target and reloads it; on a rejection,
    /// restores the previous file.
    async fn write_and_reload(
        target: &FileTarget,
        tenant: &TenantId,
        sync_id: &str,
        config: &str,
        templates: &[(&String, &String)],
    ) -> Result<()> {
        let dir = target
            .config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for (name, body) in templates {
            write_atomic(&dir.join(bare_file_name(name)?), body).await?;
        }
        let previous = tokio::fs::read_to_string(&target.config_path).await.ok();
        write_atomic(&target.config_path, config).await?;
        match target.client.reload().await {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.status(), Some(400 | 500)) => {
                if let Some(old) = previous {
                    write_atomic(&target.config_path, &old).await?;
                }
                Err(Error::ConfigRejected {
                    tenant: tenant.to_string(),
                    sync_id: sync_id.to_owned(),
                    message: e.server_message().unwrap_or_default().to_owned(),
                })
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl ConfigBackend for FileReloadBackend {
    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    async fn apply(&self, desired: &DesiredConfig) -> Result<()> {
        let targets = self.targets(&desired.tenant)?;
        let templates: Vec<(&String, &String)> = desired.templates.iter().collect();
        let results = join_all(targets.iter().map(|t| {
            Self::write_and_reload(
                t,
                &desired.tenant,
                &desired.sync_id,
                &desired.config,
                &templates,
            )
        }))
        .await;
        results.into_iter().collect()
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
        let results = join_all(
            targets
                .iter()
                .map(|t| Self::write_and_reload(t, tenant, "fallback", fallback, &[])),
        )
        .await;
        results.into_iter().collect()
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

/// Writes `content` to `path` atomically: a temporary file in the same directory,
/// flushed to disk, renamed over the target.
pub(crate) async fn write_atomic(path: &Path, content: &str) -> Result<()> {
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
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
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
}
