//! Finds the line of a field path in a TOML text, for error messages.
//!
//! A light scan of the text, not a parser: it follows `[table]` and `[[array]]`
//! headers and `key = value` lines (bare, quoted and dotted keys). A field inside an
//! inline table or a multi-line value is placed at the line of its enclosing key.

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses a (possibly dotted, possibly quoted) key at the start of `s`; returns its
/// segments and the rest of the text.
fn parse_key(mut s: &str) -> Option<(Vec<String>, &str)> {
    let mut segs = Vec::new();
    loop {
        s = s.trim_start();
        let seg;
        if let Some(rest) = s.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => out.push(chars.next()?.1),
                    (_, c) => out.push(c),
                }
            };
            seg = out;
            s = &rest[end + 1..];
        } else if let Some(rest) = s.strip_prefix('\'') {
            let end = rest.find('\'')?;
            seg = rest[..end].to_owned();
            s = &rest[end + 1..];
        } else {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(s.len());
            if end == 0 {
                return None;
            }
            seg = s[..end].to_owned();
            s = &s[end..];
        }
        segs.push(seg);
        s = s.trim_start();
        match s.strip_prefix('.') {
            Some(rest) => s = rest,
            None => return Some((segs, s)),
        }
    }
}

/// The line of the field at `segs`, or of the deepest table or key on its path that
/// the text has; `None` if no part of the path is found.
pub(crate) fn line_of_path(text: &str, segs: &[String]) -> Option<usize> {
    let mut table: Vec<String> = Vec::new();
    let mut arrays: std::collections::BTreeMap<Vec<String>, usize> = Default::default();
    let mut best: Option<(usize, usize)> = None; // (matched segments, line)
    let mut consider = |path: &[String], line: usize| {
        let n = path.len();
        if n <= segs.len() && path == &segs[..n] && best.is_none_or(|(m, _)| n > m) {
            best = Some((n, line));
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_start();
        if let Some(rest) = l.strip_prefix("[[") {
            if let Some((path, tail)) = parse_key(rest)
                && tail.trim_start().starts_with("]]")
            {
                let n = arrays.entry(path.clone()).or_insert(0);
                table = path;
                table.push(n.to_string());
                *n += 1;
                consider(&table, line);
            }
        } else if let Some(rest) = l.strip_prefix('[') {
            if let Some((path, tail)) = parse_key(rest)
                && tail.trim_start().starts_with(']')
            {
                table = path;
                consider(&table, line);
            }
        } else if let Some((key, tail)) = parse_key(l)
            && tail.trim_start().starts_with('=')
        {
            let mut path = table.clone();
            path.extend(key);
            consider(&path, line);
        }
    }
    best.map(|(_, line)| line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &[&str]) -> Option<usize> {
        let segs: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        line_of_path(text, &segs)
    }

    #[test]
    fn finds_keys_under_headers() {
        let t = "currency = \"USD\"\n[venues.dealer-a]\nmax_clip = -5\n[venues.\"a.b\"]\n\
                 instruments.\"USDC/USD\".max_clip = 3\n[[ramps.s.stages]]\nname = \"a\"\n\
                 [[ramps.s.stages]]\nname = \"b\"\n";
        assert_eq!(at(t, &["currency"]), Some(1));
        assert_eq!(at(t, &["venues", "dealer-a", "max_clip"]), Some(3));
        assert_eq!(at(t, &["venues", "dealer-a", "min_clip"]), Some(2));
        assert_eq!(
            at(t, &["venues", "a.b", "instruments", "USDC/USD", "max_clip"]),
            Some(5)
        );
        assert_eq!(at(t, &["ramps", "s", "stages", "1", "name"]), Some(9));
        assert_eq!(at(t, &["ramps", "s", "stages", "0"]), Some(6));
        assert_eq!(at(t, &["desks"]), None);
    }
}
