//! Signing in from inside WeChat, with the centre's official account
//! (optional: `DATA/wechat.toml`). WeChat's silent OAuth (`snsapi_base`)
//! tells the site the visitor's openid without asking them anything; the
//! openid is bound to a member at their first binding made inside WeChat
//! (the kiosk's QR or a staff link), and from then on WeChat alone signs
//! that account in on any phone.
//!
//! The flow: a phone inside WeChat with no cookie goes to `/wechat/start`,
//! which keeps where it was going under a random `state` (also in a
//! cookie, so another browser cannot finish it) and sends it to WeChat's
//! authorize page; WeChat sends it back to `/wechat/back` with a code,
//! which the site exchanges for the openid at WeChat's token endpoint (the
//! app secret never leaves the server and is never logged). A known
//! openid gets a bound phone; an unknown one is kept for 10 minutes for
//! the binding that follows. Both endpoints are configurable, so the flow
//! is tested against a local stand-in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use keting_desk::phones::PhoneError;
use keting_webkit::respond::see_other;
use keting_webkit::session::{cookie_value, random_token};
use thiserror::Error;

use crate::Residents;
use crate::guard::{self, COOKIE, Visit};
use crate::page;
use keting_webkit::outbound::{Client, OutboundError, SYSTEM_CAS};

/// WeChat's authorize page.
pub const AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";
/// WeChat's code-for-openid endpoint.
pub const TOKEN_URL: &str = "https://api.weixin.qq.com/sns/oauth2/access_token";
/// The cookie holding the flow's `state`.
pub const STATE_COOKIE: &str = "kt_wx_state";
/// The cookie naming an openid waiting for its first binding.
pub const OPENID_COOKIE: &str = "kt_wx";
/// How long a flow's state and an unbound openid are kept.
pub const KEPT: Duration = Duration::from_secs(600);
/// The most flows and openids kept at once.
const KEPT_MAX: usize = 10_000;

/// The official account, as configured.
#[derive(Clone, Debug)]
pub struct WeChatConfig {
    /// The official account's app id.
    pub app_id: String,
    /// Its app secret (from a 0600 file; never shown or logged).
    pub secret: String,
    /// The authorize page.
    pub authorize_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The certificate authorities the token endpoint is checked against.
    pub ca_file: PathBuf,
}

/// `wechat.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    app_id: String,
    secret_file: PathBuf,
    authorize_url: Option<String>,
    token_url: Option<String>,
    ca_file: Option<PathBuf>,
}

/// Why the WeChat configuration is not usable.
#[derive(Debug, Error)]
pub enum WeChatConfigError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not the expected TOML.
    #[error("{path}: {why}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The secret file may be read by others.
    #[error("{0} holds the app secret and must be readable by its owner only (chmod 600)")]
    SecretExposed(PathBuf),
}

impl WeChatConfig {
    /// Reads `path` (`app_id`, `secret_file` relative to it; optionally
    /// `authorize_url`, `token_url`, `ca_file`).
    pub fn load(path: &Path) -> Result<Self, WeChatConfigError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| WeChatConfigError::Read {
                path: p.to_owned(),
                source,
            })
        };
        let bad = |why: String| WeChatConfigError::Format {
            path: path.to_owned(),
            why,
        };
        let file: File = toml::from_str(&read(path)?).map_err(|e| bad(e.to_string()))?;
        if file.app_id.is_empty() || !file.app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(
                "app_id is the official account's id, letters and digits (wx…)".into(),
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let secret_path = dir.join(&file.secret_file);
        {
            use std::os::unix::fs::PermissionsExt;
            let meta =
                std::fs::metadata(&secret_path).map_err(|source| WeChatConfigError::Read {
                    path: secret_path.clone(),
                    source,
                })?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(WeChatConfigError::SecretExposed(secret_path));
            }
        }
        let secret = read(&secret_path)?.trim().to_owned();
        if secret.is_empty() || !secret.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(format!(
                "{} does not hold an app secret",
                secret_path.display()
            )));
        }
        for url in [&file.authorize_url, &file.token_url].into_iter().flatten() {
            if !url.starts_with("https://")
                && !url.starts_with("http://127.0.0.1")
                && !url.starts_with("http://localhost")
            {
                return Err(bad(format!(
                    "{url}: WeChat's endpoints are https:// (http:// only for a stand-in on this machine)"
                )));
            }
        }
        Ok(Self {
            app_id: file.app_id,
            secret,
            authorize_url: file
                .authorize_url
                .unwrap_or_else(|| AUTHORIZE_URL.to_owned()),
            token_url: file.token_url.unwrap_or_else(|| TOKEN_URL.to_owned()),
            ca_file: file
                .ca_file
                .map(|c| dir.join(c))
                .unwrap_or_else(|| PathBuf::from(SYSTEM_CAS)),
        })
    }
}

