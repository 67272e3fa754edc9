//! Bearer tokens: read from a file where each is stored as its SHA-256,
//! with a role (`read`, `submit`, `admin`) and an owner. A token sees and
//! fetches only its owner's jobs and media; an admin token sees all.
//!
//! The file (TOML):
//!
//! ```toml
//! [[token]]
//! sha256 = "9f86d0…"   # of the token itself; `framejet gateway token` makes one
//! role = "submit"
//! owner = "alice"
//! ```

use std::collections::HashMap;
use std::path::Path;

use axum::http::{HeaderMap, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::problem::ApiError;

/// What a token may do; each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read jobs, events, outputs, media, workers and queues.
    Read,
    /// Also submit, cancel and retry jobs and upload media.
    Submit,
    /// Also push plugins, purge queues, and see every owner's jobs.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Submit => "submit",
            Role::Admin => "admin",
        }
    }
}

/// Who a request is from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub owner: String,
    pub role: Role,
}

impl Caller {
    /// Refuses unless the caller's role is at least `role`.
    pub fn require(&self, role: Role, action: &'static str) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                role: self.role.name(),
                action,
            })
        }
    }

    /// Whether the caller may see what `owner` owns.
    pub fn sees(&self, owner: Option<&str>) -> bool {
        self.role == Role::Admin || owner == Some(self.owner.as_str())
    }
}

/// The tokens a gateway accepts; with none configured, every request is
/// an admin of owner `local` (for a gateway on a trusted machine).
#[derive(Debug, Default)]
pub struct Tokens {
    by_digest: Option<HashMap<String, Caller>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("tokens file {path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("tokens file {path}: token {index}: {why}")]
    Bad {
        path: String,
        index: usize,
        why: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    sha256: String,
    role: Role,
    owner: String,
}

/// The owner of every request when no tokens are configured.
pub const LOCAL_OWNER: &str = "local";

impl Tokens {
    /// No tokens: every request is admin of owner `local`.
    pub fn open() -> Self {
        Self { by_digest: None }
    }

    pub fn load(path: &Path) -> Result<Self, TokensError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: TokensFile = toml::from_str(&text).map_err(|source| TokensError::Parse {
            path: shown.clone(),
            source: Box::new(source),
        })?;
        let mut by_digest = HashMap::new();
        for (index, entry) in file.token.into_iter().enumerate() {
            let digest = entry.sha256.to_ascii_lowercase();
            let bad = |why: &str| TokensError::Bad {
                path: shown.clone(),
                index,
                why: why.to_string(),
            };
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("`sha256` must be 64 hex digits"));
            }
            if !framejet_spec::fleet::is_token(&entry.owner) {
                return Err(bad("`owner`: use letters, digits, `-` and `_`"));
            }
            by_digest.insert(
                digest,
                Caller {
                    owner: entry.owner,
                    role: entry.role,
                },
            );
        }
        Ok(Self {
            by_digest: Some(by_digest),
        })
    }

    /// Who sent a request with these headers.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let Some(by_digest) = &self.by_digest else {
            return Ok(Caller {
                owner: LOCAL_OWNER.to_string(),
                role: Role::Admin,
            });
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        by_digest
            .get(&token_digest(token))
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// SHA-256 (hex) of a token, as the tokens file stores it.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token: 32 bytes from the system's random source, in hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_by_its_digest_and_carries_its_role_and_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let token = new_token().unwrap();
        std::fs::write(
            &path,
            format!(
                "[[token]]\nsha256 = \"{}\"\nrole = \"submit\"\nowner = \"alice\"\n",
                token_digest(&token)
            ),
        )
        .unwrap();
        let tokens = Tokens::load(&path).unwrap();
        let mut headers = HeaderMap::new();
        assert!(matches!(
            tokens.caller(&headers),
            Err(ApiError::Unauthorized)
        ));
        headers.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(matches!(
            tokens.caller(&headers),
            Err(ApiError::Unauthorized)
        ));
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let caller = tokens.caller(&headers).unwrap();
        assert_eq!(
            (caller.owner.as_str(), caller.role),
            ("alice", Role::Submit)
        );
        assert!(caller.require(Role::Submit, "submit").is_ok());
        assert!(caller.require(Role::Admin, "push plugins").is_err());
        assert!(caller.sees(Some("alice")) && !caller.sees(Some("bob")) && !caller.sees(None));
    }

    #[test]
    fn a_malformed_entry_is_refused_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(
            &path,
            "[[token]]\nsha256 = \"abc\"\nrole = \"read\"\nowner = \"a\"\n",
        )
        .unwrap();
        let err = Tokens::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("token 0") && err.contains("64 hex digits"),
            "{err}"
        );
    }
}
