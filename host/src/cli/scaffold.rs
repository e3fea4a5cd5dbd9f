//! `mcp-push plugin new`: an out-of-tree channel crate from a working example.

use std::path::{Path, PathBuf};

const CARGO_TOML: &str = include_str!("scaffold/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("scaffold/lib.rs.tmpl");
const README: &str = include_str!("scaffold/README.md.tmpl");
const GITIGNORE: &str = include_str!("scaffold/gitignore.tmpl");

/// The SDK of the source tree this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

pub struct Created {
    pub dir: PathBuf,
    /// Where `cargo build --target wasm32-wasip2 --release` puts the
    /// component, relative to `dir` (where the author builds it).
    pub wasm: PathBuf,
    /// The SDK's README, the author guide.
    pub guide: PathBuf,
}

/// Write the crate for channel `id` into `dir` (which must not exist, or be
/// empty). Errors are sentences for the user.
pub fn create(id: &str, dir: &Path, sdk: Option<&Path>) -> Result<Created, String> {
    check_id(id)?;
    let sdk = match sdk {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(BUILT_SDK),
    };
    let sdk = sdk
        .canonicalize()
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file())
        .ok_or_else(|| {
            format!(
                "no mcp-push-sdk crate at {} (this mcp-push was built from a source tree that \
                 is not there any more?): pass --sdk PATH, the sdk/ directory of an mcp-push checkout",
                sdk.display()
            )
        })?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{} already exists and is not empty; choose another --path",
            dir.display()
        ));
    }
    let file = id.replace('-', "_");
    let vars = [
        ("{{id}}", id.to_string()),
        ("{{file}}", file.clone()),
        ("{{name}}", title(id)),
        ("{{Type}}", type_name(id)),
        ("{{ENV}}", id.to_ascii_uppercase().replace('-', "_")),
        ("{{sdk}}", toml_escape(&sdk.display().to_string())),
    ];
    let fill = |template: &str| {
        vars.iter()
            .fold(template.to_string(), |t, (k, v)| t.replace(k, v))
    };
    let write = |rel: &str, text: String| {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("Cargo.toml", fill(CARGO_TOML))?;
    write("src/lib.rs", fill(LIB_RS))?;
    write("README.md", fill(README))?;
    write(".gitignore", GITIGNORE.to_string())?;
    Ok(Created {
        dir: dir.to_path_buf(),
        wasm: Path::new("target/wasm32-wasip2/release").join(format!("{file}.wasm")),
        guide: sdk.join("README.md"),
    })
}

/// The rule mcp-push applies to a plugin's id, so the crate's id is usable.
fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} cannot be a channel id: use 1 to 32 lowercase letters, digits and single `-`, \
             starting with a letter (for example `acme-alerts`)"
        ))
    }
}

/// `acme-alerts` → `Acme Alerts`
fn title(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `acme-alerts` → `AcmeAlerts`
fn type_name(id: &str) -> String {
    title(id).replace(' ', "")
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(title("acme-alerts"), "Acme Alerts");
        assert_eq!(type_name("acme-alerts2"), "AcmeAlerts2");
        assert!(check_id("acme").is_ok());
        for bad in ["", "Acme", "1x", "a_b", "a-", "a--b", &"a".repeat(33)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
