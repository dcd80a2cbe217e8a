//! The client IP address a login records: the connection's peer, or behind trusted proxies the address they
//! forwarded in `X-Forwarded-For` or `Forwarded`.
//!
//! Any client can send those headers, so they are read only when the peer is one of the `trusted_proxies`.
//! The chain is then walked from the right, past every trusted address, to the first one that is not trusted;
//! when every address is trusted, the leftmost is the client. The parsing and the walk are parse-net's
//! (`parse_net::client_address`); this module decides which header to read and what to do when it cannot be used.
//! Whatever cannot be judged (a malformed header, a chain longer than [`MAX_HOPS`], a hidden address, both headers
//! at once) records the peer, never an address the client chose.

use std::net::IpAddr;

use ipnet::IpNet;
use parse_net::{ClientAddress, ForwardedSource};
use poem::http::HeaderMap;
use poem::http::header::FORWARDED;

/// The longest chain of forwarded addresses read; a longer one is not a real one, and records the peer.
const MAX_HOPS: u8 = 16;

/// The proxies (addresses and networks) whose `X-Forwarded-For` and `Forwarded` headers are believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// An entry of the trusted proxies that is neither an IP address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is neither an IP address such as `10.0.0.1` nor a network such as `10.0.0.0/8`")]
pub struct InvalidTrustedProxy(String);

impl TrustedProxies {
    /// No trusted proxy: the peer is always the client, and forwarding headers are never read.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Parses a comma list of addresses and networks, such as `10.0.0.0/8, 127.0.0.1, ::1/128`; an empty list
    /// trusts no proxy. A plain address is a network of that one address.
    pub fn parse(text: &str) -> Result<Self, InvalidTrustedProxy> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidTrustedProxy(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), which a dual-stack socket
    /// reports for an IPv4 client, matches the IPv4 networks too.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip) || net.contains(&canonical))
    }
}

/// The client IP address of `request`, as [`client_ip`] finds it, in text; `None` when the request came over
/// something other than IP.
pub(crate) fn of_request(request: &poem::Request) -> Option<String> {
    let peer = request.remote_addr().as_socket_addr()?.ip();
    Some(client_ip(peer, request.headers(), request.data()).to_string())
}

/// Where `request` came from, as sessions and the audit trail record it: its client IP address ([`of_request`]) and
/// its `User-Agent` (UTF-8 read as text too, not only visible ASCII; cut to the core's limit).
pub(crate) fn client_info(request: &poem::Request) -> authtoken_core::session::ClientInfo {
    let user_agent =
        request.headers().get(poem::http::header::USER_AGENT).and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
    authtoken_core::session::ClientInfo::new(user_agent, of_request(request))
}

