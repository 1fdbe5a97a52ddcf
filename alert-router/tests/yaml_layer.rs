//! The YAML layer at its edges, every verdict checked against the real `amtool
//! check-config` 0.25: how deep documents may nest (yaml.v2 allows 10,000 nested flow
//! collections and 10,000 block indentation levels, and refuses beyond at once),
//! `!!binary` scalars (base64-decoded where they are decoded), and encodings (UTF-8 with
//! or without a byte order mark, UTF-16 with one, bytes that are not UTF-8).

mod check_config_support;

use std::time::Instant;

use alert_router::config::{Config, Route};
use alert_router::validate::check_config_output_bytes;
use check_config_support::amtool_check_all_bytes;

/// Our failure message for `bytes` (`None` when accepted), as `alertctl check-config`
/// prints it.
fn ours(bytes: &[u8]) -> Option<String> {
    let out = check_config_output_bytes("case.yml", bytes);
    out.failed.then(|| {
        let (_, message) = out.stdout.split_once("  FAILED: ").expect("a failure line");
        message.trim_end_matches('\n').to_owned()
    })
}

/// Runs every case through amtool (one call) and through `check_config_output_bytes`,
/// and checks the two agree and that amtool says what `expected` says (`None`: accepted).
fn agree(cases: &[(&str, Vec<u8>, Option<&str>)]) {
    let files: Vec<Vec<u8>> = cases.iter().map(|(_, bytes, _)| bytes.clone()).collect();
    let verdicts = amtool_check_all_bytes(&files);
    for ((name, bytes, expected), verdict) in cases.iter().zip(&verdicts) {
        assert_eq!(
            verdict.failure.as_deref(),
            *expected,
            "{name}: amtool's verdict is not the one this test expects"
        );
        assert_eq!(
            ours(bytes),
            verdict.failure,
            "{name}: we disagree with amtool"
        );
    }
}

/// `route:` with a receiver, nested `depth` levels of `routes:` deep, in block style.
fn block_routes(depth: usize) -> String {
    let mut s = String::from("receivers:\n- name: r\nroute:\n  receiver: r\n");
    let mut indent = String::from("  ");
    for _ in 0..depth {
        s.push_str(&format!("{indent}routes:\n{indent}- receiver: r\n"));
        indent.push_str("  ");
    }
    s
}

fn route_depth(route: &Route) -> usize {
    let mut depth = 0;
    let mut r = route;
    while let Some(child) = r.routes.first() {
        depth += 1;
        r = child;
    }
    depth
}

/// A 100,000-deep flow list or map used to take 41 s and 79 s (release build) before
/// the depth error came, and is refused after 128 levels with a message of our own:
/// before this layer counted depth as yaml.v2 does, this test took many minutes in a
/// debug build. yaml.v2 stops at level 10,001, in time linear in the input; so do we,
/// well under a second.
#[test]
fn hundred_thousand_deep_flow_collections_fail_fast_with_yaml_v2s_error() {
    let n = 100_000;
    let list = format!("route: {}{}\n", "[".repeat(n), "]".repeat(n));
    let map = format!("route: {}b{}\n", "{a: ".repeat(n), "}".repeat(n));
    for (name, text) in [("list", &list), ("map", &map)] {
        let started = Instant::now();
        let e = Config::from_yaml(text).expect_err(name);
        eprintln!("{name}: refused in {:?}", started.elapsed());
        assert_eq!(
            e.alertmanager_message(),
            "yaml: exceeded max depth of 10000"
        );
    }
    let deep_on_line_3 = |n: usize| {
        format!(
            "receivers: [{{name: r}}]\nroute:\n  group_by: {}{}\n  receiver: r\n",
            "[".repeat(n),
            "]".repeat(n)
        )
        .into_bytes()
    };
    agree(&[
        (
            "list",
            list.into_bytes(),
            Some("yaml: exceeded max depth of 10000"),
        ),
        (
            "map",
            map.into_bytes(),
            Some("yaml: exceeded max depth of 10000"),
        ),
        (
            "10,000 flow levels are read",
            deep_on_line_3(10_000),
            Some("yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string"),
        ),
        (
            "10,001 are not",
            deep_on_line_3(10_001),
            Some("yaml: line 3: exceeded max depth of 10000"),
        ),
    ]);
}

/// Route trees nested beyond 63 levels were refused (`nested too deeply (more than 128
/// levels)`). yaml.v2 allows 10,000 block indentation levels; this layout takes one per
/// route level, plus one for `route:` and one for the top-level mapping, so 9,998 route
/// levels are the most it reads. A tree that deep is a 200 MB file (every level indents
/// further), too big for a test: checked by hand against amtool (9,998 read, 9,999
/// refused with `yaml: line 20002: exceeded max depth of 10000`, both sides). Here the
/// limit itself is checked with compact sequences (`- - - x`), which take one level per
/// dash on a single line.
#[test]
fn block_nesting_is_limited_where_amtool_limits_it() {
    for depth in [200, 5_000] {
        let config = Config::from_yaml(&block_routes(depth)).expect("accepted");
        assert_eq!(route_depth(&config.route), depth);
    }
    let dashes = |n: usize| {
        format!(
            "receivers: [{{name: r}}]\nroute: {{receiver: r}}\ntemplates:\n{}x\n",
            "- ".repeat(n)
        )
        .into_bytes()
    };
    agree(&[
        ("200 route levels", block_routes(200).into_bytes(), None),
        ("5,000 route levels", block_routes(5_000).into_bytes(), None),
        (
            "10,000 indentation levels",
            dashes(10_000),
            Some("yaml: unmarshal errors:\n  line 4: cannot unmarshal !!seq into string"),
        ),
        (
            "10,001",
            dashes(10_001),
            Some("yaml: line 4: exceeded max depth of 10000"),
        ),
    ]);
}

