//! One bookable resource's settings (`/bookings/resource/ID`): its names,
//! opening hours, slot length, places per slot, price and trial price,
//! limits per member a day and a week, and whether staff check it after
//! each session. Saving goes through the bookings desk, which checks the
//! role again, audits it, and refuses a capacity below the places already
//! booked in any slot from now on. A bad value (capacity 0, a negative
//! price, hours not HH:MM-HH:MM, a name of 10 KB, markup in a name) is
//! refused with the reason in the form, and nothing is written. The
//! device and relay channel a resource runs on are the technician's
//! (`kiosk site import`) and are kept as they are.

use std::fmt::Write;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keting_core::booking::{Limits, Price, ResourceError};
use keting_core::staff::StaffAction;

use super::html::{self, Lang, Nav, esc};
use super::refusal::Refusal;
use super::session::StaffSession;
use super::{Dashboard, bad_input, form_guard, html_page, lang, see_other};
use keting_core::booking::{format_hours, parse_hours};
use keting_desk::bookings::BookingError;
use keting_desk::records::ResourceRecord;
use keting_desk::{self as desk, Actor};
use keting_link::clock;

/// The form's fields, as typed.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ResourceForm {
    #[serde(default)]
    csrf: String,
    name_zh: String,
    name_en: String,
    hours: String,
    #[serde(default)]
    slot_minutes: String,
    capacity: String,
    price: String,
    #[serde(default)]
    trial_price: String,
    per_day: String,
    per_week: String,
    #[serde(default)]
    checked_after_use: Option<String>,
}

impl ResourceForm {
    fn of(r: &ResourceRecord) -> Self {
        let res = &r.resource;
        Self {
            csrf: String::new(),
            name_zh: res.name_zh.clone(),
            name_en: res.name_en.clone(),
            hours: format_hours(&res.hours),
            slot_minutes: res.slot_minutes.map(|m| m.to_string()).unwrap_or_default(),
            capacity: res.capacity.to_string(),
            price: res.price.to_string(),
            trial_price: res.trial_price.map(|p| p.to_string()).unwrap_or_default(),
            per_day: res.limits.per_day.to_string(),
            per_week: res.limits.per_week.to_string(),
            checked_after_use: res.checked_after_use.then(|| "1".to_owned()),
        }
    }

    /// The record with these values, or what is wrong, in `lang`. The form
    /// only reads what was typed; whether the values hold is the core's
    /// rule ([`Resource::validate`], through the desk for every surface),
    /// worded here.
    fn apply(&self, lang: Lang, mut r: ResourceRecord) -> Result<ResourceRecord, String> {
        let number = |s: &str, refusal: ResourceError| {
            s.trim().parse::<u16>().map_err(|_| refusal.words(lang))
        };
        let price = |s: &str| {
            Price::parse_written(s).map_err(|e| match lang {
                Lang::Zh => "价格写作：免费、20 积分或 29.9 元（不能为负）".to_owned(),
                Lang::En => e,
            })
        };
        let res = &mut r.resource;
        res.name_zh = self.name_zh.trim().to_owned();
        res.name_en = self.name_en.trim().to_owned();
        res.hours = parse_hours(&self.hours).map_err(|_| ResourceError::BadHours.words(lang))?;
        res.slot_minutes = match self.slot_minutes.trim() {
            "" => None,
            s => Some(number(s, ResourceError::BadSlot)?),
        };
        res.capacity = number(&self.capacity, ResourceError::BadCapacity)?;
        res.price = price(&self.price)?;
        res.trial_price = match self.trial_price.trim() {
            "" => None,
            s => Some(price(s)?),
        };
        res.limits = Limits {
            per_day: number(&self.per_day, ResourceError::BadLimits)?,
            per_week: number(&self.per_week, ResourceError::BadLimits)?,
        };
        res.checked_after_use = self.checked_after_use.is_some();
        res.validate().map_err(|e| e.words(lang))?;
        Ok(r)
    }
}

