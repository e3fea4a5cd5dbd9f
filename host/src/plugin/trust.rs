//! What the user approved of each plugin file: the hosts it may reach, the
//! settings the host treats as secret, the environment names it may read,
//! and whether it replaces a bundled plugin.
//!
//! The record lives in the user's config directory, not in the plugins
//! directory: whoever can drop a file into the plugins directory must not be
//! able to approve it too. Bundled plugins are trusted as shipped and are
//! never in the record. What is approved is the capability set, not the
//! bytes, so a rebuild that asks for nothing more is used without asking again.

use super::runtime::Plugin;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The record's file name in the config directory.
pub const TRUST_FILE: &str = "trusted-plugins.toml";

/// Environment names of mcp-push itself (its bearer token, its paths): never
/// given to any plugin, approved or bundled.
pub fn is_own_env(name: &str) -> bool {
    name.to_ascii_uppercase().starts_with("MCP_PUSH_")
}

/// `trusted-plugins.toml` in the platform config directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcp-push").map(|d| d.config_dir().join(TRUST_FILE))
}

/// What a plugin file gets from the host beyond its own code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// It takes the place of the bundled plugin of the same id (and so gets
    /// that plugin's channels).
    #[serde(default)]
    pub replaces_bundled: bool,
    /// Its allowed hosts, as declared (`setting:KEY` included).
    #[serde(default)]
    pub hosts: BTreeSet<String>,
    /// The keys of the settings the host fills in only inside requests.
    #[serde(default)]
    pub secrets: BTreeSet<String>,
    /// The environment names its settings are read from.
    #[serde(default)]
    pub env: BTreeSet<String>,
}

impl Capabilities {
    pub fn of(plugin: &Plugin, replaces_bundled: bool) -> Capabilities {
        let info = plugin.info();
        // A `setting:` host the plugin fills in by default is reached
        // without the user writing it: named, so approving names it.
        let defaults = plugin
            .default_hosts()
            .into_iter()
            .flat_map(|(pattern, list)| {
                list.describe()
                    .into_iter()
                    .map(move |h| format!("{h} (default of {pattern})"))
            });
        Capabilities {
            replaces_bundled,
            hosts: info
                .allowed_hosts
                .iter()
                .map(|h| h.to_string())
                .chain(defaults)
                .collect(),
            secrets: info
                .settings
                .iter()
                .filter(|s| s.secret)
                .map(|s| s.key.clone())
                .collect(),
            env: info
                .settings
                .iter()
                .flat_map(|s| s.env.iter().cloned())
                .collect(),
        }
    }

    /// What `new` has that `self` has not, and what it dropped.
    pub fn diff(&self, new: &Capabilities) -> Diff {
        let changes = |old: &BTreeSet<String>, new: &BTreeSet<String>| Change {
            added: new.difference(old).cloned().collect(),
            removed: old.difference(new).cloned().collect(),
        };
        Diff {
            replaces_bundled: (self.replaces_bundled != new.replaces_bundled)
                .then_some(new.replaces_bundled),
            hosts: changes(&self.hosts, &new.hosts),
            secrets: changes(&self.secrets, &new.secrets),
            env: changes(&self.env, &new.env),
        }
    }

