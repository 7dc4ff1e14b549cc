//! E-mail over SMTP (RFC 5321) with STARTTLS (RFC 3207): one session per
//! message, which is plenty at the rate tickets happen. STARTTLS is
//! required unless `notify.smtp.starttls` is off, and credentials (AUTH
//! PLAIN) only ever cross TLS. Subject and body are UTF-8 (RFC 2047
//! encoded-word, base64 body), so Chinese arrives intact. A 5xx answer to
//! the recipient or the message is the server refusing it for good;
//! anything else (a 5xx to EHLO or AUTH is configuration) is retried.

use super::SendError;
use crate::outputs::notify::config::SmtpConfig;
use crate::outputs::notify::outbox::Notification;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

pub struct Smtp {
    config: SmtpConfig,
    tls: TlsConnector,
}

impl Smtp {
    pub fn new(config: SmtpConfig) -> Result<Smtp, SendError> {
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let mut roots = RootCertStore::empty();
        match &config.ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| SendError::Setup(format!("notify.smtp.ca_file {}: {e}", path.display())))?;
                for cert in certs {
                    let cert = cert.map_err(|e| SendError::Setup(format!("notify.smtp.ca_file: {e}")))?;
                    roots.add(cert).map_err(|e| SendError::Setup(format!("notify.smtp.ca_file: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let tls = ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        Ok(Smtp { config, tls: TlsConnector::from(Arc::new(tls)) })
    }

    pub async fn send(&self, n: &Notification) -> Result<(), SendError> {
        let to = checked_address(&n.address)?;
        let c = &self.config;
        let tcp = TcpStream::connect((c.host.as_str(), c.port))
            .await
            .map_err(|e| SendError::Transient(format!("connect {}:{}: {e}", c.host, c.port)))?;
        let mut plain = BufReader::new(tcp);
        reply(&mut plain, 220).await?;
        let capabilities = command(&mut plain, "EHLO upkeep", 250).await?;
        if !c.starttls {
            return self.transaction(&mut plain, to, n).await;
        }
        if !capabilities.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")) {
            return Err(SendError::Transient(format!("{} does not offer STARTTLS", c.host)));
        }
        command(&mut plain, "STARTTLS", 220).await?;
        let name = ServerName::try_from(c.host.clone())
            .map_err(|e| SendError::Setup(format!("notify.smtp.host {}: {e}", c.host)))?;
        let tls = self
            .tls
            .connect(name, plain.into_inner())
            .await
            .map_err(|e| SendError::Transient(format!("TLS with {}: {e}", c.host)))?;
        let mut secure = BufReader::new(tls);
        command(&mut secure, "EHLO upkeep", 250).await?;
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            let token = B64.encode(format!("\0{user}\0{password}"));
            command(&mut secure, &format!("AUTH PLAIN {token}"), 235).await?;
        }
        self.transaction(&mut secure, to, n).await
    }

    /// MAIL, RCPT, DATA and QUIT on an established session.
    async fn transaction<S>(&self, s: &mut BufReader<S>, to: &str, n: &Notification) -> Result<(), SendError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let from = checked_address(&self.config.from)?;
        command(s, &format!("MAIL FROM:<{from}>"), 250).await?;
        command(s, &format!("RCPT TO:<{to}>"), 250).await.map_err(refusal)?;
        command(s, "DATA", 354).await?;
        let message = format!("{}\r\n.", message(from, to, n));
        command(s, &message, 250).await.map_err(refusal)?;
        let _ = command(s, "QUIT", 221).await;
        Ok(())
    }
}

/// An address fit for an SMTP command and a header: no spaces, angle
/// brackets or line breaks, one `@`.
fn checked_address(a: &str) -> Result<&str, SendError> {
    let bad = a.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ','));
    if bad || a.matches('@').count() != 1 || a.starts_with('@') || a.ends_with('@') {
        return Err(SendError::Rejected(format!("'{a}' is not an e-mail address this engine sends to")));
    }
    Ok(a)
}

