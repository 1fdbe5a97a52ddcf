//! Silences: state at instants, muting, Alertmanager 0.25's validation messages, and the
//! API v2 JSON shape. `silence_live.rs` checks the same facts against a real
//! Alertmanager 0.25.

use alert_core::silence::{ApiMatcher, PostableSilence};
use alert_core::{
    Error, LabelSet, MatchType, Matcher, Matchers, ParserMode, Silence, SilenceState,
    SilenceStatus, Timestamp, parse_matchers,
};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

fn silence(matchers: &str, starts: &str, ends: &str) -> Silence {
    Silence {
        id: "0b1b3e2a-9f6c-4d1e-8a55-6c1f2f3a4b5c".into(),
        matchers: parse_matchers(matchers, ParserMode::Classic).expect("valid matchers"),
        starts_at: ts(starts),
        ends_at: ts(ends),
        created_by: "oncall".into(),
        comment: "maintenance".into(),
        status: SilenceStatus {
            state: SilenceState::Active,
        },
        updated_at: ts(starts),
    }
}

#[test]
fn state_at_instants_is_inclusive_of_both_ends() {
    let s = silence("job=db", "2024-05-01T10:00:00Z", "2024-05-01T12:00:00Z");
    let cases = [
        ("2024-05-01T09:59:59.999999999Z", SilenceState::Pending),
        ("2024-05-01T10:00:00Z", SilenceState::Active),
        ("2024-05-01T11:00:00+01:00", SilenceState::Active),
        ("2024-05-01T12:00:00Z", SilenceState::Active),
        ("2024-05-01T12:00:00.000000001Z", SilenceState::Expired),
        ("2030-01-01T00:00:00Z", SilenceState::Expired),
    ];
    for (at, want) in cases {
        assert_eq!(s.state_at(ts(at)), want, "at {at}");
    }
}

#[test]
fn mutes_only_when_active_and_every_matcher_matches() {
    let s = silence(
        r#"alertname=~"Disk.*",env!="prod",team="""#,
        "2024-05-01T10:00:00Z",
        "2024-05-01T12:00:00Z",
    );
    let during = ts("2024-05-01T11:00:00Z");
    let labels =
        |pairs: &[(&str, &str)]| LabelSet::from_pairs(pairs.iter().copied()).expect("labels");
    // `team=""` matches a missing team; `env!="prod"` matches a missing env.
    assert!(s.mutes(&labels(&[("alertname", "DiskFull")]), during));
    assert!(s.mutes(
        &labels(&[("alertname", "DiskFull"), ("env", "dev")]),
        during
    ));
    assert!(!s.mutes(
        &labels(&[("alertname", "DiskFull"), ("env", "prod")]),
        during
    ));
    assert!(!s.mutes(
        &labels(&[("alertname", "DiskFull"), ("team", "db")]),
        during
    ));
    // Anchored: "MyDiskFull" does not match Disk.*.
    assert!(!s.mutes(&labels(&[("alertname", "MyDiskFull")]), during));
    assert!(!s.mutes(
        &labels(&[("alertname", "DiskFull")]),
        ts("2024-05-01T09:00:00Z")
    ));
    assert!(!s.mutes(
        &labels(&[("alertname", "DiskFull")]),
        ts("2024-05-01T13:00:00Z")
    ));
}