/// The official account at work: its configuration, its client, the flows
/// under way and the openids waiting for a binding.
pub struct WeChat {
    config: WeChatConfig,
    client: Client,
    flows: Mutex<HashMap<String, (Instant, String)>>,
    unbound: Mutex<HashMap<String, (Instant, String)>>,
}

impl std::fmt::Debug for WeChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeChat")
            .field("app_id", &self.config.app_id)
            .finish_non_exhaustive()
    }
}

/// Keeps `value` under `key` for [`KEPT`]; false when full.
fn keep(map: &Mutex<HashMap<String, (Instant, String)>>, key: String, value: String) -> bool {
    let mut m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = Instant::now();
    m.retain(|_, (at, _)| now.duration_since(*at) < KEPT);
    if m.len() >= KEPT_MAX {
        return false;
    }
    m.insert(key, (now, value));
    true
}

/// What is kept under `key`, if still fresh (`take`: and forgets it).
fn kept(map: &Mutex<HashMap<String, (Instant, String)>>, key: &str, take: bool) -> Option<String> {
    let mut m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fresh = m.get(key).is_some_and(|(at, _)| at.elapsed() < KEPT);
    let value = if take {
        m.remove(key).map(|(_, v)| v)
    } else {
        m.get(key).map(|(_, v)| v.clone())
    };
    value.filter(|_| fresh)
}

impl WeChat {
    /// The official account of `config`.
    pub fn new(config: WeChatConfig) -> Result<Self, OutboundError> {
        Ok(Self {
            client: Client::new(&config.ca_file)?,
            config,
            flows: Mutex::new(HashMap::new()),
            unbound: Mutex::new(HashMap::new()),
        })
    }

    /// The openid waiting for a binding in this visit's cookie.
    pub fn unbound_openid(&self, headers: &HeaderMap) -> Option<String> {
        let c = headers.get(header::COOKIE)?.to_str().ok()?;
        kept(&self.unbound, cookie_value(c, OPENID_COOKIE)?, false)
    }
}

/// Whether the visit comes from WeChat's browser.
pub fn in_wechat(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("MicroMessenger"))
}

