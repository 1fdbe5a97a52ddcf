//! Matcher test cases shared by the table test and the differential test against the real
//! Alertmanager 0.25 `amtool`.
//!
//! Inputs come from Alertmanager's own tables — `pkg/labels/parse_test.go` (0.25),
//! `matcher/parse/parse_test.go` and `matcher/compliance/compliance_test.go` (0.27+) —
//! and from the `<matcher>` examples of its configuration docs, plus edge cases of the
//! lenient classic grammar.
//!
//! `classic` is what the real 0.25 parser gives: the matchers as `amtool config routes
//! show` prints them (sorted, `Matchers.String()`), or the error `amtool check-config`
//! prints. Every one was recorded from the Debian 0.25.0 binary, and
//! `matchers_amtool.rs` checks them against it again on every run.
//!
//! `utf8` is what the UTF-8 parser gives (sorted matchers, or the exact error) as
//! upstream's tables state it; `Fails` where upstream's compliance table only says the
//! UTF-8 parser rejects the input. A few UTF-8 expectations are derived from reading
//! `matcher/parse` (no 0.27+ binary is available here) and are marked so.

/// What a grammar makes of an input.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// The matchers, sorted, in `Matchers.String()` form (`{}` for none).
    Ok(&'static str),
    /// The exact error message.
    Err(&'static str),
    /// Some error; upstream does not state which.
    Fails,
}

pub(crate) use Expect::{Err, Fails, Ok};

/// One input and what both grammars make of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Case {
    pub input: &'static str,
    pub classic: Expect,
    pub utf8: Expect,
}

