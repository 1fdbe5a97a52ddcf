//! One endpoint as one Alertmanager receiver.
//!
//! The receiver is named after the endpoint id and holds exactly one integration, the
//! endpoint's kind, with Alertmanager's field names. Three things need care for 0.25:
//! Microsoft Teams has no receiver type there (it arrived in 0.26), a webhook `timeout`
//! does not exist (0.28), and TLS takes a CA only from a file (`ca_file`), not inline
//! (`ca`). Those are refused with an error naming the endpoint, never dropped silently.
//! Webex's bot token travels as `http_config.authorization`, as Alertmanager wants it.

use alert_core::endpoint::{
    DiscordEndpoint, EmailEndpoint, OpsGenieEndpoint, PagerDutyEndpoint, PushoverEndpoint,
    SlackEndpoint, TelegramEndpoint, TelegramParseMode, VictorOpsEndpoint, WebexEndpoint,
    WebhookEndpoint,
};
use alert_core::{AlertEndpoint, EndpointKind, HttpClientOptions, TlsOptions};

use crate::builder::options::AlertmanagerVersion;
use crate::config::{
    Authorization, BasicAuth, DiscordConfig, EmailConfig, GoDuration, HttpClientConfig,
    OpsGenieConfig, OpsGenieResponder, PagerdutyConfig, PushoverConfig, Receiver, SlackConfig,
    TelegramConfig, TlsConfig, VictorOpsConfig, WebexConfig, WebhookConfig,
};
use crate::error::{Error, Result};

/// The receiver name of an endpoint: its id, unchanged. Ids are unique among endpoints
/// and cannot contain `:`, so they never collide with the builder's own receivers.
pub fn receiver_name(endpoint: &alert_core::EndpointId) -> &str {
    endpoint.as_str()
}

/// The path errors about an endpoint start with: `endpoints[<id>]`.
pub(crate) fn endpoint_path(endpoint: &AlertEndpoint) -> String {
    format!("endpoints[{}]", endpoint.id)
}

/// The receiver for `endpoint`, or [`Error::EndpointNotExpressible`] when `target` cannot
/// express it.
///
/// ```
/// use alert_core::AlertEndpoint;
/// use alert_router::builder::{AlertmanagerVersion, endpoint_receiver};
///
/// let endpoint: AlertEndpoint = serde_json::from_str(
///     r#"{"id": "pager", "pagerduty": {"routing_key": "abc"}}"#,
/// )?;
/// let receiver = endpoint_receiver(&endpoint, AlertmanagerVersion::V0_25)?;
/// assert_eq!(receiver.name, "pager");
/// assert_eq!(receiver.pagerduty_configs.len(), 1);
///
/// let teams: AlertEndpoint = serde_json::from_str(
///     r#"{"id": "teams", "msteams": {"webhook_url": "https://example.org/hook"}}"#,
/// )?;
/// let err = endpoint_receiver(&teams, AlertmanagerVersion::V0_25).unwrap_err();
/// assert!(err.to_string().starts_with("endpoints[teams].msteams: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn endpoint_receiver(
    endpoint: &AlertEndpoint,
    target: AlertmanagerVersion,
) -> Result<Receiver> {
    let AlertmanagerVersion::V0_25 = target;
    let at = Fields {
        path: format!("{}.{}", endpoint_path(endpoint), endpoint.kind.name()),
        target,
    };
    let send_resolved = endpoint.send_resolved;
    let mut receiver = Receiver::new(receiver_name(&endpoint.id));
    match &endpoint.kind {
        EndpointKind::Slack(e) => receiver.slack_configs.push(slack(e, send_resolved, &at)?),
        EndpointKind::Email(e) => receiver.email_configs.push(email(e, send_resolved, &at)?),
        EndpointKind::PagerDuty(e) => {
            receiver
                .pagerduty_configs
                .push(pagerduty(e, send_resolved, &at)?)
        }
        EndpointKind::Webhook(e) => receiver
            .webhook_configs
            .push(webhook(e, send_resolved, &at)?),
        EndpointKind::OpsGenie(e) => {
            receiver
                .opsgenie_configs
                .push(opsgenie(e, send_resolved, &at)?)
        }
        EndpointKind::Telegram(e) => {
            receiver
                .telegram_configs
                .push(telegram(e, send_resolved, &at)?)
        }
        EndpointKind::Discord(e) => receiver
            .discord_configs
            .push(discord(e, send_resolved, &at)?),
        EndpointKind::Webex(e) => receiver.webex_configs.push(webex(e, send_resolved, &at)?),
        EndpointKind::Pushover(e) => {
            receiver
                .pushover_configs
                .push(pushover(e, send_resolved, &at)?)
        }
        EndpointKind::VictorOps(e) => {
            receiver
                .victorops_configs
                .push(victorops(e, send_resolved, &at)?)
        }
        EndpointKind::MsTeams(_) => {
            return Err(at.refuse(format!(
                "endpoint {:?} is a Microsoft Teams webhook, which Alertmanager {} cannot \
                 express (msteams_configs arrived in 0.26)",
                endpoint.id.as_str(),
                target.as_str()
            )));
        }
    }
    Ok(receiver)
}