fn form_html(who: &StaffSession, lang: Lang, id: &str, f: &ResourceForm) -> String {
    let field = |name: &str, label: &str, value: &str, size: u8, max: u16| {
        format!(
            "<p><label>{label} <input name=\"{name}\" size=\"{size}\" maxlength=\"{max}\" value=\"{}\"></label></p>",
            esc(&value.chars().take(usize::from(max)).collect::<String>())
        )
    };
    let mut h = format!(
        "<form method=\"post\" action=\"/bookings/resource/{}\" class=\"settings\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(id),
        esc(&who.csrf)
    );
    h.push_str(&field(
        "name_zh",
        lang.t("中文名", "Chinese name"),
        &f.name_zh,
        20,
        40,
    ));
    h.push_str(&field(
        "name_en",
        lang.t("英文名", "English name"),
        &f.name_en,
        20,
        40,
    ));
    h.push_str(&field(
        "hours",
        lang.t(
            "开放时间（如 08:30-12:00,14:00-17:00）",
            "Hours (e.g. 08:30-12:00,14:00-17:00)",
        ),
        &f.hours,
        30,
        200,
    ));
    h.push_str(&field(
        "slot_minutes",
        lang.t(
            "每场分钟数（空：每段开放时间一场）",
            "Slot minutes (empty: one slot per window)",
        ),
        &f.slot_minutes,
        4,
        3,
    ));
    h.push_str(&field(
        "capacity",
        lang.t("每场名额", "Places per slot"),
        &f.capacity,
        4,
        3,
    ));
    h.push_str(&field(
        "price",
        lang.t(
            "价格（免费、20 积分、29.9 元）",
            "Price (free, 20 points, 29.9 yuan)",
        ),
        &f.price,
        12,
        20,
    ));
    h.push_str(&field(
        "trial_price",
        lang.t("首次体验价（可不填）", "First-session price (optional)"),
        &f.trial_price,
        12,
        20,
    ));
    h.push_str(&field(
        "per_day",
        lang.t("每人每天最多", "Most per member a day"),
        &f.per_day,
        3,
        2,
    ));
    h.push_str(&field(
        "per_week",
        lang.t("每人每周最多", "Most per member a week"),
        &f.per_week,
        3,
        3,
    ));
    let _ = write!(
        h,
        "<p><label><input type=\"checkbox\" name=\"checked_after_use\" value=\"1\"{}> {}</label></p><button>{}</button></form>",
        if f.checked_after_use.is_some() {
            " checked"
        } else {
            ""
        },
        lang.t(
            "每场结束后由工作人员检查",
            "Staff check it after each session"
        ),
        lang.t("保存", "Save"),
    );
    h
}

fn show(
    who: &StaffSession,
    lang: Lang,
    r: &ResourceRecord,
    f: &ResourceForm,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let id = r.resource.id.as_str();
    let mut body = format!(
        "<h1>{} · {}</h1><p>{} · {}</p>",
        esc(lang.t(&r.resource.name_zh, &r.resource.name_en)),
        lang.t("设置", "Settings"),
        super::bookings::kind_word(lang, r.resource.kind),
        esc(id),
    );
    if let Some((ok, text)) = notice {
        body.push_str(&html::notice(ok, &text));
    }
    if let Some(device) = &r.device {
        let _ = write!(
            body,
            "<p>{} {}{}</p>",
            lang.t("设备", "Device"),
            esc(device.as_str()),
            r.channel
                .map(|c| format!(" · {} {c}", lang.t("通道", "channel")))
                .unwrap_or_default()
        );
    }
    if who.role.may(StaffAction::Bookings) {
        body.push_str(&form_html(who, lang, id, f));
    } else {
        body.push_str(&html::table(
            "settings",
            &[lang.t("项目", "Setting"), lang.t("值", "Value")],
            &[
                vec![lang.t("开放时间", "Hours").to_owned(), esc(&f.hours)],
                vec![
                    lang.t("每场名额", "Places per slot").to_owned(),
                    esc(&f.capacity),
                ],
                vec![lang.t("价格", "Price").to_owned(), esc(&f.price)],
            ],
        ));
    }
    let _ = write!(
        body,
        "<p><a href=\"/bookings/week?resource={}\">{}</a> · <a href=\"/bookings\">{}</a></p>",
        esc(id),
        lang.t("本周时间表", "This week"),
        lang.t("返回预约", "Back to bookings")
    );
    html_page(
        status,
        html::page(
            lang,
            lang.t("资源设置", "Resource settings"),
            Some(who),
            Nav::Bookings,
            &body,
        ),
    )
}

