//! The screen's languages: Chinese first, English second.
//!
//! The `.slint` strings are English in the source and translated through the
//! bundled gettext catalogue (`kiosk/lang/zh`); data that comes from the
//! database (programme titles) and dates are chosen or formatted here.

use time::{Date, Weekday};

/// A language the screen can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Language {
    /// Simplified Chinese, the default.
    #[default]
    Chinese,
    /// English.
    English,
}

impl Language {
    /// The code the screen and the command line use: `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::English => "en",
        }
    }

    /// The language with code `zh` or `en`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "zh" => Some(Language::Chinese),
            "en" => Some(Language::English),
            _ => None,
        }
    }

    /// The bundled translation to select: English is the source text.
    pub(crate) fn bundled_translation(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::English => "",
        }
    }

    /// A day as a column of the week shows it, short enough for the column:
    /// `周二 24日` or `Tue 24 Nov`.
    pub fn format_day_column(self, d: Date) -> String {
        match self {
            Language::Chinese => {
                let wd = ["一", "二", "三", "四", "五", "六", "日"]
                    [usize::from(d.weekday().number_days_from_monday())];
                format!("周{wd} {}日", d.day())
            }
            Language::English => self.format_date(d),
        }
    }

    /// A date as the top bar shows it: `11月22日 星期日` or `Sun 22 Nov`.
    pub fn format_date(self, d: Date) -> String {
        match self {
            Language::Chinese => {
                let wd = ["一", "二", "三", "四", "五", "六", "日"]
                    [usize::from(d.weekday().number_days_from_monday())];
                format!("{}月{}日 星期{wd}", u8::from(d.month()), d.day())
            }
            Language::English => {
                let wd = match d.weekday() {
                    Weekday::Monday => "Mon",
                    Weekday::Tuesday => "Tue",
                    Weekday::Wednesday => "Wed",
                    Weekday::Thursday => "Thu",
                    Weekday::Friday => "Fri",
                    Weekday::Saturday => "Sat",
                    Weekday::Sunday => "Sun",
                };
                let month = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ][usize::from(u8::from(d.month()) - 1)];
                format!("{wd} {} {month}", d.day())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates() {
        assert_eq!(
            Language::Chinese.format_date(date!(2026 - 11 - 22)),
            "11月22日 星期日"
        );
        assert_eq!(
            Language::English.format_date(date!(2026 - 11 - 22)),
            "Sun 22 Nov"
        );
        assert_eq!(
            Language::Chinese.format_date(date!(2026 - 01 - 05)),
            "1月5日 星期一"
        );
        for code in ["zh", "en"] {
            assert_eq!(Language::from_code(code).map(Language::code), Some(code));
        }
        assert_eq!(Language::from_code("fr"), None);
    }
}
