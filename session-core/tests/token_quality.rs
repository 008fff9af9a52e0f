//! One million generated tokens: no duplicate, the right length and alphabet, and each of the 256
//! bit positions set about half the time (a per-bit frequency test at six standard deviations).

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::{TOKEN_BYTES, TOKEN_LEN, Token};

const COUNT: usize = 1_000_000;

#[test]
fn a_million_tokens() {
    let mut seen: HashSet<[u8; TOKEN_BYTES]> = HashSet::with_capacity(COUNT);
    let mut ones = [0u32; TOKEN_BYTES * 8];
    for _ in 0..COUNT {
        let token = Token::generate().expect("OS randomness");
        let text = token.as_str();
        assert_eq!(text.len(), TOKEN_LEN);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        let mut bytes = [0u8; TOKEN_BYTES];
        assert_eq!(
            URL_SAFE_NO_PAD.decode_slice(text, &mut bytes),
            Ok(TOKEN_BYTES)
        );
        assert!(seen.insert(bytes), "a duplicate token");
        for (i, byte) in bytes.iter().enumerate() {
            for bit in 0..8 {
                ones[i * 8 + bit] += u32::from(byte >> bit & 1);
            }
        }
    }
    // Each bit is a fair coin: mean n/2, standard deviation sqrt(n)/2 = 500.
    let (mean, sigma) = (COUNT as f64 / 2.0, (COUNT as f64).sqrt() / 2.0);
    let worst = ones
        .iter()
        .map(|&n| ((f64::from(n) - mean) / sigma).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 6.0,
        "a bit position is biased: {worst:.2} standard deviations off"
    );
    let total: u64 = ones.iter().map(|&n| u64::from(n)).sum();
    let bits = (COUNT * TOKEN_BYTES * 8) as f64;
    let overall = ((total as f64 - bits / 2.0) / (bits.sqrt() / 2.0)).abs();
    assert!(
        overall < 6.0,
        "the bits are biased overall: {overall:.2} standard deviations off"
    );
    println!(
        "1,000,000 tokens: no duplicate; worst bit position {worst:.2} sd, overall {overall:.2} sd"
    );
}
