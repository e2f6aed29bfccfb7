//! The line loop shared by the batch commands (`sor pmm quote`, `sor tca compute`): one
//! JSON answer per input line, in order, flushed per line, with a bound on a line's
//! length so memory stays bounded whatever the input.

use serde::Serialize;
use std::io::{self, BufRead, Read, Write};

/// Reads `input` until it ends; for each non-blank line calls `answer` with its text, or
/// with `Err(detail)` when the line cannot be read as text (longer than `max_line`
/// bytes, not UTF-8), and writes the answer as one JSON line, flushed. Returns the
/// number of answers; only an I/O error stops it early.
pub fn serve<R, W, A>(
    mut input: R,
    mut output: W,
    max_line: usize,
    mut answer: impl FnMut(Result<&str, String>) -> A,
) -> io::Result<u64>
where
    R: BufRead,
    W: Write,
    A: Serialize,
{
    let mut buf = Vec::new();
    let mut lines = 0;
    loop {
        buf.clear();
        let n = Read::take(&mut input, max_line as u64 + 1).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        let too_long = buf.len() > max_line && buf.last() != Some(&b'\n');
        if too_long {
            // Skip the rest of the line, a bounded chunk at a time.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let m = Read::take(&mut input, max_line as u64).read_until(b'\n', &mut rest)?;
                if m == 0 || rest.last() == Some(&b'\n') {
                    break;
                }
            }
        }
        let reply = if too_long {
            answer(Err(format!("line longer than {max_line} bytes")))
        } else {
            match std::str::from_utf8(&buf) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => answer(Ok(text.trim_end_matches(['\n', '\r']))),
                Err(_) => answer(Err("the line is not UTF-8".to_owned())),
            }
        };
        let text = serde_json::to_string(&reply).map_err(io::Error::other)?;
        writeln!(output, "{text}")?;
        output.flush()?;
        lines += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_and_bad_bytes_are_answered_and_skipped_not_buffered() {
        let mut input = Vec::new();
        input.extend_from_slice(b"short\n");
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend_from_slice(b"\n\xff\xfe\n\nlast");
        let mut out = Vec::new();
        let n = serve(&input[..], &mut out, 10, |line| match line {
            Ok(t) => format!("ok:{t}"),
            Err(e) => format!("err:{e}"),
        })
        .unwrap();
        assert_eq!(n, 4, "the blank line gets no answer");
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "\"ok:short\"",
                "\"err:line longer than 10 bytes\"",
                "\"err:the line is not UTF-8\"",
                "\"ok:last\""
            ]
        );
    }
}
