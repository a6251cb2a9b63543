//! Flavor-specific id formats.
//!
//! Internally every entity has a `u64` sequence number; sample and new
//! statuses get increasing numbers, so "newer" is "larger". The ids on the
//! wire encode that number in each server's style, order-preserving, so
//! cursors (`max_id`, ...) can be decoded back and compared:
//! - Mastodon: snowflake-like 18-digit numbers (`109384000001000001`),
//! - Pixelfed: 18-digit numbers in another range (`654321000001000001`),
//! - Pleroma: 18-character base62 flake ids (`AbC...`), sortable as ASCII,
//! - GoToSocial: 26-character ULIDs (`01HW...`), Crockford base32.

use super::Flavor;

const MASTODON_BASE: u128 = 109_384_000_000_000_000;
const PIXELFED_BASE: u128 = 654_321_000_000_000_000;
/// 2024-05-01 in Unix milliseconds, the ULID time part.
const ULID_TIME_MS: u128 = 1_714_521_600_000;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Chosen so Pleroma ids start with "Ab" and keep 18 characters.
fn pleroma_base() -> u128 {
    10 * 62u128.pow(17) + 37 * 62u128.pow(16) + 1_234_567_890_123_456_789
}

pub fn encode(flavor: Flavor, seq: u64) -> String {
    let n = seq as u128;
    match flavor {
        Flavor::Mastodon => (MASTODON_BASE + n).to_string(),
        Flavor::Pixelfed => (PIXELFED_BASE + n).to_string(),
        Flavor::Pleroma => to_base(pleroma_base() + n, BASE62, 18),
        Flavor::GoToSocial => to_base((ULID_TIME_MS << 80) | n, CROCKFORD, 26),
    }
}

/// The sequence number of an id, saturating: ids below the flavor's range
/// decode to 0 and above it to `u64::MAX`, so foreign cursors still compare
/// sensibly. Garbage decodes to 0 (Mastodon's `to_i` does the same).
pub fn decode(flavor: Flavor, id: &str) -> u64 {
    let (value, base) = match flavor {
        Flavor::Mastodon => (id.parse::<u128>().ok(), MASTODON_BASE),
        Flavor::Pixelfed => (id.parse::<u128>().ok(), PIXELFED_BASE),
        Flavor::Pleroma => (from_base(id, BASE62), pleroma_base()),
        Flavor::GoToSocial => (
            from_base(&id.to_ascii_uppercase(), CROCKFORD),
            ULID_TIME_MS << 80,
        ),
    };
    match value {
        Some(v) if v >= base => u64::try_from(v - base).unwrap_or(u64::MAX),
        _ => 0,
    }
}

/// The sequence number only if `id` is exactly the id of that number.
pub fn exact(flavor: Flavor, id: &str) -> Option<u64> {
    let seq = decode(flavor, id);
    (seq != 0 && encode(flavor, seq) == id).then_some(seq)
}

fn to_base(mut n: u128, alphabet: &[u8], width: usize) -> String {
    let radix = alphabet.len() as u128;
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(alphabet[(n % radix) as usize]);
        n /= radix;
    }
    while digits.len() < width {
        digits.push(alphabet[0]);
    }
    digits.reverse();
    String::from_utf8(digits).expect("ascii alphabet")
}

fn from_base(s: &str, alphabet: &[u8]) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u128, |acc, c| {
        let digit = alphabet.iter().position(|&a| a == c)? as u128;
        acc.checked_mul(alphabet.len() as u128)?.checked_add(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort() {
        for flavor in Flavor::ALL {
            let (a, b) = (encode(flavor, 1_000_001), encode(flavor, 1_000_002));
            assert!(a < b, "{flavor:?}: {a} < {b}");
            assert_eq!(a.len(), b.len());
            assert_eq!(decode(flavor, &b), 1_000_002);
            assert_eq!(exact(flavor, &a), Some(1_000_001));
            assert_eq!(decode(flavor, "nonsense!"), 0);
        }
        assert!(encode(Flavor::Pleroma, 1).starts_with("Ab"));
        assert!(encode(Flavor::GoToSocial, 1).starts_with("01H"));
        assert!(encode(Flavor::Mastodon, 1).starts_with("109"));
    }
}
