//! One hand-written configuration per Alertmanager 0.25 loading rule, with the message
//! Alertmanager prints. Every case is checked twice: the real `amtool check-config` must
//! print that message (so the table is right), and `Config::from_yaml` must fail with the
//! same message and name the expected path.

mod check_config_support;

use alert_router::config::Config;
use check_config_support::amtool_check_all;

/// (YAML, Alertmanager's message, the path our error names).
const CASES: &[(&str, &str, &str)] = &[
    // Strict decoding: unknown and repeated fields, types, map keys.
    (
        "route:\n  receiver: r\n  recevier: x\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 3: field recevier not found in type config.plain",
        "route.recevier",
    ),
    (
        "route:\n  receiver: r\n  receiver: s\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 3: field receiver already set in type config.plain",
        "route.receiver",
    ),
    (
        "route:\n  receiver: r\n  routes:\n  - continue: maybe\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `maybe` into bool",
        "route.routes[0].continue",
    ),
    (
        "route:\n  receiver: r\n  routes: {a: b}\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!map into []*config.Route",
        "route.routes",
    ),
    (
        "route:\n  receiver: r\n  group_by: abcdefghijklmnop\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `abcdefg...` into []string",
        "route.group_by",
    ),
    (
        "route:\n  receiver: r\n  routes:\n  - match: {a: 1, a: 2}\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 4: key \"a\" already set in map",
        "route.routes[0].match.a",
    ),
    (
        "route:\n  receiver: r\nreceivers:\n- name: r\n  msteams_configs: [{webhook_url: 'http://x'}]\n",
        "yaml: unmarshal errors:\n  line 5: field msteams_configs not found in type config.plain",
        "receivers[0].msteams_configs",
    ),
    (
        "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x\n    http_config:\n      tls_config:\n        ca: foo\n",
        "yaml: unmarshal errors:\n  line 9: field ca not found in type config.plain",
        "receivers[0].webhook_configs[0].http_config.tls_config.ca",
    ),
    (
        "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: {a: b}\n",
        "yaml: unmarshal errors:\n  line 6: cannot unmarshal !!map into string",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x\n    max_alerts: -1\n",
        "yaml: unmarshal errors:\n  line 7: cannot unmarshal !!int `-1` into uint64",
        "receivers[0].webhook_configs[0].max_alerts",
    ),
    (
        "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x\n    http_config: {bearer_token: [a]}\n",
        "yaml: unmarshal errors:\n  line 7: cannot unmarshal !!seq into config.plain",
        "receivers[0].webhook_configs[0].http_config.bearer_token",
    ),
    (
        "time_intervals:\n- name: t\n  time_intervals:\n  - times:\n    - start_time: '10:00'\n      stop_time: '11:00'\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 6: field stop_time not found in type timeinterval.yamlTimeRange",
        "time_intervals[0].time_intervals[0].times[0].stop_time",
    ),
    (
        "route: foo\n",
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `foo` into config.plain",
        "route",
    ),
    (
        "route:\n  receiver: r\n  routes:\n  - continue: \"yes\"\n  - continue: yes\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `yes` into bool",
        "route.routes[0].continue",
    ),
    // yaml.v2's null rule: `null` and `~`, quoted or not, never reach a custom decoder;
    // `Null` does.
    (
        "route: {receiver: r, group_wait: Null}\nreceivers: [{name: r}]\n",
        "empty duration string",
        "route.group_wait",
    ),
    (
        "route: Null\nreceivers: [{name: r}]\n",
        "root route must specify a default receiver",
        "route.receiver",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: \"null\"}]}]\n",
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `null` into *config.URL",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "route: {receiver: r, routes: [{match_re: {a: \"~\"}}]}\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `~` into config.Regexp",
        "route.routes[0].match_re.a",
    ),
    (
        "route: {receiver: r}\nreceivers: ['~']\n",
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `~` into *config.Receiver",
        "receivers[0]",
    ),
    (
        "route: {receiver: r, routes: [{matchers: ['a=b'], group_by: ~, group_wait: ~}, {matchers: 'null'}]}\nreceivers: [{name: r}]\n",
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `null` into config.Matchers",
        "route.routes[1].matchers",
    ),
    (
        "\"null\"\n",
        "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `null` into config.Config",
        "",
    ),
    (
        "route:\n  receiver: r\n  routes:\n  - matchers:\n    - |\n      {quote=~\"x\"}\nreceivers: [{name: r}]\n",
        "matcher value contains unescaped double quote: \"x\"}",
        "route.routes[0].matchers[0]",
    ),
    // Syntax.
    (
        "route:\n  receiver: r\n   foo: 1\n",
        "yaml: line 3: mapping values are not allowed in this context",
        "",
    ),
    (
        "route: {receiver: r\nreceivers: [{name: r}]\n",
        "yaml: line 1: did not find expected ',' or '}'",
        "",
    ),
    (
        "route:\n\treceiver: r\n",
        "yaml: line 2: found character that cannot start any token",
        "",
    ),
    (
        "route: {receiver: \"r}\n",
        "yaml: line 2: found unexpected end of stream",
        "",
    ),
    (
        "route:\n  receiver: r\n routes: []\n",
        "yaml: line 2: did not find expected key",
        "",
    ),
    (
        "route: {receiver: r: x}\n",
        "yaml: did not find expected ',' or '}'",
        "",
    ),
    (
        "route: {receiver: *nope}\n",
        "yaml: unknown anchor 'nope' referenced",
        "",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\nx: \"\u{1}\"\n",
        "yaml: control characters are not allowed",
        "",
    ),
    (
        "route:\n  <<: foo\n  receiver: r\nreceivers: [{name: r}]\n",
        "yaml: map merge requires map or sequence of maps as the value",
        "",
    ),
    (
        "route: [a, b\n",
        "yaml: line 1: did not find expected ',' or ']'",
        "",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: \"r\\q\"}]\n",
        "yaml: line 2: found unknown escape character",
        "",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\n? [a]\n: b\n",
        "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string",
        "",
    ),
    // Whole file.
    ("", "no route provided in config", ""),
    ("# nothing here\n", "no route provided in config", ""),
    ("receivers: [{name: r}]\n", "no routes provided", "route"),
    // Root route.
    (
        "route: {group_by: [a]}\nreceivers: [{name: r}]\n",
        "root route must specify a default receiver",
        "route.receiver",
    ),
    (
        "route: {receiver: r, match: {a: b}}\nreceivers: [{name: r}]\n",
        "root route must not have any matchers",
        "route.matchers",
    ),
    (
        "route: {receiver: r, matchers: ['a=b']}\nreceivers: [{name: r}]\n",
        "root route must not have any matchers",
        "route.matchers",
    ),
    (
        "route: {receiver: r, mute_time_intervals: [t]}\nreceivers: [{name: r}]\ntime_intervals: [{name: t}]\n",
        "root route must not have any mute time intervals",
        "route.mute_time_intervals",
    ),
    (
        "route: {receiver: r, active_time_intervals: [t]}\nreceivers: [{name: r}]\ntime_intervals: [{name: t}]\n",
        "root route must not have any active time intervals",
        "route.active_time_intervals",
    ),
    (
        "route: {receiver: r, continue: true}\nreceivers: [{name: r}]\n",
        "cannot have continue in root route",
        "route.continue",
    ),
    // References and names.
    (
        "route:\n  receiver: r\n  routes:\n  - receiver: a\n  - routes: [{receiver: b}]\nreceivers: [{name: r}]\n",
        "undefined receiver \"a\" used in route",
        "route.routes[0].receiver",
    ),
    (
        "route:\n  receiver: nope\n  routes:\n  - routes: [{receiver: deep}]\nreceivers: [{name: r}]\n",
        "undefined receiver \"deep\" used in route",
        "route.routes[0].routes[0].receiver",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}, {name: r}]\n",
        "notification config name \"r\" is not unique",
        "receivers[1].name",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}, {webhook_configs: [{url: 'http://x'}]}]\n",
        "missing name in receiver",
        "receivers[1].name",
    ),
    (
        "route: {receiver: r, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: r}]\n",
        "undefined time interval \"nope\" used in route",
        "route.routes[0].mute_time_intervals[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\nmute_time_intervals: [{name: t}]\ntime_intervals: [{name: t}]\n",
        "time interval \"t\" is not unique",
        "time_intervals[0].name",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\nmute_time_intervals: [{name: t}, {name: t}]\n",
        "mute time interval \"t\" is not unique",
        "mute_time_intervals[1].name",
    ),
    // Route fields.
    (
        "route: {receiver: r, routes: [{match: {1abc: x}}]}\nreceivers: [{name: r}]\n",
        "invalid label name \"1abc\"",
        "route.routes[0].match.1abc",
    ),
    (
        "route: {receiver: r, routes: [{match_re: {a-b: x}}]}\nreceivers: [{name: r}]\n",
        "invalid label name \"a-b\"",
        "route.routes[0].match_re.a-b",
    ),
    (
        "route: {receiver: r, routes: [{match_re: {a: ~}}]}\nreceivers: [{name: r}]\n",
        "invalid regexp value for \"a\"",
        "route.routes[0].match_re.a",
    ),
    (
        "route: {receiver: r, routes: [{match_re: {a: '(unclosed'}}]}\nreceivers: [{name: r}]\n",
        "error parsing regexp: missing closing ): `^(?:(unclosed)$`",
        "route.routes[0].match_re.a",
    ),
    (
        "route: {receiver: r, group_by: [foo-bar]}\nreceivers: [{name: r}]\n",
        "invalid label name \"foo-bar\" in group_by list",
        "route.group_by[0]",
    ),
    (
        "route: {receiver: r, group_by: ['...', a]}\nreceivers: [{name: r}]\n",
        "cannot have wildcard group_by (`...`) and other other labels at the same time",
        "route.group_by",
    ),
    (
        "route: {receiver: r, group_by: [a, b, a]}\nreceivers: [{name: r}]\n",
        "duplicated label \"a\" in group_by",
        "route.group_by",
    ),
    (
        "route: {receiver: r, group_interval: 0s}\nreceivers: [{name: r}]\n",
        "group_interval cannot be zero",
        "route.group_interval",
    ),
    (
        "route: {receiver: r, repeat_interval: 0}\nreceivers: [{name: r}]\n",
        "repeat_interval cannot be zero",
        "route.repeat_interval",
    ),
    (
        "route: {receiver: r, group_wait: 5x}\nreceivers: [{name: r}]\n",
        "not a valid duration string: \"5x\"",
        "route.group_wait",
    ),
    (
        "route: {receiver: r, group_wait: 1.5m}\nreceivers: [{name: r}]\n",
        "not a valid duration string: \"1.5m\"",
        "route.group_wait",
    ),
    (
        "route: {receiver: r, group_wait: ''}\nreceivers: [{name: r}]\n",
        "empty duration string",
        "route.group_wait",
    ),
    (
        "route: {receiver: r, routes: [{matchers: [foo]}]}\nreceivers: [{name: r}]\n",
        "bad matcher format: foo",
        "route.routes[0].matchers[0]",
    ),
    (
        "route: {receiver: r, routes: [{matchers: ['a=\"x\"y\"']}]}\nreceivers: [{name: r}]\n",
        "matcher value contains unescaped double quote: \"x\"y\"",
        "route.routes[0].matchers[0]",
    ),
    (
        "route: {receiver: r, routes: [{matchers: ['a=~\"(\"']}]}\nreceivers: [{name: r}]\n",
        "error parsing regexp: missing closing ): `^(?:()$`",
        "route.routes[0].matchers[0]",
    ),
    // Inhibition rules.
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{source_match: {1bad: x}}]\n",
        "invalid label name \"1bad\"",
        "inhibit_rules[0].source_match.1bad",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{target_match_re: {a: '['}}]\n",
        "error parsing regexp: missing closing ]: `[)$`",
        "inhibit_rules[0].target_match_re.a",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{equal: [bad-label]}]\n",
        "\"bad-label\" is not a valid label name",
        "inhibit_rules[0].equal[0]",
    ),
    // Time intervals.
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{time_intervals: []}]\n",
        "missing name in time interval",
        "time_intervals[0].name",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\nmute_time_intervals: [{time_intervals: []}]\n",
        "missing name in mute time interval",
        "mute_time_intervals[0].name",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{weekdays: [Funday]}]}]\n",
        "funday is not a valid weekday",
        "time_intervals[0].time_intervals[0].weekdays[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{weekdays: ['friday:monday']}]}]\n",
        "start day cannot be before end day",
        "time_intervals[0].time_intervals[0].weekdays[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: '17:00', end_time: '09:00'}]}]}]\n",
        "start time cannot be equal or greater than end time",
        "time_intervals[0].time_intervals[0].times[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: '09:00'}]}]}]\n",
        "both start and end times must be provided",
        "time_intervals[0].time_intervals[0].times[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: '9:00', end_time: '10:00'}]}]}]\n",
        "couldn't parse timestamp 9:00, invalid format",
        "time_intervals[0].time_intervals[0].times[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{days_of_month: ['0']}]}]\n",
        "0 is not a valid day of the month: out of range",
        "time_intervals[0].time_intervals[0].days_of_month[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{days_of_month: ['-1:5']}]}]\n",
        "end day must be negative if start day is negative",
        "time_intervals[0].time_intervals[0].days_of_month[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{days_of_month: ['x']}]}]\n",
        "strconv.Atoi: parsing \"x\": invalid syntax",
        "time_intervals[0].time_intervals[0].days_of_month[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{months: ['march:january']}]}]\n",
        "end month january is before start month march",
        "time_intervals[0].time_intervals[0].months[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{months: [smarch]}]}]\n",
        "smarch is not a valid month",
        "time_intervals[0].time_intervals[0].months[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{years: ['2021:2020']}]}]\n",
        "end year 2020 is before start year 2021",
        "time_intervals[0].time_intervals[0].years[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{location: Mars/Olympus}]}]\n",
        "unknown time zone Mars/Olympus",
        "time_intervals[0].time_intervals[0].location",
    ),
    // URLs and addresses.
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'ftp://x'}]}]\n",
        "unsupported scheme \"ftp\" for URL",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://'}]}]\n",
        "missing host for URL",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x:y'}]}]\n",
        "parse \"http://x:y\": invalid port \":y\" after host",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "global: {smtp_smarthost: localhost}\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "address localhost: missing port in address",
        "global.smtp_smarthost",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {proxy_url: '%zz'}}]}]\n",
        "parse \"%zz\": invalid URL escape \"%zz\"",
        "receivers[0].webhook_configs[0].http_config.proxy_url",
    ),
    // Global section.
    (
        "global: {slack_api_url: 'http://x', slack_api_url_file: /f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "at most one of slack_api_url & slack_api_url_file must be configured",
        "global",
    ),
    (
        "global: {opsgenie_api_key: k, opsgenie_api_key_file: /f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
        "global",
    ),
    (
        "global: {victorops_api_key: k, victorops_api_key_file: /f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "at most one of victorops_api_key & victorops_api_key_file must be configured",
        "global",
    ),
    (
        "global: {smtp_auth_password: k, smtp_auth_password_file: /f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
        "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
        "global",
    ),
    (
        "global: {pagerduty_url: ~}\nroute: {receiver: r}\nreceivers: [{name: r, pagerduty_configs: [{routing_key: k}]}]\n",
        "no global PagerDuty URL set",
        "receivers[0].pagerduty_configs[0].url",
    ),
    // Integrations.
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{send_resolved: true}]}]\n",
        "missing URL in webhook config",
        "receivers[0].webhook_configs[0].url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, email_configs: [{from: a@b}]}]\n",
        "missing to address in email config",
        "receivers[0].email_configs[0].to",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, email_configs: [{to: a, headers: {subject: a, SUBJECT: b}}]}]\n",
        "duplicate header \"Subject\" in email config",
        "receivers[0].email_configs[0].headers.subject",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, email_configs: [{to: a}]}]\n",
        "no global SMTP smarthost set",
        "receivers[0].email_configs[0].smarthost",
    ),
    (
        "global: {smtp_smarthost: 'localhost:25'}\nroute: {receiver: r}\nreceivers: [{name: r, email_configs: [{to: a}]}]\n",
        "no global SMTP from set",
        "receivers[0].email_configs[0].from",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pagerduty_configs: [{severity: x}]}]\n",
        "missing service or routing key in PagerDuty config",
        "receivers[0].pagerduty_configs[0].routing_key",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pagerduty_configs: [{routing_key: a, routing_key_file: /f}]}]\n",
        "at most one of routing_key & routing_key_file must be configured",
        "receivers[0].pagerduty_configs[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pagerduty_configs: [{service_key: a, service_key_file: /f}]}]\n",
        "at most one of service_key & service_key_file must be configured",
        "receivers[0].pagerduty_configs[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', api_url_file: /f}]}]\n",
        "at most one of api_url & api_url_file must be configured",
        "receivers[0].slack_configs[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{channel: '#x'}]}]\n",
        "no global Slack API URL set either inline or in a file",
        "receivers[0].slack_configs[0].api_url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', actions: [{text: t}]}]}]\n",
        "missing type in Slack action configuration",
        "receivers[0].slack_configs[0].actions[0].type",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', actions: [{type: button}]}]}]\n",
        "missing text in Slack action configuration",
        "receivers[0].slack_configs[0].actions[0].text",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', actions: [{type: button, text: t}]}]}]\n",
        "missing name or url in Slack action configuration",
        "receivers[0].slack_configs[0].actions[0].url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', actions: [{type: button, text: t, name: n, confirm: {title: x}}]}]}]\n",
        "missing text in Slack confirmation configuration",
        "receivers[0].slack_configs[0].actions[0].confirm.text",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', fields: [{value: v}]}]}]\n",
        "missing title in Slack field configuration",
        "receivers[0].slack_configs[0].fields[0].title",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, slack_configs: [{api_url: 'http://x', fields: [{title: t}]}]}]\n",
        "missing value in Slack field configuration",
        "receivers[0].slack_configs[0].fields[0].value",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, opsgenie_configs: [{api_key: k, api_key_file: /f}]}]\n",
        "at most one of api_key & api_key_file must be configured",
        "receivers[0].opsgenie_configs[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, opsgenie_configs: [{api_key: k, responders: [{type: team}]}]}]\n",
        "opsGenieConfig responder {   team} has to have at least one of id, username or name specified",
        "receivers[0].opsgenie_configs[0].responders[0]",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, opsgenie_configs: [{api_key: k, responders: [{id: a, type: Foo}]}]}]\n",
        "opsGenieConfig responder {a   foo} type does not match valid options ^(team|teams|user|escalation|schedule)$",
        "receivers[0].opsgenie_configs[0].responders[0].type",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, opsgenie_configs: [{message: m}]}]\n",
        "no global OpsGenie API Key set either inline or in a file",
        "receivers[0].opsgenie_configs[0].api_key",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, wechat_configs: [{api_secret: s, corp_id: c, message_type: html}]}]\n",
        "weChat message type \"html\" does not match valid options ^(text|markdown)$",
        "receivers[0].wechat_configs[0].message_type",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, wechat_configs: [{corp_id: c}]}]\n",
        "no global Wechat ApiSecret set",
        "receivers[0].wechat_configs[0].api_secret",
    ),
    (
        "global: {wechat_api_secret: s}\nroute: {receiver: r}\nreceivers: [{name: r, wechat_configs: [{message: m}]}]\n",
        "no global Wechat CorpID set",
        "receivers[0].wechat_configs[0].corp_id",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, victorops_configs: [{api_key: k}]}]\n",
        "missing Routing key in VictorOps config",
        "receivers[0].victorops_configs[0].routing_key",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, victorops_configs: [{api_key: k, routing_key: r, custom_fields: {entity_state: x}}]}]\n",
        "victorOps config contains custom field entity_state which cannot be used as it conflicts with the fixed/static fields",
        "receivers[0].victorops_configs[0].custom_fields.entity_state",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, victorops_configs: [{routing_key: r}]}]\n",
        "no global VictorOps API Key set",
        "receivers[0].victorops_configs[0].api_key",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pushover_configs: [{token: t}]}]\n",
        "missing user key in Pushover config",
        "receivers[0].pushover_configs[0].user_key",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pushover_configs: [{user_key: u}]}]\n",
        "missing token in Pushover config",
        "receivers[0].pushover_configs[0].token",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, pushover_configs: [{user_key: u, token: t, retry: 5}]}]\n",
        "time: missing unit in duration \"5\"",
        "receivers[0].pushover_configs[0].retry",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, sns_configs: [{topic_arn: a, phone_number: p}]}]\n",
        "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
        "receivers[0].sns_configs[0].topic_arn",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, sns_configs: [{topic_arn: a, sigv4: {access_key: k}}]}]\n",
        "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
        "receivers[0].sns_configs[0].sigv4",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, telegram_configs: [{chat_id: 1}]}]\n",
        "missing bot_token on telegram_config",
        "receivers[0].telegram_configs[0].bot_token",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, telegram_configs: [{bot_token: t}]}]\n",
        "missing chat_id on telegram_config",
        "receivers[0].telegram_configs[0].chat_id",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, telegram_configs: [{bot_token: t, chat_id: 5, parse_mode: md}]}]\n",
        "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string",
        "receivers[0].telegram_configs[0].parse_mode",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, discord_configs: [{title: t}]}]\n",
        "no discord webhook URL provided",
        "receivers[0].discord_configs[0].webhook_url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webex_configs: [{http_config: {authorization: {credentials: c}}}]}]\n",
        "missing room_id on webex_config",
        "receivers[0].webex_configs[0].room_id",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webex_configs: [{room_id: x}]}]\n",
        "missing webex_configs.http_config.authorization",
        "receivers[0].webex_configs[0].http_config.authorization",
    ),
    // http_config (prometheus/common).
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {bearer_token: a, bearer_token_file: /f}}]}]\n",
        "at most one of bearer_token & bearer_token_file must be configured",
        "receivers[0].webhook_configs[0].http_config",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {basic_auth: {username: u}, bearer_token: a}}]}]\n",
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        "receivers[0].webhook_configs[0].http_config",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {basic_auth: {password: p, password_file: /f}}}]}]\n",
        "at most one of basic_auth password & password_file must be configured",
        "receivers[0].webhook_configs[0].http_config",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {authorization: {type: Basic}}}]}]\n",
        "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        "receivers[0].webhook_configs[0].http_config.authorization.type",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {authorization: {credentials: c}, basic_auth: {username: u}}}]}]\n",
        "at most one of basic_auth, oauth2 & authorization must be configured",
        "receivers[0].webhook_configs[0].http_config",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {oauth2: {client_secret: s, token_url: 'http://t'}}}]}]\n",
        "oauth2 client_id must be configured",
        "receivers[0].webhook_configs[0].http_config.oauth2.client_id",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {proxy_connect_header: {a: [b]}}}]}]\n",
        "if proxy_connect_header is configured proxy_url must also be configured",
        "receivers[0].webhook_configs[0].http_config.proxy_url",
    ),
    (
        "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url: 'http://x', http_config: {tls_config: {min_version: TLS9}}}]}]\n",
        "unknown TLS version: TLS9",
        "receivers[0].webhook_configs[0].http_config.tls_config.min_version",
    ),
];

