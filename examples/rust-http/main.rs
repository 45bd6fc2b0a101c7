//! An HTTP/1.1 server on Rust's standard library, built for WASI preview1
//! (`rustc --target wasm32-wasi`), that serves on the listener the host preopens as fd 3:
//!
//!     wasmloop run --tcplisten 127.0.0.1:8080 server.wasm
//!
//! `GET /` answers a fixed body; any other path is 404, any other method 405. Connections are
//! kept alive (HTTP/1.1's default) until the client closes or sends `Connection: close`, and
//! pipelined requests are answered in order. Requests with a body are refused (400, closed).
//!
//! One thread serves every connection. The sockets are std's (`TcpListener::from_raw_fd`,
//! `accept`, `read`, `write`, `set_nonblocking`: Rust's std implements them on preview1's
//! `sock_accept`, `fd_read`, `fd_write`, `fd_fdstat_set_flags`), but std has no way to wait
//! for several sockets at once, so the wait is preview1's `poll_oneoff`, imported directly
//! (what mio's WASI backend does). Nothing spins: the loop sleeps in `poll_oneoff`.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::wasi::io::{AsRawFd, FromRawFd};

const BODY: &str = "Hello from Rust on wasmloop\n";
/// A request head longer than this is refused (431) and the connection closed.
const MAX_HEAD: usize = 8192;

/// preview1's `subscription`, for the fd_read and fd_write kinds: 48 bytes.
#[repr(C)]
struct Subscription {
    userdata: u64,
    tag: u8,
    _pad: [u8; 7],
    fd: u32,
    _rest: [u32; 7],
}

/// preview1's `event`: 32 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    _pad: [u8; 5],
    nbytes: u64,
    flags: u16,
    _pad2: [u8; 6],
}

const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
/// The listener's `userdata`; a connection's is its index in `conns`.
const LISTENER: u64 = u64::MAX;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    #[link_name = "poll_oneoff"]
    fn wasi_poll_oneoff(
        subs: *const Subscription,
        events: *mut Event,
        n: usize,
        got: *mut usize,
    ) -> u16;
}

/// Waits until at least one subscription fires; returns the `userdata` of those that did.
fn wait(subs: &[Subscription]) -> Vec<u64> {
    let empty = Event {
        userdata: 0,
        error: 0,
        kind: 0,
        _pad: [0; 5],
        nbytes: 0,
        flags: 0,
        _pad2: [0; 6],
    };
    let mut events = vec![empty; subs.len()];
    let mut got = 0usize;
    let errno =
        unsafe { wasi_poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut got) };
    if errno != 0 {
        eprintln!("poll_oneoff: errno {}", errno);
        std::process::exit(1);
    }
    events[..got].iter().map(|e| e.userdata).collect()
}

fn subscribe(userdata: u64, fd: i32, kind: u8) -> Subscription {
    Subscription {
        userdata,
        tag: kind,
        _pad: [0; 7],
        fd: fd as u32,
        _rest: [0; 7],
    }
}

struct Conn {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Close once `output` is sent.
    closing: bool,
}

/// The answer to one request head, and whether the connection stays open after it.
fn respond(head: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut words = text.lines().next().unwrap_or("").split(' ');
    let (method, path, version) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
    );
    let has_body = text.lines().any(|l| {
        l.starts_with("transfer-encoding:")
            || (l.starts_with("content-length:") && l[15..].trim() != "0")
    });
    let close_asked = text
        .lines()
        .any(|l| l.starts_with("connection:") && l.contains("close"));
    let keep = version == "http/1.1" && !close_asked && !has_body;
    let (status, body) = match (method, path) {
        _ if has_body => ("400 Bad Request", "request bodies are not accepted\n"),
        ("get", "/") => ("200 OK", BODY),
        ("get", _) => ("404 Not Found", "not found\n"),
        _ => ("405 Method Not Allowed", "only GET\n"),
    };
    let connection = if keep { "keep-alive" } else { "close" };
    let answer = format!(
        "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{}",
        status,
        body.len(),
        connection,
        body
    );
    (answer, keep)
}

/// Answers every complete request head in `input`, in order.
fn answer_requests(c: &mut Conn) {
    while !c.closing {
        let end = match c.input.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(at) => at + 4,
            None if c.input.len() > MAX_HEAD => {
                let msg = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                c.output.extend_from_slice(msg.as_bytes());
                c.closing = true;
                return;
            }
            None => return,
        };
        let (answer, keep) = respond(&c.input[..end]);
        c.output.extend_from_slice(answer.as_bytes());
        c.closing = !keep;
        c.input.drain(..end);
    }
}

/// Reads what is there, answers it and sends; false once the connection is finished.
fn serve(c: &mut Conn) -> bool {
    let mut buf = [0u8; 16384];
    while c.output.is_empty() && !c.closing {
        match c.stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => c.input.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
        answer_requests(c);
    }
    while !c.output.is_empty() {
        match c.stream.write(&c.output) {
            Ok(n) => drop(c.output.drain(..n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    !c.closing
}

fn accept_all(listener: &TcpListener, conns: &mut Vec<Conn>) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true).expect("set_nonblocking");
                conns.push(Conn {
                    stream,
                    input: Vec::new(),
                    output: Vec::new(),
                    closing: false,
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                eprintln!("accept: {}", e);
                return;
            }
        }
    }
}

fn main() {
    // fd 3: the first listener the host preopened (--tcplisten).
    let listener = unsafe { TcpListener::from_raw_fd(3) };
    listener.set_nonblocking(true).expect("set_nonblocking");
    let mut conns: Vec<Conn> = Vec::new();
    loop {
        let mut subs = vec![subscribe(LISTENER, listener.as_raw_fd(), EVENTTYPE_FD_READ)];
        for (i, c) in conns.iter().enumerate() {
            let kind = if c.output.is_empty() {
                EVENTTYPE_FD_READ
            } else {
                EVENTTYPE_FD_WRITE
            };
            subs.push(subscribe(i as u64, c.stream.as_raw_fd(), kind));
        }
        let mut ready = wait(&subs);
        // From the highest index down, so that swap_remove moves only a connection already served.
        ready.sort_unstable_by(|a, b| b.cmp(a));
        let mut listener_ready = false;
        for userdata in ready {
            if userdata == LISTENER {
                listener_ready = true;
                continue;
            }
            let i = userdata as usize;
            if !serve(&mut conns[i]) {
                conns.swap_remove(i);
            }
        }
        if listener_ready {
            accept_all(&listener, &mut conns);
        }
    }
}
