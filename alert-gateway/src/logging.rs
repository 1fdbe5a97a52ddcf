//! Log output: logfmt (`ts=... level=info msg="..." key=value`) or JSON lines, as
//! Prometheus' and Alertmanager's `--log.format` offer.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs, one event a line.
    Logfmt,
    /// One JSON object a line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "logfmt" => Ok(LogFormat::Logfmt),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log format {other:?}: expected logfmt or json")),
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), output on
/// standard error.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(Format(format))
        .try_init();
}

struct Format(LogFormat);

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

fn logfmt_value(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\')
    {
        value.to_owned()
    } else {
        format!("{value:?}")
    }
}

/// The current time as RFC 3339 with milliseconds, UTC.
fn timestamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl<S, N> FormatEvent<S, N> for Format
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let level = meta.level().as_str().to_ascii_lowercase();
        let ts = timestamp();
        match self.0 {
            LogFormat::Logfmt => {
                write!(writer, "ts={ts} level={level} caller={}", meta.target())?;
                for (name, value) in &fields.0 {
                    let name = if name == "message" { "msg" } else { name };
                    write!(writer, " {name}={}", logfmt_value(value))?;
                }
                writeln!(writer)
            }
            LogFormat::Json => {
                let mut object = serde_json::Map::new();
                object.insert("ts".into(), ts.into());
                object.insert("level".into(), level.into());
                object.insert("caller".into(), meta.target().into());
                for (name, value) in fields.0 {
                    let name = if name == "message" {
                        "msg".to_owned()
                    } else {
                        name
                    };
                    object.insert(name, value.into());
                }
                writeln!(writer, "{}", serde_json::Value::Object(object))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_values_quote_when_needed() {
        assert_eq!(logfmt_value("plain"), "plain");
        assert_eq!(logfmt_value("two words"), "\"two words\"");
        assert_eq!(logfmt_value(""), "\"\"");
        assert_eq!(logfmt_value("a=b"), "\"a=b\"");
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert!("text".parse::<LogFormat>().is_err());
    }
}
