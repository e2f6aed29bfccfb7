//! Why an inbound FIX message could not be mapped, tag by tag.

use thiserror::Error;

/// Why a field of an inbound FIX message was refused: names the tag, its FIX
/// field name and the rule it broke, so a gateway can answer with a session
/// Reject (35=3) carrying [`ref_tag`](Self::ref_tag) in RefTagID(371) and
/// [`session_reject_reason`](Self::session_reject_reason) in
/// SessionRejectReason(373), and the `Display` text in Text(58).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldError {
    /// A required tag is absent.
    #[error("tag {tag} ({name}): required field missing")]
    Missing {
        /// The tag number.
        tag: u32,
        /// The FIX field name.
        name: &'static str,
    },
    /// The value is well-formed but not allowed (unknown enum value, out of
    /// range, or not allowed in combination with another field).
    #[error("tag {tag} ({name}): value {value:?} {rule}")]
    Invalid {
        /// The tag number.
        tag: u32,
        /// The FIX field name.
        name: &'static str,
        /// The raw value as received.
        value: String,
        /// The rule the value broke, phrased to follow the value.
        rule: String,
    },
    /// The value does not have the field's data format (e.g. `1e5` for a
    /// quantity, or a malformed UTCTimestamp).
    #[error("tag {tag} ({name}): value {value:?} {rule}")]
    Format {
        /// The tag number.
        tag: u32,
        /// The FIX field name.
        name: &'static str,
        /// The raw value as received.
        value: String,
        /// The format the value should have had, phrased to follow the value.
        rule: String,
    },
    /// A repeating group's NumInGroup count does not match the entries that
    /// could be read (e.g. the message was parsed without a data dictionary
    /// that defines the group).
    #[error(
        "tag {tag} ({name}): declares {declared} entries but {found} could be read as a repeating group"
    )]
    GroupCount {
        /// The NumInGroup tag number.
        tag: u32,
        /// The FIX field name of the NumInGroup tag.
        name: &'static str,
        /// The count the message declares.
        declared: usize,
        /// The number of group entries actually present.
        found: usize,
    },
}

impl FieldError {
    /// The tag the error is about, for RefTagID(371) of a session Reject.
    pub fn ref_tag(&self) -> u32 {
        match self {
            Self::Missing { tag, .. }
            | Self::Invalid { tag, .. }
            | Self::Format { tag, .. }
            | Self::GroupCount { tag, .. } => *tag,
        }
    }

    /// The FIX 4.4 SessionRejectReason(373) code for this error: 1 required tag
    /// missing, 5 value is incorrect (out of range) for this tag, 6 incorrect
    /// data format for value, 16 incorrect NumInGroup count for repeating group.
    pub fn session_reject_reason(&self) -> u32 {
        match self {
            Self::Missing { .. } => 1,
            Self::Invalid { .. } => 5,
            Self::Format { .. } => 6,
            Self::GroupCount { .. } => 16,
        }
    }

    pub(crate) fn invalid(
        tag: u32,
        name: &'static str,
        value: &str,
        rule: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            tag,
            name,
            value: value.to_owned(),
            rule: rule.into(),
        }
    }

    pub(crate) fn format(
        tag: u32,
        name: &'static str,
        value: &str,
        rule: impl Into<String>,
    ) -> Self {
        Self::Format {
            tag,
            name,
            value: value.to_owned(),
            rule: rule.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_tag_field_and_rule() {
        let missing = FieldError::Missing {
            tag: 38,
            name: "OrderQty",
        };
        assert_eq!(
            missing.to_string(),
            "tag 38 (OrderQty): required field missing"
        );
        assert_eq!(
            (missing.ref_tag(), missing.session_reject_reason()),
            (38, 1)
        );

        let invalid = FieldError::invalid(54, "Side", "7", "is not 1 (Buy) or 2 (Sell)");
        assert_eq!(
            invalid.to_string(),
            "tag 54 (Side): value \"7\" is not 1 (Buy) or 2 (Sell)"
        );
        assert_eq!(
            (invalid.ref_tag(), invalid.session_reject_reason()),
            (54, 5)
        );

        let format = FieldError::format(38, "OrderQty", "1e5", "is not a plain decimal");
        assert_eq!(format.session_reject_reason(), 6);
    }
}