/// Where a phone inside WeChat with no binding should go first, if the
/// official account is configured and WeChat has not been asked yet.
pub fn first_ask(r: &Residents, visit: &Visit, back: &str) -> Option<Response> {
    let wx = r.wechat()?;
    if !in_wechat(&visit.headers) || wx.unbound_openid(&visit.headers).is_some() {
        return None;
    }
    Some(see_other(&format!("/wechat/start?back={}", encode(back))))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A path of this site to come back to (never another site's address).
fn safe_back(back: Option<String>) -> String {
    back.filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains(['\\', '\r', '\n']))
        .unwrap_or_else(|| "/".to_owned())
}

fn with_cookie(mut r: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `/wechat/start?back=…`'s query.
#[derive(serde::Deserialize)]
pub struct Start {
    back: Option<String>,
}

/// `GET /wechat/start`: off to WeChat's authorize page.
pub async fn start(State(r): State<Residents>, visit: Visit, Query(q): Query<Start>) -> Response {
    if let Err(out) = guard::within_limit(&r, &visit) {
        return *out;
    }
    let Some(wx) = r.wechat() else {
        return see_other("/welcome");
    };
    let Some(state) = random_token() else {
        return page::unavailable(visit.lang, &"no randomness");
    };
    if !keep(&wx.flows, state.clone(), safe_back(q.back)) {
        return guard::too_many(visit.lang);
    }
    let back_to = format!("{}/wechat/back", guard::public_base(&visit.headers));
    let to = format!(
        "{}?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={state}#wechat_redirect",
        wx.config.authorize_url,
        wx.config.app_id,
        encode(&back_to)
    );
    let secure = guard::cookie_attributes(&visit.headers).contains("Secure");
    with_cookie(
        see_other(&to),
        &format!(
            "{STATE_COOKIE}={state}; Path=/wechat; HttpOnly; SameSite=Lax; Max-Age={}{}",
            KEPT.as_secs(),
            if secure { "; Secure" } else { "" }
        ),
    )
}

/// `/wechat/back?code=…&state=…`'s query.
#[derive(serde::Deserialize)]
pub struct Back {
    code: Option<String>,
    state: Option<String>,
}

fn failed(visit: &Visit) -> Response {
    let lang = visit.lang;
    page::message(
        StatusCode::FORBIDDEN,
        lang,
        lang.t("微信登录没有成功", "WeChat sign-in did not work"),
        lang.t(
            "请重新打开页面，或在自助机上绑定手机。",
            "Open the page again, or bind your phone at the kiosk.",
        ),
    )
}

/// `GET /wechat/back`: the code exchanged for the openid; signed in, or
/// the openid kept for the binding that follows.
pub async fn back(State(r): State<Residents>, visit: Visit, Query(q): Query<Back>) -> Response {
    if let Err(out) = guard::within_limit(&r, &visit) {
        return *out;
    }
    let Some(wx) = r.wechat() else {
        return see_other("/welcome");
    };
    let cookie_state = visit
        .headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| cookie_value(c, STATE_COOKIE))
        .map(str::to_owned);
    let (Some(code), Some(state)) = (q.code.filter(|c| !c.is_empty() && c.len() <= 128), q.state)
    else {
        return failed(&visit);
    };
    // The state this browser began, once.
    if cookie_state.as_deref() != Some(state.as_str()) {
        tracing::info!("WeChat sign-in: a state not this browser's");
        return failed(&visit);
    }
    let Some(back) = kept(&wx.flows, &state, true) else {
        return failed(&visit);
    };
    let url = format!(
        "{}?appid={}&secret={}&code={}&grant_type=authorization_code",
        wx.config.token_url,
        wx.config.app_id,
        wx.config.secret,
        encode(&code)
    );
    let openid = match wx.client.get(&url).await {
        Ok((200, body)) => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(v)
                if v["openid"]
                    .as_str()
                    .is_some_and(|o| !o.is_empty() && o.len() <= 64) =>
            {
                v["openid"].as_str().unwrap_or_default().to_owned()
            }
            Ok(v) => {
                tracing::warn!(errcode = %v["errcode"], "WeChat refused the sign-in code");
                return failed(&visit);
            }
            Err(_) => {
                tracing::warn!("WeChat's token endpoint answered something not JSON");
                return failed(&visit);
            }
        },
        Ok((status, _)) => {
            tracing::warn!(status, "WeChat's token endpoint answered an error");
            return failed(&visit);
        }
        Err(e) => {
            tracing::warn!("WeChat's token endpoint: {e}");
            return failed(&visit);
        }
    };
    let clear_state = format!("{STATE_COOKIE}=; Path=/wechat; HttpOnly; SameSite=Lax; Max-Age=0");
    let now = guard::now();
    let label = "phone · WeChat".to_owned();
    let o = openid.clone();
    match r
        .with_store(move |s| keting_desk::phones::sign_in_with_openid(s, &o, &label, now))
        .await
    {
        Ok(bound) => {
            let out = with_cookie(see_other(&back), &clear_state);
            with_cookie(
                out,
                &format!(
                    "{COOKIE}={}; {}",
                    bound.token,
                    guard::cookie_attributes(&visit.headers)
                ),
            )
        }
        Err(PhoneError::SignedOut) => {
            let Some(key) = random_token() else {
                return page::unavailable(visit.lang, &"no randomness");
            };
            if !keep(&wx.unbound, key.clone(), openid) {
                return guard::too_many(visit.lang);
            }
            let to = if back.starts_with("/bind/") {
                back
            } else {
                "/welcome".to_owned()
            };
            let out = with_cookie(see_other(&to), &clear_state);
            with_cookie(
                out,
                &format!(
                    "{OPENID_COOKIE}={key}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
                    KEPT.as_secs()
                ),
            )
        }
        Err(e) => page::unavailable(visit.lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_of_this_site_is_come_back_to() {
        assert_eq!(safe_back(Some("/bookings".into())), "/bookings");
        assert_eq!(safe_back(Some("//evil.example/x".into())), "/");
        assert_eq!(safe_back(Some("https://evil.example".into())), "/");
        assert_eq!(safe_back(None), "/");
        assert_eq!(encode("http://a/b?c=d"), "http%3A%2F%2Fa%2Fb%3Fc%3Dd");
    }
}
