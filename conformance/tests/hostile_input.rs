//! Hostile input against the simulator and `paygate verify`.
//!
//! Every request here is malformed in some way (too big, too deep, repeated
//! keys, invalid UTF-8, huge numbers, wrong content type, no or bad
//! signature, unknown paths and methods, a body that stops half way). Each
//! one must get a clear 4xx with the documented error body
//! `{"result":{"code":N,"message":"..."}}`, never a 5xx, a hang or a
//! panic, and the simulator must still serve a valid signed request
//! afterwards. The same payloads piped to `paygate verify` exit 2.
//!
//! Requests go over raw TCP on loopback (so the test controls every byte,
//! header and the moment the client stops sending); every read and write
//! is bounded by a timeout.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use paygate::signing::{sign_json, SecretKey, SigningKey};
use paygate_conformance::simulator::{
    start, RunningSimulator, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A parsed HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn demo_key() -> SigningKey {
    SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY))
}

/// Appends a valid signature (for the demo key) as the last member of a
/// JSON object written as text.
fn sign_raw(text: &str) -> Vec<u8> {
    let signature = sign_json(&demo_key(), text.as_bytes()).expect("signable");
    let trimmed = text.trim_end();
    let body = &trimmed[..trimmed.len() - 1];
    let sep = if body.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{body}{sep}\"signature\":\"{signature}\"}}").into_bytes()
}

fn c2b_text(order_id: &str, amount: &str) -> String {
    format!(
        r#"{{"merchant_id":"{DEMO_MERCHANT_ID}","customer_id":"254700000123","order_id":"{order_id}","amount":{amount},"currency":"KES","country":"KE","provider_id":2390}}"#
    )
}

/// Decodes a chunked body (the simulator answers with a length, but an
/// error path might stream).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&raw[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return out;
        };
        raw = &raw[eol + 2..];
        if size == 0 || raw.len() < size {
            out.extend_from_slice(&raw[..size.min(raw.len())]);
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or(&[]);
    }
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut content_type = String::new();
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if name == "content-type" {
            content_type = value.to_owned();
        }
        if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = &raw[split + 4..];
    Answer {
        status,
        content_type,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    }
}

/// Sends `head` (request line and headers, without the blank line), then
/// `body`, then reads the answer until the server closes. When `stop_after`
/// is set, only that many body bytes are sent and the write half is shut
/// (a client that gives up half way).
async fn exchange(
    sim: &RunningSimulator,
    head: &str,
    body: &[u8],
    stop_after: Option<usize>,
) -> Answer {
    let raw = raw_exchange(sim.addr, head.to_owned(), body.to_vec(), stop_after).await;
    parse_answer(&raw)
}

/// Like [`exchange`], returning the raw bytes read (empty if the server
/// closed without answering).
async fn raw_exchange(
    addr: std::net::SocketAddr,
    head: String,
    body: Vec<u8>,
    stop_after: Option<usize>,
) -> Vec<u8> {
    let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let (mut read, mut write) = stream.into_split();
    let request_head = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let body = body[..stop_after.unwrap_or(body.len()).min(body.len())].to_vec();
    let half_close = stop_after.is_some();
    // Write on a task: the server may answer (and stop reading) before the
    // whole body is sent, e.g. 413 on the declared length.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(request_head.as_bytes()).await;
        let _ = write.write_all(&body).await;
        let _ = write.flush().await;
        if half_close {
            let _ = write.shutdown().await;
        }
        // Keep the write half open until the answer is read (dropping it
        // would shut down the write side, a valid end of a request).
        tokio::time::sleep(IO_TIMEOUT).await;
        drop(write);
    });
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read_all = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // A reset after the answer arrived (the server closed with
                // request bytes unread) still leaves the answer.
                Err(_) => break,
            }
            if answer_complete(&raw) {
                break;
            }
        }
    };
    tokio::time::timeout(IO_TIMEOUT, read_all)
        .await
        .unwrap_or_else(|_| panic!("no answer within {IO_TIMEOUT:?} to {head:?}"));
    writer.abort();
    raw
}

