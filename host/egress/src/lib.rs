//! Which destinations a plugin's outbound HTTP may reach: the address classes and
//! metadata endpoints that are denied, and the host allow-list check (declared by
//! the plugin *and* granted by the tenant).
//!
//! Pure functions with no I/O: `weft-sandbox` re-exports this crate as
//! `weft_sandbox::egress::policy` and calls it before every hop and on every
//! resolved address; it lives apart so that the property tests and the fuzz
//! targets (`tests/fuzz`) can exercise it without building wasmtime.
//!
//! ```
//! use std::net::IpAddr;
//! use weft_egress::{check_addr, non_public_class};
//!
//! let ip: IpAddr = "64:ff9b::a00:1".parse().unwrap(); // NAT64 carrying 10.0.0.1
//! assert_eq!(non_public_class(ip), Some("private (10.0.0.0/8)"));
//! assert!(check_addr(ip, false).is_err());
//! assert!(check_addr("169.254.169.254".parse().unwrap(), true).is_err());
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};
use weft_types::HostPattern;

/// Cloud metadata endpoints: denied always, even when private ranges are allowed.
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Whether `ip` is a known cloud metadata address (also when an IPv4-translated
/// address carries it, or a local-use NAT64 address in any of the layouts of
/// RFC 6052 that a prefix inside `64:ff9b:1::/48` can use).
pub fn is_metadata(ip: IpAddr) -> bool {
    let v4_metadata = |v4: Ipv4Addr| {
        [
            [169, 254, 169, 254],
            [169, 254, 170, 2],
            [100, 100, 100, 200],
            [192, 0, 0, 192],
        ]
        .contains(&v4.octets())
    };
    match canonical(ip) {
        IpAddr::V4(v4) => v4_metadata(v4),
        IpAddr::V6(v6) => {
            let carried = if is_local_nat64(v6) {
                local_nat64_candidates(v6).to_vec()
            } else if is_ipv4_translated(v6) {
                vec![Ipv4Addr::from(v6.to_bits() as u32)]
            } else {
                Vec::new()
            };
            v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || carried.into_iter().any(v4_metadata)
        }
    }
}

/// `::ffff:0:0:0/96`, IPv4-translated addresses (RFC 2765, SIIT): they reach
/// an IPv4 host through a translator, so they are not judged as public IPv6.
fn is_ipv4_translated(v6: Ipv6Addr) -> bool {
    v6.segments()[..6] == [0, 0, 0, 0, 0xffff, 0]
}

/// `64:ff9b:1::/48`, the local-use NAT64 prefix (RFC 8215): it reaches IPv4
/// hosts of the operator's own network.
fn is_local_nat64(v6: Ipv6Addr) -> bool {
    v6.segments()[..3] == [0x64, 0xff9b, 1]
}

/// The IPv4 addresses a local-use NAT64 address may carry: RFC 6052 section
/// 2.2 places them by the translator's prefix length (48, 56, 64 or 96 bits
/// inside `64:ff9b:1::/48`), around the zero octet at bits 64..72.
fn local_nat64_candidates(v6: Ipv6Addr) -> [Ipv4Addr; 4] {
    let b = v6.to_bits();
    let bits = |shift: u32, width: u32| (b >> shift) as u32 & (u32::MAX >> (32 - width));
    [
        bits(64, 16) << 16 | bits(40, 16), // /48
        bits(64, 8) << 24 | bits(32, 24),  // /56
        bits(24, 32),                      // /64
        bits(0, 32),                       // /96
    ]
    .map(Ipv4Addr::from)
}

/// Whether `host` names a metadata endpoint.
pub fn is_metadata_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    METADATA_NAMES.contains(&h.as_str())
}

/// Unwraps IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64, 6to4) so
/// they are judged as the IPv4 address they reach.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                IpAddr::V4(v4)
            } else if (s[..6] == [0; 6] && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST)
                || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            {
                embedded(s[6], s[7]) // IPv4-compatible (deprecated) or NAT64
            } else if s[0] == 0x2002 {
                embedded(s[1], s[2]) // 6to4
            } else {
                ip
            }
        }
    }
}

