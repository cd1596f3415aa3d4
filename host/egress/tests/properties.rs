//! Properties of the address classifier: an IPv4 address carried inside any
//! IPv6 form that reaches it (mapped, compatible, NAT64 with the well-known
//! and the local-use prefix, 6to4, IPv4-translated) is judged at least as
//! strictly as the IPv4 address itself, and a metadata address stays a
//! metadata address in every form.

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use weft_egress::{check_addr, check_url, is_metadata, non_public_class};

/// The IPv6 forms that carry an IPv4 address, with whether the classifier
/// unwraps them (judges them exactly as the IPv4 address) or denies the
/// whole range (stricter).
#[derive(Debug, Clone, Copy)]
enum Form {
    Mapped,
    Compatible,
    Nat64WellKnown,
    /// Local-use NAT64 (64:ff9b:1::/48) with the RFC 6052 layout of a prefix
    /// of this length (48, 56, 64 or 96) inside it.
    Nat64Local(u8),
    /// 6to4, with arbitrary subnet and interface bits.
    SixToFour(u16, u64),
    Translated,
}

fn embed(form: Form, v4: Ipv4Addr) -> Ipv6Addr {
    let a = u128::from(v4.to_bits());
    let bits = match form {
        Form::Mapped => 0xffff << 32 | a,
        Form::Compatible => a,
        Form::Nat64WellKnown => 0x0064_ff9b << 96 | a,
        Form::Nat64Local(len) => {
            // RFC 6052 section 2.2: bits 64..72 (the `u` octet) stay zero,
            // the address is split around them.
            let prefix = 0x0064_ff9b_0001_u128 << 80;
            prefix
                | match len {
                    48 => (a >> 16) << 64 | (a & 0xffff) << 40,
                    56 => (a >> 24) << 64 | (a & 0xff_ffff) << 32,
                    64 => a << 24,
                    _ => a,
                }
        }
        Form::SixToFour(subnet, iface) => {
            0x2002 << 112 | a << 80 | u128::from(subnet) << 64 | u128::from(iface)
        }
        Form::Translated => 0xffff << 48 | a,
    };
    Ipv6Addr::from_bits(bits)
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Mapped),
        Just(Form::Compatible),
        Just(Form::Nat64WellKnown),
        prop::sample::select(vec![48u8, 56, 64, 96]).prop_map(Form::Nat64Local),
        (any::<u16>(), any::<u64>()).prop_map(|(s, i)| Form::SixToFour(s, i)),
        Just(Form::Translated),
    ]
}

/// IPv4 addresses, weighted towards the ranges that matter.
fn v4() -> impl Strategy<Value = Ipv4Addr> {
    let in_net = |net: [u8; 4], len: u32| {
        any::<u32>().prop_map(move |r| {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            Ipv4Addr::from_bits(u32::from_be_bytes(net) & mask | r & !mask)
        })
    };
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from_bits),
        in_net([10, 0, 0, 0], 8),
        in_net([127, 0, 0, 0], 8),
        in_net([172, 16, 0, 0], 12),
        in_net([192, 168, 0, 0], 16),
        in_net([169, 254, 0, 0], 16),
        in_net([100, 64, 0, 0], 10),
        in_net([0, 0, 0, 0], 8),
        prop::sample::select(vec![
            Ipv4Addr::new(169, 254, 169, 254),
            Ipv4Addr::new(169, 254, 170, 2),
            Ipv4Addr::new(100, 100, 100, 200),
            Ipv4Addr::new(192, 0, 0, 192),
        ]),
    ]
}

proptest! {
    // Failures are shrunk and printed; nothing is written into the clone.
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn an_embedded_ipv4_address_is_judged_at_least_as_strictly(a in v4(), f in form()) {
        let inner = IpAddr::V4(a);
        let outer = IpAddr::V6(embed(f, a));
        let (class_in, class_out) = (non_public_class(inner), non_public_class(outer));
        if class_in.is_some() {
            prop_assert!(class_out.is_some(), "{outer} carries {a} ({class_in:?}) but is public");
            prop_assert!(check_addr(outer, false).is_err(), "{outer} carries {a}");
            let url = url::Url::parse(&format!("http://[{outer}]/")).unwrap();
            let any = vec![weft_types::HostPattern::any()];
            prop_assert!(check_url(&url, false, &any, &any).is_err(), "{url}");
        }
        match f {
            // Unwrapped: judged exactly as the IPv4 address. (`::` and `::1`
            // are themselves, unspecified and loopback, like 0.0.0.0/8.)
            Form::Mapped | Form::Nat64WellKnown | Form::SixToFour(..) => {
                prop_assert_eq!(class_out, class_in, "{}", outer);
            }
            Form::Compatible if a.to_bits() > 1 => prop_assert_eq!(class_out, class_in, "{}", outer),
            Form::Compatible => prop_assert!(class_out.is_some()),
            // Whole ranges that reach the operator's own IPv4 network.
            Form::Nat64Local(_) | Form::Translated => prop_assert!(class_out.is_some(), "{}", outer),
        }
        // A metadata address is denied in every form, private ranges allowed or not.
        prop_assert_eq!(is_metadata(outer), is_metadata(inner), "{} carries {}", outer, a);
        if is_metadata(inner) {
            prop_assert!(check_addr(outer, true).is_err(), "{outer} carries {a}");
        }
    }

    #[test]
    fn public_ipv4_stays_public_where_it_is_unwrapped(a in any::<u32>().prop_map(Ipv4Addr::from_bits)) {
        prop_assume!(non_public_class(IpAddr::V4(a)).is_none());
        for f in [Form::Mapped, Form::Nat64WellKnown, Form::SixToFour(0, 1)] {
            let outer = IpAddr::V6(embed(f, a));
            prop_assert_eq!(check_addr(outer, false), Ok(()), "{}", outer);
        }
    }

    #[test]
    fn any_address_is_judged_without_panicking(bits in any::<u128>(), private in any::<bool>()) {
        let ip = IpAddr::V6(Ipv6Addr::from_bits(bits));
        let verdict = check_addr(ip, private);
        // Allowing private ranges never denies more.
        if check_addr(ip, false).is_ok() {
            prop_assert!(verdict.is_ok());
        }
        if let Err(why) = verdict {
            prop_assert!(why.starts_with(&ip.to_string()), "{why}");
        }
    }
}
