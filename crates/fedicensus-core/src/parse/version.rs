//! Normalising `software.version`, which is free text in practice (PROTOCOL.md §4.1 item 8):
//! `4.0.2`, `2.4.1rc1`, `3.5.3+glitch`, `v0.13.0 git-31e37d2`, `2.7.2 (compatible; Pleroma
//! 2.0.7-stable)`, `20240504`, `""`, `unknown`, `Nexus 3.6.9.177 βeta`.
//!
//! The raw string is always kept beside the result; this only extracts a comparable
//! `major.minor.patch` (at most three numeric components, as far as they go) so versions can be
//! charted. A single number is kept only when nothing alphanumeric follows it (a date version
//! like `20240504`), so a commit hash such as `8ab30d0` is not read as version 8.

/// The `major.minor.patch` (or fewer components, or a date version) in a raw version string, or
/// `None` when there is none. In a Mastodon-API `"X (compatible; Software Y)"` string the inner
/// version `Y` is the software's own and wins.
pub fn normalise_version(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if let Some(start) = raw.find("(compatible;") {
        let inner = &raw[start + "(compatible;".len()..];
        let inner = inner.split(')').next().unwrap_or(inner);
        if let Some(v) = first_version(inner) {
            return Some(v);
        }
        return first_version(&raw[..start]);
    }
    first_version(raw)
}

/// The first token that starts with a version; tokens are separated by whitespace and by `/`,
/// which separates a name from its version in `takahe/0.10.1` and `Iceshrimp.NET/2024.1-beta2`.
fn first_version(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '/')
        .find_map(leading_version)
}

/// The numeric components at the start of a token (after an optional `v`).
fn leading_version(token: &str) -> Option<String> {
    let token = token
        .strip_prefix('v')
        .or_else(|| token.strip_prefix('V'))
        .unwrap_or(token);
    let mut components: Vec<&str> = Vec::new();
    let mut rest = token;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        components.push(&rest[..digits]);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            _ => break,
        }
    }
    if components.is_empty() {
        return None;
    }
    if components.len() == 1 && rest.starts_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    components.truncate(3);
    Some(components.join("."))
}

#[cfg(test)]
mod tests {
    use super::normalise_version as n;

    #[test]
    fn versions_seen_in_the_wild_normalise_to_their_release() {
        assert_eq!(n("4.0.2").as_deref(), Some("4.0.2"));
        assert_eq!(n("2.4.1rc1").as_deref(), Some("2.4.1"));
        assert_eq!(n("3.5.3+glitch").as_deref(), Some("3.5.3"));
        assert_eq!(n("v0.13.0 git-31e37d2").as_deref(), Some("0.13.0"));
        assert_eq!(
            n("2.7.2 (compatible; Pleroma 2.0.7-stable)").as_deref(),
            Some("2.0.7")
        );
        assert_eq!(
            n("2.3.3 (compatible; Pleroma 0.9.0 ffa552f1a41c530a7eff25d27cf0a82e710067b6)")
                .as_deref(),
            Some("0.9.0")
        );
        assert_eq!(n("20240504").as_deref(), Some("20240504"));
        assert_eq!(n("2023.05-1518").as_deref(), Some("2023.05"));
        assert_eq!(n("4.3.0-nightly.2024-04-30").as_deref(), Some("4.3.0"));
        assert_eq!(n("Nexus 3.6.9.177 βeta").as_deref(), Some("3.6.9"));
        assert_eq!(n("3.15.2-2033-gf2c562cc-akkoma").as_deref(), Some("3.15.2"));
        assert_eq!(n("takahe/0.10.1").as_deref(), Some("0.10.1"));
        assert_eq!(
            n("4.2.1 (compatible; Iceshrimp.NET/2024.1-beta2.security3+e1d25a9231)").as_deref(),
            Some("2024.1")
        );
    }

    #[test]
    fn versions_without_a_number_are_none() {
        for raw in [
            "",
            "  ",
            "unknown",
            "n/a",
            "git 59aeb7b",
            "kalaclista git-212fecf",
            "8ab30d0",
        ] {
            assert_eq!(n(raw), None, "{raw:?}");
        }
    }
}
