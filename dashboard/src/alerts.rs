//! Where alarms are told off-site, on the alarm history page: the channels
//! (a WeCom or DingTalk group robot, a signed webhook) with what each last
//! said, the routes and policies, and for a manager the forms to add or
//! remove a channel and to send a test message (the centre sends it within
//! seconds; the answer shows here). A secret is typed once and never shown.

use std::fmt::Write;

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use keting_core::staff::StaffAction;
use keting_desk::alerts::{AlertError, ChannelKind};
use keting_desk::records::{AlarmKind, Store};
use keting_desk::{self as desk, Actor};
use keting_link::clock;

use super::html::{Lang, esc, table};
use super::session::StaffSession;
use super::{Dashboard, bad_input, form_guard, see_other};

/// Who may change where alarms go, and the words for one who may not.
const MAY: (StaffAction, (&str, &str)) = (
    StaffAction::AlertChannels,
    (
        "只有主管能设置报警发往何处",
        "Only a manager may set where alarms are sent",
    ),
);

fn words(lang: Lang, e: &AlertError) -> String {
    match e {
        AlertError::BadName(_) => lang
            .t(
                "名称是 1 到 32 个小写字母、数字或 -",
                "A name is 1 to 32 of a-z, 0-9 and -",
            )
            .into(),
        AlertError::BadUrl(_) => lang
            .t(
                "地址须以 https:// 开头（http:// 只限本机）",
                "The address must be https:// (http:// to this machine only)",
            )
            .into(),
        AlertError::NeedsSecret => lang
            .t(
                "钉钉机器人需要填写加签密钥",
                "A DingTalk robot needs its signing secret",
            )
            .into(),
        AlertError::UnknownChannel(_) => lang.t("没有这个通知渠道", "No such channel").into(),
        AlertError::UnknownKind(_) => lang.t("没有这种渠道", "No such kind of channel").into(),
        AlertError::NoChannels => lang.t("还没有通知渠道", "There is no channel yet").into(),
        AlertError::Store(keting_desk::records::StoreError::Forbidden(_)) => {
            lang.t(MAY.1.0, MAY.1.1).into()
        }
        other => {
            tracing::error!("alert channels: {other}");
            lang.t(
                "数据库暂时无法读写，请稍后再试",
                "The database cannot be used just now: try again shortly",
            )
            .into()
        }
    }
}

fn kind_words(lang: Lang, k: ChannelKind) -> &'static str {
    match k {
        ChannelKind::WeCom => lang.t("企业微信群机器人", "WeCom group robot"),
        ChannelKind::DingTalk => lang.t("钉钉群机器人", "DingTalk group robot"),
        ChannelKind::Webhook => lang.t("网络回调（签名）", "Webhook (signed)"),
        ChannelKind::Email => lang.t("电子邮件", "E-mail"),
    }
}

