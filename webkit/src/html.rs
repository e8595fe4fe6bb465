//! HTML pieces every page builds with: escaping (every value that did not
//! come from the program's own text goes through [`esc`]), tables, and the
//! notice above a form saying what it did.

use std::fmt::Write;

/// `s` safe inside HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// What a form did, above it: done (`ok`, announced politely) or refused
/// (announced at once), in words.
pub fn notice(ok: bool, text: &str) -> String {
    if ok {
        format!("<p class=\"ok\" role=\"status\">{}</p>", esc(text))
    } else {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(text))
    }
}

/// A table: `head` cells and rows of cells (already escaped).
pub fn table(class: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut h = format!("<table class=\"{class}\"><thead><tr>");
    for c in head {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr></thead><tbody>");
    for r in rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{c}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_a_name_is_text() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn a_table_escapes_its_head_and_keeps_its_cells() {
        let t = table("t", &["<名>"], &[vec!["<b>1</b>".into()]]);
        assert!(t.contains("<th>&lt;名&gt;</th>") && t.contains("<td><b>1</b></td>"));
    }
}