/// If `ip` is not a public unicast address, the class it belongs to.
pub fn non_public_class(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            match o {
                [0, ..] => Some("unspecified (0.0.0.0/8)"),
                [127, ..] => Some("loopback"),
                [10, ..] => Some("private (10.0.0.0/8)"),
                [172, b, ..] if (16..32).contains(&b) => Some("private (172.16.0.0/12)"),
                [192, 168, ..] => Some("private (192.168.0.0/16)"),
                [169, 254, ..] => Some("link-local"),
                [100, b, ..] if (64..128).contains(&b) => Some("shared (100.64.0.0/10)"),
                [192, 0, 0, _] => Some("IETF protocol assignment (192.0.0.0/24)"),
                [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => Some("documentation"),
                [198, b, ..] if b == 18 || b == 19 => Some("benchmarking (198.18.0.0/15)"),
                [a, ..] if (224..240).contains(&a) => Some("multicast"),
                [a, ..] if a >= 240 => Some("reserved or broadcast"),
                _ => None,
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("unique local (fc00::/7)")
            } else if s[0] & 0xffc0 == 0xfe80 || s[0] & 0xffc0 == 0xfec0 {
                Some("link-local")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x2001 && s[1] == 0xdb8 {
                Some("documentation")
            } else if s[0] == 0x2001 && s[1] == 0 {
                Some("Teredo (2001::/32)")
            } else if s[..4] == [0x100, 0, 0, 0] {
                Some("discard (100::/64)")
            } else if is_ipv4_translated(v6) {
                Some("IPv4-translated (::ffff:0:0:0/96)")
            } else if is_local_nat64(v6) {
                Some("local-use NAT64 (64:ff9b:1::/48)")
            } else {
                None
            }
        }
    }
}

/// Judges an address: `Err` with the reason when it may not be connected to.
pub fn check_addr(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    if is_metadata(ip) {
        return Err(format!("{ip} is a cloud metadata address"));
    }
    match non_public_class(ip) {
        Some(class) if !allow_private => Err(format!("{ip} is a {class} address")),
        _ => Ok(()),
    }
}

