//! A mock PowerSync service on 127.0.0.1 (plain HTTP), with the endpoints the SDK uses:
//!
//! - `POST /sync/stream`: handed to the test as a [`SyncRequest`]; the test sends the NDJSON
//!   lines, each written and flushed as it comes, and the response ends when the test drops
//!   the request.
//! - `GET /write-checkpoint2.json?client_id=…`: answers [`WRITE_CHECKPOINT`] and counts calls.
//!
//! Anything else gets a 404.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

/// The write checkpoint the service hands out after uploads.
pub const WRITE_CHECKPOINT: i64 = 10;

/// One open sync stream.
pub struct SyncRequest {
    /// The request body the SDK sent (the core's `StreamingSyncRequest`).
    pub body: Value,
    lines: mpsc::Sender<String>,
}

impl SyncRequest {
    /// Sends one sync line. Returns whether the connection is still open.
    pub fn send(&self, line: Value) -> bool {
        self.lines.send(line.to_string()).is_ok()
    }
}

/// The running service; stops (and closes its listener) when dropped.
pub struct MockService {
    /// Base URL for the SDK, `http://127.0.0.1:<port>/`.
    pub endpoint: String,
    /// Sync streams, in the order the SDK opened them.
    pub requests: async_channel::Receiver<SyncRequest>,
    /// How many write checkpoints the SDK requested.
    pub write_checkpoints: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl MockService {
    /// Binds a free loopback port and starts serving.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let (requests_tx, requests) = async_channel::unbounded();
        let write_checkpoints = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let write_checkpoints = write_checkpoints.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let requests = requests_tx.clone();
                    let write_checkpoints = write_checkpoints.clone();
                    std::thread::spawn(move || {
                        // A failed exchange is a connection the SDK dropped; nothing to do.
                        let _ = serve(conn, &requests, &write_checkpoints);
                    });
                }
            });
        }
        Self {
            endpoint: format!("http://127.0.0.1:{port}/"),
            requests,
            write_checkpoints,
            stop,
            port,
        }
    }
}

impl Drop for MockService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    conn: TcpStream,
    requests: &async_channel::Sender<SyncRequest>,
    write_checkpoints: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let path = target.split('?').next().unwrap_or_default();

    match (method.as_str(), path) {
        ("POST", "/sync/stream") => {
            let (lines_tx, lines) = mpsc::channel();
            let request = SyncRequest {
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                lines: lines_tx,
            };
            out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n",
            )?;
            out.flush()?;
            if requests.send_blocking(request).is_err() {
                return Ok(());
            }
            // Until the test drops the request (or the SDK the connection).
            while let Ok(line) = lines.recv() {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
                out.flush()?;
            }
            out.shutdown(Shutdown::Both)
        }
        ("GET", "/write-checkpoint2.json") => {
            write_checkpoints.fetch_add(1, Ordering::SeqCst);
            respond(
                &mut out,
                200,
                &format!(r#"{{"data":{{"write_checkpoint":"{WRITE_CHECKPOINT}"}}}}"#),
            )
        }
        _ => respond(&mut out, 404, "{}"),
    }
}

fn respond(out: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}
