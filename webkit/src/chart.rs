//! Bar charts drawn on the server as SVG: no script, no library, readable
//! on an old office browser, and printed as they are shown. Each bar has a
//! `<title>` with its label and value, and the page puts the same numbers
//! in a table beside it.

use std::fmt::Write;

use crate::html::esc;

/// A bar chart of `values` labelled `labels`, `width` x `height` pixels.
pub fn bars(labels: &[String], values: &[u64], width: u32, height: u32) -> String {
    let n = values.len().max(1) as f64;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    // Room for the top value's digits (a district's month runs to six).
    let digits = (max as u64).to_string().len() as f64;
    let (left, bottom, top) = ((8.0 + 7.0 * digits).max(36.0), 22.0, 8.0);
    let plot_w = f64::from(width) - left - 4.0;
    let plot_h = f64::from(height) - bottom - top;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    let mut s = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\">"
    );
    // The axis and the top value.
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y0}\" class=\"axis\"/>\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"tick\" text-anchor=\"end\">{max}</text>\
         <text x=\"{tx}\" y=\"{y0}\" class=\"tick\" text-anchor=\"end\">0</text>",
        y0 = top + plot_h,
        x1 = left + plot_w,
        tx = left - 4.0,
        ty = top + 10.0,
        max = max as u64,
    );
    let every = (values.len() / 12).max(1);
    for (i, v) in values.iter().enumerate() {
        let h = plot_h * (*v as f64) / max;
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" class=\"bar\">\
             <title>{}: {v}</title></rect>",
            top + plot_h - h,
            esc(label)
        );
        if i % every == 0 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                f64::from(height) - 6.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_plot_and_labels_are_escaped() {
        let svg = bars(&["<9>".into(), "10".into()], &[5, 10], 200, 100);
        assert!(
            svg.contains("&lt;9&gt;: 5") && svg.contains("10: 10"),
            "{svg}"
        );
        assert!(
            svg.contains("height=\"70.0\""),
            "10 of 10 fills 70 px: {svg}"
        );
        assert!(!bars(&[], &[], 100, 50).contains("<rect"));
    }
}