/// yaml.v2 base64-decodes a `!!binary` scalar where it decodes it into a value, and ends
/// decoding when the base64 is invalid; a value never decoded (an unknown field) is
/// never checked.
#[test]
fn binary_scalars_are_base64_decoded_as_yaml_v2_decodes_them() {
    let with_name = |name: &str| {
        format!("route:\n  receiver: default\nreceivers:\n- name: {name}\n").into_bytes()
    };
    // "default", in one line and over three.
    let config = Config::from_yaml(
        "route: {receiver: default}\nreceivers:\n- name: !!binary ZGVmYXVsdA==\n",
    )
    .expect("accepted");
    assert_eq!(config.receivers[0].name, "default");
    const INVALID: &str = "yaml: !!binary value contains invalid base64 data";
    agree(&[
        ("valid", with_name("!!binary ZGVmYXVsdA=="), None),
        ("over lines", with_name("!!binary |\n    ZGVm\n    YXVs\n    dA=="), None),
        ("invalid", with_name("!!binary not*base64"), Some(INVALID)),
        ("unpadded", with_name("!!binary ZGVmYXVsdA"), Some(INVALID)),
        (
            "invalid, and a fault before it",
            b"route:\n  receiver: default\n  bogus: 1\nreceivers:\n- name: !!binary '***'\n"
                .to_vec(),
            Some(INVALID),
        ),
        (
            "invalid, never decoded",
            b"route:\n  receiver: default\nreceivers:\n- name: default\n  bogus: !!binary '***'\n"
                .to_vec(),
            Some("yaml: unmarshal errors:\n  line 5: field bogus not found in type config.plain"),
        ),
        (
            "valid, into a boolean",
            b"route:\n  receiver: default\nreceivers:\n- name: default\n  webhook_configs:\n  - url: http://x/\n    send_resolved: !!binary dHJ1ZQ==\n"
                .to_vec(),
            Some("yaml: unmarshal errors:\n  line 7: cannot unmarshal !!binary `dHJ1ZQ==` into bool"),
        ),
    ]);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// yaml.v2 reads UTF-16 (either byte order) when a byte order mark says so, skips a
/// UTF-8 byte order mark, and refuses other bytes that are not UTF-8.
#[test]
fn encodings_are_read_as_yaml_v2_reads_them() {
    let text = "route:\n  receiver: café ☕\nreceivers:\n- name: café ☕\n- name: \u{1F4DF}\n";
    let config = Config::from_yaml_bytes(&utf16(text, false)).expect("UTF-16LE");
    assert_eq!(config.route.receiver.as_deref(), Some("café ☕"));
    assert_eq!(config.receivers[1].name, "\u{1F4DF}");
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(text.as_bytes());
    let mut odd = utf16(text, true);
    odd.push(b'\n');
    let mut lone_high = utf16("route: {receiver: r}\nreceivers: [{name: r", false);
    lone_high.extend([0x3D, 0xD8]); // U+D83D, then no low surrogate
    lone_high.extend(utf16("}]\n", false).split_off(2));
    agree(&[
        ("UTF-16LE", utf16(text, false), None),
        ("UTF-16BE", utf16(text, true), None),
        ("UTF-8 with a byte order mark", utf8_bom, None),
        (
            "not UTF-8",
            b"route:\n  receiver: r\nreceivers:\n- name: r\xFF\n".to_vec(),
            Some("yaml: invalid leading UTF-8 octet"),
        ),
        (
            "UTF-8 cut short",
            b"route:\n  receiver: r\nreceivers:\n- name: r\xE2\x98\n".to_vec(),
            Some("yaml: invalid trailing UTF-8 octet"),
        ),
        (
            "UTF-16 of odd length",
            odd,
            Some("yaml: incomplete UTF-16 character"),
        ),
        (
            "a lone high surrogate",
            lone_high,
            Some("yaml: expected low surrogate area"),
        ),
    ]);
}

/// yaml.v2 makes an alias inside the node its anchor marks a cycle, which decoding
/// follows; before, such a document was refused as nested too deeply.
#[test]
fn aliases_inside_their_own_anchor_decode_as_yaml_v2_follows_them() {
    let with = |extra: &str| {
        format!("route: {{receiver: r}}\nreceivers: [{{name: r}}]\n{extra}\n").into_bytes()
    };
    agree(&[
        (
            "never decoded",
            with("x: &a [*a]"),
            Some("yaml: unmarshal errors:\n  line 3: field x not found in type config.plain"),
        ),
        (
            "a list in itself",
            with("templates: &a [x, *a]"),
            Some("yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string"),
        ),
        (
            "a mapping in itself",
            with("global: &a {http_config: *a}"),
            Some(
                "yaml: unmarshal errors:\n  line 3: field http_config not found in type config.plain",
            ),
        ),
        (
            "receivers in themselves",
            b"route: {receiver: r}\nreceivers: &a [{name: r}, *a]\n".to_vec(),
            Some("yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into config.plain"),
        ),
    ]);
}
