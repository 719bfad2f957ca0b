//! The dashboard's password, kept only as an argon2id hash in PHC form
//! (`$argon2id$v=19$m=…`): the farm never stores or logs the password itself.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Shortest password the farm accepts: the dashboard is a root shell on the host.
pub const MIN_LENGTH: usize = 10;

/// A password hash that parsed as a PHC string.
#[derive(Clone)]
pub struct StoredPassword(String);

impl std::fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPassword(***)")
    }
}

impl StoredPassword {
    /// Takes a hash from the configuration; the message says what is wrong with it.
    pub fn parse(phc: &str) -> Result<Self, String> {
        let phc = phc.trim();
        PasswordHash::new(phc).map_err(|e| {
            format!("FARM_PASSWORD_HASH is not an argon2 hash ({e}): make one with `claude-worker-farm hash-password`")
        })?;
        Ok(StoredPassword(phc.to_owned()))
    }

    /// Hashes a password given in plain text, which the caller then drops.
    pub fn hash(password: &str) -> Result<Self, String> {
        if password.chars().count() < MIN_LENGTH {
            return Err(format!(
                "the password must have at least {MIN_LENGTH} characters"
            ));
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| format!("cannot hash the password: {e}"))?;
        Ok(StoredPassword(hash.to_string()))
    }

    /// The PHC string, for `hash-password` to print.
    pub fn phc(&self) -> &str {
        &self.0
    }

    /// Whether `password` is the one hashed. Slow on purpose (tens of milliseconds): run it
    /// off the async threads.
    pub fn matches(&self, password: &str) -> bool {
        PasswordHash::new(&self.0).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_matches_only_itself() {
        let stored = StoredPassword::hash("correct horse battery").unwrap();
        assert!(stored.phc().starts_with("$argon2id$"), "{}", stored.phc());
        assert!(!stored.phc().contains("correct horse"));
        assert!(stored.matches("correct horse battery"));
        assert!(!stored.matches("correct horse batterY"));
        assert!(!stored.matches(""));
        // The printed hash is accepted back as configuration.
        let parsed = StoredPassword::parse(&format!(" {}\n", stored.phc())).unwrap();
        assert!(parsed.matches("correct horse battery"));
        assert_eq!(format!("{parsed:?}"), "StoredPassword(***)");
    }

    #[test]
    fn short_passwords_and_malformed_hashes_are_refused() {
        let short = StoredPassword::hash("short").unwrap_err();
        assert!(short.contains("at least 10"), "{short}");
        let bad = StoredPassword::parse("hunter2hunter2").unwrap_err();
        assert!(bad.contains("hash-password"), "{bad}");
    }
}
