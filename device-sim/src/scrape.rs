//! Reads the engine's Prometheus metrics at the end of a load run.
//!
//! One plain HTTP/1.1 GET over a tokio `TcpStream` is all that is needed, so
//! this avoids pulling an HTTP client crate (and its build time) into the
//! simulator. Handles `Content-Length`, close-delimited and chunked bodies.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::SimError;

const TIMEOUT: Duration = Duration::from_secs(10);

/// GETs `url` (`http://host[:port]/path`) and returns the lines of the body
/// that start with `upkeep_` (the engine's own counters and quantiles).
pub async fn fetch_upkeep_metrics(url: &str) -> Result<Vec<String>, SimError> {
    let body = http_get(url).await.map_err(|reason| SimError::Http { url: url.to_string(), reason })?;
    Ok(body.lines().filter(|l| l.starts_with("upkeep_")).map(str::to_string).collect())
}

async fn http_get(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if authority.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')) {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&address).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> Result<String, String> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or("incomplete response")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let body = &response[split + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("unexpected status {status:?}"));
    }
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            }
        }
    }
    let body = if chunked { dechunk(body)? } else { body[..length.unwrap_or(body.len()).min(body.len())].to_vec() };
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk header")?;
        let header = String::from_utf8_lossy(&data[..eol]);
        let size_hex = header.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve_once(response: String) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let n = socket.read(&mut buf).await.unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(request.starts_with("GET /metrics HTTP/1.1\r\n"), "{request}");
            assert!(request.contains("\r\nHost: 127.0.0.1:"), "{request}");
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn reads_content_length_body() {
        let body = "# HELP upkeep_x x\nupkeep_ingest_messages_total 42\nother_metric 1\nupkeep_lag 0.5\n";
        let url = serve_once(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await;
        let lines = fetch_upkeep_metrics(&url).await.unwrap();
        assert_eq!(lines, ["upkeep_ingest_messages_total 42", "upkeep_lag 0.5"]);
    }

    #[tokio::test]
    async fn reads_chunked_body_split_mid_line() {
        let url = serve_once(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
             a\r\nupkeep_rea\r\n11\r\ndings_total 7\nfoo\r\n0\r\n\r\n"
                .to_string(),
        )
        .await;
        assert_eq!(fetch_upkeep_metrics(&url).await.unwrap(), ["upkeep_readings_total 7"]);
    }

    #[tokio::test]
    async fn reports_bad_status_and_bad_urls() {
        let url = serve_once("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into()).await;
        assert!(matches!(fetch_upkeep_metrics(&url).await, Err(SimError::Http { .. })));
        assert!(fetch_upkeep_metrics("https://example.com/metrics").await.is_err());
    }
}
