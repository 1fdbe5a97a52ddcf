//! Go's `strconv.Quote` (the `%q` verb), kept in [`alert_core::go_quote`] and re-exported
//! here for the router's messages.

pub(crate) use alert_core::go_quote::go_quote;
