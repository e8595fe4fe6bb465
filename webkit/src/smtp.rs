//! One e-mail out over SMTP with STARTTLS (RFC 5321, RFC 3207): greeting,
//! EHLO, STARTTLS (required: a server that does not offer it gets
//! nothing), EHLO again, AUTH PLAIN when a login is given, the envelope,
//! and the message as UTF-8 text (Base64, its subject RFC 2047-encoded).
//! Bounded: 20 s in all. The server's certificate is checked against the
//! client's authorities, for the host name given.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::pki_types::ServerName;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// The longest a whole exchange may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a mail was not taken.
#[derive(Debug, Error)]
pub enum SmtpError {
    /// Connecting or TLS failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server said no (its code and words).
    #[error("the mail server said {code} {text}")]
    Refused {
        /// Its reply code.
        code: u16,
        /// Its words.
        text: String,
    },
    /// The server offers no STARTTLS: the mail would cross in clear.
    #[error("the mail server offers no STARTTLS: nothing sent in clear")]
    NoStartTls,
    /// An address or a host that cannot be used.
    #[error("{0}")]
    Address(String),
    /// No answer in time.
    #[error("no answer within {TIMEOUT:?}")]
    Timeout,
}

/// A mail to send.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The sender's address.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The subject (UTF-8).
    pub subject: String,
    /// The text (UTF-8).
    pub body: String,
}

async fn reply<S: AsyncRead + Unpin>(s: &mut BufReader<S>) -> Result<(u16, String), SmtpError> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await? == 0 {
            return Err(SmtpError::Io(std::io::Error::other(
                "the mail server hung up",
            )));
        }
        if line.len() < 4 || text.len() > 16 * 1024 {
            return Err(SmtpError::Io(std::io::Error::other("not an SMTP reply")));
        }
        let code: u16 = line[..3]
            .parse()
            .map_err(|_| SmtpError::Io(std::io::Error::other("not an SMTP reply")))?;
        text.push_str(line[4..].trim_end());
        text.push('\n');
        if line.as_bytes()[3] == b' ' {
            return Ok((code, text.trim_end().to_owned()));
        }
    }
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut BufReader<S>,
    line: &str,
    want: &[u16],
) -> Result<(u16, String), SmtpError> {
    s.get_mut().write_all(line.as_bytes()).await?;
    s.get_mut().write_all(b"\r\n").await?;
    s.get_mut().flush().await?;
    let (code, text) = reply(s).await?;
    if want.contains(&code) {
        Ok((code, text))
    } else {
        Err(SmtpError::Refused { code, text })
    }
}

fn clean(address: &str) -> Result<&str, SmtpError> {
    let ok = !address.is_empty()
        && address.len() <= 254
        && address.contains('@')
        && !address.contains(|c: char| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
    if ok {
        Ok(address)
    } else {
        Err(SmtpError::Address(format!(
            "{address:?} is not a mail address"
        )))
    }
}

/// The message as sent in DATA (dot-stuffing needs none: Base64 lines
/// never start with a dot).
fn message(mail: &Mail, date: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(mail.subject.as_bytes()));
    let body = b64.encode(mail.body.as_bytes());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "From: <{}>\r\nTo: {}\r\nSubject: {subject}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n.",
        mail.from,
        mail.to
            .iter()
            .map(|t| format!("<{t}>"))
            .collect::<Vec<_>>()
            .join(", "),
        lines.join("\r\n")
    )
}

/// Sends `mail` through `host:port` (STARTTLS, the server's certificate
/// checked by `tls`), logging in with `login` when given; the server's
/// reply to the message (`250 ...`).
pub async fn send(
    host: &str,
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    login: Option<(&str, &str)>,
    mail: &Mail,
    date: &str,
) -> Result<String, SmtpError> {
    tokio::time::timeout(TIMEOUT, exchange(host, port, tls, login, mail, date))
        .await
        .map_err(|_| SmtpError::Timeout)?
}

async fn exchange(
    host: &str,
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    login: Option<(&str, &str)>,
    mail: &Mail,
    date: &str,
) -> Result<String, SmtpError> {
    clean(&mail.from)?;
    for t in &mail.to {
        clean(t)?;
    }
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| SmtpError::Address(format!("{host:?} is not a host name")))?;
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    let mut plain = BufReader::new(tcp);
    let (code, text) = reply(&mut plain).await?;
    if code != 220 {
        return Err(SmtpError::Refused { code, text });
    }
    let (_, offers) = command(&mut plain, "EHLO keting", &[250]).await?;
    if !offers
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("STARTTLS"))
    {
        return Err(SmtpError::NoStartTls);
    }
    command(&mut plain, "STARTTLS", &[220]).await?;
    let secured = tokio_rustls::TlsConnector::from(tls)
        .connect(name, plain.into_inner())
        .await?;
    let mut s = BufReader::new(secured);
    let (_, offers) = command(&mut s, "EHLO keting", &[250]).await?;
    if let Some((user, password)) = login {
        if !offers.lines().any(|l| {
            let l = l.to_ascii_uppercase();
            l.starts_with("AUTH") && l.contains("PLAIN")
        }) {
            return Err(SmtpError::Refused {
                code: 0,
                text: "the server offers no AUTH PLAIN for the login given".into(),
            });
        }
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{user}\0{password}").as_bytes());
        command(&mut s, &format!("AUTH PLAIN {token}"), &[235]).await?;
    }
    command(&mut s, &format!("MAIL FROM:<{}>", mail.from), &[250]).await?;
    for t in &mail.to {
        command(&mut s, &format!("RCPT TO:<{t}>"), &[250, 251]).await?;
    }
    command(&mut s, "DATA", &[354]).await?;
    let (code, taken) = command(&mut s, &message(mail, date), &[250]).await?;
    let _ = command(&mut s, "QUIT", &[221]).await;
    Ok(format!("{code} {taken}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_utf8_text_in_base64_with_an_encoded_subject() {
        let m = message(
            &Mail {
                from: "alerts@centre.cn".into(),
                to: vec!["duty@centre.cn".into()],
                subject: "报警".into(),
                body: "门被强行打开".into(),
            },
            "Sat, 05 Dec 2026 16:00:00 +0800",
        );
        assert!(m.contains("Subject: =?UTF-8?B?5oql6K2m?="), "{m}");
        assert!(m.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(m.ends_with("\r\n."));
        assert!(clean("a b@c").is_err() && clean("x@y.cn").is_ok());
    }
}
