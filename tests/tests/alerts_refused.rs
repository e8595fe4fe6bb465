//! Alert channels that refuse or hang (issue 29's bad input), through the
//! real centre with its dashboard: a DingTalk robot whose signing secret
//! is wrong (the stand-in checks the signature as DingTalk does and answers
//! its `sign not match`), a mail server refusing the login (aiosmtpd over
//! STARTTLS), and a webhook that takes the request and never answers. Each
//! says why in one line on the dashboard and in the log; the hanging one
//! delays no other channel; the alarm stays on the screens.

use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use keting_core::ids::DeviceId;
use keting_store::Store;
use keting_store::alarms::{self, AlarmKind};
use keting_system_tests::binaries;
use keting_system_tests::http::request;
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::alerts::{Receiver, add_channel};

/// A DingTalk robot whose secret is `secret`: a request signed otherwise
/// gets DingTalk's answer to a bad signature.
async fn dingtalk_robot(secret: &'static str) -> u16 {
    serve(move |target| {
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap_or("")
                .to_owned()
        };
        let timestamp = param("timestamp");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}\n{secret}").as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let given = param("sign")
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        Some(if given == expected {
            r#"{"errcode":0,"errmsg":"ok"}"#.to_owned()
        } else {
            r#"{"errcode":310000,"errmsg":"sign not match"}"#.to_owned()
        })
    })
    .await
}

/// An HTTP stand-in: `answer` gives the JSON body for a request's target,
/// or `None` to take the request and never answer.
async fn serve(answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut s = BufReader::new(stream);
                let mut first = String::new();
                if s.read_line(&mut first).await.is_err() {
                    return;
                }
                let target = first.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut len = 0usize;
                loop {
                    let mut l = String::new();
                    if s.read_line(&mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let l = l.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = l.split_once(':')
                        && n.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = s.read_exact(&mut body).await;
                match answer(&target) {
                    Some(b) => {
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                            b.len()
                        );
                        let _ = s.get_mut().write_all(reply.as_bytes()).await;
                    }
                    // Hangs: the connection stays open, unanswered.
                    None => tokio::time::sleep(Duration::from_secs(120)).await,
                }
            });
        }
    });
    port
}

/// aiosmtpd with STARTTLS that refuses every login.
struct RefusingMail {
    _child: tokio::process::Child,
    port: u16,
}

impl RefusingMail {
    async fn start(tls: &keting_system_tests::mosquitto::TlsListener) -> Self {
        let port = keting_system_tests::free_port();
        let script = format!(
            "import ssl, threading\n\
             from aiosmtpd.controller import Controller\n\
             from aiosmtpd.handlers import Sink\n\
             from aiosmtpd.smtp import AuthResult\n\
             ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n\
             ctx.load_cert_chain({cert:?}, {key:?})\n\
             def deny(server, session, envelope, mechanism, data):\n    return AuthResult(success=False, handled=False)\n\
             c = Controller(Sink(), hostname='127.0.0.1', port={port}, tls_context=ctx, require_starttls=True, authenticator=deny, auth_required=True)\n\
             c.start()\n\
             threading.Event().wait()\n",
            cert = tls.cert.display().to_string(),
            key = tls.key.display().to_string(),
        );
        let child = tokio::process::Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd (./run-tests installs python3-aiosmtpd)");
        crate::alerts::listens(port).await;
        Self {
            _child: child,
            port,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_dingtalk_secret_a_refused_mail_login_and_a_hanging_webhook_each_say_why_and_delay_nobody()
 {
    let site_tls = keting_system_tests::site_tls::SiteTls::new();
    let listener = site_tls.listener();
    let mail = RefusingMail::start(&listener).await;
    let ding_port = dingtalk_robot("SECright").await;
    let hang_port = serve(|_| None).await;
    let wecom = Receiver::start(0).await;

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("centre");
    binaries::kiosk(&data, &["member", "add", "--name", "刘主任", "--json"]);
    binaries::staff_with_pin(&data, 1, "manager", "246810");
    // The hanging webhook's messages come first in each round (by name).
    add_channel(
        &data,
        &[
            "--kind",
            "webhook",
            "--name",
            "a-hook",
            "--url",
            &format!("http://127.0.0.1:{hang_port}/hook"),
        ],
        Some("hook-key"),
    );
    add_channel(
        &data,
        &[
            "--kind",
            "dingtalk",
            "--name",
            "ding",
            "--url",
            &format!("http://127.0.0.1:{ding_port}/robot/send?access_token=t1"),
        ],
        Some("SECwrong"),
    );
    let ca = listener.ca.display().to_string();
    let port = mail.port.to_string();
    add_channel(
        &data,
        &[
            "--kind",
            "email",
            "--name",
            "mail",
            "--smtp",
            &format!("127.0.0.1:{port}"),
            "--from",
            "alerts@centre.cn",
            "--to",
            "duty@centre.cn",
            "--user",
            "alerts@centre.cn",
            "--ca",
            &ca,
        ],
        Some("not-the-password"),
    );
    add_channel(
        &data,
        &[
            "--kind",
            "wecom",
            "--name",
            "duty",
            "--url",
            &wecom.url("/wecom?key=k1"),
        ],
        None,
    );
    // The command line says what the channel answered, in one line.
    let (ok, said, _) = binaries::run_status(
        "kiosk",
        &["--data", data.to_str().unwrap(), "alert", "test", "ding"],
    );
    assert!(
        !ok && said.contains("310000") && said.contains("sign not match"),
        "{said}"
    );

    let (centre, addr) = binaries::centre_with_dashboard(&data).await;
    let door = DeviceId::new("gym-door").unwrap();
    let now = keting_core::time::Timestamp::from_unix_millis(
        time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
    );
    let mut store = Store::open(&data.join("keting.db")).unwrap();
    let raised = Instant::now();
    store
        .write(|tx| alarms::raise(tx, &door, AlarmKind::Forced, "", now))
        .unwrap();
    // The WeCom group hears of it at once: the hanging webhook (the
    // sender waits for it up to its timeout) holds nobody up.
    wecom
        .wait_for("门被强行打开", 1, Duration::from_secs(10))
        .await;
    let took = raised.elapsed();
    println!("forced door -> WeCom beside a hanging webhook: {took:?}");
    assert!(took < Duration::from_secs(2), "WeCom waited {took:?}");
    // The log says why each of the others did not take it, in one line.
    centre
        .wait_for_line("sign not match", Duration::from_secs(20))
        .await;
    let refused = centre
        .wait_for_line("the mail server said 535", Duration::from_secs(20))
        .await;
    assert!(
        !refused.contains("not-the-password"),
        "no secret in the log: {refused}"
    );
    // The dashboard says it beside each channel.
    let r = request(addr, "POST", "/sign-in", &[], "member=1&pin=246810").await;
    let cookie = r.cookie("keting_session").expect("signed in");
    let page = request(addr, "GET", "/alarms", &[("Cookie", &cookie)], "").await;
    assert!(
        page.body.contains("sign not match") && page.body.contains("535"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("SECwrong") && !page.body.contains("not-the-password"));
    // The alarm stays up on every screen.
    let list = binaries::kiosk(&data, &["alarm", "list"]);
    assert!(list.contains("forced"), "{list}");
    centre.stop().await;
}
