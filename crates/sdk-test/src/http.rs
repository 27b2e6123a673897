//! A minimal HTTP/1.1 client for the SDK (`powersync::http::HttpClient`), enough to talk to the
//! mock service on loopback: one connection per request, `Connection: close`, the response body
//! streamed as it arrives (sync lines must reach the SDK one by one, before the response ends).
//!
//! Socket I/O is blocking, on a thread per request; the SDK's futures only wait on channels.

use async_trait::async_trait;
use bytes::Bytes;
use powersync::error::PowerSyncError;
use powersync::http::{HttpClient, Request, Response, ResponseBody};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The SDK's HTTP client for the tests.
pub struct LoopbackClient;

/// Status and content type of a response.
struct Head {
    status: u16,
    content_type: Option<String>,
}

/// The SDK has no public constructor for transport errors; `upload_error` wraps any error.
fn io_error(err: std::io::Error) -> PowerSyncError {
    PowerSyncError::upload_error(err)
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

#[async_trait]
impl HttpClient for LoopbackClient {
    async fn send(&self, req: Request) -> Result<Response, PowerSyncError> {
        let (head_tx, head_rx) = async_channel::bounded::<std::io::Result<Head>>(1);
        let (body_tx, body_rx) = async_channel::bounded::<Result<Bytes, PowerSyncError>>(16);
        std::thread::spawn(move || {
            let reader = match request(&req) {
                Ok((head, reader)) => {
                    let _ = head_tx.send_blocking(Ok(head));
                    reader
                }
                Err(err) => {
                    let _ = head_tx.send_blocking(Err(err));
                    return;
                }
            };
            stream_body(reader, &body_tx);
        });
        let head = head_rx
            .recv()
            .await
            .map_err(|_| io_error(invalid("request thread ended")))?
            .map_err(io_error)?;
        Ok(Response {
            status: head.status,
            content_type: head.content_type,
            body: ResponseBody {
                reader: Box::pin(body_rx),
                length: None,
            },
        })
    }
}

/// Sends `req` and reads the response head; returns the reader positioned at the body.
fn request(req: &Request) -> std::io::Result<(Head, BufReader<TcpStream>)> {
    let url = &req.url;
    let host = url.host_str().ok_or_else(|| invalid("no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| invalid("no port"))?;
    let mut stream = TcpStream::connect((host, port))?;
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let body = req.body.as_deref().unwrap_or_default();
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.method,
        body.len()
    );
    for (name, value) in &req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let mut content_type = None;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed in the response head"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-type")
        {
            content_type = Some(value.trim().to_string());
        }
    }
    Ok((Head { status, content_type }, reader))
}

/// Forwards the body (delimited by the end of the connection) chunk by chunk, until the server
/// closes the connection or the SDK drops the response.
fn stream_body(
    mut reader: BufReader<TcpStream>,
    body: &async_channel::Sender<Result<Bytes, PowerSyncError>>,
) {
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if body.send_blocking(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = body.send_blocking(Err(io_error(err)));
                return;
            }
        }
    }
}
