//! Lenient readers for values in documents from untrusted servers (PROTOCOL.md §5).
//!
//! A count may arrive as `16`, `"16"`, `" 16 "`, `16.0`, `-1`, `null`, `[]` or `{"all": 3}`. Only the
//! first four are a count; everything else is "not reported" (`None`), never zero and never an
//! error, because one odd field must not cost the whole document. Keys are looked up
//! case-insensitively, with aliases for the misspellings seen in the wild (`activeHalfYear`,
//! `local_posts`, `metaData`).

use serde_json::{Map, Value};

/// A non-negative count from a number, an integral float or a numeric string; `None` otherwise.
pub fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u)
            } else if n.as_i64().is_some() {
                None // negative
            } else {
                n.as_f64().and_then(float_count)
            }
        }
        Value::String(s) => count_str(s),
        _ => None,
    }
}

/// A count from text: trimmed, an integer or an integral decimal (`"0.0"`), not negative.
pub fn count_str(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    if let Ok(u) = digits.parse::<u64>() {
        return Some(u);
    }
    if digits
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E')
    {
        return digits.parse::<f64>().ok().and_then(float_count);
    }
    None
}

fn float_count(f: f64) -> Option<u64> {
    // 2^53: beyond it a float no longer holds every integer, so the count would be a guess.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= EXACT {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(f as u64)
    } else {
        None
    }
}

/// A boolean from `true`/`false`, `"true"`/`"false"`, `1`/`0`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A string value (numbers are written out, so a version `4` becomes `"4"`).
pub fn string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first key of `keys` present in `map`, exact match first, then ignoring case and `_`/`-`.
pub fn get<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    for key in keys {
        if let Some(v) = map.get(*key) {
            return Some(v);
        }
    }
    for key in keys {
        let wanted = fold(key);
        if let Some((_, v)) = map.iter().find(|(k, _)| fold(k) == wanted) {
            return Some(v);
        }
    }
    None
}

/// The object under the first of `keys`, if it is an object.
pub fn object<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Map<String, Value>> {
    get(map, keys).and_then(Value::as_object)
}

/// A count under the first of `keys`.
pub fn count_at(map: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    get(map, keys).and_then(count)
}

/// A string under the first of `keys`.
pub fn string_at(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    get(map, keys).and_then(string)
}

/// A boolean under the first of `keys`.
pub fn bool_at(map: &Map<String, Value>, keys: &[&str]) -> Option<bool> {
    get(map, keys).and_then(boolean)
}

/// The strings in an array (non-strings skipped); a lone string counts as a one-element array.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A JSON type's name, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_accept_numbers_numeric_strings_and_integral_floats_only() {
        assert_eq!(count(&json!(16)), Some(16));
        assert_eq!(count(&json!(" 16 ")), Some(16));
        assert_eq!(count(&json!(16.0)), Some(16));
        assert_eq!(count(&json!("0.0")), Some(0));
        assert_eq!(count(&json!(16.5)), None);
        assert_eq!(count(&json!(-1)), None);
        assert_eq!(count(&json!("-1")), None);
        assert_eq!(count(&json!(null)), None);
        assert_eq!(count(&json!([])), None);
        assert_eq!(count(&json!({"all": 3})), None);
        assert_eq!(count(&json!("many")), None);
        assert_eq!(count(&json!(1e300)), None);
    }

    #[test]
    fn keys_match_ignoring_case_and_separators() {
        let map = json!({"activeHalfYear": 3, "local_posts": 4});
        let map = map.as_object().expect("object literal");
        assert_eq!(count_at(map, &["activeHalfyear"]), Some(3));
        assert_eq!(count_at(map, &["localPosts"]), Some(4));
    }
}
