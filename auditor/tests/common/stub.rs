//! A small S3 endpoint on loopback (std::net, a thread per connection) for the tests that need an
//! endpoint to misbehave in ways no emulator does: accept and never answer, drip a byte a second,
//! hand back the same continuation marker forever, never answer a GetObject. When it behaves, it
//! serves a fixed set of objects, one version each, with the GetBucketVersioning answer asked
//! for, in the XML shapes of the Amazon S3 API Reference.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers every request, GetBucketVersioning with this Status (`None`: never enabled;
    /// `Some("denied")`: 403 AccessDenied).
    Answers(Option<&'static str>),
    /// Accepts connections, reads requests, never answers.
    Silent,
    /// Answers every request one byte a second.
    Drip,
    /// Every listing page is truncated and names the same next marker.
    SameMarker,
    /// Answers everything but GetObject, which it never answers.
    GetSilent,
    /// Sends GetObject's headers at once, then its body a byte a second.
    GetDrip,
    /// Lists every object with a size over the schema's limit.
    Oversized,
}

/// A running stub; dropping it stops every connection's thread.
pub struct StubS3 {
    pub endpoint: String,
    stop: Arc<AtomicBool>,
    /// Every request line received.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Drop for StubS3 {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

struct Shared {
    objects: Vec<(String, Vec<u8>)>,
    behaviour: Behaviour,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl StubS3 {
    pub fn start(objects: Vec<(String, Vec<u8>)>, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            objects,
            behaviour,
            stop: stop.clone(),
            requests: requests.clone(),
        });
        thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                thread::spawn(move || serve(stream, &shared));
            }
        });
        StubS3 {
            endpoint,
            stop,
            requests,
        }
    }
}

/// Reads one request head; `None` when the connection closed or the stub stopped.
fn read_head(stream: &mut TcpStream, stop: &AtomicBool) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => head.push(byte[0]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amz-request-id: stub\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn xml(body: String) -> Vec<u8> {
    response(
        "200 OK",
        "application/xml",
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}").as_bytes(),
    )
}

/// Writes `bytes` a byte a second until done or stopped.
fn drip(stream: &mut TcpStream, bytes: &[u8], stop: &AtomicBool) {
    for b in bytes {
        if stop.load(Ordering::SeqCst) || stream.write_all(&[*b]).is_err() {
            return;
        }
        thread::sleep(Duration::from_secs(1));
    }
}

fn hang(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(100));
    }
}

fn serve(mut stream: TcpStream, s: &Shared) {
    while let Some(head) = read_head(&mut stream, &s.stop) {
        let line = head.lines().next().unwrap_or_default().to_owned();
        s.requests.lock().unwrap().push(line.clone());
        if s.behaviour == Behaviour::Silent {
            return hang(&s.stop);
        }
        let target = line.split(' ').nth(1).unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let key = decode(
            path.trim_start_matches('/')
                .split_once('/')
                .map_or("", |(_, k)| k),
        );
        let answer = if param("versioning").is_some() {
            match s.behaviour {
                Behaviour::Answers(Some("denied")) => response(
                    "403 Forbidden",
                    "application/xml",
                    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>stub</RequestId></Error>",
                ),
                Behaviour::Answers(None) => xml(
                    "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>".to_owned(),
                ),
                Behaviour::Answers(Some(status)) => xml(format!(
                    "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status></VersioningConfiguration>"
                )),
                _ => xml(
                    "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>".to_owned(),
                ),
            }
        } else if param("versions").is_some() {
            let prefix = param("prefix").unwrap_or_default();
            let truncated = s.behaviour == Behaviour::SameMarker;
            let mut body = format!(
                "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><Prefix>{prefix}</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>{truncated}</IsTruncated>"
            );
            if truncated {
                body.push_str("<NextKeyMarker>reports/same</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>");
            }
            for (k, bytes) in s.objects.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                let size = if s.behaviour == Behaviour::Oversized {
                    auditor::report::MAX_REPORT_BYTES + 1
                } else {
                    bytes.len() as u64
                };
                body.push_str(&format!(
                    "<Version><Key>{k}</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest><LastModified>2026-07-01T06:00:00.000Z</LastModified><ETag>\"stub\"</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Version>"
                ));
            }
            body.push_str("</ListVersionsResult>");
            xml(body)
        } else {
            match s.objects.iter().find(|(k, _)| *k == key) {
                None => response(
                    "404 Not Found",
                    "application/xml",
                    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
                ),
                Some((_, bytes)) => match s.behaviour {
                    Behaviour::GetSilent => return hang(&s.stop),
                    Behaviour::GetDrip => {
                        let answer = response("200 OK", "application/json", bytes);
                        let split = answer.len() - bytes.len();
                        if stream.write_all(&answer[..split]).is_err() {
                            return;
                        }
                        return drip(&mut stream, &answer[split..], &s.stop);
                    }
                    _ => response("200 OK", "application/json", bytes),
                },
            }
        };
        if s.behaviour == Behaviour::Drip {
            return drip(&mut stream, &answer, &s.stop);
        }
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}