/// The message: headers, then the UTF-8 body in base64 lines of 76.
fn message(from: &str, to: &str, n: &Notification) -> String {
    let message_id: String =
        n.id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '.' }).collect();
    let body = B64.encode(n.body.replace('\n', "\r\n"));
    let lines: Vec<&str> = body.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!(
        "From: upkeep <{from}>\r\nTo: <{to}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{message_id}@upkeep>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Language: {}\r\nX-Upkeep-Notice: {}\r\n\r\n{}",
        encoded_words(&n.subject),
        chrono::Utc::now().to_rfc2822(),
        n.language,
        n.notice,
        lines.join("\r\n")
    )
}

/// A header text as RFC 2047 encoded-words of at most 75 characters (45
/// bytes of UTF-8 each, never splitting a character), folded one a line.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() - start > 45 {
            words.push(&text[start..i]);
            start = i;
        }
    }
    words.push(&text[start..]);
    let encoded: Vec<String> = words.iter().map(|w| format!("=?UTF-8?B?{}?=", B64.encode(w))).collect();
    encoded.join("\r\n ")
}

/// Sends one command line and reads its reply, which must carry `expect`.
async fn command<S>(s: &mut BufReader<S>, line: &str, expect: u16) -> Result<Vec<String>, SendError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io = |e: std::io::Error| SendError::Transient(format!("SMTP connection: {e}"));
    s.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.map_err(io)?;
    s.get_mut().flush().await.map_err(io)?;
    reply(s, expect).await
}

/// Reads a (multi-line) reply; its text lines when the code is `expect`.
async fn reply<S>(s: &mut BufReader<S>, expect: u16) -> Result<Vec<String>, SendError>
where
    S: AsyncRead + Unpin,
{
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = s.read_line(&mut line).await.map_err(|e| SendError::Transient(format!("SMTP reply: {e}")))?;
        if read == 0 || line.len() < 4 {
            return Err(SendError::Transient(format!("SMTP server closed or answered '{}'", line.trim_end())));
        }
        let code: u16 =
            line[..3].parse().map_err(|_| SendError::Transient(format!("SMTP reply '{}'", line.trim_end())))?;
        lines.push(line[4..].trim_end().to_owned());
        if line.as_bytes()[3] == b'-' {
            continue;
        }
        return match code {
            c if c == expect || (expect == 250 && c == 251) => Ok(lines),
            _ => Err(SendError::Transient(format!("SMTP {code} {}", lines.join(" ")))),
        };
    }
}

/// A permanent (5xx) answer to a recipient or a message as the refusal it is.
fn refusal(e: SendError) -> SendError {
    match e {
        SendError::Transient(text) if text.starts_with("SMTP 5") => SendError::Rejected(text),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_subject_folds_into_encoded_words_that_each_decode_whole() {
        let subject = "【重大】工单 TK-ce47a29b94c94bca：PMP-0001 的轴承磨损：振动超过 ISO 报警区";
        let folded = encoded_words(subject);
        let mut decoded = String::new();
        for line in folded.split("\r\n ") {
            assert!(line.len() <= 75, "{line}");
            let b64 = line.strip_prefix("=?UTF-8?B?").and_then(|l| l.strip_suffix("?=")).unwrap();
            decoded.push_str(&String::from_utf8(B64.decode(b64).unwrap()).unwrap());
        }
        assert_eq!(decoded, subject);
    }

    #[test]
    fn addresses_that_could_inject_a_command_or_header_are_refused() {
        assert!(checked_address("eng-001@example.com").is_ok());
        for bad in ["a@b>\r\nRCPT TO:<x@y", "two@@x", "no-at", "a b@c", "@x", "x@"] {
            assert!(matches!(checked_address(bad), Err(SendError::Rejected(_))), "{bad}");
        }
    }
}
