//! The transport: one blocking HTTP/1.1 POST of JSON per call to etcd's v3
//! JSON gateway, a timeout on every request, and failover across the
//! configured members.
//!
//! Failover is safe only where repeating cannot apply a change twice: a
//! request that was never sent (refused connection, connect timeout, or a
//! member that answers "no leader" before proposing anything) goes to the
//! next member; a change whose outcome is unknown (sent, then a timeout
//! or a reset) is reported as [`Error::Indeterminate`] and not repeated.
//! Reads and lease keep-alives are repeated on the next member in every
//! case.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::Agent;

use crate::error::{CODE_UNAVAILABLE, Error, Result};
use crate::wire::ErrorBody;

/// Largest answer read from the gateway; a bigger one is an error, so a
/// misbehaving peer cannot make us allocate without bound. Every read in
/// this crate is paged well below it.
const MAX_RESPONSE_BYTES: u64 = 32 << 20;

/// How to reach etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Members' client addresses, `host:port` or `http://host:port`.
    pub endpoints: Vec<String>,
    /// Whole-request timeout (connect, send, wait, read), per member tried.
    pub timeout: Duration,
    /// Connect timeout, per member tried.
    pub connect_timeout: Duration,
    /// The gateway's path prefix: `/v3` (etcd 3.4 also serves `/v3beta`;
    /// 3.5 only `/v3`).
    pub api_prefix: String,
}

impl Config {
    /// Default [`Config::timeout`]: 2 s, well under the 5 s lease TTL, so
    /// that a node learns of a lost etcd while it still owns its maps.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// Default [`Config::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

    /// The defaults for these endpoints.
    pub fn new<S: AsRef<str>>(endpoints: &[S]) -> Config {
        Config {
            endpoints: endpoints.iter().map(|e| e.as_ref().to_string()).collect(),
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            api_prefix: "/v3".to_string(),
        }
    }
}

/// Whether a request may be repeated on another member after its outcome
/// became unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A read, or a change that is harmless to repeat (lease keep-alive,
    /// revoke).
    Repeatable,
    /// A change (put, delete, transaction, lease grant).
    Change,
}

struct Endpoint {
    /// `host:port`, for messages.
    name: String,
    /// `http://host:port` plus the API prefix.
    base: String,
}

/// How one attempt at one member failed.
enum Failure {
    /// Nothing reached etcd.
    NotSent(String),
    /// The request may have reached etcd.
    Unknown(String),
}

/// A blocking etcd v3 client over the JSON gateway. Cheap to share by
/// reference between threads (`Sync`); the HTTP connections are pooled.
pub struct Client {
    agent: Agent,
    endpoints: Vec<Endpoint>,
    /// The member that answered last, tried first next time.
    preferred: AtomicUsize,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.endpoints.iter().map(|e| e.name.as_str()).collect();
        f.debug_struct("Client")
            .field("endpoints", &names)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Client {
    /// A client for these members with the default timeouts.
    pub fn new<S: AsRef<str>>(endpoints: &[S]) -> Result<Client> {
        Client::with_config(Config::new(endpoints))
    }

    /// A client with explicit settings.
    pub fn with_config(config: Config) -> Result<Client> {
        if config.endpoints.is_empty() {
            return Err(Error::Invalid("no etcd endpoint given".into()));
        }
        if config.timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(Error::Invalid("etcd timeouts must be above zero".into()));
        }
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| parse_endpoint(e, &config.api_prefix))
            .collect::<Result<Vec<_>>>()?;
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout))
            .http_status_as_error(false)
            // Never through a proxy from the environment: these requests
            // go to the members named, nowhere else.
            .proxy(None)
            .build()
            .into();
        Ok(Client {
            agent,
            endpoints,
            preferred: AtomicUsize::new(0),
            timeout: config.timeout,
        })
    }

    /// The members' `host:port`s, in the order given.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.name.clone()).collect()
    }

    /// POSTs `request` to `path` (under the API prefix) and decodes the
    /// answer, trying each member at most once, starting with the one
    /// that answered last.
    pub(crate) fn call<Req, Resp>(&self, path: &str, request: &Req, kind: Kind) -> Result<Resp>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::Invalid(format!("cannot encode request: {e}")))?;
        let count = self.endpoints.len();
        // Relaxed: `preferred` is only a hint of where to start; any value
        // is a valid index and any member is a correct choice.
        let first = self.preferred.load(Ordering::Relaxed) % count;
        let mut failures = Vec::new();
        for step in 0..count {
            let at = (first + step) % count;
            let endpoint = &self.endpoints[at];
            match self.post(endpoint, path, &body) {
                Ok((200, bytes)) => {
                    // Relaxed: a hint, as above.
                    self.preferred.store(at, Ordering::Relaxed);
                    return decode(endpoint, &bytes);
                }
                Ok((status, bytes)) => {
                    let (code, message) = error_of(status, &bytes);
                    // "no leader" is refused before anything is proposed;
                    // another member may have one.
                    if code == CODE_UNAVAILABLE
                        && (kind == Kind::Repeatable || message.contains("no leader"))
                    {
                        failures.push(format!("{}: {message}", endpoint.name));
                        continue;
                    }
                    if code == CODE_UNAVAILABLE {
                        return Err(Error::Indeterminate {
                            endpoint: endpoint.name.clone(),
                            detail: message,
                        });
                    }
                    return Err(Error::Etcd { code, message });
                }
                Err(Failure::NotSent(why)) => failures.push(format!("{}: {why}", endpoint.name)),
                Err(Failure::Unknown(why)) => match kind {
                    Kind::Repeatable => failures.push(format!("{}: {why}", endpoint.name)),
                    Kind::Change => {
                        return Err(Error::Indeterminate {
                            endpoint: endpoint.name.clone(),
                            detail: why,
                        });
                    }
                },
            }
        }
        Err(Error::Unavailable { failures })
    }

    /// One POST to one member: the status and the body.
    fn post(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), Failure> {
        let url = format!("{}{path}", endpoint.base);
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body)
            .map_err(classify)?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| Failure::Unknown(describe(&e)))?;
        Ok((status, bytes))
    }
}

