//! A fault-injecting proxy for tests: it sits between the component and the
//! test server on 127.0.0.1 and misbehaves at the connection level as a
//! scripted list of faults says, one fault per matching request.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Read the request and close the connection: no headers are sent.
    CloseBeforeHeaders,
    /// Forward the request (the server acts on it), then close without
    /// sending the answer: the answer is lost after the server committed.
    DropResponse,
    /// Forward, then send the headers and half the body, and close.
    CloseMidBody,
    /// Read the request and never answer (the connection stays open).
    NeverAnswer,
    /// Send a 200 with a huge `Content-Length` and then one byte every 50 ms,
    /// forever.
    TrickleForever,
    /// Answer with these raw bytes and close.
    Raw(Vec<u8>),
}

struct Rule {
    path_prefix: String,
    faults: VecDeque<Fault>,
}

/// The proxy. Requests without a matching scripted fault are passed through.
pub struct FaultProxy {
    addr: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    faults_applied: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(backend: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let faults_applied = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, f, s) = (rules.clone(), faults_applied.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (r, f, s) = (r.clone(), f.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, backend, &r, &f, &s);
                });
            }
        });
        FaultProxy {
            addr,
            rules,
            faults_applied,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next requests whose path starts with `path_prefix` get these
    /// faults, one each, in order.
    pub fn script(&self, path_prefix: &str, faults: Vec<Fault>) {
        self.rules.lock().unwrap().push(Rule {
            path_prefix: path_prefix.to_string(),
            faults: faults.into(),
        });
    }

    /// How many scripted faults were applied so far.
    pub fn faults_applied(&self) -> usize {
        self.faults_applied.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A request as read off the wire: its head, rewritten to carry
/// `Connection: close` and a `Content-Length` (bodies may arrive chunked), its
/// body and its path.
fn read_request(
    reader: &mut BufReader<TcpStream>,
) -> std::io::Result<Option<(String, Vec<u8>, String)>> {
    let mut head = String::new();
    let mut path = String::new();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if head.is_empty() {
            path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            head.push_str(&line);
            continue;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        } else if lower.starts_with("transfer-encoding:") {
            chunked = lower.contains("chunked");
        } else if !lower.starts_with("connection:") {
            head.push_str(&line);
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    Ok(Some((head, body, path)))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A complete raw HTTP/1.1 answer with a correct `Content-Length`.
pub fn raw_response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn next_fault(rules: &Mutex<Vec<Rule>>, path: &str) -> Option<Fault> {
    let mut rules = rules.lock().unwrap();
    let rule = rules
        .iter_mut()
        .find(|r| path.starts_with(&r.path_prefix) && !r.faults.is_empty())?;
    rule.faults.pop_front()
}

fn forward(backend: SocketAddr, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut upstream = TcpStream::connect(backend)?;
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(body)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    Ok(answer)
}

fn serve(
    stream: TcpStream,
    backend: SocketAddr,
    rules: &Mutex<Vec<Rule>>,
    applied: &AtomicUsize,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut client = stream;
    let Some((head, body, path)) = read_request(&mut reader)? else {
        return Ok(());
    };
    let fault = next_fault(rules, &path);
    if fault.is_some() {
        applied.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        None => client.write_all(&forward(backend, &head, &body)?)?,
        Some(Fault::CloseBeforeHeaders) => {}
        Some(Fault::DropResponse) => {
            forward(backend, &head, &body)?;
        }
        Some(Fault::CloseMidBody) => {
            let answer = forward(backend, &head, &body)?;
            let split = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(answer.len(), |p| p + 4);
            let body_len = answer.len() - split;
            client.write_all(&answer[..split + body_len / 2])?;
        }
        Some(Fault::NeverAnswer) => {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(Fault::TrickleForever) => {
            client.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n[")?;
            while !stop.load(Ordering::Relaxed) {
                client.write_all(b" ")?;
                client.flush()?;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(Fault::Raw(bytes)) => client.write_all(&bytes)?,
    }
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
