//! Questions about a secret setting's value, answered by the host without
//! handing the value over (see the WIT `secrets` interface).

/// Whether the value behind `text` starts with `prefix` (`BARK_PUSH` is a key
/// or a URL, say).
pub fn starts_with(text: &str, prefix: &str) -> bool {
    crate::host::secret_starts_with(text, prefix)
}

/// The value behind `text` split at each `separator`; each part is a
/// placeholder of its own, except those at the indexes in `reveal`, which come
/// back as they are (parts that are not secret, like a user id).
pub fn split(text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
    crate::host::secret_split(text, separator, reveal)
}
