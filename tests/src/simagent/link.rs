//! The simulated agent's thread: keeps the agent link to the master open
//! (SUBSCRIBE; when it drops or an ERROR ends it, subscribe again with
//! backoff unless told not to; nothing at all while "hung"),
//! reads events into the [`Brain`] and sends the calls it returns (answers
//! to heartbeats, status updates) on a keep-alive connection, all in one
//! loop that never blocks longer than 50 ms between checks of its flags.

use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use corral_api::agent_link::{AGENT_ID_HEADER, AgentCall, AgentEvent, PATH, STREAM_ID_HEADER};
use corral_api::json;
use corral_api::recordio::Decoder;
use corral_api::v1::{AgentInfo, TaskStatus};

use super::state::Brain;
use crate::http::{self, Client, Piece, Stream, Target};

/// Longest a call or a subscription may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the loop sleeps between checks.
const TICK: Duration = Duration::from_millis(50);
/// Errors kept (oldest dropped).
const MAX_ERRORS: usize = 1000;

/// The connection's state, for the test thread to read and steer.
#[derive(Debug, Default)]
pub struct Conn {
    /// Whether the agent should be connected (false after `disconnect()`,
    /// or a lost link without `auto_reconnect`).
    pub want: bool,
    /// Whether the thread should end.
    pub stop: bool,
    /// Whether a link is open now.
    pub connected: bool,
    /// Successful subscriptions so far.
    pub subscriptions: usize,
    /// The current link's stream id.
    pub stream_id: String,
    /// The current link's socket (to shut it down from outside).
    pub socket: Option<TcpStream>,
    /// Whether to subscribe again when the link drops by itself.
    pub auto_reconnect: bool,
    /// Every update sent (resends included) and answered 202.
    pub sent: Vec<TaskStatus>,
    /// HEARTBEAT calls answered 202.
    pub answered: usize,
    /// What went wrong: refused calls, lost links, failed subscriptions.
    pub errors: Vec<String>,
    /// The message of the latest ERROR event (which ends the link).
    pub refused: Option<String>,
}

/// Everything the thread and the test share.
#[derive(Debug)]
pub struct State {
    /// The agent's mind.
    pub brain: Brain,
    /// The link.
    pub conn: Conn,
}

impl State {
    fn error(&mut self, e: String) {
        if self.conn.errors.len() >= MAX_ERRORS {
            self.conn.errors.remove(0);
        }
        self.conn.errors.push(e);
    }
}

/// The state behind a lock, and a condition signalled on every change of
/// the connection.
#[derive(Debug)]
pub struct Shared {
    /// The state.
    pub state: Mutex<State>,
    /// Signalled when `conn` changes.
    pub changed: Condvar,
}

impl Shared {
    /// Locks the state (surviving a panicked holder).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Link {
    stream: Stream,
    decoder: Decoder,
    backlog: Vec<AgentEvent>,
    last_heard: Instant,
    quiet_limit: Duration,
}

/// The agent's loop; returns when `conn.stop` is set.
pub fn run(shared: Arc<Shared>, url: String, info: AgentInfo, backoff: super::Backoff) {
    let mut client = Client::new(&url).with_timeout(CALL_TIMEOUT);
    let mut link: Option<Link> = None;
    let mut retry_at = Instant::now();
    let mut delay = backoff.initial;
    loop {
        let (stop, want, hung) = {
            let s = shared.lock();
            (s.conn.stop, s.conn.want, s.brain.paused)
        };
        if stop {
            break;
        }
        let now = Instant::now();
        if link.is_none() {
            shared.lock().brain.advance(now);
        }
        if !want {
            if link.take().is_some() {
                down(&shared, None);
            }
            let s = shared.lock();
            let _ = shared.changed.wait_timeout(s, TICK);
            continue;
        }
        let Some(l) = link.as_mut() else {
            if hung || now < retry_at {
                std::thread::sleep((retry_at - now).min(TICK));
                continue;
            }
            match subscribe(&shared, &url, &info) {
                Ok(l) => {
                    link = Some(l);
                    delay = backoff.initial;
                }
                Err(e) => {
                    shared.lock().error(format!("subscribe: {e}"));
                    retry_at = now + delay;
                    delay = (delay * 2).min(backoff.max);
                }
            }
            continue;
        };
        let wake = shared.lock().brain.next_wake().unwrap_or(now + TICK);
        let wait = wake
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), TICK);
        let (events, mut lost) = read(l, wait);
        let mut calls = Vec::new();
        {
            let mut s = shared.lock();
            for event in events {
                if let AgentEvent::Error { message } = &event {
                    s.conn.refused = Some(message.clone());
                    lost.get_or_insert_with(|| format!("ERROR event: {message}"));
                }
                calls.extend(s.brain.handle(event, Instant::now()));
            }
            if lost.is_none() && !hung {
                calls.extend(s.brain.tick(Instant::now()));
            }
        }
        if let Some(why) = lost {
            link = None;
            down(&shared, Some(why));
            retry_at = Instant::now() + delay;
            continue;
        }
        for call in calls {
            send(&shared, &mut client, &call);
        }
    }
    if let Some(socket) = shared.lock().conn.socket.take() {
        let _ = socket.shutdown(std::net::Shutdown::Both);
    }
}

/// Marks the link down; stays down unless `auto_reconnect`.
fn down(shared: &Shared, why: Option<String>) {
    let mut s = shared.lock();
    if let Some(socket) = s.conn.socket.take() {
        let _ = socket.shutdown(std::net::Shutdown::Both);
    }
    s.conn.connected = false;
    if let Some(why) = why {
        s.error(format!("link lost: {why}"));
        if !s.conn.auto_reconnect {
            s.conn.want = false;
        }
    }
    shared.changed.notify_all();
}

