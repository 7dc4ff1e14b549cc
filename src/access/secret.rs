//! Secrets as the access layer makes and keeps them: random bits as hex,
//! and the SHA-256 under which a presented secret is looked up.

use sha2::{Digest, Sha256};

/// `n` random bytes (a CSPRNG seeded by the OS) as lowercase hex.
pub(super) fn random_hex<const N: usize>() -> String {
    hex(&rand::random::<[u8; N]>())
}

/// What is stored for a high-entropy secret: its SHA-256, as hex.
pub(super) fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
