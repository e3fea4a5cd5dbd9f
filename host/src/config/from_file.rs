//! A secret setting's value read from a file: `KEY_file` (in a channel
//! table or a one-line URL's settings) or `NAME_FILE` (for each of the
//! setting's environment names) gives a path, and the file's contents become
//! the value of `KEY`. Docker's and Kubernetes' convention for secrets
//! (`POSTGRES_PASSWORD_FILE`), and the way to give a secret that is a file to
//! begin with: a Google service-account key (FCM), a PEM private key.
//!
//! Only for settings the plugin marks secret: the contents are then kept,
//! masked and handed to the component as a placeholder like any secret, and
//! the path itself is never shown as the value. Read once, when the
//! configuration is loaded (a changed file needs a reload, as a changed
//! variable does). Errors name the setting and the path, never the contents.

use super::ConfigError;
use crate::plugin::{PluginInfo, SettingSpec};
use std::io::Read;

/// What a setting's key gets to say "its value is in this file".
pub(super) const SUFFIX: &str = "_file";
/// A secret file is small (a service-account key is about 2.3 KB); a larger
/// one is a wrong path (a log, /dev/zero) and is refused before it is read.
pub(super) const MAX_BYTES: u64 = 64 * 1024;

/// The secret setting `name` points at the file of (`key_file`,
/// `KEY_FILE`, `FCM_KEY_FILE` for a setting whose env name is `FCM_KEY`).
pub(super) fn setting_of<'i>(info: &'i PluginInfo, name: &str) -> Option<&'i SettingSpec> {
    let base = name
        .strip_suffix(SUFFIX)
        .or_else(|| name.strip_suffix("_FILE"))?;
    info.settings
        .iter()
        .find(|s| s.secret && (s.key == base || s.env.iter().any(|e| e == base)))
}

/// Whether `key` is the `KEY_file` of one of `info`'s secret settings: a
/// path the host would read.
pub(super) fn names_a_file(info: &PluginInfo, key: &str) -> bool {
    info.settings.iter().any(|s| s.secret && key == key_for(s))
}

/// The key a file path for `spec` is carried under until it is read.
pub(super) fn key_for(spec: &SettingSpec) -> String {
    format!("{}{SUFFIX}", spec.key)
}

/// `values` with every `KEY_file` of a secret setting replaced by `KEY` and
/// the contents of the file it names (trailing line ends cut).
pub(super) fn read_into(
    channel: &str,
    info: &PluginInfo,
    mut values: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        channel: channel.to_string(),
        message,
    };
    for spec in info.settings.iter().filter(|s| s.secret) {
        let file_key = key_for(spec);
        let Some(i) = values.iter().position(|(k, _)| *k == file_key) else {
            continue;
        };
        let path = values.swap_remove(i).1;
        if values
            .iter()
            .any(|(k, v)| *k == spec.key && !v.trim().is_empty())
        {
            return Err(invalid(format!(
                "`{}` is given both as a value and as a file ({file_key}); give one",
                spec.key
            )));
        }
        let contents = read(path.trim()).map_err(|why| {
            invalid(format!(
                "`{file_key}`: cannot read {:?} for the secret `{}`: {why}",
                path.trim(),
                spec.key
            ))
        })?;
        values.retain(|(k, _)| *k != spec.key);
        values.push((spec.key.clone(), contents));
    }
    Ok(values)
}

fn read(path: &str) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_BYTES} a secret file may hold",
            meta.len()
        ));
    }
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|_| "not UTF-8 text".to_string())?;
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PluginInfo {
        serde_json::from_value(serde_json::json!({
            "id": "p", "name": "P", "version": "0", "description": "",
            "settings": [
                {"key": "key", "env": ["P_KEY"], "help": "", "required": true, "secret": true, "default": null},
                {"key": "url", "env": ["P_URL"], "help": "", "required": false, "secret": false, "default": null},
            ],
            "allowed_hosts": [], "schemes": [], "can_edit": false, "formats": [], "shapes": [],
        }))
        .unwrap()
    }

    #[test]
    fn a_secret_setting_reads_its_file_and_only_a_secret_one() {
        let info = info();
        assert_eq!(setting_of(&info, "key_file").unwrap().key, "key");
        assert_eq!(setting_of(&info, "P_KEY_FILE").unwrap().key, "key");
        assert!(setting_of(&info, "url_file").is_none(), "not a secret");
        assert!(setting_of(&info, "P_URL_FILE").is_none());
        assert!(setting_of(&info, "key").is_none());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sa.json");
        std::fs::write(&path, "{\"private_key\": \"pem\"}\n").unwrap();
        let path = path.to_str().unwrap().to_string();
        let got = read_into("c", &info, vec![("key_file".into(), path.clone())]).unwrap();
        assert_eq!(
            got,
            vec![("key".into(), "{\"private_key\": \"pem\"}".into())]
        );

        let both = vec![("key".into(), "v".into()), ("key_file".into(), path)];
        assert!(read_into("c", &info, both).is_err());
        let missing = vec![("key_file".into(), "/nonexistent/sa.json".into())];
        let err = read_into("c", &info, missing).unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent/sa.json") && err.contains("`key`"),
            "{err}"
        );
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_BYTES as usize + 1]).unwrap();
        let err = read_into(
            "c",
            &info,
            vec![("key_file".into(), big.to_str().unwrap().into())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("more than"), "{err}");
        let err = read_into("c", &info, vec![("key_file".into(), "/".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
    }
}
