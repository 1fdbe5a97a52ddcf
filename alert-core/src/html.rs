//! Escaping text for HTML, for the pages the family serves (the history server's health
//! bars, the health graph's status page): label values and names come from the network.

/// Escapes `text` for HTML element content and quoted attribute values.
///
/// ```
/// use alert_core::html::escape;
/// assert_eq!(escape(r#"<script>alert("x")</script>&'"#),
///     "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
