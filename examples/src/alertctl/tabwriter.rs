//! Go's `text/tabwriter` as amtool configures it (`NewWriter(w, 0, 0, 2, ' ', 0)`): each
//! tab-terminated cell is padded with spaces to the widest cell of its column plus two.
//! Widths count characters (runes), as Go does. Text after a line's last tab is written
//! as is.

/// Aligns `lines` of tab-terminated cells.
///
/// ```
/// use alert_examples::alertctl::tabwriter::align;
/// let out = align(&["ID\tComment\t".to_string(), "abc\tx\t".to_string()]);
/// assert_eq!(out, "ID   Comment  \nabc  x        \n");
/// ```
pub fn align(lines: &[String]) -> String {
    let rows: Vec<(Vec<&str>, &str)> = lines
        .iter()
        .map(|line| {
            let mut cells: Vec<&str> = line.split('\t').collect();
            let rest = cells.pop().unwrap_or_default();
            (cells, rest)
        })
        .collect();
    let columns = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for (cells, _) in &rows {
        for (i, cell) in cells.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count() + 2);
        }
    }
    let mut out = String::new();
    for (cells, rest) in rows {
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            let pad = widths[i] - cell.chars().count();
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_characters_not_bytes() {
        let out = align(&["ä\tb\t".to_string(), "xy\tc\t".to_string()]);
        assert_eq!(out, "ä   b  \nxy  c  \n");
    }

    #[test]
    fn trailing_text_is_not_a_column() {
        let out = align(&["a\tlong trailing".to_string(), "bbb\tx".to_string()]);
        assert_eq!(out, "a    long trailing\nbbb  x\n");
    }
}
