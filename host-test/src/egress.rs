//! The egress policy: a call's outgoing requests may go only to the
//! configured server's origin, at most `max_concurrent_requests` of them at
//! once, each with timeouts, and none past the call's deadline: not the
//! connection, not the headers, not the last byte of the body.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{default_send_request, Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::embed::Limits;

/// Scheme, host and port, lowercased, with the default port filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String, String, u16);

impl Origin {
    /// The origin of a URL; `None` when it has no usable scheme or host.
    pub fn of(url: &str) -> Option<Origin> {
        let uri: http::Uri = url.parse().ok()?;
        Origin::of_uri(&uri)
    }

    fn of_uri(uri: &http::Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let host = uri
            .host()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        Some(Origin(scheme, host, uri.port_u16().unwrap_or(default_port)))
    }
}

pub struct EgressPolicy {
    allowed: Option<Origin>,
    deadline: Instant,
    max_concurrent: usize,
    in_flight: Arc<AtomicUsize>,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
    between_bytes_timeout: Duration,
}

impl EgressPolicy {
    pub fn new(server_url: &str, deadline: Instant, limits: &Limits) -> EgressPolicy {
        EgressPolicy {
            // Trimmed as the component trims it, so both agree on the origin.
            allowed: Origin::of(server_url.trim()),
            deadline,
            max_concurrent: limits.max_concurrent_requests,
            in_flight: Arc::new(AtomicUsize::new(0)),
            connect_timeout: limits.connect_timeout,
            first_byte_timeout: limits.first_byte_timeout,
            between_bytes_timeout: limits.between_bytes_timeout,
        }
    }

    /// The guest's timeouts, defaulted and capped by the time left.
    fn timeouts(&self, guest: Option<RequestOptions>) -> (RequestOptions, Duration) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let guest = guest.unwrap_or_default();
        let pick = |asked: Option<Duration>, default: Duration| {
            Some(asked.unwrap_or(default).min(default).min(left))
        };
        let options = RequestOptions {
            connect_timeout: pick(guest.connect_timeout, self.connect_timeout),
            first_byte_timeout: pick(guest.first_byte_timeout, self.first_byte_timeout),
            between_bytes_timeout: pick(guest.between_bytes_timeout, self.between_bytes_timeout),
        };
        (options, left)
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for EgressPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let allowed = self.allowed.is_some() && Origin::of_uri(request.uri()) == self.allowed;
        if !allowed {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let Some(slot) = InFlight::take(&self.in_flight, self.max_concurrent) else {
            return Box::new(async { Err(Error::ConnectionLimitReached) });
        };
        let (options, left) = self.timeouts(options);
        let deadline = tokio::time::Instant::from_std(self.deadline);
        Box::new(async move {
            // The whole exchange, TLS handshake included, ends by the deadline:
            // while the guest waits in the host, epoch interruption cannot reach it.
            match tokio::time::timeout(left, default_send_request(request, Some(options))).await {
                Ok(Ok((response, io))) => Ok((
                    response.map(|body| {
                        DeadlineBody::new(body.boxed_unsync(), deadline, slot).boxed_unsync()
                    }),
                    Box::new(io) as Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
                )),
                Ok(Err(error)) => Err(error),
                Err(_elapsed) => Err(Error::ConnectionTimeout),
            }
        })
    }
}

/// One of a call's concurrent request slots, given back when dropped (after
/// the response body is read or abandoned).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn take(counter: &Arc<AtomicUsize>, max: usize) -> Option<InFlight> {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlight(counter.clone()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that fails with a read timeout once the call's deadline
/// has passed, so a body trickling in byte by byte cannot hold a call forever.
struct DeadlineBody {
    inner: WasiBody,
    deadline: Pin<Box<tokio::time::Sleep>>,
    _slot: InFlight,
}

impl DeadlineBody {
    fn new(inner: WasiBody, deadline: tokio::time::Instant, slot: InFlight) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            _slot: slot,
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Error::ConnectionReadTimeout)));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            Origin::of("https://H.example/x"),
            Origin::of("https://h.example:443/y?z")
        );
        assert_ne!(
            Origin::of("https://h.example"),
            Origin::of("http://h.example")
        );
        assert_ne!(
            Origin::of("http://127.0.0.1:80"),
            Origin::of("http://127.0.0.1:8080")
        );
        assert_ne!(
            Origin::of("https://h.example"),
            Origin::of("https://h.example.evil")
        );
        assert_eq!(Origin::of("ftp://h.example"), None);
    }
}
