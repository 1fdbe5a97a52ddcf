//! libyaml's event stream over the source text, with positions: the parser underneath
//! `yaml_serde` (`libyaml-rs`, the same one Go's yaml.v2 was translated from), driven
//! directly, so that the tree is built without recursion and nesting is limited only by
//! yaml.v2's own rules (see [`super::node::build`]).
//!
//! This is the one module that calls `libyaml-rs`'s C-style interface; everything it
//! hands out is owned or borrowed from the source, and every pointer it reads is one the
//! parser has just filled in.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr::{NonNull, addr_of_mut};

use libyaml_rs as sys;

/// A position in the source: 0-based byte index, line and column, as libyaml counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Mark {
    /// Byte offset.
    pub index: usize,
    /// 0-based line.
    pub line: usize,
    /// 0-based column (in characters).
    pub column: usize,
}

impl Mark {
    fn of(m: sys::yaml_mark_t) -> Mark {
        Mark {
            index: usize::try_from(m.index).unwrap_or(usize::MAX),
            line: usize::try_from(m.line).unwrap_or(usize::MAX),
            column: usize::try_from(m.column).unwrap_or(usize::MAX),
        }
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    /// Unquoted.
    Plain,
    /// `'...'`.
    SingleQuoted,
    /// `"..."`.
    DoubleQuoted,
    /// `|` or `>`.
    Block,
}

/// One parser event (stream and document boundaries included).
#[derive(Debug)]
pub(crate) enum Event {
    /// Start of the stream.
    StreamStart,
    /// End of the stream.
    StreamEnd,
    /// Start of a document.
    DocumentStart,
    /// End of a document.
    DocumentEnd,
    /// `*name`.
    Alias {
        /// The anchor named.
        anchor: String,
    },
    /// A scalar.
    Scalar {
        /// `&name`, if any.
        anchor: Option<String>,
        /// The resolved tag (`tag:yaml.org,2002:str` for `!!str`, `!foo` for local tags).
        tag: Option<String>,
        /// The value, escapes and folding applied.
        value: String,
        /// How it was written.
        style: ScalarStyle,
        /// Where it ends (the start is the event's mark).
        end: Mark,
    },
    /// Start of a sequence.
    SequenceStart {
        /// `&name`, if any.
        anchor: Option<String>,
        /// Block style (`- a`) rather than flow (`[a]`).
        block: bool,
    },
    /// End of a sequence.
    SequenceEnd,
    /// Start of a mapping.
    MappingStart {
        /// `&name`, if any.
        anchor: Option<String>,
        /// Block style rather than flow (`{a: b}`).
        block: bool,
    },
    /// End of a mapping.
    MappingEnd,
}

/// The kinds of libyaml error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Decoding the characters (invalid UTF-8, control characters).
    Reader,
    /// Tokenising.
    Scanner,
    /// Grammar.
    Parser,
    /// Anything else (memory).
    Other,
}

/// A libyaml error, with what libyaml knows of it.
#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    /// Which stage failed.
    pub kind: ErrorKind,
    /// What went wrong.
    pub problem: String,
    /// Where it went wrong.
    pub problem_mark: Mark,
    /// Where what the parser was doing began (`while parsing a flow sequence`).
    pub context_mark: Mark,
}

/// A libyaml parser over `input`.
pub(crate) struct Parser<'s> {
    /// Boxed: libyaml keeps pointers into the structure, so it must not move.
    raw: Box<MaybeUninit<sys::yaml_parser_t>>,
    /// The input libyaml reads; borrowed for as long as the parser lives.
    _input: &'s [u8],
    done: bool,
}

impl<'s> Parser<'s> {
    /// A parser over `input` (UTF-8, as yaml.v2 reads a file without a byte order mark).
    pub(super) fn new(input: &'s [u8]) -> Parser<'s> {
        let mut raw = Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit());
        let done;
        // SAFETY: `raw` is a valid allocation for a parser; `initialize` fills it in (it
        // only fails when out of memory, and then nothing else is called but `delete`
        // of a zeroed parser, which frees nothing). `input` outlives the parser.
        unsafe {
            let parser = raw.as_mut_ptr();
            done = sys::yaml_parser_initialize(parser).fail;
            if !done {
                sys::yaml_parser_set_encoding(parser, sys::YAML_UTF8_ENCODING);
                sys::yaml_parser_set_input_string(parser, input.as_ptr(), input.len() as u64);
            }
        }
        Parser {
            raw,
            _input: input,
            done,
        }
    }

