//! Field look-ups that never make QuickFIX throw.
//!
//! QuickFIX's `getField` throws a C++ exception for a tag the message does not carry,
//! and the binding catches it to answer `None`. Each throw unwinds the stack through
//! the dynamic loader's tables: a few µs when the caches are warm, tens when they are
//! not, on every optional field a message leaves out (a NewOrderSingle without an
//! Account or strategy parameters, a fill without Commission). [`Fields`] reads the
//! message's FIX text once to learn which tags it carries, and asks QuickFIX only for
//! those.
//!
//! When the text cannot be read safely, for instance when the message carries a
//! length-prefixed data field whose value may hold the field separator, every look-up
//! goes to QuickFIX as before: slower, never wrong.

use quickfix::{FieldMap, Message};

/// FIX 4.4 tags of `Length` type: each announces a data field whose value may contain
/// the SOH separator, so the text around it cannot be split on SOH alone.
const DATA_LENGTH_TAGS: [u32; 16] = [
    90, 93, 95, 212, 348, 350, 352, 354, 356, 358, 360, 362, 364, 445, 618, 621,
];

/// Most distinct tags indexed; a message with more is looked up through QuickFIX.
const MAX_TAGS: usize = 512;

/// Which tags a message carries (header, body, groups and trailer together), and how
/// often, read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    /// Sorted by tag: (tag, occurrences).
    Known(Vec<(u32, u32)>),
    /// The text could not be indexed: ask QuickFIX for every tag.
    Unknown,
}

impl Presence {
    fn of_text(text: &str) -> Self {
        let mut tags: Vec<(u32, u32)> = Vec::with_capacity(32);
        for segment in text.split('\x01').filter(|s| !s.is_empty()) {
            let Some((tag, _)) = segment.split_once('=') else {
                return Self::Unknown;
            };
            let Ok(tag) = tag.parse::<u32>() else {
                return Self::Unknown;
            };
            if tag == 0 || DATA_LENGTH_TAGS.contains(&tag) {
                return Self::Unknown;
            }
            match tags.binary_search_by_key(&tag, |(t, _)| *t) {
                Ok(i) => tags[i].1 += 1,
                Err(i) => {
                    if tags.len() >= MAX_TAGS {
                        return Self::Unknown;
                    }
                    tags.insert(i, (tag, 1));
                }
            }
        }
        Self::Known(tags)
    }

    /// How many times `tag` occurs; `None` when not known.
    fn count(&self, tag: i32) -> Option<u32> {
        match self {
            Self::Known(tags) => {
                let tag = u32::try_from(tag).ok()?;
                Some(
                    tags.binary_search_by_key(&tag, |(t, _)| *t)
                        .map_or(0, |i| tags[i].1),
                )
            }
            Self::Unknown => None,
        }
    }
}

/// A message with the index of the tags it carries: body and group look-ups that
/// answer an absent tag without a C++ exception.
#[derive(Debug)]
pub struct Fields<'a> {
    msg: &'a Message,
    presence: Presence,
}

impl<'a> Fields<'a> {
    /// Indexes `msg` from its FIX text.
    pub fn new(msg: &'a Message) -> Self {
        let presence = msg
            .to_fix_string()
            .map_or(Presence::Unknown, |text| Presence::of_text(&text));
        Self { msg, presence }
    }

    /// The message itself.
    pub fn message(&self) -> &'a Message {
        self.msg
    }

    /// Whether the message may carry `tag` somewhere (header, body or group).
    pub fn may_have(&self, tag: i32) -> bool {
        self.presence.count(tag) != Some(0)
    }

    /// The body field `tag`, if the message carries it.
    pub fn get(&self, tag: i32) -> Option<String> {
        if self.may_have(tag) {
            self.msg.get_field(tag)
        } else {
            None
        }
    }

    /// How many entries the repeating group counted by `count_tag` holds, by its
    /// first field `delimiter_tag`; `None` when not known (then ask QuickFIX entry by
    /// entry).
    pub fn group_entries(&self, delimiter_tag: i32) -> Option<usize> {
        self.presence
            .count(delimiter_tag)
            .and_then(|n| usize::try_from(n).ok())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_index_counts_each_tag_and_answers_absent_ones() {
        let p = Presence::of_text(
            "8=FIX.4.4\x019=60\x0135=D\x0111=C1\x01957=2\x01958=A\x01960=1\x01958=B\x01960=2\x0110=000\x01",
        );
        assert_eq!(p.count(11), Some(1));
        assert_eq!(p.count(958), Some(2));
        assert_eq!(p.count(1), Some(0));
        assert_eq!(p.count(-5), None);
    }

    #[test]
    fn text_that_cannot_be_split_safely_is_not_indexed() {
        // A data field: its value may hold SOH.
        assert_eq!(
            Presence::of_text("8=FIX.4.4\x0195=3\x0196=a\x01b\x0110=000\x01"),
            Presence::Unknown
        );
        assert_eq!(
            Presence::of_text("8=FIX.4.4\x01junk\x01"),
            Presence::Unknown
        );
        assert_eq!(Presence::of_text("8=FIX.4.4\x01x=1\x01"), Presence::Unknown);
        assert_eq!(Presence::Unknown.count(11), None);
    }

    #[test]
    fn look_ups_match_quickfix_for_present_and_absent_fields() {
        let mut msg = crate::new_message("D").unwrap();
        msg.set_field(11, "C1").unwrap();
        msg.set_field(38, "100").unwrap();
        let fields = Fields::new(&msg);
        assert_eq!(fields.get(11).as_deref(), Some("C1"));
        assert_eq!(fields.get(38).as_deref(), Some("100"));
        assert_eq!(fields.get(1), None);
        assert!(!fields.may_have(1));
        assert!(fields.may_have(35), "header tags are indexed too");
        for tag in [1, 11, 38, 44, 55, 957] {
            assert_eq!(fields.get(tag), msg.get_field(tag), "tag {tag}");
        }
    }
}
