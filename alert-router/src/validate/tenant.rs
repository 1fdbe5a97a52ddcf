//! The rules Cortex and Mimir add for a tenant's configuration (`POST /api/v1/alerts`):
//! size and template limits, template names without paths, and no setting that makes
//! Alertmanager read a local file (credentials, TLS material).

use std::collections::BTreeMap;

use crate::config::{Config, GlobalConfig, HttpClientConfig, TlsConfig};
use crate::error::{Error, Result};

/// Whose wording to use; both refuse the union of what either refuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TenantBackend {
    /// Cortex (its messages as of its current release).
    #[default]
    Cortex,
    /// Grafana Mimir.
    Mimir,
}

/// Per-tenant limits (`alertmanager_max_*` overrides); `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantLimits {
    /// `alertmanager_max_config_size_bytes`.
    pub max_config_size_bytes: Option<usize>,
    /// `alertmanager_max_templates_count`.
    pub max_templates_count: Option<usize>,
    /// `alertmanager_max_template_size_bytes`.
    pub max_template_size_bytes: Option<usize>,
}

/// What to check a tenant's configuration against.
///
/// ```
/// use alert_router::config::{Config, Receiver, Route, WebhookConfig};
/// use alert_router::validate::{TenantRules, validate, Options};
///
/// let mut config = Config::new(Route::new("hook"));
/// let mut hook = Receiver::new("hook");
/// let mut webhook = WebhookConfig::new("https://example.org/hook");
/// webhook.http_config = Some(alert_router::config::HttpClientConfig {
///     bearer_token_file: Some("/etc/token".into()),
///     ..Default::default()
/// });
/// hook.webhook_configs.push(webhook);
/// config.receivers.push(hook);
/// let options = Options { tenant: Some(TenantRules::default()), ..Options::default() };
/// let e = validate(&config, &options).unwrap_err();
/// assert_eq!(e.to_string(), "receivers[0].webhook_configs[0].http_config.bearer_token_file: \
///     setting bearer_token_file and credentials_file is not allowed");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantRules {
    /// Whose messages to give.
    pub backend: TenantBackend,
    /// The tenant's limits.
    pub limits: TenantLimits,
    /// The template files uploaded with the configuration (`template_files`), name to
    /// body.
    pub template_files: BTreeMap<String, String>,
}

impl TenantRules {
    /// Checks `config` (whose YAML text is `yaml`, as it will be uploaded) in the order
    /// Cortex's `validateUserConfig` does, after Alertmanager's own rules passed.
    pub(crate) fn check(&self, config: &Config, yaml: &str) -> Result<()> {
        if let Some(limit) = self.limits.max_config_size_bytes {
            let size = upload_size(yaml, &self.template_files);
            if size > limit {
                return Err(Error::OverTenantLimit {
                    path: "alertmanager_config".into(),
                    message: format!("Alertmanager configuration is too big, limit: {limit} bytes"),
                });
            }
        }
        Scan {
            backend: self.backend,
        }
        .config(config)?;
        for (i, name) in config.templates.iter().enumerate() {
            template_name(name, &format!("templates[{i}]"))?;
        }
        if let Some(limit) = self.limits.max_templates_count
            && self.template_files.len() > limit
        {
            return Err(Error::OverTenantLimit {
                path: "template_files".into(),
                message: format!(
                    "too many templates in the configuration: {} (limit: {limit})",
                    self.template_files.len()
                ),
            });
        }
        if let Some(limit) = self.limits.max_template_size_bytes {
            for (name, body) in &self.template_files {
                if body.len() > limit {
                    return Err(Error::OverTenantLimit {
                        path: format!("template_files.{name}"),
                        message: format!(
                            "template {name} is too big: {} bytes (limit: {limit} bytes)",
                            body.len()
                        ),
                    });
                }
            }
        }
        for name in self.template_files.keys() {
            template_name(name, &format!("template_files.{name}"))?;
        }
        Ok(())
    }
}

/// The bytes Cortex counts against `alertmanager_max_config_size_bytes`: the request
/// body `{template_files, alertmanager_config}`. Counted as the configuration text plus
/// every template's name and body, which is what the body carries besides YAML
/// punctuation (a request is at least this big).
pub fn upload_size(yaml: &str, template_files: &BTreeMap<String, String>) -> usize {
    yaml.len()
        + template_files
            .iter()
            .map(|(name, body)| name.len() + body.len())
            .sum::<usize>()
}