/// Reads what came within `wait`: decoded events, and why the link is lost
/// (if it is).
fn read(l: &mut Link, wait: Duration) -> (Vec<AgentEvent>, Option<String>) {
    let mut events = std::mem::take(&mut l.backlog);
    let data = match l.stream.read(wait) {
        Ok(Piece::Data(data)) => data,
        Ok(Piece::End { .. }) => return (events, Some("the master closed the stream".into())),
        Err(e) => return (events, Some(format!("read error: {e}"))),
    };
    if data.is_empty() {
        if l.last_heard.elapsed() > l.quiet_limit {
            let why = format!("nothing heard for {:?}", l.quiet_limit);
            return (events, Some(why));
        }
        return (events, None);
    }
    l.last_heard = Instant::now();
    match decode(&mut l.decoder, &data) {
        Ok(more) => {
            events.extend(more);
            (events, None)
        }
        Err(e) => (events, Some(e)),
    }
}

fn decode(decoder: &mut Decoder, data: &[u8]) -> Result<Vec<AgentEvent>, String> {
    let records = decoder
        .decode(data)
        .map_err(|e| format!("bad RecordIO: {e}"))?;
    records
        .iter()
        .map(|r| {
            json::from_slice::<AgentEvent>(r)
                .map_err(|e| format!("undecodable event ({e}): {}", String::from_utf8_lossy(r)))
        })
        .collect()
}

fn subscribe(shared: &Shared, url: &str, info: &AgentInfo) -> Result<Link, String> {
    let call = shared.lock().brain.subscribe_call(info.clone());
    let target = Target::parse(url);
    let body = json::to_vec(&call).map_err(|e| e.to_string())?;
    let headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    let request = http::request_bytes("POST", &target, PATH, &headers, &body);
    let mut stream = Stream::open(&target, &request, CALL_TIMEOUT).map_err(|e| e.to_string())?;
    if stream.head.status != 200 {
        let status = stream.head.status;
        let body = stream.read_to_end(Instant::now() + Duration::from_secs(2));
        let body = body.map(|r| r.text()).unwrap_or_default();
        return Err(format!("answered {status}: {body}"));
    }
    let stream_id = http::header(&stream.head.headers, STREAM_ID_HEADER)
        .ok_or("200 without a Mesos-Stream-Id header")?
        .to_owned();
    let mut decoder = Decoder::new();
    let deadline = Instant::now() + CALL_TIMEOUT;
    let mut events = Vec::new();
    while events.is_empty() {
        if Instant::now() >= deadline {
            return Err("no SUBSCRIBED within 10 s".into());
        }
        match stream.read(TICK).map_err(|e| e.to_string())? {
            Piece::Data(data) => events = decode(&mut decoder, &data)?,
            Piece::End { .. } => return Err("the stream ended before SUBSCRIBED".into()),
        }
    }
    let first = events.remove(0);
    let mut s = shared.lock();
    let AgentEvent::Subscribed {
        heartbeat_interval_seconds,
        ..
    } = &first
    else {
        if let AgentEvent::Error { message } = &first {
            s.conn.refused = Some(message.clone());
        }
        return Err(format!("the first event was {first:?}"));
    };
    // No heartbeats promised: no quiet limit.
    let quiet_limit = Duration::try_from_secs_f64(*heartbeat_interval_seconds)
        .ok()
        .filter(|i| !i.is_zero())
        .map_or(Duration::MAX, |i| (i * 5).max(Duration::from_secs(2)));
    s.brain.handle(first.clone(), Instant::now());
    s.brain.queue.resend_now();
    s.conn.socket = stream.socket().ok();
    s.conn.stream_id = stream_id;
    s.conn.connected = true;
    s.conn.subscriptions += 1;
    shared.changed.notify_all();
    Ok(Link {
        stream,
        decoder,
        backlog: events,
        last_heard: Instant::now(),
        quiet_limit,
    })
}

fn send(shared: &Shared, client: &mut Client, call: &AgentCall) {
    let (stream_id, agent_id) = {
        let s = shared.lock();
        let agent_id = s.brain.agent_id.clone().unwrap_or_default();
        (s.conn.stream_id.clone(), agent_id.into_string())
    };
    let body = json::to_vec(call).unwrap_or_default();
    let headers = [
        ("Content-Type", "application/json"),
        (STREAM_ID_HEADER, stream_id.as_str()),
        (AGENT_ID_HEADER, agent_id.as_str()),
    ];
    let result = client.post(PATH, &headers, &body);
    let mut s = shared.lock();
    let what = match call {
        AgentCall::Update { status, .. } => format!("UPDATE {} {}", status.task_id, status.state),
        AgentCall::Heartbeat => "HEARTBEAT".into(),
        AgentCall::Resources { .. } => "RESOURCES".into(),
        AgentCall::Usage { .. } => "USAGE".into(),
        AgentCall::Subscribe { .. } => "SUBSCRIBE".into(),
    };
    match result {
        Ok(r) if r.status == 202 || r.status == 200 => match call {
            AgentCall::Update { status, .. } => s.conn.sent.push((**status).clone()),
            AgentCall::Heartbeat => s.conn.answered += 1,
            _ => {}
        },
        Ok(r) => s.error(format!("{what} answered {}: {}", r.status, r.text())),
        Err(e) => s.error(format!("{what} failed: {e}")),
    }
}

/// Sends one call outside the loop (from the test thread).
pub fn send_now(shared: &Shared, url: &str, call: &AgentCall) {
    send(
        shared,
        &mut Client::new(url).with_timeout(CALL_TIMEOUT),
        call,
    );
}