/// `host:port` or `http://host:port[/]` to an [`Endpoint`].
fn parse_endpoint(text: &str, prefix: &str) -> Result<Endpoint> {
    let text = text.trim();
    if text.starts_with("https://") {
        return Err(Error::Invalid(format!(
            "etcd endpoint {text}: TLS is not supported (use the members' plain HTTP client URLs on a private network)"
        )));
    }
    let hostport = text
        .strip_prefix("http://")
        .unwrap_or(text)
        .trim_end_matches('/');
    let valid = match hostport.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
        }
        None => false,
    };
    if !valid {
        return Err(Error::Invalid(format!(
            "etcd endpoint {text:?}: expected host:port or http://host:port"
        )));
    }
    Ok(Endpoint {
        name: hostport.to_string(),
        base: format!("http://{hostport}{prefix}"),
    })
}

/// Whether a failed exchange can have reached etcd.
fn classify(error: ureq::Error) -> Failure {
    use ureq::Timeout;
    let why = describe(&error);
    match &error {
        ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => Failure::NotSent(why),
        ureq::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            ) =>
        {
            Failure::NotSent(why)
        }
        _ => Failure::Unknown(why),
    }
}

fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(which) => format!("timed out ({which})"),
        ureq::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

fn decode<Resp: DeserializeOwned>(endpoint: &Endpoint, bytes: &[u8]) -> Result<Resp> {
    serde_json::from_slice(bytes).map_err(|e| Error::BadResponse {
        endpoint: endpoint.name.clone(),
        detail: format!("{e}: {}", preview(bytes)),
    })
}

/// The gRPC code and message of an error answer (or the HTTP status).
fn error_of(status: u16, bytes: &[u8]) -> (i32, String) {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) if body.code != 0 || !body.message.is_empty() || !body.error.is_empty() => {
            let message = if body.message.is_empty() {
                body.error
            } else {
                body.message
            };
            (body.code, message)
        }
        _ => (0, format!("HTTP {status}: {}", preview(bytes))),
    }
}

/// The start of a body, for error messages.
pub(crate) fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_or_refused_clearly() {
        let e = parse_endpoint("127.0.0.1:2379", "/v3").unwrap();
        assert_eq!(e.name, "127.0.0.1:2379");
        assert_eq!(e.base, "http://127.0.0.1:2379/v3");
        let e = parse_endpoint("http://localhost:23790/", "/v3beta").unwrap();
        assert_eq!(e.base, "http://localhost:23790/v3beta");
        for bad in ["", "127.0.0.1", "127.0.0.1:99999", ":2379", "http://h/x:1"] {
            let err = parse_endpoint(bad, "/v3").err().unwrap();
            assert!(
                err.to_string().contains("expected host:port"),
                "{bad}: {err}"
            );
        }
        let err = parse_endpoint("https://h:1", "/v3").err().unwrap();
        assert!(err.to_string().contains("TLS is not supported"), "{err}");
    }

    #[test]
    fn error_bodies_give_code_and_message() {
        let body = br#"{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}"#;
        assert_eq!(
            error_of(400, body),
            (3, "etcdserver: request is too large".to_string())
        );
        assert_eq!(
            error_of(502, b"<html>"),
            (0, "HTTP 502: <html>".to_string())
        );
    }

    #[test]
    fn a_client_needs_an_endpoint_and_timeouts() {
        let none: [&str; 0] = [];
        assert!(matches!(Client::new(&none), Err(Error::Invalid(_))));
        let mut config = Config::new(&["127.0.0.1:1"]);
        config.timeout = Duration::ZERO;
        assert!(matches!(
            Client::with_config(config),
            Err(Error::Invalid(_))
        ));
    }
}