/// Whether `raw` holds a whole answer with a `Content-Length` body.
fn answer_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let length = head.lines().find_map(|line| {
        line.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    length.is_some_and(|len| raw.len() >= split + 4 + len)
}

async fn post(
    sim: &RunningSimulator,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut head = format!("POST {path} HTTP/1.1\r\nContent-Length: {}", body.len());
    if let Some(ct) = content_type {
        head.push_str(&format!("\r\nContent-Type: {ct}"));
    }
    exchange(sim, &head, body, None).await
}

fn gateway_path(method: &str) -> String {
    format!("/{DEMO_PUBLIC_ID}/{method}")
}

/// Asserts the documented refusal: a 4xx, JSON, `result.code` the
/// documented code for the status and a non-empty `result.message`.
fn assert_refused(case: &str, answer: &Answer, expected_status: Option<u16>) -> (i64, String) {
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        (400..500).contains(&answer.status),
        "{case}: HTTP {} (expected a 4xx): {text}",
        answer.status
    );
    if let Some(want) = expected_status {
        assert_eq!(answer.status, want, "{case}: {text}");
    }
    assert!(
        answer.content_type.starts_with("application/json"),
        "{case}: content type {:?}",
        answer.content_type
    );
    let value: Value = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("{case}: the error body is not JSON ({e}): {text}"));
    let code = value["result"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{case}: no integer result.code: {text}"));
    let message = value["result"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: no string result.message: {text}"));
    assert!(!message.trim().is_empty(), "{case}: empty message");
    let documented = match answer.status {
        401 => 10201,
        other => 10000 + i64::from(other),
    };
    assert_eq!(
        code, documented,
        "{case}: result.code for HTTP {}",
        answer.status
    );
    (code, message.to_owned())
}

/// One hostile body: name, body, expected HTTP status (`None`: any 4xx).
struct Hostile {
    name: &'static str,
    body: Vec<u8>,
    status: Option<u16>,
    /// Whether `paygate verify` must refuse it as malformed (exit 2).
    cli_exit_2: bool,
}

fn nested(depth: usize) -> Vec<u8> {
    // {"a":{"a":...{"a":1}...}} with `depth` nested objects under the top.
    let mut text = String::from("{\"merchant_id\":\"demo-merchant\",\"x\":");
    for _ in 0..depth {
        text.push_str("{\"a\":");
    }
    text.push('1');
    for _ in 0..depth {
        text.push('}');
    }
    text.push_str(",\"signature\":\"00\"}");
    text.into_bytes()
}

fn nested_lists(depth: usize) -> Vec<u8> {
    let mut text = String::from("{\"x\":");
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push('}');
    text.into_bytes()
}

fn hostile_bodies(max_body: usize) -> Vec<Hostile> {
    let mut huge_integer = String::from("1");
    huge_integer.push_str(&"0".repeat(400));
    let mut cases = vec![
        Hostile {
            name: "over the size limit by one byte",
            body: {
                let mut body = b"{\"pad\":\"".to_vec();
                body.resize(max_body - 1, b'x');
                body.extend_from_slice(b"\"}");
                body
            },
            status: Some(413),
            cli_exit_2: true, // valid JSON, no signature
        },
        Hostile {
            name: "nested 17 levels",
            body: nested(17),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "nested 40 levels",
            body: nested(40),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "lists nested 20000 levels (stack safety)",
            body: nested_lists(20_000),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "duplicate key",
            body: br#"{"merchant_id":"demo-merchant","order_id":"a","order_id":"b","signature":"00"}"#
                .to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "duplicate key via an escape",
            body: br#"{"order_id":"a","order\u005fid":"b","signature":"00"}"#.to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "invalid UTF-8 in a string",
            body: b"{\"merchant_id\":\"demo-merchant\",\"order_id\":\"\xff\xfe\",\"signature\":\"00\"}"
                .to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "lone surrogate escape",
            body: br#"{"order_id":"\ud800","signature":"00"}"#.to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "signature twice",
            body: br#"{"merchant_id":"demo-merchant","signature":"00","signature":"11"}"#.to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "signature not a string",
            body: br#"{"merchant_id":"demo-merchant","order_id":"a","signature":12345}"#.to_vec(),
            status: Some(401),
            cli_exit_2: true,
        },
        Hostile {
            name: "signature an object",
            body: br#"{"merchant_id":"demo-merchant","signature":{"a":"b"}}"#.to_vec(),
            status: Some(401),
            cli_exit_2: true,
        },
        Hostile {
            name: "missing signature",
            body: c2b_text("hostile-nosig", "\"100.00\"").into_bytes(),
            status: Some(401),
            cli_exit_2: true,
        },
        Hostile {
            name: "empty body",
            body: Vec::new(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "whitespace only",
            body: b"  \r\n\t ".to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "not an object",
            body: b"[1,2,3]".to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "truncated JSON",
            body: br#"{"merchant_id":"demo-merch"#.to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "trailing garbage",
            body: br#"{"signature":"00"} x"#.to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "NUL byte outside a string",
            body: b"{\"a\":1\x00}".to_vec(),
            status: Some(400),
            cli_exit_2: true,
        },
        Hostile {
            name: "unsigned 1e400",
            body: c2b_text("hostile-1e400-unsigned", "1e400").into_bytes(),
            status: Some(401),
            cli_exit_2: true,
        },
    ];
    // Huge numbers with a valid signature: they get past authentication
    // and must be refused by the typed decoding or the rules.
    for (name, order, amount) in [
        ("signed amount 1e400", "hostile-1e400", "1e400".to_owned()),
        (
            "signed amount -1e400",
            "hostile-m1e400",
            "-1e400".to_owned(),
        ),
        (
            "signed 400-digit integer amount",
            "hostile-bigint",
            huge_integer.clone(),
        ),
        ("signed amount 1e-400", "hostile-tiny", "1e-400".to_owned()),
        (
            "signed amount as a huge string",
            "hostile-bigstr",
            format!("\"{huge_integer}.00\""),
        ),
        ("signed amount -0.0", "hostile-negzero", "-0.0".to_owned()),
    ] {
        cases.push(Hostile {
            name,
            body: sign_raw(&c2b_text(order, &amount)),
            status: None,
            cli_exit_2: false, // validly signed: `verify` says valid
        });
    }
    let text = format!(
        r#"{{"merchant_id":"{DEMO_MERCHANT_ID}","customer_id":"254700000123","order_id":"hostile-pid","amount":"100.00","currency":"KES","country":"KE","provider_id":{huge_integer}}}"#
    );
    cases.push(Hostile {
        name: "signed 400-digit provider_id",
        body: sign_raw(&text),
        status: Some(400),
        cli_exit_2: false,
    });
    cases.push(Hostile {
        name: "signed but another merchant_id",
        body: sign_raw(
            &c2b_text("hostile-merchant", "\"100.00\"").replace(DEMO_MERCHANT_ID, "someone-else"),
        ),
        status: Some(401),
        cli_exit_2: false,
    });
    cases
}

async fn valid_payment_is_served(sim: &RunningSimulator, order_id: &str) {
    let body = sign_raw(&c2b_text(order_id, "\"100.00\""));
    let answer = post(
        sim,
        &gateway_path("payment_c2b"),
        Some("application/json"),
        &body,
    )
    .await;
    let text = String::from_utf8_lossy(&answer.body);
    assert_eq!(
        answer.status, 200,
        "a valid payment after the abuse: {text}"
    );
    let value: Value = serde_json::from_slice(&answer.body).expect("JSON");
    assert_eq!(value["result"]["code"], 0, "{text}");
    assert_eq!(value["order_id"], order_id, "{text}");
    assert_eq!(value["status"], 1, "{text}");
}

async fn demo() -> RunningSimulator {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(20);
    start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_documented_4xx_and_the_simulator_keeps_serving() {
    let sim = demo().await;
    let max = sim.state().config().max_body_bytes;
    valid_payment_is_served(&sim, "hostile-before").await;

    for case in hostile_bodies(max) {
        for method in ["payment_c2b", "status", "deposit"] {
            // Validly signed cases are C2B payments; other methods may
            // legitimately accept them (a deposit has no provider_id).
            if !case.cli_exit_2 && method != "payment_c2b" {
                continue;
            }
            let answer = post(
                &sim,
                &gateway_path(method),
                Some("application/json"),
                &case.body,
            )
            .await;
            let label = format!("{} ({method})", case.name);
            // Huge numbers may be refused by decoding (400) or by the rules
            // (422); both are documented. Others have one answer.
            let (_, message) = assert_refused(&label, &answer, case.status);
            assert!(!message.contains("panicked"), "{label}: {message}");
        }
    }

    // The same payload twice in parallel on many connections (no lock
    // poisoning, no crash under concurrent hostile input).
    let mut tasks = Vec::new();
    for i in 0..16 {
        let addr = sim.addr;
        let body = nested_lists(10_000 + i);
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (mut read, mut write) = stream.into_split();
            let head = format!(
                "POST /{DEMO_PUBLIC_ID}/payment_c2b HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            write.write_all(head.as_bytes()).await.expect("write");
            write.write_all(&body).await.expect("write");
            let mut raw = Vec::new();
            tokio::time::timeout(IO_TIMEOUT, read.read_to_end(&mut raw))
                .await
                .expect("answer in time")
                .expect("read");
            parse_answer(&raw).status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), 400);
    }

    valid_payment_is_served(&sim, "hostile-after-bodies").await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_types_sizes_and_partial_bodies_are_refused() {
    let sim = demo().await;
    let good = sign_raw(&c2b_text("hostile-ct", "\"100.00\""));
    let path = gateway_path("payment_c2b");

    for (content_type, status) in [
        (Some("text/plain"), 415),
        (None, 415),
        (Some("multipart/form-data; boundary=xyz"), 415),
        (Some("application/x-www-form-urlencoded"), 415),
        (Some("application/jsonx"), 415),
        (Some(""), 415),
        (Some("application/xml"), 415),
    ] {
        let answer = post(&sim, &path, content_type, &good).await;
        assert_refused(
            &format!("content type {content_type:?}"),
            &answer,
            Some(status),
        );
    }
    // A multipart body with a JSON part is still not JSON.
    let multipart = b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{}\r\n--xyz--\r\n";
    let answer = post(
        &sim,
        &path,
        Some("multipart/form-data; boundary=xyz"),
        multipart,
    )
    .await;
    assert_refused("multipart body", &answer, Some(415));

    // 10 MB with its length declared: refused on the header (413).
    let ten_mb = {
        let mut body = b"{\"pad\":\"".to_vec();
        body.resize(10 * 1024 * 1024 - 2, b'x');
        body.extend_from_slice(b"\"}");
        body
    };
    let answer = post(&sim, &path, Some("application/json"), &ten_mb).await;
    assert_refused("10 MB body, declared length", &answer, Some(413));

    // 10 MB chunked (no declared length): refused after the limit (413).
    let mut chunked = Vec::new();
    for chunk in ten_mb.chunks(256 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = exchange(
        &sim,
        &format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        ),
        &chunked,
        None,
    )
    .await;
    assert_refused("10 MB body, chunked", &answer, Some(413));

    // A lying Content-Length (declares more than is sent, then the client
    // stops sending): the server must not hang forever or answer 5xx. It
    // may answer 400 (incomplete body) or just close the connection.
    let raw = raw_exchange(
        sim.addr,
        format!("POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 5000"),
        good.clone(),
        Some(good.len()),
    )
    .await;
    if !raw.is_empty() {
        // 400 (incomplete), not 413: the body is short, not too large.
        assert_refused("partial body", &parse_answer(&raw), Some(400));
    }

    // A declared length that is not a number.
    let answer = exchange(
        &sim,
        &format!("POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1e400"),
        &good,
        None,
    )
    .await;
    assert!(
        (400..500).contains(&answer.status),
        "bad Content-Length: HTTP {}",
        answer.status
    );

    valid_payment_is_served(&sim, "hostile-after-sizes").await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_are_documented_4xx() {
    let sim = demo().await;
    let good = sign_raw(&c2b_text("hostile-paths", "\"100.00\""));
    for path in [
        "/".to_owned(),
        "/nope".to_owned(),
        format!("/{DEMO_PUBLIC_ID}/refund"),
        format!("/{DEMO_PUBLIC_ID}/payment_c2b/extra"),
        "/unknown-public-id/payment_c2b".to_owned(),
        format!("/{DEMO_PUBLIC_ID}/payment_b2c/bulk/refund"),
        format!("/{DEMO_PUBLIC_ID}/payment_b2c/nothing"),
        format!("/{DEMO_PUBLIC_ID}/%ff%fe"),
        "/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        format!("/{}/payment_c2b", "p".repeat(4000)),
        "/_sim/nothing".to_owned(),
    ] {
        let answer = post(&sim, &path, Some("application/json"), &good).await;
        assert_refused(&format!("POST {path}"), &answer, Some(404));
    }
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let head = format!(
            "{method} {} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}",
            gateway_path("payment_c2b"),
            good.len()
        );
        let answer = exchange(&sim, &head, &good, None).await;
        assert_refused(&format!("{method} payment_c2b"), &answer, Some(405));
    }
    valid_payment_is_served(&sim, "hostile-after-paths").await;
    sim.shutdown().await;
}

/// `paygate verify` on the same malformed payloads: exit 2, one line on
/// stderr, nothing on stdout.
#[test]
fn verify_cli_exits_2_on_the_same_payloads() {
    // The CLI reads up to 16 MiB, so the simulator's size case is just a
    // large unsigned object to it; add a 10 MB one too.
    let mut cases = hostile_bodies(64 * 1024);
    let mut ten_mb = b"{\"pad\":\"".to_vec();
    ten_mb.resize(10 * 1024 * 1024 - 2, b'x');
    ten_mb.extend_from_slice(b"\"}");
    cases.push(Hostile {
        name: "10 MB unsigned object",
        body: ten_mb,
        status: None,
        cli_exit_2: true,
    });
    for case in cases.iter().filter(|c| c.cli_exit_2) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .arg("verify")
            .env("PAYGATE_SECRET_KEY", DEMO_SECRET_KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paygate runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let body = case.body.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
        let out = child.wait_with_output().expect("paygate finishes");
        let _ = writer.join();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: stderr {stderr}", case.name);
        assert!(
            out.stdout.is_empty(),
            "{}: stdout {:?}",
            case.name,
            out.stdout
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{}: {stderr}",
            case.name
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.name);
    }
    // Over the CLI's own 16 MiB limit: exit 2 as well.
    let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .arg("verify")
        .env("PAYGATE_SECRET_KEY", DEMO_SECRET_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paygate runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..17 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().expect("paygate finishes");
    let _ = writer.join();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