    /// The next event and where it starts; `Ok(None)` after the end of the stream.
    pub(super) fn next(&mut self) -> Result<Option<(Event, Mark)>, ParseError> {
        if self.done {
            return Ok(None);
        }
        let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new` (`done` is set otherwise); after a
        // failure `done` is set and libyaml is not called again. The event is read only
        // after `yaml_parser_parse` succeeded, and deleted once converted.
        unsafe {
            let parser = self.raw.as_mut_ptr();
            if sys::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                self.done = true;
                return Err(error_of(&*parser));
            }
            let event = event.as_mut_ptr();
            let mark = Mark::of((*event).start_mark);
            let converted = convert(&*event);
            sys::yaml_event_delete(event);
            if matches!(converted, Event::StreamEnd) {
                self.done = true;
            }
            Ok(Some((converted, mark)))
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a failed initialisation leaves a zeroed parser,
        // which `delete` accepts).
        unsafe { sys::yaml_parser_delete(addr_of_mut!(*self.raw).cast()) }
    }
}

/// # Safety
/// `p` is a nul-terminated string or null.
unsafe fn text(p: *const u8) -> Option<String> {
    let p = NonNull::new(p.cast_mut())?;
    // SAFETY: per the contract.
    let s = unsafe { CStr::from_ptr(p.as_ptr().cast()) };
    Some(String::from_utf8_lossy(s.to_bytes()).into_owned())
}

/// # Safety
/// `e` was just filled in by a successful `yaml_parser_parse`.
unsafe fn convert(e: &sys::yaml_event_t) -> Event {
    // SAFETY: the union member read is the one `type_` names; its pointers are null or
    // nul-terminated strings, and a scalar's value has `length` bytes.
    unsafe {
        match e.type_ {
            sys::YAML_STREAM_START_EVENT => Event::StreamStart,
            sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
            sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            sys::YAML_ALIAS_EVENT => Event::Alias {
                anchor: text(e.data.alias.anchor).unwrap_or_default(),
            },
            sys::YAML_SCALAR_EVENT => {
                let s = e.data.scalar;
                let bytes = if s.value.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(s.value, usize::try_from(s.length).unwrap_or(0))
                };
                Event::Scalar {
                    anchor: text(s.anchor),
                    tag: text(s.tag),
                    value: String::from_utf8_lossy(bytes).into_owned(),
                    style: match s.style {
                        sys::YAML_SINGLE_QUOTED_SCALAR_STYLE => ScalarStyle::SingleQuoted,
                        sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE => ScalarStyle::DoubleQuoted,
                        sys::YAML_LITERAL_SCALAR_STYLE | sys::YAML_FOLDED_SCALAR_STYLE => {
                            ScalarStyle::Block
                        }
                        _ => ScalarStyle::Plain,
                    },
                    end: Mark::of(e.end_mark),
                }
            }
            sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: text(e.data.sequence_start.anchor),
                block: e.data.sequence_start.style != sys::YAML_FLOW_SEQUENCE_STYLE,
            },
            sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: text(e.data.mapping_start.anchor),
                block: e.data.mapping_start.style != sys::YAML_FLOW_MAPPING_STYLE,
            },
            sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            // libyaml produces no other event from a successful parse.
            _ => Event::StreamEnd,
        }
    }
}

fn error_of(p: &sys::yaml_parser_t) -> ParseError {
    let kind = match p.error {
        sys::YAML_READER_ERROR => ErrorKind::Reader,
        sys::YAML_SCANNER_ERROR => ErrorKind::Scanner,
        sys::YAML_PARSER_ERROR => ErrorKind::Parser,
        _ => ErrorKind::Other,
    };
    // SAFETY: libyaml sets this to a static nul-terminated string or leaves it null.
    let problem = unsafe { text(p.problem.cast()) };
    ParseError {
        kind,
        problem: problem.unwrap_or_else(|| "libyaml parser failed but there is no error".into()),
        problem_mark: Mark::of(p.problem_mark),
        context_mark: Mark::of(p.context_mark),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(src: &str) -> Vec<String> {
        let mut p = Parser::new(src.as_bytes());
        let mut out = Vec::new();
        while let Some((e, m)) = p.next().expect("valid YAML") {
            out.push(format!("{}:{} {e:?}", m.line, m.column));
        }
        out
    }

    #[test]
    fn events_come_with_marks_and_styles() {
        let got = events("a: [1, 'x']\n");
        assert_eq!(got.len(), 11, "{got:#?}");
        assert!(got[3].starts_with("0:0 Scalar"), "{got:#?}");
        assert!(got[4].starts_with("0:3 SequenceStart") && got[4].contains("block: false"));
        assert!(got[6].contains("SingleQuoted") && got[6].contains("\"x\""));
    }

    #[test]
    fn errors_say_what_and_where() {
        let mut p = Parser::new(b"a: [1\nb: 2\n");
        let e = loop {
            match p.next() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind, ErrorKind::Parser);
        assert_eq!(e.problem, "did not find expected ',' or ']'");
        assert_eq!((e.problem_mark.line, e.context_mark.line), (1, 0));
        // Once failed, the parser stays ended.
        assert!(matches!(p.next(), Ok(None)));
    }
}