/// Every message below is what the real Alertmanager 0.25 answered (after its
/// `silence invalid: ` prefix) to the same silence posted to `/api/v2/silences`.
#[test]
fn validation_messages_are_alertmanagers() {
    let window = ("2024-05-01T10:00:00Z", "2024-05-01T12:00:00Z");
    let check = |matchers: &str| {
        silence(matchers, window.0, window.1)
            .validate()
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        check(r#"foo="""#),
        Err("at least one matcher must not match the empty string".into())
    );
    assert_eq!(
        check(r#"foo=~"a*""#),
        Err("at least one matcher must not match the empty string".into())
    );
    assert_eq!(
        check(r#"foo=~"a)|(b""#),
        Err("invalid label matcher 0: invalid regular expression \"a)|(b\": error parsing regexp: unexpected ): `a)|(b`".into())
    );
    // Negative matchers never count as matching the empty string.
    assert_eq!(check(r#"foo!="a""#), Ok(()));
    assert_eq!(check(r#"foo!="""#), Ok(()));
    assert_eq!(check(r#"foo="",bar=~".+""#), Ok(()));
    // 0.25 checks names with the classic rule: no colons.
    assert_eq!(
        check(r#"a:b="x""#),
        Err("invalid label matcher 0: invalid label name \"a:b\"".into())
    );

    let mut no_matchers = silence("a=b", window.0, window.1);
    no_matchers.matchers = Matchers::default();
    assert_eq!(no_matchers.validate(), Err(Error::NoSilenceMatchers));

    let mut bad_name = silence("a=b", window.0, window.1);
    bad_name.matchers = Matchers::new(vec![
        Matcher::new(MatchType::Equal, "1foo", "a").expect("valid"),
    ]);
    assert_eq!(
        bad_name.validate().unwrap_err().to_string(),
        "invalid label matcher 0: invalid label name \"1foo\""
    );

    let reversed = silence("a=b", window.1, window.0);
    assert_eq!(
        reversed.validate().unwrap_err().to_string(),
        "end time must not be before start time"
    );
    let mut zero = silence("a=b", window.0, window.1);
    zero.starts_at = Timestamp::GO_ZERO;
    assert_eq!(
        zero.validate().unwrap_err().to_string(),
        "invalid zero start timestamp"
    );
}

#[test]
fn creation_checks_are_the_apis_then_validate_silence() {
    let now = ts("2024-05-01T11:00:00Z");
    let post = |matchers: &str, starts: &str, ends: &str| {
        PostableSilence::new(
            &parse_matchers(matchers, ParserMode::Classic).expect("valid"),
            ts(starts),
            ts(ends),
            "me",
            "c",
        )
    };
    let err = |p: PostableSilence| p.check(now).unwrap_err().to_string();
    assert_eq!(
        err(post("a=b", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z")),
        "start time must be before end time"
    );
    assert_eq!(
        err(post("a=b", "2024-05-01T09:00:00Z", "2024-05-01T10:00:00Z")),
        "end time can't be in the past"
    );
    assert_eq!(
        err(post(
            r#"a=~".*""#,
            "2024-05-01T12:00:00Z",
            "2024-05-01T13:00:00Z"
        )),
        "at least one matcher must not match the empty string"
    );
    // Raw API matchers are validated as Go does, before any anchored compile.
    let mut raw = post("a=b", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z");
    raw.matchers = vec![ApiMatcher {
        is_equal: true,
        is_regex: true,
        name: "a".into(),
        value: "(".into(),
    }];
    assert_eq!(
        err(raw),
        "invalid label matcher 0: invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"
    );
    // A start in the past is moved to now, and the silence is then active.
    let stored = post("a=b", "2024-05-01T09:00:00Z", "2024-05-01T13:00:00Z")
        .into_silence("id-1", now)
        .expect("compiles");
    assert_eq!(stored.starts_at, now);
    assert_eq!(stored.updated_at, now);
    assert_eq!(stored.status.state, SilenceState::Active);
    assert_eq!(stored.id, "id-1");
}

#[test]
fn json_is_the_api_v2_gettable_silence() {
    // As Alertmanager 0.25 returned it from GET /api/v2/silences.
    let body = r#"{"id":"f80f9468-1d08-4573-a386-66018e97abb1","status":{"state":"pending"},"updatedAt":"2026-11-21T05:04:37.649Z","comment":"c","createdBy":"x","endsAt":"2026-11-21T06:04:37.000Z","matchers":[{"isEqual":false,"isRegex":false,"name":"foo","value":"a"}],"startsAt":"2026-11-21T05:05:37.000Z"}"#;
    let s: Silence = serde_json::from_str(body).expect("reads");
    assert_eq!(s.status.state, SilenceState::Pending);
    assert_eq!(s.matchers.to_string(), r#"{foo!="a"}"#);
    assert_eq!(serde_json::to_string(&s).expect("writes"), body);
}

#[test]
fn json_postable_silence_reads_and_writes() {
    let body = r#"{"comment":"c","createdBy":"x","endsAt":"2026-11-21T06:04:37.000Z","matchers":[{"isEqual":true,"isRegex":true,"name":"env","value":"prod|staging"}],"startsAt":"2026-11-21T05:05:37.000Z"}"#;
    let p: PostableSilence = serde_json::from_str(body).expect("reads");
    assert_eq!(p.id, None);
    assert_eq!(p.matchers[0].match_type(), MatchType::Regexp);
    assert_eq!(serde_json::to_string(&p).expect("writes"), body);
    // isEqual defaults to true.
    let m: ApiMatcher =
        serde_json::from_str(r#"{"name":"a","value":"b","isRegex":false}"#).expect("reads");
    assert!(m.is_equal);
    // A gettable silence compiles its matchers; a bad regex names the matcher.
    let bad = r#"{"id":"x","status":{"state":"active"},"updatedAt":"2026-11-21T05:05:37Z","comment":"c","createdBy":"x","endsAt":"2026-11-21T06:04:37Z","startsAt":"2026-11-21T05:05:37Z","matchers":[{"name":"a","value":"(","isRegex":true}]}"#;
    let err = serde_json::from_str::<Silence>(bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("matchers[0]: error parsing regexp: missing closing ): `^(?:()$`"),
        "{err}"
    );
}