/// The section: channels, routes, and a manager's forms.
pub async fn section(d: &Dashboard, who: &StaffSession, lang: Lang) -> String {
    let read = d
        .with_store(|s| {
            let (channels, routes) = desk::alerts::list(s)?;
            let outcomes = desk::alerts::last_outcomes(s)?;
            let policies = AlarmKind::ALL
                .into_iter()
                .map(|k| desk::alerts::policy(s, k).map(|p| (k, p)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, AlertError>((channels, routes, outcomes, policies))
        })
        .await;
    let (channels, routes, outcomes, policies) = match read {
        Ok(r) => r,
        Err(e) => return format!("<p class=\"alarm\">{}</p>", esc(&words(lang, &e))),
    };
    let cal = d.site().calendar;
    let mut out = format!(
        "<h2 id=\"alerts\">{}</h2><p>{}</p>",
        lang.t("报警通知（发到值班群）", "Alarms off-site (to the duty group)"),
        lang.t(
            "报警发生、有人处理、解除时，都会发到下面的渠道。没有设置路由时，每种报警发到每个渠道。",
            "When an alarm is raised, acknowledged and cleared, the channels below are told. With no route, every alarm goes to every channel."
        )
    );
    if channels.is_empty() {
        let _ = write!(
            out,
            "<p id=\"no-channels\">{}</p>",
            lang.t(
                "还没有通知渠道：报警只显示在自助机和本页。",
                "No channel yet: alarms show on the kiosk and here only."
            )
        );
    } else {
        let rows: Vec<Vec<String>> = channels
            .iter()
            .map(|c| {
                let last = outcomes
                    .iter()
                    .find(|o| o.0 == c.name)
                    .map(|(_, at, ok, answer)| {
                        let l = cal.local(*at);
                        format!(
                            "{} {:02}:{:02} · {} {}",
                            l.date(),
                            l.hour(),
                            l.minute(),
                            if *ok {
                                lang.t("已送达", "delivered")
                            } else {
                                lang.t("未送达", "not delivered")
                            },
                            esc(answer.as_deref().unwrap_or(""))
                        )
                    });
                vec![
                    esc(&c.name),
                    kind_words(lang, c.kind).to_owned(),
                    esc(&c.url),
                    if c.secret_file.is_some() {
                        lang.t("已设置（不显示）", "set (never shown)").to_owned()
                    } else {
                        "—".to_owned()
                    },
                    last.unwrap_or_else(|| "—".to_owned()),
                ]
            })
            .collect();
        out.push_str(&table(
            "alert-channels",
            &[
                lang.t("名称", "Name"),
                lang.t("类型", "Kind"),
                lang.t("地址", "Address"),
                lang.t("密钥", "Secret"),
                lang.t("最近一条", "Last message"),
            ],
            &rows,
        ));
    }
    for (kind, to) in &routes {
        let _ = write!(
            out,
            "<p>{} {} → {}</p>",
            lang.t("路由", "Route"),
            kind.as_str(),
            esc(&to.join(", "))
        );
    }
    for (kind, p) in &policies {
        if let Some((f, u)) = p.quiet {
            let _ = write!(
                out,
                "<p>{} {}: {}–{}</p>",
                lang.t("免打扰", "Quiet hours"),
                kind.as_str(),
                desk::alerts::hh_mm(f),
                desk::alerts::hh_mm(u)
            );
        }
        if let Some((after, to)) = &p.escalate {
            let _ = write!(
                out,
                "<p>{}</p>",
                match lang {
                    Lang::Zh => format!(
                        "{} 报警 {} 分钟无人处理 → {}",
                        kind.as_str(),
                        after / 60,
                        esc(to)
                    ),
                    Lang::En => format!(
                        "{} not acknowledged in {} min → {}",
                        kind.as_str(),
                        after / 60,
                        esc(to)
                    ),
                }
            );
        }
    }
    if who.role.may(StaffAction::AlertChannels) {
        let csrf = esc(&who.csrf);
        let _ = write!(
            out,
            "<h3>{}</h3><form method=\"post\" action=\"/alerts/channel\" class=\"alert-add\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <p><label>{} <select name=\"kind\"><option value=\"wecom\">{}</option><option value=\"dingtalk\">{}</option><option value=\"webhook\">{}</option><option value=\"email\">{}</option></select></label></p>\
             <p><label>{} <input name=\"name\" required maxlength=\"32\" pattern=\"[a-z0-9-]+\" placeholder=\"duty-wecom\"></label></p>\
             <p><label>{} <input name=\"url\" required maxlength=\"500\" size=\"60\" placeholder=\"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…\"></label></p>\
             <p><label>{} <input name=\"secret\" type=\"password\" autocomplete=\"off\" maxlength=\"200\"></label></p>\
             <p><button>{}</button></p></form>",
            lang.t("添加通知渠道", "Add a channel"),
            lang.t("类型", "Kind"),
            kind_words(lang, ChannelKind::WeCom),
            kind_words(lang, ChannelKind::DingTalk),
            kind_words(lang, ChannelKind::Webhook),
            kind_words(lang, ChannelKind::Email),
            lang.t("名称", "Name"),
            lang.t("地址", "Address"),
            lang.t(
                "密钥（钉钉加签、回调签名，可空）",
                "Secret (DingTalk, webhook; optional)"
            ),
            lang.t("添加渠道", "Add the channel"),
        );
        if !channels.is_empty() {
            let options: String = channels
                .iter()
                .map(|c| format!("<option>{}</option>", esc(&c.name)))
                .collect();
            let _ = write!(
                out,
                "<h3>{}</h3><form method=\"post\" action=\"/alerts/test\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <p><select name=\"name\">{options}</select> <button>{}</button></p></form>\
                 <form method=\"post\" action=\"/alerts/remove\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <p><select name=\"name\">{options}</select> <button>{}</button></p></form>",
                lang.t("试发与删除", "Try or remove a channel"),
                lang.t("发送测试消息", "Send a test message"),
                lang.t("删除渠道", "Remove the channel"),
            );
        }
    }
    out
}

/// A channel to add.
#[derive(serde::Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
}

/// `POST /alerts/channel`.
pub async fn add(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<ChannelForm>,
) -> Response {
    let csrf = f.csrf.clone();
    change(&d, &headers, &csrf, move |s, actor| {
        let kind = ChannelKind::parse(&f.kind).ok_or(AlertError::UnknownKind(f.kind.clone()))?;
        let dir = desk::alerts::data_dir(s);
        let secret = Some(f.secret.as_str()).filter(|s| !s.trim().is_empty());
        desk::alerts::add_channel(
            s,
            actor,
            &dir,
            f.name.trim(),
            kind,
            f.url.trim(),
            secret,
            clock::now(),
        )
        .map(|_| ())
    })
    .await
}

/// A channel named.
#[derive(serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /alerts/test`: the centre sends it within seconds.
pub async fn test(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<NameForm>,
) -> Response {
    change(&d, &headers, &f.csrf, move |s, actor| {
        let now = clock::now();
        desk::alerts::queue_test(s, actor, Some(&f.name), now, now).map(|_| ())
    })
    .await
}

/// `POST /alerts/remove`.
pub async fn remove(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<NameForm>,
) -> Response {
    change(&d, &headers, &f.csrf, move |s, actor| {
        let dir = desk::alerts::data_dir(s);
        desk::alerts::remove_channel(s, actor, &dir, &f.name, clock::now())
    })
    .await
}

/// A manager's change: the form's guard, the change in their name, then
/// back to the page, or the refusal in words.
async fn change(
    d: &Dashboard,
    headers: &HeaderMap,
    csrf: &str,
    work: impl FnOnce(&mut Store, Actor) -> Result<(), AlertError> + Send + 'static,
) -> Response {
    let (who, lang) = match form_guard(d, headers, csrf, Some(MAY)) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let actor = Actor::Staff(who.member);
    match d.with_store(move |s| work(s, actor)).await {
        Ok(()) => see_other("/alarms#alerts"),
        Err(e) => bad_input(lang, Some(&who), &words(lang, &e)),
    }
}
