//! One limit changed by its dotted key (`venues.dealer-a.max_clip`), validated like
//! the file.

use super::{Limits, LimitsError, render_path};
use serde_json::Value as Json;
use std::fmt;
use toml::Value;

/// The top-level fields of a limits file.
const TOP: [&str; 7] = [
    "currency",
    "daily_reset_utc",
    "overall",
    "desks",
    "venues",
    "instruments",
    "ramps",
];

/// A dotted key path: `venues.dealer-a.max_clip`, `instruments."USDC/USD".max_clip`,
/// `ramps.standard.stages.0.max_clip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPath(Vec<String>);

impl KeyPath {
    /// Parses a dotted key; segments may be double-quoted (with `\"` and `\\`).
    pub(crate) fn parse(key: &str) -> Result<Self, LimitsError> {
        let bad = |m: &str| LimitsError::Invalid {
            path: key.to_owned(),
            message: m.to_owned(),
            line: None,
        };
        let mut segs = Vec::new();
        let mut chars = key.chars().peekable();
        loop {
            let mut seg = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => seg.push(c),
                            _ => return Err(bad("bad escape in a quoted key")),
                        },
                        Some(c) => seg.push(c),
                        None => return Err(bad("unterminated quoted key")),
                    }
                }
                if !matches!(chars.peek(), None | Some('.')) {
                    return Err(bad("a quoted key must be followed by '.' or end the key"));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    if c == '"' || c.is_whitespace() {
                        return Err(bad("quote a key segment that has spaces or quotes"));
                    }
                    seg.push(c);
                    chars.next();
                }
            }
            if seg.is_empty() {
                return Err(bad("empty key segment"));
            }
            segs.push(seg);
            match chars.next() {
                None => break,
                Some(_) => continue, // the '.'
            }
        }
        if !TOP.contains(&segs[0].as_str()) {
            return Err(LimitsError::Invalid {
                path: render_path(&segs),
                message: format!("unknown key; the file's sections are {}", TOP.join(", ")),
                line: None,
            });
        }
        Ok(Self(segs))
    }

    /// The segments.
    pub(crate) fn segs(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_path(&self.0))
    }
}

/// A value as an admin types it: TOML syntax (`2000000`, `"2000000"`, `true`,
/// `["a", "b"]`), or a bare word / decimal taken as a string. A float is kept as the text
/// written, so `1.5` is the exact decimal 1.5.
pub(crate) fn parse_value(text: &str) -> Result<Value, String> {
    if text.contains(['\n', '\r']) {
        return Err("a value must be one line".into());
    }
    let t = text.trim();
    match toml::from_str::<toml::Table>(&format!("v = {t}")) {
        Ok(table) if table.len() == 1 => match table.get("v") {
            Some(Value::Float(_)) | None => Ok(Value::String(t.to_owned())),
            Some(v) => Ok(v.clone()),
        },
        _ => Ok(Value::String(t.to_owned())),
    }
}

fn to_json(v: Option<&Value>) -> Json {
    v.and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or(Json::Null)
}

fn get<'a>(root: &'a Value, segs: &[String]) -> Option<&'a Value> {
    let mut node = root;
    for s in segs {
        node = match node {
            Value::Table(t) => t.get(s)?,
            Value::Array(a) => a.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn as_toml(limits: &Limits) -> Result<Value, LimitsError> {
    Value::try_from(limits).map_err(|e| LimitsError::Invalid {
        path: String::new(),
        message: format!("cannot represent the limits as TOML: {e}"),
        line: None,
    })
}

/// Sets (`Some`) or clears (`None`) one key on a copy of `limits` and validates the
/// whole result. Returns the new limits and the key's old and new values as JSON.
///
/// A desk, venue or ramp that is not in the limits cannot be created this way (a typo
/// would otherwise open a new venue); use a whole new file for that.
pub(crate) fn edit(
    limits: &Limits,
    key: &KeyPath,
    value: Option<Value>,
) -> Result<(Limits, Json, Json), LimitsError> {
    let segs = key.segs();
    let fail = |m: String| LimitsError::Invalid {
        path: key.to_string(),
        message: m,
        line: None,
    };
    let mut root = as_toml(limits)?;
    let old = to_json(get(&root, segs));
    let named_section = matches!(segs[0].as_str(), "desks" | "venues" | "ramps");
    let (last, parents) = segs.split_last().ok_or_else(|| fail("empty key".into()))?;
    let mut node = &mut root;
    for (i, s) in parents.iter().enumerate() {
        node = match node {
            Value::Table(t) => {
                if !t.contains_key(s) {
                    if i == 1 && named_section {
                        return Err(fail(format!(
                            "no {} {s:?} in the limits; add it with a new limits file",
                            &segs[0][..segs[0].len() - 1]
                        )));
                    }
                    t.insert(s.clone(), Value::Table(toml::Table::new()));
                }
                t.get_mut(s).ok_or_else(|| fail(format!("no key {s:?}")))?
            }
            Value::Array(a) => {
                let ix = s
                    .parse::<usize>()
                    .ok()
                    .filter(|&ix| ix < a.len())
                    .ok_or_else(|| fail(format!("no element {s:?} (there are {})", a.len())))?;
                &mut a[ix]
            }
            _ => return Err(fail(format!("{} is not a table", render_path(&segs[..=i])))),
        };
    }
    let new_value = value;
    match node {
        Value::Table(t) => {
            if segs.len() == 2 && named_section && !t.contains_key(last) && new_value.is_some() {
                return Err(fail(format!(
                    "no {} {last:?} in the limits; add it with a new limits file",
                    &segs[0][..segs[0].len() - 1]
                )));
            }
            match new_value {
                Some(v) => {
                    t.insert(last.clone(), v);
                }
                None => {
                    t.remove(last);
                }
            }
        }
        Value::Array(a) => {
            let ix = last
                .parse::<usize>()
                .ok()
                .filter(|&ix| ix < a.len())
                .ok_or_else(|| fail(format!("no element {last:?} (there are {})", a.len())))?;
            match new_value {
                Some(v) => a[ix] = v,
                None => return Err(fail("cannot clear one element of a list".into())),
            }
        }
        _ => {
            return Err(fail(format!("{} is not a table", render_path(parents))));
        }
    }
    let text = toml::to_string(&root).map_err(|e| fail(format!("cannot write as TOML: {e}")))?;
    let new_limits = match Limits::parse_unvalidated(&text) {
        Ok(l) => l,
        // The text is generated: its line numbers mean nothing to the caller.
        Err(LimitsError::Invalid { path, message, .. }) => {
            return Err(LimitsError::Invalid {
                path: if path.is_empty() {
                    key.to_string()
                } else {
                    path
                },
                message,
                line: None,
            });
        }
        Err(e) => return Err(e),
    };
    new_limits.check().map_err(|e| e.into_error(None))?;
    let new = to_json(get(&as_toml(&new_limits)?, segs));
    Ok((new_limits, old, new))
}
