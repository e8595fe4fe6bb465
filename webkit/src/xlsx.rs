//! Tables as an Excel workbook (Office Open XML, `.xlsx`): one sheet per
//! table, a bold header row, numbers as numbers and text as inline
//! strings, so a Chinese Excel, WPS or LibreOffice opens it with the same
//! rows and figures the page shows. Nothing but the workbook's required
//! parts is written.

use std::fmt::Write;

use crate::zip::{self, ZipError};

/// One sheet: its name (at most 31 characters, no `[]:*?/\`), the header,
/// the rows.
pub struct Sheet {
    /// The tab's name.
    pub name: String,
    /// The header row.
    pub head: Vec<String>,
    /// The rows, cell by cell.
    pub rows: Vec<Vec<Cell>>,
}

/// A cell's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number (a count, a sum).
    Number(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Self {
        Cell::Number(n as f64)
    }
}

/// XML text: `&`, `<`, `>`, `"` escaped, and the characters XML 1.0 cannot
/// carry dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A column's letters: 0 is `A`, 26 is `AA`.
fn column(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn sheet_name(name: &str, i: usize) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        format!("Sheet{}", i + 1)
    } else {
        clean
    }
}

fn sheet_xml(sheet: &Sheet) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    let mut row = |r: usize, cells: Vec<(Cell, bool)>| {
        let _ = write!(x, "<row r=\"{r}\">");
        for (c, (cell, bold)) in cells.into_iter().enumerate() {
            let at = format!("{}{r}", column(c));
            let style = if bold { " s=\"1\"" } else { "" };
            match cell {
                Cell::Number(n) if n.is_finite() => {
                    let _ = write!(x, "<c r=\"{at}\"{style}><v>{n}</v></c>");
                }
                Cell::Number(_) => {
                    let _ = write!(x, "<c r=\"{at}\"{style}/>");
                }
                Cell::Text(t) => {
                    let _ = write!(
                        x,
                        "<c r=\"{at}\" t=\"inlineStr\"{style}><is><t xml:space=\"preserve\">{}</t></is></c>",
                        xml(&t)
                    );
                }
            }
        }
        x.push_str("</row>");
    };
    row(
        1,
        sheet
            .head
            .iter()
            .map(|h| (Cell::Text(h.clone()), true))
            .collect(),
    );
    for (i, r) in sheet.rows.iter().enumerate() {
        row(i + 2, r.iter().map(|c| (c.clone(), false)).collect());
    }
    x.push_str("</sheetData></worksheet>");
    x
}

/// The workbook of `sheets`.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, ZipError> {
    let mut types = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
    );
    let mut book = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>",
    );
    let mut rels = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    let mut parts: Vec<(String, String)> = Vec::new();
    for (i, sheet) in sheets.iter().enumerate() {
        let n = i + 1;
        let _ = write!(
            types,
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        );
        let _ = write!(
            book,
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
            xml(&sheet_name(&sheet.name, i))
        );
        let _ = write!(
            rels,
            "<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        );
        parts.push((format!("xl/worksheets/sheet{n}.xml"), sheet_xml(sheet)));
    }
    let styles_id = sheets.len() + 1;
    let _ = write!(
        rels,
        "<Relationship Id=\"rId{styles_id}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>"
    );
    types.push_str("</Types>");
    book.push_str("</sheets></workbook>");
    let root_rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
    // Two fonts (plain, bold) and two cell formats using them.
    let styles = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"等线\"/></font><font><b/><sz val=\"11\"/><name val=\"等线\"/></font></fonts>\
         <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
         <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
         <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
         <cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
         <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>\
         </styleSheet>";
    let mut files: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", root_rels.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/styles.xml", styles.as_bytes()),
    ];
    for (name, body) in &parts {
        files.push((name.as_str(), body.as_bytes()));
    }
    zip::stored(&files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_names_follow_excels_rules() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(27), "AB");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
        assert_eq!(sheet_name("客流/2026", 0), "客流2026");
        assert_eq!(sheet_name("[]", 1), "Sheet2");
        assert_eq!(xml("<a & \"b\">\u{1}"), "&lt;a &amp; &quot;b&quot;&gt;");
    }

    #[test]
    fn a_workbook_holds_its_sheets_text_and_numbers() {
        let book = workbook(&[Sheet {
            name: "到访".into(),
            head: vec!["时段".into(), "到访".into()],
            rows: vec![vec!["08:00".into(), 12u64.into()]],
        }])
        .unwrap();
        assert!(book.starts_with(b"PK\x03\x04"));
        let text = String::from_utf8_lossy(&book);
        assert!(text.contains("<sheet name=\"到访\" sheetId=\"1\" r:id=\"rId1\"/>"));
        assert!(text.contains("<c r=\"B2\"><v>12</v></c>"));
        assert!(text.contains(
            "<c r=\"A2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">08:00</t></is></c>"
        ));
    }
}
