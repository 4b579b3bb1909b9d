//! A small HTTP/1.1 client (hyper, as the agent's link to the master) for
//! the binary's own commands: `corral run` speaks the scheduler API and
//! reads a task's output from its agent; `corral dev` asks the master
//! whether its agent registered. Addresses are `http://HOST:PORT` URLs or
//! bare `HOST:PORT`; only plain HTTP.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// How long one plain request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `HOST:PORT` from `http://HOST:PORT[/]` or `HOST[:PORT]` (`default_port`
/// when none is given). Pure.
pub fn authority(url: &str, default_port: u16) -> Result<String> {
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => bail!("'{url}': only http:// URLs are supported, not {scheme}://"),
        None => url,
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    if host_port.is_empty() {
        bail!("'{url}' names no host");
    }
    // `[::1]:5050`, `[::1]`, `host:5050`, `host`.
    let has_port = match host_port.rfind(']') {
        Some(end) => host_port[end..].contains(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        let port = host_port.rsplit(':').next().unwrap_or_default();
        port.parse::<u16>()
            .with_context(|| format!("'{url}': '{port}' is not a port"))?;
        Ok(host_port.to_string())
    } else {
        Ok(format!("{host_port}:{default_port}"))
    }
}

/// An open HTTP/1.1 connection.
pub type Conn = SendRequest<Full<Bytes>>;

/// Opens a connection to `authority` (`HOST:PORT`).
pub async fn connect(authority: &str) -> Result<Conn> {
    let tcp = tokio::time::timeout(REQUEST_TIMEOUT, tokio::net::TcpStream::connect(authority))
        .await
        .map_err(|_| anyhow::anyhow!("connecting to {authority}: timed out"))?
        .with_context(|| format!("connecting to {authority}"))?;
    let _ = tcp.set_nodelay(true);
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .with_context(|| format!("HTTP handshake with {authority}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// A request with `Host` and, for a body, `Content-Type: application/json`.
pub fn request(
    method: &str,
    authority: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> hyper::Request<Full<Bytes>> {
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("Host", authority);
    if body.is_some() {
        b = b.header("Content-Type", "application/json");
    }
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("a valid request")
}

/// Sends `req` on `conn`; the response's head and body stream.
pub async fn send(
    conn: &mut Conn,
    req: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<Incoming>> {
    let what = format!("{} {}", req.method(), req.uri());
    conn.send_request(req)
        .await
        .with_context(|| format!("{what}: no answer"))
}

/// Reads a whole body.
pub async fn body(resp: hyper::Response<Incoming>) -> Result<Bytes> {
    Ok(resp
        .into_body()
        .collect()
        .await
        .context("reading the answer")?
        .to_bytes())
}

/// One request on a fresh connection: its status and body, within
/// [`REQUEST_TIMEOUT`].
pub async fn exchange(
    authority: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<(u16, Bytes)> {
    let work = async {
        let mut conn = connect(authority).await?;
        let resp = send(&mut conn, request(method, authority, path, &[], body)).await?;
        let status = resp.status().as_u16();
        Ok((status, self::body(resp).await?))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, work)
        .await
        .map_err(|_| anyhow::anyhow!("{method} {path} on {authority}: no answer in time"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_from_urls() {
        let a = |u: &str| authority(u, 5050).unwrap();
        assert_eq!(a("http://127.0.0.1:5050"), "127.0.0.1:5050");
        assert_eq!(a("http://127.0.0.1:6000/"), "127.0.0.1:6000");
        assert_eq!(a("http://master/api"), "master:5050");
        assert_eq!(a("localhost:7"), "localhost:7");
        assert_eq!(a("localhost"), "localhost:5050");
        assert_eq!(a("http://[::1]:99"), "[::1]:99");
        assert_eq!(a("[::1]"), "[::1]:5050");
        assert!(authority("https://m:5050", 5050).is_err());
        assert!(authority("http://", 5050).is_err());
        assert!(authority("m:port", 5050).is_err());
    }
}
