//! The framework's side of Mesos' v1 scheduler API for `corral run`:
//! SUBSCRIBE on `/api/v1/scheduler` (JSON, answered with a chunked RecordIO
//! stream and its `Mesos-Stream-Id`), the events decoded from that stream,
//! and calls sent beside it on one reused connection with the stream id.

use crate::client::{self, Conn};
use anyhow::{Context, Result, anyhow, bail};
use corral_api::FrameworkId;
use corral_api::recordio::Decoder;
use corral_api::scheduler::{Call, Event, EventType};
use corral_api::v1::FrameworkInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::VecDeque;
use std::time::Duration;

/// The scheduler endpoint.
pub const PATH: &str = "/api/v1/scheduler";
const STREAM_ID: &str = "Mesos-Stream-Id";

/// A subscribed framework.
#[derive(Debug)]
pub struct Subscription {
    master: String,
    stream_id: String,
    framework_id: FrameworkId,
    heartbeat: Duration,
    body: Incoming,
    decoder: Decoder,
    pending: VecDeque<Event>,
    caller: Option<Conn>,
}

impl Subscription {
    /// Subscribes `info` at the master `HOST:PORT` and waits (up to
    /// `timeout`) for SUBSCRIBED.
    pub async fn open(master: &str, info: FrameworkInfo, timeout: Duration) -> Result<Self> {
        let work = Subscription::subscribe(master, info);
        tokio::time::timeout(timeout, work).await.map_err(|_| {
            anyhow!("the master at {master} did not answer SUBSCRIBE in {timeout:?}")
        })?
    }

    async fn subscribe(master: &str, info: FrameworkInfo) -> Result<Self> {
        let mut conn = client::connect(master).await.with_context(|| {
            format!("no master answers at http://{master} (`corral dev` starts one)")
        })?;
        let call = corral_api::json::to_vec(&Call::subscribe(info))?;
        let req = client::request(
            "POST",
            master,
            PATH,
            &[("Accept", "application/json")],
            Some(call),
        );
        let resp = client::send(&mut conn, req).await?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = client::body(resp).await.unwrap_or_default();
            bail!(
                "the master refused SUBSCRIBE ({status}): {}",
                String::from_utf8_lossy(&body).trim()
            );
        }
        let stream_id = resp
            .headers()
            .get(STREAM_ID)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("the master answered SUBSCRIBE without {STREAM_ID}"))?
            .to_string();
        let mut s = Subscription {
            master: master.to_string(),
            stream_id,
            framework_id: FrameworkId::default(),
            heartbeat: Duration::from_secs(15),
            body: resp.into_body(),
            decoder: Decoder::new(),
            pending: VecDeque::new(),
            caller: None,
        };
        let first = s
            .next()
            .await?
            .ok_or_else(|| anyhow!("the master closed the stream before SUBSCRIBED"))?;
        let subscribed = match (first.r#type, first.subscribed, first.error) {
            (Some(EventType::Subscribed), Some(sub), _) => sub,
            (_, _, Some(e)) => bail!("the master refused the framework: {}", e.message),
            (t, _, _) => bail!("the master's first event was {t:?}, not SUBSCRIBED"),
        };
        s.framework_id = subscribed.framework_id;
        if let Some(secs) = subscribed.heartbeat_interval_seconds.filter(|s| *s > 0.0) {
            s.heartbeat = Duration::try_from_secs_f64(secs).unwrap_or(s.heartbeat);
        }
        Ok(s)
    }

    /// The framework's id.
    pub fn framework_id(&self) -> &FrameworkId {
        &self.framework_id
    }

    /// The master's heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// The next event; `None` once the master closed the stream.
    /// Cancel-safe: a decoded event waits in a queue until taken.
    pub async fn next(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let Some(frame) = self.body.frame().await else {
                return Ok(None);
            };
            let frame = frame.context("the master's event stream broke")?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let records = self
                .decoder
                .decode(&data)
                .map_err(|e| anyhow!("the master's event stream: {e}"))?;
            for r in records {
                let event: Event = corral_api::json::from_slice(&r)
                    .map_err(|e| anyhow!("an event from the master that does not parse: {e}"))?;
                self.pending.push_back(event);
            }
        }
    }

    /// Sends `call` (its `framework_id` filled in) with the stream id; Ok
    /// once the master answered 202.
    pub async fn call(&mut self, mut call: Call) -> Result<()> {
        call.framework_id
            .get_or_insert_with(|| self.framework_id.clone());
        let what = call.r#type.map_or("a call".into(), |t| t.to_string());
        let body = corral_api::json::to_vec(&call)?;
        let headers = [(STREAM_ID, self.stream_id.as_str())];
        let req = client::request("POST", &self.master, PATH, &headers, Some(body));
        let work = async {
            let mut conn = match self.caller.take() {
                Some(c) if !c.is_closed() => c,
                _ => client::connect(&self.master).await?,
            };
            let resp = client::send(&mut conn, req).await?;
            let status = resp.status().as_u16();
            let body = client::body(resp).await?;
            self.caller = Some(conn);
            anyhow::Ok((status, body))
        };
        let (status, body) = tokio::time::timeout(client::REQUEST_TIMEOUT, work)
            .await
            .map_err(|_| anyhow!("{what}: the master did not answer in time"))??;
        if status != 202 && status != 200 {
            bail!(
                "the master refused {what} ({status}): {}",
                String::from_utf8_lossy(&body).trim()
            );
        }
        Ok(())
    }
}
