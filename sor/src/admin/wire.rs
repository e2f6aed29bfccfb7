//! The admin API's JSON bodies, shared by the server and the client.

use risk::KillScope;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Where a kill switch applies, as the API spells it: `"global"`, `{"desk": "DESK1"}`
/// or `{"venue": "dealer-a"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// Every desk and every venue.
    Global,
    /// One desk's children.
    Desk(String),
    /// Every child to one venue.
    Venue(String),
}

impl From<Scope> for KillScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Global => KillScope::Global,
            Scope::Desk(d) => KillScope::Desk(d),
            Scope::Venue(v) => KillScope::Venue(v),
        }
    }
}

/// What every change body has: why the change is made, and a check of its own fields
/// before the change is tried.
pub trait ChangeBody {
    /// The `reason` field.
    fn reason(&self) -> &str;

    /// Checks the fields the gate does not check itself; the error names the field.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// `POST /v1/limits`: sets one limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLimitBody {
    /// Dotted key, e.g. `venues.dealer-a.max_clip` or `instruments."USDC/USD".max_clip`.
    pub key: String,
    /// The new value: a JSON string holding the value as the limits file would write it
    /// (`"1500000"`, `"20"`, `"true"`, `"[\"book-x\", \"book-y\"]"`), or a JSON integer,
    /// boolean or array of strings. A JSON number with a fraction is refused: write
    /// decimals as strings.
    pub value: Json,
    /// Why; required, not empty.
    pub reason: String,
}

/// `POST /v1/limits/clear`: removes one limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearLimitBody {
    /// Dotted key.
    pub key: String,
    /// Why; required, not empty.
    pub reason: String,
}

/// `POST /v1/kill`: engages a kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillBody {
    /// Where.
    pub scope: Scope,
    /// Whether the engine must also cancel the children working in the scope.
    pub cancel_working: bool,
    /// Why; required, not empty.
    pub reason: String,
}

/// `POST /v1/release`: releases an engaged kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// Where.
    pub scope: Scope,
    /// Why; required, not empty.
    pub reason: String,
}

/// `POST /v1/stage`: moves a venue to a ramp stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    /// The venue.
    pub venue: String,
    /// The stage's name in the venue's ramp.
    pub stage: String,
    /// Why; required, not empty.
    pub reason: String,
}

/// `POST /v1/stage/cap`: sets the highest stage a venue may graduate to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapBody {
    /// The venue.
    pub venue: String,
    /// The ceiling stage's name.
    pub ceiling: String,
    /// Why; required, not empty.
    pub reason: String,
}

macro_rules! reasoned {
    ($($t:ty),*) => {$(
        impl ChangeBody for $t {
            fn reason(&self) -> &str {
                &self.reason
            }
        }
    )*};
}
reasoned!(ClearLimitBody, KillBody, ReleaseBody, StageBody, CapBody);

impl ChangeBody for SetLimitBody {
    fn reason(&self) -> &str {
        &self.reason
    }

    fn validate(&self) -> Result<(), String> {
        value_text(&self.value)
            .map(|_| ())
            .map_err(|m| format!("value: {m}"))
    }
}

/// Every refusal's body: a stable code and a sentence that names the field or rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `bad_request`, `invalid_limit`, `unknown_name`,
    /// `no_ramp`, `unknown_stage`, `above_ceiling`, `not_engaged`, `conflict`,
    /// `audit_failed`, `internal`, `not_found`, `method_not_allowed`,
    /// `payload_too_large`.
    pub error: String,
    /// What is wrong, e.g. `venues.dealer-a.max_clip: must be > 0, got -5`.
    pub detail: String,
}

/// The text of a limit value as [`risk::SharedGate::set_limit`] takes it, from the
/// JSON the API accepts (see [`SetLimitBody::value`]); the error says what is wrong.
pub fn value_text(v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Json::Number(n) => Err(format!(
            "write a decimal as a JSON string (\"{n}\"), not a JSON number"
        )),
        Json::Array(items) => {
            if items.iter().all(Json::is_string) {
                serde_json::to_string(items).map_err(|e| e.to_string())
            } else {
                Err("a list must hold strings only".into())
            }
        }
        Json::Null => Err("must not be null; to remove a limit, POST /v1/limits/clear".into()),
        Json::Object(_) => Err(
            "must be a string, an integer, a boolean or a list of strings; set one field at a time"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_are_a_word_or_a_one_key_object() {
        let g: Scope = serde_json::from_value(json!("global")).unwrap();
        assert_eq!(g, Scope::Global);
        let d: Scope = serde_json::from_value(json!({"desk": "DESK1"})).unwrap();
        assert_eq!(KillScope::from(d), KillScope::Desk("DESK1".into()));
        let v: Scope = serde_json::from_value(json!({"venue": "dealer-a"})).unwrap();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"venue": "dealer-a"})
        );
        assert!(serde_json::from_value::<Scope>(json!("desk")).is_err());
        assert!(serde_json::from_value::<Scope>(json!({"book": "x"})).is_err());
    }

    #[test]
    fn values_keep_decimals_exact() {
        assert_eq!(value_text(&json!("1500000")).unwrap(), "1500000");
        assert_eq!(value_text(&json!(20)).unwrap(), "20");
        assert_eq!(value_text(&json!(true)).unwrap(), "true");
        assert_eq!(
            value_text(&json!(["book-x", "book-y"])).unwrap(),
            r#"["book-x","book-y"]"#
        );
        assert!(value_text(&json!(0.5)).unwrap_err().contains("\"0.5\""));
        assert!(value_text(&json!(null)).is_err());
        assert!(value_text(&json!({"a": 1})).is_err());
        assert!(value_text(&json!([1])).is_err());
    }
}