/// The host (without brackets) and port a URL targets.
pub fn host_port(url: &Url) -> Option<(String, u16)> {
    let host = match url.host()? {
        Host::Domain(d) => d.to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    Some((host, url.port_or_known_default()?))
}

/// Checks a URL before anything is sent: scheme, metadata endpoints, IP literals,
/// and the allow-lists. Names are checked again on their resolved addresses at
/// connection time (see the transport).
pub fn check_url(
    url: &Url,
    allow_private: bool,
    declared: &[HostPattern],
    granted: &[HostPattern],
) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme `{}` is not allowed; only http and https are",
            url.scheme()
        ));
    }
    let Some((host, port)) = host_port(url) else {
        return Err("the URL has no host".into());
    };
    match url.host() {
        Some(Host::Ipv4(ip)) => check_addr(IpAddr::V4(ip), allow_private)?,
        Some(Host::Ipv6(ip)) => check_addr(IpAddr::V6(ip), allow_private)?,
        _ if is_metadata_name(&host) => {
            return Err(format!("`{host}` is a cloud metadata endpoint"));
        }
        _ => {}
    }
    if !declared.iter().any(|p| p.matches(&host, port)) {
        return Err(format!(
            "the plugin did not declare host `{host}:{port}` in its capabilities"
        ));
    }
    if !granted.iter().any(|p| p.matches(&host, port)) {
        return Err(format!("host `{host}:{port}` is not granted to this step"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_is_denied_even_with_private_allowed() {
        for a in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            assert!(
                check_addr(ip(a), true).unwrap_err().contains("metadata"),
                "{a}"
            );
        }
        let any = vec![HostPattern::any()];
        let url = Url::parse("http://metadata.google.internal/computeMetadata/v1/").unwrap();
        assert!(
            check_url(&url, true, &any, &any)
                .unwrap_err()
                .contains("metadata")
        );
    }

    #[test]
    fn non_public_addresses_are_classified() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(
                non_public_class(ip(a)).is_some(),
                "{a} should be non-public"
            );
            assert!(check_addr(ip(a), false).is_err(), "{a}");
        }
        for a in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "172.32.0.1",
            "8.8.8.8",
        ] {
            assert_eq!(non_public_class(ip(a)), None, "{a} should be public");
        }
    }

    #[test]
    fn translated_and_local_nat64_addresses_are_private() {
        for (a, class) in [
            ("::ffff:0:7f00:1", "IPv4-translated (::ffff:0:0:0/96)"),
            ("::ffff:0:808:808", "IPv4-translated (::ffff:0:0:0/96)"),
            ("::ffff:0:0:0", "IPv4-translated (::ffff:0:0:0/96)"),
            ("64:ff9b:1::a00:1", "local-use NAT64 (64:ff9b:1::/48)"),
            ("64:ff9b:1::808:808", "local-use NAT64 (64:ff9b:1::/48)"),
            (
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                "local-use NAT64 (64:ff9b:1::/48)",
            ),
        ] {
            assert_eq!(non_public_class(ip(a)), Some(class), "{a}");
            let err = check_addr(ip(a), false).unwrap_err();
            assert!(err.contains(class), "{a}: {err}");
            assert!(check_addr(ip(a), true).is_ok(), "{a}: allowed as private");
            let url = Url::parse(&format!("http://[{a}]/")).unwrap();
            let any = vec![HostPattern::any()];
            assert!(check_url(&url, false, &any, &any).is_err(), "{a}");
        }
        // Metadata carried in either form stays denied, private allowed or not.
        // (In the local-use prefix, at each RFC 6052 position: /96, /64, /56, /48.)
        for a in [
            "::ffff:0:a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "64:ff9b:1:0:a9:fea9:fe00:0",
            "64:ff9b:1:a9:fe:a9fe::",
            "64:ff9b:1:a9fe:a9:fe00::",
        ] {
            assert!(
                check_addr(ip(a), true).unwrap_err().contains("metadata"),
                "{a}"
            );
        }
        // Their neighbours are not swept in: the mapped form is still judged
        // as its IPv4 address, and the well-known NAT64 prefix likewise.
        for a in [
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "64:ff9b:2::1",
            "::fffe:0:808:808",
        ] {
            assert_eq!(non_public_class(ip(a)), None, "{a} should be public");
        }
    }

    #[test]
    fn url_checks_scheme_literals_and_both_allow_lists() {
        let declared = vec!["*.example.com".parse().unwrap()];
        let granted = vec!["api.example.com".parse().unwrap()];
        let ok = Url::parse("https://api.example.com/x").unwrap();
        assert_eq!(check_url(&ok, false, &declared, &granted), Ok(()));
        let other = Url::parse("https://www.example.com/").unwrap();
        assert!(
            check_url(&other, false, &declared, &granted)
                .unwrap_err()
                .contains("not granted")
        );
        let undeclared = Url::parse("https://api.evil.com/").unwrap();
        assert!(
            check_url(&undeclared, false, &declared, &granted)
                .unwrap_err()
                .contains("did not declare")
        );
        let ftp = Url::parse("ftp://api.example.com/").unwrap();
        assert!(
            check_url(&ftp, false, &declared, &granted)
                .unwrap_err()
                .contains("scheme")
        );
        let any = vec![HostPattern::any()];
        // Decimal and hex IPv4 forms are normalised by the URL parser before the check.
        for u in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let url = Url::parse(u).unwrap();
            assert!(
                check_url(&url, false, &any, &any)
                    .unwrap_err()
                    .contains("loopback"),
                "{u}"
            );
        }
    }
}