/// Where the integration's fields are, for errors.
struct Fields {
    path: String,
    target: AlertmanagerVersion,
}

impl Fields {
    fn refuse(&self, message: String) -> Error {
        self.refuse_at("", message)
    }

    fn refuse_at(&self, field: &str, message: String) -> Error {
        let path = if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        };
        Error::EndpointNotExpressible { path, message }
    }

    fn http(&self, http: Option<&HttpClientOptions>) -> Result<Option<HttpClientConfig>> {
        http.map(|h| self.http_config(h)).transpose()
    }

    fn http_config(&self, h: &HttpClientOptions) -> Result<HttpClientConfig> {
        Ok(HttpClientConfig {
            basic_auth: h.basic_auth.as_ref().map(|b| BasicAuth {
                username: Some(b.username.clone()),
                password: b.password.clone(),
                password_file: None,
            }),
            authorization: h.bearer_token.as_ref().map(|token| Authorization {
                r#type: Some("Bearer".to_owned()),
                credentials: Some(token.clone()),
                credentials_file: None,
            }),
            proxy_url: h.proxy_url.clone(),
            tls_config: h
                .tls_config
                .as_ref()
                .map(|t| self.tls(t, "http_config.tls_config"))
                .transpose()?,
            follow_redirects: h.follow_redirects,
            enable_http2: h.enable_http2,
            ..HttpClientConfig::default()
        })
    }

    fn tls(&self, t: &TlsOptions, field: &str) -> Result<TlsConfig> {
        if t.ca.is_some() {
            return Err(self.refuse_at(
                &format!("{field}.ca"),
                format!(
                    "Alertmanager {} reads a CA bundle only from a file: use ca_file \
                     instead of an inline ca",
                    self.target.as_str()
                ),
            ));
        }
        Ok(TlsConfig {
            ca_file: t.ca_file.clone(),
            cert_file: t.cert_file.clone(),
            key_file: t.key_file.clone(),
            server_name: t.server_name.clone(),
            insecure_skip_verify: t.insecure_skip_verify.then_some(true),
            min_version: None,
            max_version: None,
        })
    }
}

fn slack(e: &SlackEndpoint, send_resolved: Option<bool>, at: &Fields) -> Result<SlackConfig> {
    Ok(SlackConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        api_url: Some(e.api_url.clone()),
        channel: e.channel.clone(),
        username: e.username.clone(),
        color: e.color.clone(),
        title: e.title.clone(),
        title_link: e.title_link.clone(),
        pretext: e.pretext.clone(),
        text: e.text.clone(),
        footer: e.footer.clone(),
        fallback: e.fallback.clone(),
        icon_emoji: e.icon_emoji.clone(),
        icon_url: e.icon_url.clone(),
        link_names: e.link_names,
        ..SlackConfig::default()
    })
}

fn email(e: &EmailEndpoint, send_resolved: Option<bool>, at: &Fields) -> Result<EmailConfig> {
    Ok(EmailConfig {
        send_resolved,
        to: Some(e.to.clone()),
        from: Some(e.from.clone()),
        hello: e.hello.clone(),
        smarthost: Some(e.smarthost.clone()),
        auth_username: e.auth_username.clone(),
        auth_password: e.auth_password.clone(),
        auth_password_file: None,
        auth_secret: e.auth_secret.clone(),
        auth_identity: e.auth_identity.clone(),
        headers: e.headers.clone(),
        html: e.html.clone(),
        text: e.text.clone(),
        require_tls: e.require_tls,
        tls_config: e
            .tls_config
            .as_ref()
            .map(|t| at.tls(t, "tls_config"))
            .transpose()?,
    })
}

fn pagerduty(
    e: &PagerDutyEndpoint,
    send_resolved: Option<bool>,
    at: &Fields,
) -> Result<PagerdutyConfig> {
    Ok(PagerdutyConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        service_key: e.service_key.clone(),
        routing_key: e.routing_key.clone(),
        url: e.url.clone(),
        client: e.client.clone(),
        client_url: e.client_url.clone(),
        description: e.description.clone(),
        details: e.details.clone(),
        severity: e.severity.clone(),
        class: e.class.clone(),
        component: e.component.clone(),
        group: e.group.clone(),
        ..PagerdutyConfig::default()
    })
}

