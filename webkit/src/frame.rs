//! The page frame every web surface shares: the head (language, title,
//! style sheet), a header with the surface's brand, its navigation and the
//! signed-in person with sign-out, the other language's link, and the body.
//! The surface gives its brand, links and script as parameters; the frame
//! knows no surface.

use std::fmt::Write;

use crate::html::esc;
use crate::lang::Lang;

/// A surface's fixed parts.
#[derive(Clone, Copy, Debug)]
pub struct Surface<'a> {
    /// After the page title in the browser's tab, (Chinese, English).
    pub title_suffix: (&'a str, &'a str),
    /// The brand at the header's start, (Chinese, English).
    pub brand: (&'a str, &'a str),
    /// The navigation shown to a signed-in person.
    pub nav: &'a [NavLink<'a>],
    /// A script every page loads (deferred), if any.
    pub script: Option<&'a str>,
}

/// One link of the navigation.
#[derive(Clone, Copy, Debug)]
pub struct NavLink<'a> {
    /// Where it goes.
    pub href: &'a str,
    /// Its words, Chinese.
    pub zh: &'a str,
    /// Its words, English.
    pub en: &'a str,
}

/// Who is signed in, as the header shows them.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn<'a> {
    /// Their name.
    pub name: &'a str,
    /// Their role, in the page's language.
    pub role: &'a str,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: &'a str,
}

/// A whole page of `surface`: `title`, the signed-in person (the
/// navigation shows only then), the link `here` marked, `body`.
pub fn page(
    surface: &Surface<'_>,
    lang: Lang,
    title: &str,
    who: Option<SignedIn<'_>>,
    here: Option<&str>,
    body: &str,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><link rel=\"stylesheet\" href=\"/assets/dashboard.css\"></head><body>\
         <header><span class=\"brand\">{}</span>",
        lang.code(),
        esc(title),
        lang.t(surface.title_suffix.0, surface.title_suffix.1),
        lang.t(surface.brand.0, surface.brand.1),
    );
    if let Some(who) = who {
        h.push_str("<nav>");
        for link in surface.nav {
            let _ = write!(
                h,
                "<a href=\"{}\"{}>{}</a>",
                link.href,
                if here == Some(link.href) {
                    " class=\"here\""
                } else {
                    ""
                },
                lang.t(link.zh, link.en)
            );
        }
        let (open, close) = lang.brackets();
        let _ = write!(
            h,
            "</nav><span class=\"who\">{}{open}{}{close}</span>\
             <form method=\"post\" action=\"/sign-out\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button>{}</button></form>",
            esc(who.name),
            esc(who.role),
            esc(who.csrf),
            lang.t("退出", "Sign out")
        );
    }
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let _ = write!(
        h,
        "<a class=\"lang\" href=\"/lang?to={}\">{}</a></header><main>{body}</main>",
        other.0, other.1
    );
    if let Some(src) = surface.script {
        let _ = write!(h, "<script src=\"{src}\" defer></script>");
    }
    h.push_str("</body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const SURFACE: Surface<'static> = Surface {
        title_suffix: ("测试", "Test"),
        brand: ("品牌", "Brand"),
        nav: &[
            NavLink {
                href: "/",
                zh: "首页",
                en: "Home",
            },
            NavLink {
                href: "/b",
                zh: "乙",
                en: "B",
            },
        ],
        script: None,
    };

    #[test]
    fn the_navigation_shows_only_to_someone_signed_in_and_marks_the_page() {
        let out = page(&SURFACE, Lang::Zh, "标题", None, None, "<p>x</p>");
        assert!(!out.contains("<nav>") && out.contains("<main><p>x</p></main>"));
        let who = SignedIn {
            name: "<王>",
            role: "主管",
            csrf: "tok",
        };
        let out = page(&SURFACE, Lang::En, "T", Some(who), Some("/b"), "");
        assert!(out.contains("<a href=\"/b\" class=\"here\">B</a>"));
        assert!(out.contains("&lt;王&gt; (主管)") && out.contains("value=\"tok\""));
        assert!(out.contains("href=\"/lang?to=zh\">中文"));
    }
}