    /// One line per kind, for people: what approving gives.
    pub fn lines(&self, id: &str) -> Vec<String> {
        let list = |v: &BTreeSet<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        };
        let env = if self.env.is_empty() {
            "none".to_string()
        } else {
            self.env
                .iter()
                .map(|e| {
                    if is_own_env(e) {
                        format!("{e} (mcp-push's own: never given)")
                    } else {
                        e.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        if self.replaces_bundled {
            out.push(format!(
                "replaces the bundled `{id}`, and gets its channels"
            ));
        }
        out.push(format!("allowed hosts    {}", list(&self.hosts)));
        out.push(format!("secret settings  {}", list(&self.secrets)));
        out.push(format!("environment      {env}"));
        out
    }
}

/// Added and removed names of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl Change {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// How a plugin file's capabilities differ from what the user approved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// `Some(now)` when replacing the bundled plugin changed.
    pub replaces_bundled: Option<bool>,
    pub hosts: Change,
    pub secrets: Change,
    pub env: Change,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.replaces_bundled.is_none()
            && self.hosts.is_empty()
            && self.secrets.is_empty()
            && self.env.is_empty()
    }

    /// `+` added, `-` removed, one line per kind that changed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self.replaces_bundled {
            Some(true) => out.push("+ replaces the bundled plugin of this id".to_string()),
            Some(false) => out.push("- no longer replaces a bundled plugin".to_string()),
            None => {}
        }
        for (what, c) in [
            ("allowed host", &self.hosts),
            ("secret setting", &self.secrets),
            ("environment name", &self.env),
        ] {
            for a in &c.added {
                out.push(format!("+ {what} {a}"));
            }
            for r in &c.removed {
                out.push(format!("- {what} {r}"));
            }
        }
        out
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("; "))
    }
}

/// One approval, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The build that was approved (for people: a rebuild with the same
    /// capabilities needs no new approval).
    pub version: String,
    pub sha256: String,
    #[serde(flatten)]
    pub capabilities: Capabilities,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    plugins: BTreeMap<String, Approval>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a record of approved plugins ({message}); fix it, or delete it and approve the plugins again with `mcp-push plugin trust ID`"
    )]
    Parse { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("there is no config directory on this platform to keep approved plugins in")]
    NoPlace,
}

/// The user's approvals, as read from (and written back to) one file.
#[derive(Debug, Default)]
pub struct TrustFile {
    path: Option<PathBuf>,
    stored: Stored,
}