pub(crate) const CASES: &[Case] = &[
    Case {
        input: r#"{foo="bar"}"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{foo=~"bar.*"}"#,
        classic: Ok(r#"{foo=~"bar.*"}"#),
        utf8: Ok(r#"{foo=~"bar.*"}"#),
    },
    Case {
        input: r#"{foo!="bar"}"#,
        classic: Ok(r#"{foo!="bar"}"#),
        utf8: Ok(r#"{foo!="bar"}"#),
    },
    Case {
        input: r#"{foo!~"bar.*"}"#,
        classic: Ok(r#"{foo!~"bar.*"}"#),
        utf8: Ok(r#"{foo!~"bar.*"}"#),
    },
    Case {
        input: r#"{foo="bar", baz!="quux"}"#,
        classic: Ok(r#"{baz!="quux",foo="bar"}"#),
        utf8: Ok(r#"{baz!="quux",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar", baz!~"quux.*"}"#,
        classic: Ok(r#"{baz!~"quux.*",foo="bar"}"#),
        utf8: Ok(r#"{baz!~"quux.*",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar",baz!~".*quux", derp="wat"}"#,
        classic: Ok(r#"{baz!~".*quux",derp="wat",foo="bar"}"#),
        utf8: Ok(r#"{baz!~".*quux",derp="wat",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar", baz!="quux", derp="wat"}"#,
        classic: Ok(r#"{baz!="quux",derp="wat",foo="bar"}"#),
        utf8: Ok(r#"{baz!="quux",derp="wat",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar", baz!~".*quux.*", derp="wat"}"#,
        classic: Ok(r#"{baz!~".*quux.*",derp="wat",foo="bar"}"#),
        utf8: Ok(r#"{baz!~".*quux.*",derp="wat",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar", instance=~"some-api.*"}"#,
        classic: Ok(r#"{foo="bar",instance=~"some-api.*"}"#),
        utf8: Ok(r#"{foo="bar",instance=~"some-api.*"}"#),
    },
    Case {
        input: r#"{foo=""}"#,
        classic: Ok(r#"{foo=""}"#),
        utf8: Ok(r#"{foo=""}"#),
    },
    Case {
        input: r#"{foo="bar,quux", job="job1"}"#,
        classic: Ok(r#"{foo="bar,quux",job="job1"}"#),
        utf8: Ok(r#"{foo="bar,quux",job="job1"}"#),
    },
    Case {
        input: r#"{foo = "bar", dings != "bums", }"#,
        classic: Ok(r#"{dings!="bums",foo="bar"}"#),
        utf8: Ok(r#"{dings!="bums",foo="bar"}"#),
    },
    Case {
        input: r#"foo=bar,dings!=bums"#,
        classic: Ok(r#"{dings!="bums",foo="bar"}"#),
        utf8: Ok(r#"{dings!="bums",foo="bar"}"#),
    },
    Case {
        input: r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
        classic: Ok(r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#),
        utf8: Ok(r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#),
    },
    Case {
        input: r#"statuscode=~"5..""#,
        classic: Ok(r#"{statuscode=~"5.."}"#),
        utf8: Ok(r#"{statuscode=~"5.."}"#),
    },
    Case {
        input: r#"tricky=~~~"#,
        classic: Ok(r#"{tricky=~"~~"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"trickier==\\=\=\""#,
        classic: Ok(r#"{trickier="=\\=\\=\""}"#),
        utf8: Fails,
    },
    Case {
        input: r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
        classic: Ok(r#"{contains_comma!~"foo,bar",contains_quote!="\""}"#),
        utf8: Ok(r#"{contains_comma!~"foo,bar",contains_quote!="\""}"#),
    },
    Case {
        input: r#"job="#,
        classic: Ok(r#"{job=""}"#),
        utf8: Err(r#"end of input: expected label value"#),
    },
    Case {
        input: r#"job="value"#,
        classic: Err(r#"matcher value contains unescaped double quote: "value"#),
        utf8: Fails,
    },
    Case {
        input: r#"job=value""#,
        classic: Err(r#"matcher value contains unescaped double quote: value""#),
        utf8: Fails,
    },
    Case {
        input: r#"trickier==\\=\=\"""#,
        classic: Err(r#"matcher value contains unescaped double quote: =\\=\=\"""#),
        utf8: Fails,
    },
    Case {
        input: r#"contains_unescaped_quote = foo"bar"#,
        classic: Err(r#"matcher value contains unescaped double quote: foo"bar"#),
        utf8: Fails,
    },
    Case {
        input: r#"{invalid-name = "valid label"}"#,
        classic: Err(r#"bad matcher format: invalid-name = "valid label""#),
        utf8: Ok(r#"{invalid-name="valid label"}"#),
    },
    Case {
        input: r#"{foo=~"invalid[regexp"}"#,
        classic: Err(r#"error parsing regexp: missing closing ]: `[regexp)$`"#),
        utf8: Err(
            r#"failed to create matcher: error parsing regexp: missing closing ]: `[regexp)$`"#,
        ),
    },
    Case {
        input: r#""{foo=\"bar"}"#,
        classic: Err(r#"bad matcher format: "{foo=\"bar""#),
        utf8: Fails,
    },
    Case {
        input: r#""foo=\"bar""#,
        classic: Err(r#"bad matcher format: "foo=\"bar""#),
        utf8: Fails,
    },
    Case {
        input: r#""foo=\"bar\"""#,
        classic: Err(r#"bad matcher format: "foo=\"bar\"""#),
        utf8: Fails,
    },
    Case {
        input: r#""foo=\"bar\""#,
        classic: Err(r#"bad matcher format: "foo=\"bar\""#),
        utf8: Fails,
    },
    Case {
        input: r#""{foo=\"bar\"}""#,
        classic: Err(r#"bad matcher format: "{foo=\"bar\"}""#),
        utf8: Fails,
    },
    Case {
        input: r#""foo="bar"""#,
        classic: Err(r#"bad matcher format: "foo="bar"""#),
        utf8: Fails,
    },
    Case {
        input: r#"{}"#,
        classic: Ok(r#"{}"#),
        utf8: Ok(r#"{}"#),
    },
    Case {
        input: r#"{foo='}"#,
        classic: Ok(r#"{foo="'"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=`}"#,
        classic: Ok(r#"{foo="`"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=\n}"#,
        classic: Ok(r#"{foo="\n"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar\n}"#,
        classic: Ok(r#"{foo="bar\n"}"#),
        utf8: Err(r#"8:9: \: invalid input: expected a comma or close brace"#),
    },
    Case {
        input: r#"{foo=\t}"#,
        classic: Ok(r#"{foo="\\t"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar\t}"#,
        classic: Ok(r#"{foo="bar\\t"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar\}"#,
        classic: Ok(r#"{foo="bar\\"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar\\}"#,
        classic: Ok(r#"{foo="bar\\"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=\"}"#,
        classic: Ok(r#"{foo="\""}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar\"}"#,
        classic: Ok(r#"{foo="bar\""}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar}"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{foo=~bar.*}"#,
        classic: Ok(r#"{foo=~"bar.*"}"#),
        utf8: Ok(r#"{foo=~"bar.*"}"#),
    },
    Case {
        input: r#"{foo!=bar}"#,
        classic: Ok(r#"{foo!="bar"}"#),
        utf8: Ok(r#"{foo!="bar"}"#),
    },
    Case {
        input: r#"{foo!~bar.*}"#,
        classic: Ok(r#"{foo!~"bar.*"}"#),
        utf8: Ok(r#"{foo!~"bar.*"}"#),
    },
    Case {
        input: r#"{foo=bar}}"#,
        classic: Ok(r#"{foo="bar}"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=bar}},}"#,
        classic: Ok(r#"{foo="bar}}"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=,bar=}}"#,
        classic: Ok(r#"{bar="}",foo=""}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{name-with-dashes = "bar"}"#,
        classic: Err(r#"bad matcher format: name-with-dashes = "bar""#),
        utf8: Ok(r#"{name-with-dashes="bar"}"#),
    },
    Case {
        input: r#"{,}"#,
        classic: Err(r#"bad matcher format: "#),
        utf8: Err(r#"1:2: unexpected ,: expected label name"#),
    },
    Case {
        input: r#"{{foo="#,
        classic: Err(r#"bad matcher format: {foo="#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo="#,
        classic: Ok(r#"{foo=""}"#),
        utf8: Fails,
    },
    Case {
        input: r#"{foo=}b"#,
        classic: Ok(r#"{foo="}b"}"#),
        utf8: Fails,
    },
    Case {
        input: r#""#,
        classic: Ok(r#"{}"#),
        utf8: Ok(r#"{}"#),
    },
    Case {
        input: r#"{foo=bar,}"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{foo=~[a-z]+}"#,
        classic: Ok(r#"{foo=~"[a-z]+"}"#),
        utf8: Ok(r#"{foo=~"[a-z]+"}"#),
    },
    Case {
        input: r#"{foo!~[a-z]+}"#,
        classic: Ok(r#"{foo!~"[a-z]+"}"#),
        utf8: Ok(r#"{foo!~"[a-z]+"}"#),
    },
    Case {
        input: r#"{foo=🙂}"#,
        classic: Ok(r#"{foo="🙂"}"#),
        utf8: Ok(r#"{foo="🙂"}"#),
    },
    Case {
        input: r#"{foo=🙂bar}"#,
        classic: Ok(r#"{foo="🙂bar"}"#),
        utf8: Ok(r#"{foo="🙂bar"}"#),
    },
    Case {
        input: r#"foo=bar"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"foo=bar,"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"foo!=bar"#,
        classic: Ok(r#"{foo!="bar"}"#),
        utf8: Ok(r#"{foo!="bar"}"#),
    },
    Case {
        input: r#"foo=~[a-z]+"#,
        classic: Ok(r#"{foo=~"[a-z]+"}"#),
        utf8: Ok(r#"{foo=~"[a-z]+"}"#),
    },
    Case {
        input: r#"foo!~[a-z]+"#,
        classic: Ok(r#"{foo!~"[a-z]+"}"#),
        utf8: Ok(r#"{foo!~"[a-z]+"}"#),
    },
    Case {
        input: r#"{"foo"="bar"}"#,
        classic: Err(r#"bad matcher format: "foo"="bar""#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{"foo"="bar",}"#,
        classic: Err(r#"bad matcher format: "foo"="bar""#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{"foo"!="bar"}"#,
        classic: Err(r#"bad matcher format: "foo"!="bar""#),
        utf8: Ok(r#"{foo!="bar"}"#),
    },
    Case {
        input: r#"{"foo"=~"[a-z]+"}"#,
        classic: Err(r#"bad matcher format: "foo"=~"[a-z]+""#),
        utf8: Ok(r#"{foo=~"[a-z]+"}"#),
    },
    Case {
        input: r#"{"foo"=~"\\d+"}"#,
        classic: Err(r#"bad matcher format: "foo"=~"\\d+""#),
        utf8: Ok(r#"{foo=~"\\d+"}"#),
    },
    Case {
        input: r#"{"foo"!~"[a-z]+"}"#,
        classic: Err(r#"bad matcher format: "foo"!~"[a-z]+""#),
        utf8: Ok(r#"{foo!~"[a-z]+"}"#),
    },
    Case {
        input: r#"{"foo"="🙂"}"#,
        classic: Err(r#"bad matcher format: "foo"="🙂""#),
        utf8: Ok(r#"{foo="🙂"}"#),
    },
    Case {
        input: r#"{"foo"="\xf0\x9f\x99\x82"}"#,
        classic: Err(r#"bad matcher format: "foo"="\xf0\x9f\x99\x82""#),
        utf8: Ok(r#"{foo="🙂"}"#),
    },
    Case {
        input: r#"{"foo"="\U0001f642"}"#,
        classic: Err(r#"bad matcher format: "foo"="\U0001f642""#),
        utf8: Ok(r#"{foo="🙂"}"#),
    },
    Case {
        input: r#"{"foo"="🙂bar"}"#,
        classic: Err(r#"bad matcher format: "foo"="🙂bar""#),
        utf8: Ok(r#"{foo="🙂bar"}"#),
    },
    Case {
        input: r#"{"foo"="bar\n"}"#,
        classic: Err(r#"bad matcher format: "foo"="bar\n""#),
        utf8: Ok(r#"{foo="bar\n"}"#),
    },
    Case {
        input: r#"{"foo"="bar\t"}"#,
        classic: Err(r#"bad matcher format: "foo"="bar\t""#),
        utf8: Ok("{foo=\"bar\t\"}"),
    },
    Case {
        input: r#"{"foo"="\"bar\""}"#,
        classic: Err(r#"bad matcher format: "foo"="\"bar\"""#),
        utf8: Ok(r#"{foo="\"bar\""}"#),
    },
    Case {
        input: r#"{"foo"="bar\\"}"#,
        classic: Err(r#"bad matcher format: "foo"="bar\\""#),
        utf8: Ok(r#"{foo="bar\\"}"#),
    },
    Case {
        input: r#""foo"="bar""#,
        classic: Err(r#"bad matcher format: "foo"="bar""#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#""foo"="bar","#,
        classic: Err(r#"bad matcher format: "foo"="bar""#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"{foo=bar,bar!=baz}"#,
        classic: Ok(r#"{bar!="baz",foo="bar"}"#),
        utf8: Ok(r#"{bar!="baz",foo="bar"}"#),
    },
    Case {
        input: r#"{foo="bar",bar!="baz"}"#,
        classic: Ok(r#"{bar!="baz",foo="bar"}"#),
        utf8: Ok(r#"{bar!="baz",foo="bar"}"#),
    },
    Case {
        input: r#"foo=bar,bar!=baz"#,
        classic: Ok(r#"{bar!="baz",foo="bar"}"#),
        utf8: Ok(r#"{bar!="baz",foo="bar"}"#),
    },
    Case {
        input: r#"foo="bar",bar!="baz""#,
        classic: Ok(r#"{bar!="baz",foo="bar"}"#),
        utf8: Ok(r#"{bar!="baz",foo="bar"}"#),
    },
    Case {
        input: r#","#,
        classic: Err(r#"bad matcher format: "#),
        utf8: Err(r#"0:1: unexpected ,: expected label name"#),
    },
    Case {
        input: r#"{"#,
        classic: Ok(r#"{}"#),
        utf8: Err(r#"0:1: end of input: expected close brace"#),
    },
    Case {
        input: r#"}"#,
        classic: Ok(r#"{}"#),
        utf8: Err(r#"0:1: }: expected opening brace"#),
    },
    Case {
        input: r#"foo=bar}"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Err(r#"0:8: }: expected opening brace"#),
    },
    Case {
        input: r#"{foo=bar"#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Err(r#"0:8: end of input: expected close brace"#),
    },
    Case {
        input: r#"{foo=:"bar"}"#,
        classic: Err(r#"matcher value contains unescaped double quote: :"bar""#),
        utf8: Err(r#"6:11: unexpected "bar": expected a comma or close brace"#),
    },
    Case {
        input: r#"{foo="bar\w"}"#,
        classic: Ok(r#"{foo="bar\\w"}"#),
        utf8: Err(r#"5:12: "bar\w": invalid input"#),
    },
    Case {
        input: r#"{"foo"=~"\d+"}"#,
        classic: Err(r#"bad matcher format: "foo"=~"\d+""#),
        utf8: Err(r#"8:13: "\d+": invalid input"#),
    },
    Case {
        input: r#"{"foo"="\xf0\x9f"}"#,
        classic: Err(r#"bad matcher format: "foo"="\xf0\x9f""#),
        utf8: Err(r#"7:17: "\xf0\x9f": invalid input"#),
    },
    Case {
        input: r#"foo="\xf0\x9f""#,
        classic: Ok(r#"{foo="\\xf0\\x9f"}"#),
        utf8: Err(r#"4:14: "\xf0\x9f": invalid input"#),
    },
    Case {
        input: r#"foo = "bar""#,
        classic: Ok(r#"{foo="bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    Case {
        input: r#"dings!="bums""#,
        classic: Ok(r#"{dings!="bums"}"#),
        utf8: Ok(r#"{dings!="bums"}"#),
    },
    Case {
        input: r#"{foo="bar",dings!="bums"}"#,
        classic: Ok(r#"{dings!="bums",foo="bar"}"#),
        utf8: Ok(r#"{dings!="bums",foo="bar"}"#),
    },
    Case {
        input: r#"{quote=~"She said: \"Hi, all!( How're you…)?\""}"#,
        classic: Ok(r#"{quote=~"She said: \"Hi, all!( How're you…)?\""}"#),
        utf8: Ok(r#"{quote=~"She said: \"Hi, all!( How're you…)?\""}"#),
    },
    Case {
        input: r#"foo="a\qb""#,
        classic: Ok(r#"{foo="a\\qb"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"foo="5\d\d""#,
        classic: Ok(r#"{foo="5\\d\\d"}"#),
        utf8: Fails,
    },
    Case {
        input: r#"foo🙂=bar"#,
        classic: Err(r#"bad matcher format: foo🙂=bar"#),
        utf8: Ok(r#"{foo🙂="bar"}"#),
    },
    Case {
        input: r#""foo bar"=baz"#,
        classic: Err(r#"bad matcher format: "foo bar"=baz"#),
        utf8: Ok(r#"{foo bar="baz"}"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"foo==bar"#,
        classic: Ok(r#"{foo="=bar"}"#),
        utf8: Err(r#"4:5: unexpected =: expected label value"#),
    },
    Case {
        input: r#"a:b="x""#,
        classic: Ok(r#"{a:b="x"}"#),
        utf8: Ok(r#"{a:b="x"}"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"foo=bar,,"#,
        classic: Err(r#"bad matcher format: "#),
        utf8: Err(r#"8:9: unexpected ,: expected a matcher or close brace after comma"#),
    },
    Case {
        input: r#"foo=~"a**""#,
        classic: Err(r#"error parsing regexp: invalid nested repetition operator: `**`"#),
        utf8: Err(
            r#"failed to create matcher: error parsing regexp: invalid nested repetition operator: `**`"#,
        ),
    },
    Case {
        input: r#"foo=~"(?i)watchdog|deadmansswitch""#,
        classic: Ok(r#"{foo=~"(?i)watchdog|deadmansswitch"}"#),
        utf8: Ok(r#"{foo=~"(?i)watchdog|deadmansswitch"}"#),
    },
    Case {
        input: r#"severity=~"critical|page",env!~"dev|qa""#,
        classic: Ok(r#"{env!~"dev|qa",severity=~"critical|page"}"#),
        utf8: Ok(r#"{env!~"dev|qa",severity=~"critical|page"}"#),
    },
    Case {
        input: r#"foo=~"a)|(b""#,
        classic: Ok(r#"{foo=~"a)|(b"}"#),
        utf8: Ok(r#"{foo=~"a)|(b"}"#),
    },
    Case {
        input: r#"foo=~"(a""#,
        classic: Err(r#"error parsing regexp: missing closing ): `^(?:(a)$`"#),
        utf8: Err(
            r#"failed to create matcher: error parsing regexp: missing closing ): `^(?:(a)$`"#,
        ),
    },
    Case {
        input: r#"foo=~"a{1001}""#,
        classic: Err(r#"error parsing regexp: invalid repeat count: `{1001}`"#),
        utf8: Err(
            r#"failed to create matcher: error parsing regexp: invalid repeat count: `{1001}`"#,
        ),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"  {foo="bar"}"#,
        classic: Err(r#"bad matcher format: {foo="bar""#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"{foo="bar"}  "#,
        classic: Err(r#"matcher value contains unescaped double quote: "bar"}"#),
        utf8: Ok(r#"{foo="bar"}"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"=bar"#,
        classic: Err(r#"bad matcher format: =bar"#),
        utf8: Err(r#"0:1: unexpected =: expected label name"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"a=1,b"#,
        classic: Err(r#"bad matcher format: b"#),
        utf8: Err(r#"end of input: expected an operator such as '=', '!=', '=~' or '!~'"#),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: r#"foo=bar baz"#,
        classic: Ok(r#"{foo="bar baz"}"#),
        utf8: Err(r#"8:11: unexpected baz: expected a comma or close brace"#),
    },
    Case {
        input: r#"foo="bar" , baz="qux""#,
        classic: Ok(r#"{baz="qux",foo="bar"}"#),
        utf8: Ok(r#"{baz="qux",foo="bar"}"#),
    },
    Case {
        input: "a\t=\tb",
        classic: Ok(r#"{a="b"}"#),
        utf8: Ok(r#"{a="b"}"#),
    },
    Case {
        input: r#"foo=ünïcödé"#,
        classic: Ok(r#"{foo="ünïcödé"}"#),
        utf8: Ok(r#"{foo="ünïcödé"}"#),
    },
    Case {
        input: "foo=\"tab\there\"",
        classic: Ok("{foo=\"tab\there\"}"),
        utf8: Ok("{foo=\"tab\there\"}"),
    },
    // UTF-8 expectation derived from matcher/parse/{lexer,parse}.go (no 0.27+ binary here).
    Case {
        input: "foo=\"line\nbreak\"",
        classic: Ok(r#"{foo="line\nbreak"}"#),
        utf8: Err("4:16: \"line\nbreak\": invalid input"),
    },
    Case {
        input: r#"foo="a\\\"b""#,
        classic: Ok(r#"{foo="a\\\"b"}"#),
        utf8: Ok(r#"{foo="a\\\"b"}"#),
    },
];
