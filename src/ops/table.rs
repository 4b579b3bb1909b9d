//! Plain-text tables for the operator commands: a header, then one line per
//! row, columns padded to their widest cell and separated by two spaces;
//! numeric columns right-aligned. Pure.

/// A table being built.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; a name ending in `>` is right-aligned
    /// (the `>` is not printed).
    pub fn new(columns: &[&'static str]) -> Table {
        Table {
            header: columns.iter().map(|c| c.trim_end_matches('>')).collect(),
            right: columns.iter().map(|c| c.ends_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// The text, every line ending in a newline.
    pub fn render(&self) -> String {
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([self.header[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: Vec<&str>| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                let last = i + 1 == cells.len();
                if self.right[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    if !last {
                        out.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    out.push_str("  ");
                }
            }
            let mut out = out.trim_end().to_string();
            out.push('\n');
            out
        };
        let mut out = line(self.header.clone());
        for r in &self.rows {
            out.push_str(&line(r.iter().map(String::as_str).collect()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_and_numbers_right_aligned() {
        let mut t = Table::new(&["ID", "CPUS>", "NAME"]);
        t.row(vec!["a".into(), "0.5".into(), "web".into()]);
        t.row(vec!["long-id".into(), "12".into()]);
        assert_eq!(
            t.render(),
            "ID       CPUS  NAME\n\
             a         0.5  web\n\
             long-id    12\n"
        );
    }

    #[test]
    fn an_empty_table_is_its_header() {
        assert_eq!(Table::new(&["A", "B"]).render(), "A  B\n");
    }
}