impl TrustFile {
    /// The record at `path`; a missing file approves nothing.
    pub fn load(path: &Path) -> Result<TrustFile, TrustError> {
        let stored = match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| TrustError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::default(),
            Err(source) => {
                return Err(TrustError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(TrustFile {
            path: Some(path.to_path_buf()),
            stored,
        })
    }

    /// The record at the default place. One that cannot be read approves
    /// nothing (plugin files then wait for approval) and says why.
    pub fn load_default() -> TrustFile {
        let Some(path) = default_path() else {
            return TrustFile::default();
        };
        TrustFile::load(&path).unwrap_or_else(|e| {
            tracing::warn!("{e}; no plugin file counts as approved until it is fixed");
            TrustFile {
                path: Some(path),
                stored: Stored::default(),
            }
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn get(&self, id: &str) -> Option<&Approval> {
        self.stored.plugins.get(id)
    }

    /// Record `plugin` as approved with these capabilities; the previous
    /// approval, if any.
    pub fn approve(&mut self, plugin: &Plugin, capabilities: Capabilities) -> Option<Approval> {
        let info = plugin.info();
        self.stored.plugins.insert(
            info.id.clone(),
            Approval {
                version: info.version.clone(),
                sha256: plugin.sha256().to_string(),
                capabilities,
            },
        )
    }

    /// Drop the approval of `id` (its file was removed: a later file of
    /// that id is asked about again).
    pub fn forget(&mut self, id: &str) -> Option<Approval> {
        self.stored.plugins.remove(id)
    }

    /// Write the record beside and rename it into place, so a reader never
    /// sees half of it.
    pub fn save(&self) -> Result<(), TrustError> {
        let path = self.path.as_deref().ok_or(TrustError::NoPlace)?;
        let write = |source| TrustError::Write {
            path: path.to_path_buf(),
            source,
        };
        let text = format!(
            "# Plugin files you approved: what each may reach, which settings are secret, which\n\
             # environment names it may read. Written by `mcp-push plugin trust ID` and\n\
             # `mcp-push plugin install`; a file asking for anything else waits for approval.\n\n{}",
            toml::to_string_pretty(&self.stored)
                .map_err(|e| write(std::io::Error::other(e.to_string())))?
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).map_err(write)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            write(e)
        })
    }
}

/// How a plugin file stands with the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The very build of the bundled plugin of this id.
    Shipped,
    /// It asks for what the user approved.
    Approved { replaces_bundled: bool },
    /// Never approved, and replaces nothing: used where the config file
    /// names it, but it reads no environment.
    Unapproved,
    /// It replaces a bundled plugin, or asks for something the user did
    /// not approve: not used until approved.
    Awaiting {
        replaces_bundled: bool,
        /// Against the previous approval, if there was one.
        diff: Option<Diff>,
    },
}

impl Verdict {
    /// Whether channels may use the file.
    pub fn usable(&self) -> bool {
        !matches!(self, Verdict::Awaiting { .. })
    }

    /// Whether it may read the environment names it declares.
    pub fn reads_env(&self) -> bool {
        matches!(self, Verdict::Shipped | Verdict::Approved { .. })
    }

    /// A short phrase for listings.
    pub fn describe(&self, id: &str) -> String {
        match self {
            Verdict::Shipped => "the bundled build".into(),
            Verdict::Approved {
                replaces_bundled: true,
            } => format!("approved; replaces bundled {id}"),
            Verdict::Approved { .. } => "approved".into(),
            Verdict::Unapproved => {
                format!("not approved: reads no environment until `mcp-push plugin trust {id}`")
            }
            Verdict::Awaiting {
                replaces_bundled, ..
            } => format!(
                "awaiting approval: mcp-push plugin trust {id}{}",
                if *replaces_bundled {
                    format!(" (replaces bundled {id})")
                } else {
                    String::new()
                }
            ),
        }
    }
}

/// How `plugin`, a file, stands given the record and the bundled plugin of
/// the same id (if any).
pub fn judge(trust: &TrustFile, plugin: &Plugin, bundled: Option<&Plugin>) -> Verdict {
    if bundled.is_some_and(|b| b.sha256() == plugin.sha256()) {
        return Verdict::Shipped;
    }
    let replaces_bundled = bundled.is_some();
    let now = Capabilities::of(plugin, replaces_bundled);
    match trust.get(&plugin.info().id) {
        Some(a) if a.capabilities == now => Verdict::Approved { replaces_bundled },
        Some(a) => Verdict::Awaiting {
            replaces_bundled,
            diff: Some(a.capabilities.diff(&now)),
        },
        None if replaces_bundled => Verdict::Awaiting {
            replaces_bundled,
            diff: None,
        },
        None => Verdict::Unapproved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(hosts: &[&str], secrets: &[&str], env: &[&str]) -> Capabilities {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Capabilities {
            replaces_bundled: false,
            hosts: set(hosts),
            secrets: set(secrets),
            env: set(env),
        }
    }

    #[test]
    fn a_diff_names_what_was_added_and_dropped() {
        let old = caps(&["a.example"], &["token"], &["A_TOKEN"]);
        let mut new = caps(&["a.example", "b.example"], &[], &["A_TOKEN", "B_KEY"]);
        new.replaces_bundled = true;
        let d = old.diff(&new);
        assert_eq!(
            d.lines(),
            [
                "+ replaces the bundled plugin of this id",
                "+ allowed host b.example",
                "- secret setting token",
                "+ environment name B_KEY",
            ]
        );
        assert!(old.diff(&old).is_empty());
    }

    #[test]
    fn the_record_survives_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(TRUST_FILE);
        let mut t = TrustFile::load(&path).unwrap();
        assert!(t.get("x").is_none());
        t.stored.plugins.insert(
            "x".into(),
            Approval {
                version: "1.0.0".into(),
                sha256: "ab".into(),
                capabilities: caps(&["setting:url"], &["token"], &["X_TOKEN"]),
            },
        );
        t.save().unwrap();
        let again = TrustFile::load(&path).unwrap();
        assert_eq!(again.get("x"), t.get("x"));
        std::fs::write(&path, "plugins = 3").unwrap();
        assert!(matches!(
            TrustFile::load(&path),
            Err(TrustError::Parse { .. })
        ));
    }

    #[test]
    fn own_environment_names_are_recognised() {
        assert!(is_own_env("MCP_PUSH_TOKEN"));
        assert!(is_own_env("mcp_push_db"));
        assert!(!is_own_env("TG_BOT_TOKEN"));
    }
}