fn webhook(e: &WebhookEndpoint, send_resolved: Option<bool>, at: &Fields) -> Result<WebhookConfig> {
    if let Some(timeout) = e.timeout {
        return Err(at.refuse_at(
            "timeout",
            format!(
                "Alertmanager {} has no webhook timeout (it arrived in 0.28): remove \
                 timeout {timeout}",
                at.target.as_str()
            ),
        ));
    }
    Ok(WebhookConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        url: Some(e.url.clone()),
        max_alerts: (e.max_alerts != 0).then_some(e.max_alerts),
    })
}

fn opsgenie(
    e: &OpsGenieEndpoint,
    send_resolved: Option<bool>,
    at: &Fields,
) -> Result<OpsGenieConfig> {
    Ok(OpsGenieConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        api_key: Some(e.api_key.clone()),
        api_key_file: None,
        api_url: e.api_url.clone(),
        message: e.message.clone(),
        description: e.description.clone(),
        source: e.source.clone(),
        details: e.details.clone(),
        entity: e.entity.clone(),
        responders: e
            .responders
            .iter()
            .map(|r| OpsGenieResponder {
                id: r.id.clone(),
                name: r.name.clone(),
                username: r.username.clone(),
                r#type: Some(r.kind.clone()),
            })
            .collect(),
        actions: e.actions.clone(),
        tags: e.tags.clone(),
        note: e.note.clone(),
        priority: e.priority.clone(),
        update_alerts: e.update_alerts,
    })
}

fn telegram(
    e: &TelegramEndpoint,
    send_resolved: Option<bool>,
    at: &Fields,
) -> Result<TelegramConfig> {
    Ok(TelegramConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        api_url: e.api_url.clone(),
        bot_token: Some(e.bot_token.clone()),
        chat_id: Some(e.chat_id),
        message: e.message.clone(),
        disable_notifications: e.disable_notifications,
        parse_mode: e.parse_mode.map(|mode| {
            match mode {
                TelegramParseMode::Markdown => "Markdown",
                TelegramParseMode::MarkdownV2 => "MarkdownV2",
                TelegramParseMode::Html => "HTML",
            }
            .to_owned()
        }),
    })
}

fn discord(e: &DiscordEndpoint, send_resolved: Option<bool>, at: &Fields) -> Result<DiscordConfig> {
    Ok(DiscordConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        webhook_url: Some(e.webhook_url.clone()),
        title: e.title.clone(),
        message: e.message.clone(),
    })
}

fn webex(e: &WebexEndpoint, send_resolved: Option<bool>, at: &Fields) -> Result<WebexConfig> {
    let mut http = at.http(e.http_config.as_ref())?.unwrap_or_default();
    http.authorization = Some(Authorization {
        r#type: None,
        credentials: Some(e.bot_token.clone()),
        credentials_file: None,
    });
    Ok(WebexConfig {
        send_resolved,
        http_config: Some(http),
        api_url: e.api_url.clone(),
        message: e.message.clone(),
        room_id: Some(e.room_id.clone()),
    })
}

fn pushover(
    e: &PushoverEndpoint,
    send_resolved: Option<bool>,
    at: &Fields,
) -> Result<PushoverConfig> {
    // Prometheus durations are whole milliseconds and at most Go's range, so this is
    // exact; saturate rather than wrap should that ever change.
    let go = |d: alert_core::Duration| {
        let nanos = i64::try_from(d.as_millis())
            .ok()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .unwrap_or(i64::MAX);
        GoDuration::from_nanos(nanos)
    };
    Ok(PushoverConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        user_key: Some(e.user_key.clone()),
        token: Some(e.token.clone()),
        title: e.title.clone(),
        message: e.message.clone(),
        url: e.url.clone(),
        url_title: e.url_title.clone(),
        sound: e.sound.clone(),
        priority: e.priority.clone(),
        retry: e.retry.map(go),
        expire: e.expire.map(go),
        html: e.html,
    })
}

fn victorops(
    e: &VictorOpsEndpoint,
    send_resolved: Option<bool>,
    at: &Fields,
) -> Result<VictorOpsConfig> {
    Ok(VictorOpsConfig {
        send_resolved,
        http_config: at.http(e.http_config.as_ref())?,
        api_key: Some(e.api_key.clone()),
        api_key_file: None,
        api_url: e.api_url.clone(),
        routing_key: Some(e.routing_key.clone()),
        message_type: e.message_type.clone(),
        state_message: e.state_message.clone(),
        entity_display_name: e.entity_display_name.clone(),
        monitoring_tool: e.monitoring_tool.clone(),
        custom_fields: e.custom_fields.clone(),
    })
}
