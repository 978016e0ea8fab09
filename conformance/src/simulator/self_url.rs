//! Callback and webhook URLs that point back at the simulator itself are
//! refused: a merchant request must never make the simulator call its own
//! control API (or anything else it serves).
//!
//! A URL points at the simulator when its port is the simulator's and its
//! host is this machine: `localhost` (and `*.localhost`, `ip6-localhost`,
//! `ip6-loopback`), a loopback address (127.0.0.0/8, `::1`), an
//! unspecified one (0.0.0.0/8, `::`), an IPv4-mapped or -compatible IPv6
//! form of those, or any address of one of this machine's interfaces; or
//! when it has the advertised base URL's host and port. URLs are parsed
//! with the same WHATWG parser the callback client uses (`reqwest::Url`),
//! so `http://127.1:8080/` or `http://2130706433:8080/` are seen as the
//! 127.0.0.1 they connect to. Other ports on loopback stay allowed: that
//! is where a developer's callback receiver runs.
//!
//! Host names other than the `localhost` family are not resolved here (a
//! DNS answer can change between the check and the delivery); what stops
//! a name that resolves to this machine is the admin token, which
//! callbacks never carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

/// The host of a URL, as the parser normalised it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    /// A name, lower case, without a trailing dot.
    Domain(String),
    /// An IP address (IPv4 in any of its WHATWG spellings already decoded).
    Ip(IpAddr),
}

/// The rule's name, as it appears at the end of a refusal.
pub(crate) const RULE: &str = "callback_not_simulator";

/// Where the simulator is reachable: what a callback URL must not name.
#[derive(Clone, Debug)]
pub(crate) struct SelfAddress {
    /// The port the simulator listens on (the advertised base URL's).
    port: Option<u16>,
    /// The advertised base URL's host.
    advertised: Option<Host>,
}

fn host_of(url: &Url) -> Option<Host> {
    let host = url.host_str()?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| Host::Ip(IpAddr::V6(ip)));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(v4)));
    }
    Some(Host::Domain(
        host.trim_end_matches('.').to_ascii_lowercase(),
    ))
}

impl SelfAddress {
    /// The simulator advertised at `base_url` (`http://127.0.0.1:8080`).
    pub(crate) fn from_base_url(base_url: &str) -> Self {
        let parsed = Url::parse(base_url).ok();
        SelfAddress {
            port: parsed.as_ref().and_then(Url::port_or_known_default),
            advertised: parsed.as_ref().and_then(host_of),
        }
    }

    /// `Err(why)` when `url` points at the simulator itself; URLs that do
    /// not parse are left to the other checks (they cannot reach anything).
    pub(crate) fn check(&self, url: &str) -> Result<(), String> {
        match Url::parse(url.trim()) {
            Ok(parsed) => self.check_parsed(&parsed),
            Err(_) => Ok(()),
        }
    }

    /// [`SelfAddress::check`] for a URL already parsed (a delivery parses
    /// its URL once, for this and for the request).
    pub(crate) fn check_parsed(&self, parsed: &Url) -> Result<(), String> {
        let (Some(host), Some(port)) = (host_of(parsed), parsed.port_or_known_default()) else {
            return Ok(());
        };
        if Some(port) != self.port {
            return Ok(());
        }
        let advertised = self.advertised.as_ref() == Some(&host);
        let this_machine = match &host {
            Host::Domain(name) => is_localhost_name(name),
            Host::Ip(ip) => is_this_machine(*ip),
        };
        if advertised || this_machine {
            Err(format!(
                "points at the simulator itself (this machine, port {port}); callbacks and webhooks must go to the merchant's own server, never to the simulator or its control API [{RULE}]"
            ))
        } else {
            Ok(())
        }
    }
}

/// The refusal of the first `callback_url` (at any depth: bulk items carry
/// their own) of a JSON body that points at the simulator, naming its
/// path: `items[0].callback_url: "http://..." points at ...`. The caller
/// parses the body (once, for this and the request rules); a body that is
/// not JSON has none (decoding refuses it later).
pub(crate) fn self_pointing_callback(
    this: &SelfAddress,
    value: &serde_json::Value,
) -> Option<String> {
    // An explicit stack: the depth is the input's (already bounded by the
    // signature check), never the call stack's.
    let mut stack: Vec<(String, &serde_json::Value)> = vec![(String::new(), value)];
    while let Some((path, value)) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key == "callback_url" {
                        if let Some(url) = child.as_str() {
                            if let Err(why) = this.check(url) {
                                return Some(format!("{child_path}: {url:?} {why}"));
                            }
                        }
                    }
                    stack.push((child_path, child));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    stack.push((format!("{path}[{i}]"), child));
                }
            }
            _ => {}
        }
    }
    None
}