/// Configurations `amtool check-config` accepts although they look odd.
const ACCEPTED: &[&str] = &[
    "route: {receiver: r, group_wait: 0s}\nreceivers: [{name: r}, {name: unused}]\n",
    "route: {receiver: r, routes: [{}, {receiver: r}]}\nreceivers: [{name: r}]\ninhibit_rules: [{}]\n",
    "route: {receiver: r, group_by: []}\nreceivers: [{name: r}]\n",
    "route: {receiver: r, routes: [{continue: yes, matchers: ['{}', 'a=b,']}]}\nreceivers: [{name: r}]\n",
    "route: {receiver: r}\nreceivers: [{name: r, sns_configs: [{topic_arn: a, target_arn: b, phone_number: c}]}]\n",
    "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: t, time_intervals: [{months: ['13'], times: []}]}]\n",
    "route:\n  <<: {receiver: r}\n  group_by: [a]\nreceivers: [{name: r, webhook_configs: [{url: 'http://h', max_alerts: 0x10}]}]\n",
    "route: {receiver: \"yes\"}\nreceivers: [{name: \"yes\", slack_configs: [{api_url: '<secret>'}]}]\n",
    "route: {receiver: r, routes: [{match_re: {a: !!str null}}]}\nreceivers: [{name: r}]\ninhibit_rules: [{equal: [\"~\", 'null']}]\n",
    "route: {receiver: r, routes: [{group_wait: ~, group_by: ~, matchers: ~, match_re: null}]}\nreceivers: [{name: r}]\nglobal: ~\n",
    "route:\n  receiver: r\n  routes:\n  - matchers:\n    - |-\n      {quote=~\"x\"}\nreceivers: [{name: r}]\n",
    "\u{feff}route: {receiver: r}\nreceivers: [{name: r}]\n",
    "%YAML 1.1\n---\nroute: {receiver: r}\nreceivers: [{name: r}]\n...\nfoo\n",
    "route: !!map {receiver: r}\nreceivers: [{name: r}]\n",
];