async fn record(d: &Dashboard, id: String) -> Result<ResourceRecord, BookingError> {
    d.with_store(move |s| desk::bookings::resource(s, &id))
        .await
}

/// `GET /bookings/resource/ID`.
pub async fn page(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let Some(who) = d.session(&headers) else {
        return see_other("/sign-in");
    };
    let id: String = id.chars().take(40).collect();
    match record(&d, id).await {
        Ok(r) => show(&who, lang, &r, &ResourceForm::of(&r), None, StatusCode::OK),
        Err(e) => bad_input(lang, Some(&who), &refusal(lang, &e)),
    }
}

/// `POST /bookings/resource/ID`.
pub async fn save(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ResourceForm>,
) -> Response {
    let may = Some((
        StaffAction::Bookings,
        (
            "您的角色不能改预约设置",
            "Your role may not change bookings",
        ),
    ));
    let (who, lang) = match form_guard(&d, &headers, &f.csrf, may) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let id: String = id.chars().take(40).collect();
    let current = match record(&d, id).await {
        Ok(r) => r,
        Err(e) => return bad_input(lang, Some(&who), &refusal(lang, &e)),
    };
    let new = match f.apply(lang, current.clone()) {
        Ok(r) => r,
        Err(why) => {
            return show(
                &who,
                lang,
                &current,
                &f,
                Some((false, why)),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let actor = Actor::Staff(who.member);
    let saved = new.clone();
    match d
        .with_store(move |s| desk::bookings::put_resource(s, actor, &saved, clock::now()))
        .await
    {
        Ok(()) => show(
            &who,
            lang,
            &new,
            &ResourceForm::of(&new),
            Some((true, lang.t("已保存", "Saved").to_owned())),
            StatusCode::OK,
        ),
        Err(BookingError::CapacityBelowBooked {
            capacity,
            booked,
            slot,
        }) => {
            let l = d.site().calendar.local(slot);
            let when = format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute());
            let why = match lang {
                Lang::Zh => format!(
                    "{when} 那一场已有 {booked} 人预约，名额不能少于 {booked}（填的是 {capacity}）：未保存"
                ),
                Lang::En => format!(
                    "{booked} places are booked in the slot at {when}: the capacity cannot go below {booked} (you gave {capacity}); nothing saved"
                ),
            };
            show(
                &who,
                lang,
                &current,
                &f,
                Some((false, why)),
                StatusCode::BAD_REQUEST,
            )
        }
        Err(e) => show(
            &who,
            lang,
            &current,
            &f,
            Some((false, refusal(lang, &e))),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// What the bookings desk refused, in the page's words (a database failure
/// is logged, never shown); a role that may not, in this page's own words.
fn refusal(lang: Lang, e: &BookingError) -> String {
    match e {
        BookingError::NotFound(_) | BookingError::UnknownResource { .. } => {
            lang.t("没有这个资源", "There is no such resource").into()
        }
        BookingError::Forbidden(_) => lang
            .t(
                "您的角色不能改预约设置",
                "Your role may not change booking settings",
            )
            .into(),
        e => e.words(lang),
    }
}