fn is_localhost_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "ip6-localhost"
        || name == "ip6-loopback"
        || name == "localhost.localdomain"
}

fn is_this_machine_v4(ip: Ipv4Addr) -> bool {
    // 0.0.0.0/8 is "this network": connecting to 0.0.0.0 reaches this host.
    ip.is_loopback() || ip.octets()[0] == 0 || is_local_interface(IpAddr::V4(ip))
}

fn is_this_machine(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_this_machine_v4(v4),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.to_ipv4_mapped().is_some_and(is_this_machine_v4)
                || ipv4_compatible(v6).is_some_and(is_this_machine_v4)
                || is_local_interface(IpAddr::V6(v6))
        }
    }
}

/// `::a.b.c.d` (deprecated IPv4-compatible form; `::1` is not one).
fn ipv4_compatible(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = v6.segments();
    (segments[..6].iter().all(|s| *s == 0) && !v6.is_loopback() && !v6.is_unspecified()).then(
        || {
            let [a, b] = segments[6].to_be_bytes();
            let [c, d] = segments[7].to_be_bytes();
            Ipv4Addr::new(a, b, c, d)
        },
    )
}

/// Whether `ip` is an address of one of this machine's interfaces: the
/// kernel lets a socket bind only to those (EADDRNOTAVAIL otherwise). One
/// syscall, no interface enumeration crate needed.
fn is_local_interface(ip: IpAddr) -> bool {
    std::net::UdpSocket::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(base: &str, url: &str) -> bool {
        SelfAddress::from_base_url(base).check(url).is_err()
    }

    #[test]
    fn every_spelling_of_this_machine_on_our_port_is_refused() {
        let base = "http://127.0.0.1:8080";
        for url in [
            "http://127.0.0.1:8080/_sim/reset",
            "http://localhost:8080/_sim/reset",
            "http://LocalHost.:8080/x",
            "http://api.localhost:8080/x",
            "http://0.0.0.0:8080/x",
            "http://0:8080/x",
            "http://127.1:8080/x",
            "http://2130706433:8080/x",
            "http://0x7f.0.0.1:8080/x",
            "http://[::1]:8080/x",
            "http://[::]:8080/x",
            "http://[::ffff:127.0.0.1]:8080/x",
            "http://[::127.0.0.1]:8080/x",
            "http://user:pw@127.0.0.1:8080/x",
            "https://127.0.0.9:8080/x",
        ] {
            assert!(refused(base, url), "{url}");
        }
    }

    #[test]
    fn other_ports_and_hosts_are_allowed() {
        let base = "http://127.0.0.1:8080";
        for url in [
            "http://127.0.0.1:9000/callback",
            "http://localhost:8081/x",
            "http://127.0.0.1/x",
            "https://merchant.example/callback",
            "http://192.0.2.1:8080/x",
            "not a url",
            "",
        ] {
            assert!(!refused(base, url), "{url}");
        }
    }

    #[test]
    fn callback_urls_are_found_at_any_depth() {
        let this = SelfAddress::from_base_url("http://127.0.0.1:8080");
        let body = br#"{"items":[{"callback_url":"http://127.0.0.1:9/x"},{"callback_url":"http://localhost:8080/_sim/reset"}]}"#;
        let json = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).unwrap();
        let refusal = self_pointing_callback(&this, &json(body)).unwrap();
        assert!(refusal.starts_with("items[1].callback_url: "), "{refusal}");
        assert!(refusal.ends_with("[callback_not_simulator]"), "{refusal}");
        let elsewhere = json(br#"{"callback_url":"http://127.0.0.1:9/x"}"#);
        assert!(self_pointing_callback(&this, &elsewhere).is_none());
    }

    #[test]
    fn the_advertised_host_is_refused() {
        let base = "http://sim.example:7000";
        assert!(refused(base, "http://SIM.example:7000/_sim/reset"));
        assert!(!refused(base, "http://sim.example:7001/x"));
        assert!(refused("https://sim.example", "https://sim.example/x"));
    }
}