#[test]
fn every_rule_matches_real_amtool_and_our_reader() {
    let mut texts: Vec<String> = CASES.iter().map(|(y, _, _)| (*y).to_string()).collect();
    texts.extend(ACCEPTED.iter().map(|y| (*y).to_string()));
    let verdicts = amtool_check_all(&texts);
    let mut problems = Vec::new();
    for (i, (yaml, message, path)) in CASES.iter().enumerate() {
        match &verdicts[i].failure {
            Some(m) if m == message => {}
            other => problems.push(format!(
                "case {i}: amtool says {other:?}, table says {message:?}\n{yaml}"
            )),
        }
        match Config::from_yaml(yaml) {
            Ok(_) => problems.push(format!("case {i}: we accept, amtool rejects\n{yaml}")),
            Err(e) => {
                if e.alertmanager_message() != *message {
                    problems.push(format!(
                        "case {i}: we say {:?}, want {message:?}\n{yaml}",
                        e.alertmanager_message()
                    ));
                }
                if e.path().unwrap_or("") != *path {
                    problems.push(format!(
                        "case {i}: path {:?}, want {path:?} ({e})",
                        e.path()
                    ));
                }
            }
        }
    }
    for (j, yaml) in ACCEPTED.iter().enumerate() {
        let v = &verdicts[CASES.len() + j];
        if v.failure.is_some() {
            problems.push(format!("accepted {j}: amtool says {:?}\n{yaml}", v.failure));
        }
        let ours = Config::from_yaml(yaml);
        if v.failure.is_none() != ours.is_ok() {
            problems.push(format!(
                "accepted {j}: amtool {:?}, ours {:?}\n{yaml}",
                v.failure,
                ours.err().map(|e| e.to_string())
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