/// Cortex's `validateTemplateFilename`: Go's `filepath.Base(n) == n` and
/// `filepath.Dir(filepath.Clean(n)) == "."`, which for a name means: not empty and no
/// `/`.
fn template_name(name: &str, path: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') {
        return Err(Error::ForbiddenByTenantRules {
            path: path.to_owned(),
            message: format!(
                "invalid template name {}: the template name cannot contain any path",
                crate::config::go_quote::go_quote(name)
            ),
        });
    }
    Ok(())
}

/// The scan for settings that read local files, in the order of Cortex's reflection walk
/// (Go field order; Alertmanager has already copied `global.http_config` into the
/// integrations without one, so a global setting is found at `global` first).
struct Scan {
    backend: TenantBackend,
}

fn set(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

impl Scan {
    fn forbid(&self, path: String, message: &str) -> Result<()> {
        Err(Error::ForbiddenByTenantRules {
            path,
            message: message.to_owned(),
        })
    }

    /// The message for a password-like file, which Mimir words as one.
    fn password_file(&self, cortex: &str) -> String {
        match self.backend {
            TenantBackend::Cortex => cortex.to_owned(),
            TenantBackend::Mimir => "setting smtp_auth_password_file, password_file, bearer_token_file, auth_password_file or credentials_file is not allowed".to_owned(),
        }
    }

    fn config(&self, c: &Config) -> Result<()> {
        if let Some(g) = &c.global {
            self.global(g)?;
        }
        for (i, r) in c.receivers.iter().enumerate() {
            let p = format!("receivers[{i}]");
            for (j, d) in r.discord_configs.iter().enumerate() {
                self.http_opt(&d.http_config, &format!("{p}.discord_configs[{j}]"))?;
            }
            for (j, e) in r.email_configs.iter().enumerate() {
                let ep = format!("{p}.email_configs[{j}]");
                if set(&e.auth_password_file) {
                    return self.forbid(
                        format!("{ep}.auth_password_file"),
                        &self.password_file("setting Email auth_password_file and global smtp_auth_password_file is not allowed"),
                    );
                }
                if let Some(t) = &e.tls_config {
                    self.tls(t, &format!("{ep}.tls_config"))?;
                }
            }
            for (j, pd) in r.pagerduty_configs.iter().enumerate() {
                let pp = format!("{p}.pagerduty_configs[{j}]");
                if set(&pd.routing_key_file) {
                    return self.forbid(
                        format!("{pp}.routing_key_file"),
                        "setting PagerDuty routing_key_file is not allowed",
                    );
                }
                if set(&pd.service_key_file) {
                    return self.forbid(
                        format!("{pp}.service_key_file"),
                        "setting PagerDuty service_key_file is not allowed",
                    );
                }
                self.http_opt(&pd.http_config, &pp)?;
            }
            for (j, s) in r.slack_configs.iter().enumerate() {
                let sp = format!("{p}.slack_configs[{j}]");
                if set(&s.api_url_file) {
                    return self.forbid(
                        format!("{sp}.api_url_file"),
                        "setting Slack api_url_file and global slack_api_url_file is not allowed",
                    );
                }
                self.http_opt(&s.http_config, &sp)?;
            }
            for (j, w) in r.webhook_configs.iter().enumerate() {
                self.http_opt(&w.http_config, &format!("{p}.webhook_configs[{j}]"))?;
            }
            for (j, o) in r.opsgenie_configs.iter().enumerate() {
                let op = format!("{p}.opsgenie_configs[{j}]");
                if set(&o.api_key_file) {
                    return self.forbid(
                        format!("{op}.api_key_file"),
                        "setting OpsGenie api_key_file and global opsgenie_api_key_file is not allowed",
                    );
                }
                self.http_opt(&o.http_config, &op)?;
            }
            for (j, w) in r.wechat_configs.iter().enumerate() {
                self.http_opt(&w.http_config, &format!("{p}.wechat_configs[{j}]"))?;
            }
            for (j, po) in r.pushover_configs.iter().enumerate() {
                self.http_opt(&po.http_config, &format!("{p}.pushover_configs[{j}]"))?;
            }
            for (j, v) in r.victorops_configs.iter().enumerate() {
                let vp = format!("{p}.victorops_configs[{j}]");
                if set(&v.api_key_file) {
                    return self.forbid(
                        format!("{vp}.api_key_file"),
                        "setting VictorOps api_key_file and global victorops_api_key_file is not allowed",
                    );
                }
                self.http_opt(&v.http_config, &vp)?;
            }
            for (j, s) in r.sns_configs.iter().enumerate() {
                self.http_opt(&s.http_config, &format!("{p}.sns_configs[{j}]"))?;
            }
            for (j, t) in r.telegram_configs.iter().enumerate() {
                self.http_opt(&t.http_config, &format!("{p}.telegram_configs[{j}]"))?;
            }
            for (j, w) in r.webex_configs.iter().enumerate() {
                self.http_opt(&w.http_config, &format!("{p}.webex_configs[{j}]"))?;
            }
        }
        Ok(())
    }

    fn global(&self, g: &GlobalConfig) -> Result<()> {
        if set(&g.opsgenie_api_key_file) {
            return self.forbid(
                "global.opsgenie_api_key_file".into(),
                "setting OpsGenie api_key_file and global opsgenie_api_key_file is not allowed",
            );
        }
        if set(&g.slack_api_url_file) {
            return self.forbid(
                "global.slack_api_url_file".into(),
                "setting Slack api_url_file and global slack_api_url_file is not allowed",
            );
        }
        if set(&g.smtp_auth_password_file) {
            return self.forbid(
                "global.smtp_auth_password_file".into(),
                &self.password_file(
                    "setting Email auth_password_file and global smtp_auth_password_file is not allowed",
                ),
            );
        }
        if set(&g.victorops_api_key_file) {
            return self.forbid(
                "global.victorops_api_key_file".into(),
                "setting VictorOps api_key_file and global victorops_api_key_file is not allowed",
            );
        }
        self.http_opt(&g.http_config, "global")
    }

    fn http_opt(&self, h: &Option<HttpClientConfig>, path: &str) -> Result<()> {
        match h {
            Some(h) => self.http(h, &format!("{path}.http_config")),
            None => Ok(()),
        }
    }

    fn http(&self, h: &HttpClientConfig, path: &str) -> Result<()> {
        if let Some(b) = &h.basic_auth
            && set(&b.password_file)
        {
            return self.forbid(
                format!("{path}.basic_auth.password_file"),
                &self.password_file("setting password_file is not allowed"),
            );
        }
        let bearer = "setting bearer_token_file and credentials_file is not allowed";
        if let Some(a) = &h.authorization
            && set(&a.credentials_file)
        {
            return self.forbid(
                format!("{path}.authorization.credentials_file"),
                &self.password_file(bearer),
            );
        }
        if set(&h.bearer_token_file) {
            return self.forbid(
                format!("{path}.bearer_token_file"),
                &self.password_file(bearer),
            );
        }
        if let Some(o) = &h.oauth2 {
            if set(&o.client_secret_file) {
                return self.forbid(
                    format!("{path}.oauth2.client_secret_file"),
                    "setting OAuth2 client_secret_file is not allowed",
                );
            }
            // Mimir: its egress firewall does not cover the OAuth2 client.
            if set(&o.proxy_url) {
                return self.forbid(
                    format!("{path}.oauth2.proxy_url"),
                    "setting proxy_url is not allowed",
                );
            }
        }
        if let Some(t) = &h.tls_config {
            self.tls(t, &format!("{path}.tls_config"))?;
        }
        if let Some(o) = &h.oauth2
            && let Some(t) = &o.tls_config
        {
            self.tls(t, &format!("{path}.oauth2.tls_config"))?;
        }
        Ok(())
    }

    /// File-based TLS material. (Inline `ca`, `cert` and `key`, which Mimir also refuses,
    /// do not exist in Alertmanager 0.25: it refuses them as unknown fields.)
    fn tls(&self, t: &TlsConfig, path: &str) -> Result<()> {
        for (field, value) in [
            ("ca_file", &t.ca_file),
            ("cert_file", &t.cert_file),
            ("key_file", &t.key_file),
        ] {
            if set(value) {
                let message = match self.backend {
                    TenantBackend::Cortex => {
                        "setting TLS ca_file, cert_file and key_file is not allowed"
                    }
                    TenantBackend::Mimir => {
                        "setting TLS ca_file, cert_file, key_file, ca, cert or key is not allowed"
                    }
                };
                return self.forbid(format!("{path}.{field}"), message);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Authorization, BasicAuth, OAuth2, Receiver, Route, WebhookConfig};

    fn with_http(h: HttpClientConfig) -> Config {
        let mut c = Config::new(Route::new("r"));
        let mut r = Receiver::new("r");
        r.webhook_configs.push(WebhookConfig {
            http_config: Some(h),
            ..WebhookConfig::new("http://x")
        });
        c.receivers.push(r);
        c
    }

    fn message(rules: &TenantRules, c: &Config) -> String {
        match rules.check(c, &c.to_yaml()) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn file_settings_are_refused_with_cortex_and_mimir_wording() {
        let cortex = TenantRules::default();
        let mimir = TenantRules {
            backend: TenantBackend::Mimir,
            ..TenantRules::default()
        };
        let c = with_http(HttpClientConfig {
            basic_auth: Some(BasicAuth {
                password_file: Some("/p".into()),
                ..BasicAuth::default()
            }),
            ..HttpClientConfig::default()
        });
        assert_eq!(
            message(&cortex, &c),
            "receivers[0].webhook_configs[0].http_config.basic_auth.password_file: setting password_file is not allowed"
        );
        assert_eq!(
            message(&mimir, &c),
            "receivers[0].webhook_configs[0].http_config.basic_auth.password_file: setting smtp_auth_password_file, password_file, bearer_token_file, auth_password_file or credentials_file is not allowed"
        );
        let c = with_http(HttpClientConfig {
            authorization: Some(Authorization {
                credentials_file: Some("/c".into()),
                ..Authorization::default()
            }),
            ..HttpClientConfig::default()
        });
        assert!(
            message(&cortex, &c)
                .ends_with("setting bearer_token_file and credentials_file is not allowed")
        );
        let c = with_http(HttpClientConfig {
            oauth2: Some(OAuth2 {
                client_id: Some("i".into()),
                client_secret_file: Some("/s".into()),
                token_url: Some("http://t".into()),
                ..OAuth2::default()
            }),
            ..HttpClientConfig::default()
        });
        assert!(message(&cortex, &c).ends_with("setting OAuth2 client_secret_file is not allowed"));
        let c = with_http(HttpClientConfig {
            tls_config: Some(TlsConfig {
                key_file: Some("/k".into()),
                ..TlsConfig::default()
            }),
            ..HttpClientConfig::default()
        });
        assert!(
            message(&cortex, &c)
                .ends_with("setting TLS ca_file, cert_file and key_file is not allowed")
        );
        assert!(
            message(&mimir, &c).ends_with(
                "setting TLS ca_file, cert_file, key_file, ca, cert or key is not allowed"
            )
        );
        let mut c = with_http(HttpClientConfig::default());
        c.global = Some(GlobalConfig {
            slack_api_url_file: Some("/s".into()),
            ..GlobalConfig::default()
        });
        assert_eq!(
            message(&cortex, &c),
            "global.slack_api_url_file: setting Slack api_url_file and global slack_api_url_file is not allowed"
        );
    }

    #[test]
    fn limits_and_template_names() {
        let mut c = with_http(HttpClientConfig::default());
        c.templates = vec!["ok.tmpl".into(), "*.tmpl".into()];
        let mut rules = TenantRules::default();
        assert_eq!(message(&rules, &c), "ok");
        c.templates.push("dir/x.tmpl".into());
        assert_eq!(
            message(&rules, &c),
            "templates[2]: invalid template name \"dir/x.tmpl\": the template name cannot contain any path"
        );
        c.templates.pop();
        rules.template_files = BTreeMap::from([
            ("a.tmpl".to_string(), "x".repeat(10)),
            ("b.tmpl".to_string(), "y".repeat(20)),
        ]);
        rules.limits.max_templates_count = Some(1);
        assert_eq!(
            message(&rules, &c),
            "template_files: too many templates in the configuration: 2 (limit: 1)"
        );
        rules.limits.max_templates_count = None;
        rules.limits.max_template_size_bytes = Some(15);
        assert_eq!(
            message(&rules, &c),
            "template_files.b.tmpl: template b.tmpl is too big: 20 bytes (limit: 15 bytes)"
        );
        rules.limits.max_template_size_bytes = None;
        rules.limits.max_config_size_bytes = Some(10);
        assert_eq!(
            message(&rules, &c),
            "alertmanager_config: Alertmanager configuration is too big, limit: 10 bytes"
        );
    }
}
