//! The agent's side of the agent link (`corral_api::agent_link`): one task
//! keeps the subscription open — SUBSCRIBE (with the agent's id and tasks,
//! asked of the agent's loop each time), then the RecordIO event stream —
//! and reconnects with backoff when it drops, errors or goes quiet past
//! three heartbeat intervals. Calls (updates, heartbeats) go on their own
//! connection, reused while it lives.

use corral_api::agent_link::{AGENT_ID_HEADER, AgentCall, AgentEvent, PATH, STREAM_ID_HEADER};
use corral_api::recordio::Decoder;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the link tells the agent's loop.
#[derive(Debug)]
pub enum LinkInput {
    /// Give me the SUBSCRIBE call to send.
    WantSubscribe(oneshot::Sender<AgentCall>),
    /// Subscribed: the stream id and the first event (SUBSCRIBED).
    Up { stream_id: String },
    /// An event from the master.
    Event(Box<AgentEvent>),
    /// The link dropped; it will reconnect.
    Down(String),
}

/// A link failure.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("connecting to the master at {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("HTTP with the master: {0}")]
    Http(#[from] hyper::Error),
    #[error("the master answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the master's event stream: {0}")]
    Stream(String),
}

/// Opens an HTTP/1.1 connection to `addr`.
pub async fn connect(addr: &str) -> Result<SendRequest<Full<Bytes>>, LinkError> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|source| LinkError::Connect {
            addr: addr.to_string(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

fn request(addr: &str, call: &AgentCall, ids: Option<(&str, &str)>) -> hyper::Request<Full<Bytes>> {
    let body = corral_api::json::to_vec(call).expect("agent calls serialize");
    let mut b = hyper::Request::post(PATH)
        .header("Host", addr)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json");
    if let Some((stream, agent)) = ids {
        b = b
            .header(STREAM_ID_HEADER, stream)
            .header(AGENT_ID_HEADER, agent);
    }
    b.body(Full::new(Bytes::from(body)))
        .expect("a valid request")
}

/// Keeps the subscription up until `to_agent` closes.
pub async fn run(addr: String, to_agent: mpsc::Sender<LinkInput>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let (tx, rx) = oneshot::channel();
        if to_agent.send(LinkInput::WantSubscribe(tx)).await.is_err() {
            return;
        }
        let Ok(call) = rx.await else { return };
        let why = match subscribe(&addr, &call, &to_agent).await {
            Ok(()) => {
                delay = Duration::from_millis(100);
                "the master closed the event stream".to_string()
            }
            Err(e) => e.to_string(),
        };
        if to_agent.send(LinkInput::Down(why)).await.is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

async fn subscribe(
    addr: &str,
    call: &AgentCall,
    to_agent: &mpsc::Sender<LinkInput>,
) -> Result<(), LinkError> {
    let mut send = connect(addr).await?;
    let resp = send.send_request(request(addr, call, None)).await?;
    let status = resp.status().as_u16();
    if status != 200 {
        let body = resp.into_body().collect().await?.to_bytes();
        return Err(LinkError::Refused {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let stream_id = resp
        .headers()
        .get(STREAM_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut body = resp.into_body();
    let mut decoder = Decoder::new();
    let mut quiet = Duration::from_secs(60);
    let mut up = false;
    loop {
        let frame = match tokio::time::timeout(quiet, body.frame()).await {
            Err(_) => return Err(LinkError::Stream(format!("nothing heard for {quiet:?}"))),
            Ok(None) => return Ok(()),
            Ok(Some(f)) => f?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let records = decoder
            .decode(&data)
            .map_err(|e| LinkError::Stream(e.to_string()))?;
        for r in records {
            let event: AgentEvent = corral_api::json::from_slice(&r)
                .map_err(|e| LinkError::Stream(format!("an event that does not parse: {e}")))?;
            if let AgentEvent::Subscribed {
                heartbeat_interval_seconds,
                ..
            } = &event
            {
                quiet = Duration::from_secs_f64((heartbeat_interval_seconds * 3.0).max(1.0));
                if !up {
                    up = true;
                    let id = stream_id.clone();
                    if to_agent
                        .send(LinkInput::Up { stream_id: id })
                        .await
                        .is_err()
                    {
                        return Ok(());
                    }
                }
            }
            if to_agent
                .send(LinkInput::Event(Box::new(event)))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
    }
}

/// Sends calls beside the stream, on one reused connection.
#[derive(Debug)]
pub struct Caller {
    addr: String,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl Caller {
    /// A caller for the master at `addr`.
    pub fn new(addr: String) -> Caller {
        Caller { addr, conn: None }
    }

    /// Sends `call` for the agent's current stream; Ok once the master
    /// answered 202.
    pub async fn call(
        &mut self,
        call: &AgentCall,
        stream_id: &str,
        agent_id: &str,
    ) -> Result<(), LinkError> {
        let mut conn = match self.conn.take() {
            Some(c) if !c.is_closed() => c,
            _ => connect(&self.addr).await?,
        };
        let resp = conn
            .send_request(request(&self.addr, call, Some((stream_id, agent_id))))
            .await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        self.conn = Some(conn);
        match status {
            202 | 200 => Ok(()),
            _ => Err(LinkError::Refused {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            }),
        }
    }
}
