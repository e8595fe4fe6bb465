//! A page's language: Chinese first, English second, chosen by the `lang`
//! cookie every web surface sets at `/lang?to=en|zh`.

use axum::http::{HeaderMap, header};

use crate::session::cookie_value;

/// The page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// 中文 (the default).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From the `lang` cookie's value.
    pub fn from_cookie(v: Option<&str>) -> Self {
        match v {
            Some("en") => Self::En,
            _ => Self::Zh,
        }
    }

    /// From a request's `lang` cookie.
    pub fn of_request(headers: &HeaderMap) -> Self {
        let v = headers
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| cookie_value(c, "lang"));
        Self::from_cookie(v)
    }

    /// The word in this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }

    /// The HTML `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// Brackets around an aside: full-width in Chinese.
    pub fn brackets(self) -> (&'static str, &'static str) {
        match self {
            Self::Zh => ("（", "）"),
            Self::En => (" (", ")"),
        }
    }
}
