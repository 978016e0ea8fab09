//! The callback client against endpoints served here: what it sends, what
//! it reads back, redirects, timeouts, refused connections and reuse.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::{CallbackHttp, NoAnswer, ANSWER_LIMIT};

/// What an endpoint saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    content_type: Option<String>,
    signature: Option<String>,
    body: Bytes,
}

/// An endpoint on loopback that records each request and answers with
/// `answer(path)`; it counts the connections it accepted.
struct Endpoint {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Endpoint {
    async fn start(answer: fn(&str) -> Response<Full<Bytes>>) -> Endpoint {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (kept, counted) = (seen.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let kept = kept.clone();
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let kept = kept.clone();
                    async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        let (method, path) = (
                            request.method().to_string(),
                            request.uri().path().to_owned(),
                        );
                        let (content_type, signature) =
                            (header("content-type"), header("hub2-signature"));
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let response = answer(&path);
                        kept.lock().expect("not poisoned").push(Seen {
                            method,
                            path,
                            content_type,
                            signature,
                            body,
                        });
                        Ok::<_, Infallible>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Endpoint {
            addr,
            seen,
            connections,
        }
    }

    fn uri(&self, path: &str) -> hyper::Uri {
        CallbackHttp::uri(&format!("http://{}{path}", self.addr)).expect("a URI")
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

fn ok(_: &str) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"received")))
}

fn client() -> CallbackHttp {
    CallbackHttp::new(Duration::from_secs(5)).expect("a client")
}

#[tokio::test]
async fn posts_the_body_as_json_with_the_headers_given_and_reads_the_answer() {
    let endpoint = Endpoint::start(ok).await;
    let signature = (
        HeaderName::from_static("hub2-signature"),
        HeaderValue::from_static("t=1,v1=ab"),
    );
    let answer = client()
        .post_json(
            endpoint.uri("/callbacks?x=1"),
            &[signature],
            Bytes::from_static(br#"{"status":1}"#),
        )
        .await
        .expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.body[..], b"received");
    let seen = endpoint.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/callbacks");
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(seen[0].signature.as_deref(), Some("t=1,v1=ab"));
    assert_eq!(&seen[0].body[..], br#"{"status":1}"#);
}

#[tokio::test]
async fn a_redirect_is_the_answer_and_is_not_followed() {
    fn redirect(path: &str) -> Response<Full<Bytes>> {
        let mut response = ok(path);
        if path == "/moved" {
            *response.status_mut() = hyper::StatusCode::FOUND;
            response
                .headers_mut()
                .insert("location", HeaderValue::from_static("/elsewhere"));
        }
        response
    }
    let endpoint = Endpoint::start(redirect).await;
    let answer = client()
        .post_json(endpoint.uri("/moved"), &[], Bytes::from_static(b"{}"))
        .await
        .expect("an answer");
    assert_eq!(answer.status, 302);
    let paths: Vec<String> = endpoint.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/moved"], "the redirect was followed");
}

#[tokio::test]
async fn connections_are_reused_for_the_same_endpoint() {
    let endpoint = Endpoint::start(ok).await;
    let client = client();
    for _ in 0..5 {
        let answer = client
            .post_json(endpoint.uri("/cb"), &[], Bytes::from_static(b"{}"))
            .await
            .expect("an answer");
        assert_eq!(answer.status, 200);
    }
    assert_eq!(endpoint.seen().len(), 5);
    assert_eq!(endpoint.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out() {
    // Accepts, reads, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = CallbackHttp::new(Duration::from_millis(200)).expect("a client");
    let started = Instant::now();
    let uri = CallbackHttp::uri(&format!("http://{addr}/cb")).expect("a URI");
    let err = client
        .post_json(uri, &[], Bytes::from_static(b"{}"))
        .await
        .expect_err("no answer");
    assert!(matches!(err, NoAnswer::Timeout(_)), "{err:?}");
    assert_eq!(err.to_string(), "no answer within 200ms");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_names_its_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    let uri = CallbackHttp::uri(&format!("http://{addr}/cb")).expect("a URI");
    let err = client()
        .post_json(uri, &[], Bytes::from_static(b"{}"))
        .await
        .expect_err("nothing listens");
    let text = err.to_string();
    assert!(matches!(err, NoAnswer::Failed(_)), "{err:?}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[tokio::test]
async fn a_long_answer_keeps_its_status_and_not_its_body() {
    fn long(_: &str) -> Response<Full<Bytes>> {
        Response::new(Full::new(Bytes::from(vec![b'x'; ANSWER_LIMIT + 1])))
    }
    let endpoint = Endpoint::start(long).await;
    let answer = client()
        .post_json(endpoint.uri("/cb"), &[], Bytes::from_static(b"{}"))
        .await
        .expect("an answer");
    assert_eq!(answer.status, 200);
    assert!(answer.body.is_empty());
}

#[test]
fn only_http_and_https_urls_are_called() {
    for url in ["ftp://example.com/cb", "mailto:a@example.com", "not a url"] {
        let err = CallbackHttp::uri(url).expect_err(url);
        assert!(matches!(err, NoAnswer::BadUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains(url), "{err}");
    }
    let uri = CallbackHttp::uri(" https://Example.COM:8443/cb?a=1 ").expect("an https URL");
    assert_eq!(uri.to_string(), "https://example.com:8443/cb?a=1");
}
