//! Go's `text/tabwriter` as amtool configures it (`NewWriter(w, 0, 0, 2, ' ', 0)`),
//! with its algorithm: text is cut into lines at `\n` and into cells at `\t`; a column
//! is a block of consecutive lines that each have a tab-terminated cell in it, and each
//! such cell is padded with spaces to the widest cell of its block plus two. A line with
//! fewer cells (a blank line, or the rest of a cell that held a newline) ends the blocks
//! of the columns it lacks. Widths count characters (runes), as Go does; text after a
//! line's last tab is written as is.

/// Aligns `lines` of tab-terminated cells (each written followed by `\n`, as amtool's
/// `Fprintf(w, "...\t\n")` writes them; a line may itself hold newlines).
///
/// ```
/// use alert_examples::alertctl::tabwriter::align;
/// let out = align(&["ID\tComment\t".to_string(), "abc\tx\t".to_string()]);
/// assert_eq!(out, "ID   Comment  \nabc  x        \n");
/// ```
pub fn align(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    format(&text)
}

/// Formats a whole buffer as Go's `tabwriter.Writer` does on `Flush`.
///
/// ```
/// use alert_examples::alertctl::tabwriter::format;
/// // A blank line ends the block: the two tables are aligned apart.
/// assert_eq!(format("a\tx\n\nlonger\ty\t\n"), "a  x\n\nlonger  y  \n");
/// ```
pub fn format(text: &str) -> String {
    // Cells of each line; the last cell of a line is the text after its last tab.
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format_block(&lines, 0, lines.len(), &mut widths, &mut out);
    out
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

/// Go's `Writer.format`: the columns from `widths.len()` on, over lines `[line0, line1)`.
fn format_block(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        // A cell in this column: write the lines before the block, then find its end.
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut w = 0;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + 2);
            this += 1;
        }
        widths.push(w);
        format_block(lines, line0, this, widths, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

/// Go's `Writer.writeLines`: cells in columns with a width are padded to it; every line
/// but the buffer's last (the text after the final newline) ends with a newline.
fn write_lines(
    lines: &[Vec<&str>],
    line0: usize,
    line1: usize,
    widths: &[usize],
    out: &mut String,
) {
    for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(j) {
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
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

    /// A cell holding a newline (a multi-line annotation in `-o extended`) ends its
    /// line: its rest starts the next line, and the columns a line does not reach end
    /// their blocks there (Go's algorithm, worked through; amtool's own output is
    /// compared in the alertctl_amtool_cli test).
    #[test]
    fn a_newline_inside_a_cell_splits_the_blocks() {
        let out = align(&[
            "L\tA\tS\t".to_string(),
            "x\tsummary=\"one\ntwo\"\t10:00\t".to_string(),
            "yy\tz\t11:00\t".to_string(),
        ]);
        assert_eq!(
            out,
            "L     A  S  \nx     summary=\"one\ntwo\"  10:00  \nyy    z      11:00  \n"
        );
    }
}
