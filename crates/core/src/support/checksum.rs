//! The plan's fingerprint: SHA-256 over the plan file and its script as
//! written (before `${VAR}` expansion, so no secret enters it and a changed
//! environment does not change it). Runs record it; a resumed run compares it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// Hex SHA-256 of the plan file's bytes.
    pub plan: String,
    /// Hex SHA-256 of the script's bytes, when the plan names one.
    pub script: Option<String>,
    /// Hex SHA-256 over both, length-prefixed: the one value runs compare.
    pub combined: String,
}

impl Checksum {
    pub fn compute(plan: &[u8], script: Option<&[u8]>) -> Self {
        let mut combined = Sha256::new();
        for part in [Some(plan), script].into_iter().flatten() {
            combined.update((part.len() as u64).to_le_bytes());
            combined.update(part);
        }
        Self {
            plan: hex::encode(Sha256::digest(plan)),
            script: script.map(|s| hex::encode(Sha256::digest(s))),
            combined: hex::encode(combined.finalize()),
        }
    }

    /// What differs from an earlier checksum, in words, or `None` when equal.
    pub fn describe_change(&self, earlier: &Checksum) -> Option<String> {
        let plan = self.plan != earlier.plan;
        let script = self.script != earlier.script;
        match (plan, script) {
            (false, false) => None,
            (true, false) => Some("the plan file changed".into()),
            (false, true) => Some("the script changed".into()),
            (true, true) => Some("the plan file and the script changed".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_bytes_between_plan_and_script_changes_it() {
        let a = Checksum::compute(b"ab", Some(b"c"));
        let b = Checksum::compute(b"a", Some(b"bc"));
        assert_ne!(a.combined, b.combined);
        assert_eq!(a, Checksum::compute(b"ab", Some(b"c")));
        assert_eq!(
            b.describe_change(&a).as_deref(),
            Some("the plan file and the script changed")
        );
    }
}