/// The client IP address of a request that came from `peer`, as a session records it: an IPv4-mapped address is
/// written as plain IPv4.
///
/// Forwarding headers count only when `peer` is a trusted proxy. Every line of the header counts, as one list in
/// order. A request that carries both `X-Forwarded-For` and `Forwarded` records the peer: a proxy writes one of
/// them, and the other came from the client.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: Option<&TrustedProxies>) -> IpAddr {
    let Some(trusted) = trusted.filter(|trusted| trusted.contains(peer)) else {
        return peer.to_canonical();
    };
    let x_forwarded_for: Vec<&[u8]> = headers.get_all("x-forwarded-for").iter().map(|v| v.as_bytes()).collect();
    let forwarded: Vec<&[u8]> = headers.get_all(FORWARDED).iter().map(|v| v.as_bytes()).collect();
    let source = match (x_forwarded_for.is_empty(), forwarded.is_empty()) {
        (true, true) => return peer.to_canonical(),
        (false, true) => ForwardedSource::XForwardedFor(&x_forwarded_for),
        (true, false) => ForwardedSource::Forwarded(&forwarded),
        (false, false) => {
            tracing::debug!("both X-Forwarded-For and Forwarded came through a trusted proxy; the peer is recorded");
            return peer.to_canonical();
        }
    };
    let trust = |ip: IpAddr| trusted.contains(ip);
    let client = match parse_net::client_address(peer, source, &trust, MAX_HOPS) {
        Ok(ClientAddress::Forwarded { addr, .. }) => addr,
        Ok(ClientAddress::Peer(addr)) => addr,
        // A hidden address (`unknown`, an obfuscated name) and any variant a later parse-net adds: the peer.
        Ok(_) => peer,
        Err(e) => {
            tracing::debug!(
                "a forwarding header through a trusted proxy could not be read ({e}); the peer is recorded"
            );
            peer
        }
    };
    client.to_canonical()
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    /// The proxies of the examples: a private network, the IPv4 loopback and the IPv6 loopback.
    const TRUSTED: &str = "10.0.0.0/8, 127.0.0.1, ::1/128";

    /// The client IP of a request from `peer` with the given header lines (name and value), with [`TRUSTED`].
    #[track_caller]
    fn check(peer: &str, lines: &[(&'static str, &[u8])], expected: &str) {
        check_with(TRUSTED, peer, lines, expected);
    }

    #[track_caller]
    fn check_with(trusted: &str, peer: &str, lines: &[(&'static str, &[u8])], expected: &str) {
        let trusted = TrustedProxies::parse(trusted).expect("valid trusted proxies");
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            headers.append(*name, HeaderValue::from_bytes(value).expect("a valid header value"));
        }

        let ip = client_ip(peer.parse().expect("a valid peer"), &headers, Some(&trusted));

        assert_eq!(ip.to_string(), expected, "peer {peer}, headers {lines:?}, trusted {trusted:?}");
    }

    const XFF: &str = "x-forwarded-for";
    const FWD: &str = "forwarded";

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_and_headers_are_ignored() {
        check_with("", "10.0.0.2", &[(XFF, b"203.0.113.9")], "10.0.0.2");
        check_with("", "10.0.0.2", &[(FWD, b"for=203.0.113.9")], "10.0.0.2");
        check_with("", "203.0.113.1", &[], "203.0.113.1");

        let headers = HeaderMap::from_iter([(FORWARDED, HeaderValue::from_static("for=203.0.113.9"))]);
        assert_eq!(client_ip("10.0.0.2".parse().unwrap(), &headers, None).to_string(), "10.0.0.2");
    }

    #[test]
    fn an_untrusted_peer_sending_x_forwarded_for_is_ignored() {
        check("203.0.113.1", &[(XFF, b"198.51.100.7")], "203.0.113.1");
        check("203.0.113.1", &[(XFF, b"10.0.0.1")], "203.0.113.1");
        check("203.0.113.1", &[(FWD, b"for=198.51.100.7")], "203.0.113.1");
        check("203.0.113.1", &[(XFF, b"not an address")], "203.0.113.1");
    }

    #[test]
    fn a_trusted_peer_without_forwarding_headers_is_the_client() {
        check("10.0.0.2", &[], "10.0.0.2");
        check("::1", &[], "::1");
    }

    #[test]
    fn the_chain_is_walked_from_the_right_to_the_first_untrusted_address() {
        check("10.0.0.2", &[(XFF, b"198.51.100.7")], "198.51.100.7");
        check("10.0.0.2", &[(XFF, b"203.0.113.9, 198.51.100.7")], "198.51.100.7");
        check("10.0.0.2", &[(XFF, b"203.0.113.9, 198.51.100.7, 10.0.0.1, 127.0.0.1")], "198.51.100.7");
        check("127.0.0.1", &[(XFF, b"2001:db8::7, ::1")], "2001:db8::7");
        check("10.0.0.2", &[(XFF, b"198.51.100.7:4711, [2001:db8::1]:443")], "2001:db8::1");
    }

    #[test]
    fn a_spoofed_leftmost_address_never_wins() {
        check("10.0.0.2", &[(XFF, b"1.1.1.1, 198.51.100.7")], "198.51.100.7");
        check("10.0.0.2", &[(FWD, b"for=1.1.1.1, for=198.51.100.7")], "198.51.100.7");
    }

    #[test]
    fn when_every_address_is_trusted_the_leftmost_is_the_client() {
        check("10.0.0.2", &[(XFF, b"10.0.0.5, 10.0.0.1")], "10.0.0.5");
        check("10.0.0.2", &[(XFF, b"127.0.0.1")], "127.0.0.1");
        check("10.0.0.2", &[(FWD, b"for=10.0.0.5, for=10.0.0.1")], "10.0.0.5");
    }

    #[test]
    fn forwarded_is_read_like_x_forwarded_for() {
        check("10.0.0.2", &[(FWD, b"for=198.51.100.7;proto=https;by=10.0.0.2")], "198.51.100.7");
        check("10.0.0.2", &[(FWD, b"for=203.0.113.9, for=198.51.100.7, for=10.0.0.1")], "198.51.100.7");
        check("10.0.0.2", &[(FWD, br#"for="[2001:db8:cafe::17]:4711""#)], "2001:db8:cafe::17");
        check("10.0.0.2", &[(FWD, b"For=198.51.100.7")], "198.51.100.7");
    }

    #[test]
    fn several_header_lines_are_one_list_in_order() {
        check("10.0.0.2", &[(XFF, b"203.0.113.9"), (XFF, b"198.51.100.7")], "198.51.100.7");
        check("10.0.0.2", &[(XFF, b"203.0.113.9, 198.51.100.7"), (XFF, b"10.0.0.1")], "198.51.100.7");
        check("10.0.0.2", &[(XFF, b"10.0.0.5"), (XFF, b"10.0.0.1")], "10.0.0.5");
        check("10.0.0.2", &[(FWD, b"for=203.0.113.9"), (FWD, b"for=198.51.100.7")], "198.51.100.7");
    }

    #[test]
    fn a_malformed_header_records_the_peer() {
        check("10.0.0.2", &[(XFF, b"not an address")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, b"198.51.100.7, , 10.0.0.1")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, b"198.51.100.7,")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, b"")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, b"example.org")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, b"198.51.100.7"), (XFF, b"garbage")], "10.0.0.2");
        check("10.0.0.2", &[(XFF, "198.51.100.7, \u{e9}".as_bytes())], "10.0.0.2");
        check("10.0.0.2", &[(FWD, b"for=2001:db8::1")], "10.0.0.2");
        check("10.0.0.2", &[(FWD, b"for=198.51.100.7;for=203.0.113.9")], "10.0.0.2");
        check("10.0.0.2", &[(FWD, b"198.51.100.7")], "10.0.0.2");
    }

    #[test]
    fn a_chain_longer_than_the_limit_records_the_peer() {
        let long = vec!["198.51.100.7"; usize::from(MAX_HOPS) + 1].join(", ");
        check("10.0.0.2", &[(XFF, long.as_bytes())], "10.0.0.2");

        let longest = vec!["198.51.100.7"; usize::from(MAX_HOPS)].join(", ");
        check("10.0.0.2", &[(XFF, longest.as_bytes())], "198.51.100.7");
    }

    #[test]
    fn a_hidden_client_records_the_peer() {
        check("10.0.0.2", &[(FWD, b"for=unknown")], "10.0.0.2");
        check("10.0.0.2", &[(FWD, b"for=198.51.100.7, for=_hidden")], "10.0.0.2");
        check("10.0.0.2", &[(FWD, b"proto=https")], "10.0.0.2");
    }

    #[test]
    fn both_headers_at_once_record_the_peer() {
        check("10.0.0.2", &[(XFF, b"198.51.100.7"), (FWD, b"for=203.0.113.9")], "10.0.0.2");
    }

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_networks_and_are_recorded_as_ipv4() {
        check("::ffff:10.0.0.2", &[(XFF, b"198.51.100.7")], "198.51.100.7");
        check("::ffff:10.0.0.2", &[(XFF, b"::ffff:198.51.100.7, ::ffff:10.0.0.1")], "198.51.100.7");
        check("::ffff:203.0.113.1", &[(XFF, b"198.51.100.7")], "203.0.113.1");
        check("::ffff:10.0.0.2", &[], "10.0.0.2");
    }

    #[test]
    fn trusted_proxies_are_a_comma_list_of_addresses_and_networks() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8 ,127.0.0.1,, ::1/128, 2001:db8::1 ").unwrap();

        assert!(trusted.contains("10.255.0.1".parse().unwrap()));
        assert!(trusted.contains("127.0.0.1".parse().unwrap()));
        assert!(!trusted.contains("127.0.0.2".parse().unwrap()));
        assert!(trusted.contains("::1".parse().unwrap()));
        assert!(trusted.contains("2001:db8::1".parse().unwrap()));
        assert!(!trusted.contains("2001:db8::2".parse().unwrap()));
        assert!(trusted.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse(" , ").unwrap().is_empty());
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::none());
    }

    #[test]
    fn a_bad_entry_is_named() {
        let error = TrustedProxies::parse("10.0.0.0/8, 10.0.0.0/33").unwrap_err().to_string();
        assert!(error.contains("`10.0.0.0/33`"), "{error}");

        let error = TrustedProxies::parse("127.0.0.1, proxy.example.org").unwrap_err().to_string();
        assert!(error.contains("`proxy.example.org`"), "{error}");

        assert!(TrustedProxies::parse("10.0.0.0/8 127.0.0.1").is_err());
    }
}
