//! The egress address classifier: 16 bytes are an IPv6 address (4 an IPv4
//! one); the rest is a URL. An IPv4 address carried in IPv6 (mapped,
//! compatible, NAT64, 6to4) is judged like the IPv4 address, metadata stays
//! metadata, allowing private ranges never denies more, and any URL is
//! checked without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weft_egress::{canonical, check_addr, check_url, is_metadata, non_public_class};
use weft_types::HostPattern;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let bits = u128::from_be_bytes(data[..16].try_into().unwrap_or([0; 16]));
        let v6 = IpAddr::V6(Ipv6Addr::from_bits(bits));
        judge(v6);
        let v4 = Ipv4Addr::from_bits(bits as u32);
        for carried in [
            0xffff << 32 | u128::from(v4.to_bits()),
            0x0064_ff9b << 96 | u128::from(v4.to_bits()),
            0x2002 << 112 | u128::from(v4.to_bits()) << 80 | (bits & 0xffff_ffff_ffff_ffff_ffff),
        ] {
            let outer = IpAddr::V6(Ipv6Addr::from_bits(carried));
            assert_eq!(
                non_public_class(outer),
                non_public_class(IpAddr::V4(v4)),
                "{outer}"
            );
            assert_eq!(is_metadata(outer), is_metadata(IpAddr::V4(v4)), "{outer}");
        }
    }
    if data.len() >= 4 {
        judge(IpAddr::V4(Ipv4Addr::new(
            data[0], data[1], data[2], data[3],
        )));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(url) = url::Url::parse(text)
    {
        let any = vec![HostPattern::any()];
        let strict = check_url(&url, false, &any, &any);
        if strict.is_ok() {
            assert!(check_url(&url, true, &any, &any).is_ok(), "{url}");
        }
    }
});

fn judge(ip: IpAddr) {
    let strict = check_addr(ip, false);
    let lax = check_addr(ip, true);
    if strict.is_ok() {
        assert!(lax.is_ok(), "{ip}");
    }
    if is_metadata(ip) {
        assert!(lax.is_err(), "{ip}");
    }
    if let IpAddr::V4(_) = canonical(ip) {
        assert_eq!(
            non_public_class(ip),
            non_public_class(canonical(ip)),
            "{ip}"
        );
    }
}
