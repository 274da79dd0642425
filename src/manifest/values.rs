//! Validated leaf values of the manifest language: each decodes only from a well-formed input.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, DecodeCx, decode_keyword};
use super::diagnostic::ManifestError;
use super::node::{Node, Value};

/// Declares an enum of fixed keywords with its decoder (with "did you mean"), `as_str` and schema.
macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];
            pub const VARIANTS: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Decode for $name {
            fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
                decode_keyword(node, cx, $what, Self::ALL, Self::parse)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "enum": Self::ALL })
            }
        }
    };
}

keyword_enum!(
    /// Which vendor API a provider speaks.
    ProviderKind, "provider kind" { Nirvana = "nirvana", Scalekit = "scalekit", PingOne = "pingone", Workos = "workos" }
);
keyword_enum!(
    /// PingOne's regions, which choose the API and auth host names.
    PingOneRegion, "PingOne region" { Na = "NA", Eu = "EU", Ap = "AP", Au = "AU", Ca = "CA", Sg = "SG" }
);
keyword_enum!(
    /// Scalekit's data region (read-only).
    ScalekitRegion, "Scalekit region" { Us = "US", Eu = "EU" }
);
keyword_enum!(
    /// How Scalekit uses a domain.
    DomainType, "domain type" { Organization = "organization", AllowedEmail = "allowed_email" }
);
keyword_enum!(
    /// Nirvana's membership roles (read-only).
    NirvanaRole, "Nirvana role" { Owner = "owner", Member = "member" }
);
keyword_enum!(
    /// Nirvana's organization types (read-only).
    NirvanaOrgType, "Nirvana organization type" { Company = "company", Personal = "personal" }
);
keyword_enum!(
    /// PingOne's organization types (read-only).
    PingOneOrgType, "PingOne organization type" { Paid = "PAID", Trial = "TRIAL", Internal = "INTERNAL" }
);
keyword_enum!(
    /// PingOne license states.
    LicenseStatus, "license status" { Active = "ACTIVE", Expired = "EXPIRED", Future = "FUTURE", Terminated = "TERMINATED" }
);

/// A string checked by a predicate; `Err` carries the label for the diagnostic.
fn decode_checked(
    node: &Node,
    cx: &mut DecodeCx,
    code: &'static str,
    message: &str,
    check: impl FnOnce(&str) -> Result<String, (String, Option<String>)>,
) -> Option<String> {
    let text = String::decode(node, cx)?;
    match check(&text) {
        Ok(value) => Some(value),
        Err((label, help)) => {
            cx.report(
                ManifestError::new(code, message)
                    .at(cx.span(node), label)
                    .maybe_help(help),
            );
            None
        }
    }
}

/// An organization's key: its stable identity in the workspace, `[a-z0-9][a-z0-9_-]{0,62}`.
/// Provider names follow the same rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub String);

impl Key {
    pub fn is_valid(text: &str) -> bool {
        let bytes = text.as_bytes();
        (1..=63).contains(&bytes.len())
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Decode for Key {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        decode_checked(node, cx, "invalid_key", "invalid key", |text| {
            if Key::is_valid(text) {
                return Ok(text.to_owned());
            }
            let suggestion: String = text
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
                .collect();
            let help = if Key::is_valid(&suggestion) {
                format!("keys are 1-63 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit, e.g. `{suggestion}`")
            } else {
                "keys are 1-63 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit".to_owned()
            };
            Err(("not a valid key".to_owned(), Some(help)))
        })
        .map(Key)
    }
}

impl JsonSchema for Key {
    fn schema_name() -> Cow<'static, str> {
        "Key".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$" })
    }
}

/// An e-mail address (RFC 5322 addr-spec with a dotted domain).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(pub String);

impl Email {
    /// Vendors compare e-mail addresses case-insensitively.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Decode for Email {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        decode_checked(
            node,
            cx,
            "invalid_email",
            "invalid e-mail address",
            |text| {
                let options = email_address::Options::default()
                    .with_required_tld()
                    .without_display_text()
                    .without_domain_literal();
                email_address::EmailAddress::parse_with_options(text, options)
                    .map(|_| text.to_owned())
                    .map_err(|e| {
                        let help =
                            "write a plain address with a dotted domain, e.g. `ada@acme.example`";
                        (format!("not an e-mail address: {e}"), Some(help.to_owned()))
                    })
            },
        )
        .map(Email)
    }
}

impl JsonSchema for Email {
    fn schema_name() -> Cow<'static, str> {
        "Email".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "email" })
    }
}

/// A DNS domain name. Internationalised names are accepted and compared in their ASCII
/// (punycode) form, so `bücher.example` and `xn--bcher-kva.example` are the same domain.
#[derive(Debug, Clone)]
pub struct DomainName {
    /// As written in the manifest.
    pub written: String,
    /// Lower-case ASCII form used for identity and addresses.
    pub ascii: String,
}

impl PartialEq for DomainName {
    fn eq(&self, other: &Self) -> bool {
        self.ascii == other.ascii
    }
}
impl Eq for DomainName {}
impl PartialOrd for DomainName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DomainName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ascii.cmp(&other.ascii)
    }
}

impl DomainName {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.ends_with('.') {
            return Err("remove the trailing dot".to_owned());
        }
        let ascii = idna::domain_to_ascii_strict(text)
            .map_err(|_| "not a valid domain name (IDNA/STD3 rules)".to_owned())?;
        if ascii.is_empty() {
            return Err("empty domain name".to_owned());
        }
        if !ascii.contains('.') {
            return Err("a domain needs at least two labels, e.g. `example.com`".to_owned());
        }
        if ascii
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("an IP address is not a domain name".to_owned());
        }
        Ok(Self {
            written: text.to_owned(),
            ascii,
        })
    }
}

impl Decode for DomainName {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let text = String::decode(node, cx)?;
        match DomainName::parse(&text) {
            Ok(domain) => Some(domain),
            Err(label) => {
                cx.report(
                    ManifestError::new("invalid_domain", "invalid domain name")
                        .at(cx.span(node), label)
                        .help(
                            "write a DNS name such as `acme.example` (Unicode names are allowed)",
                        ),
                );
                None
            }
        }
    }
}

impl JsonSchema for DomainName {
    fn schema_name() -> Cow<'static, str> {
        "DomainName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "idn-hostname", "minLength": 3, "maxLength": 253 })
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (`US`, `DE`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(pub String);

impl Decode for CountryCode {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        decode_checked(
            node,
            cx,
            "invalid_country",
            "invalid country code",
            |text| {
                if rust_iso3166::from_alpha2(text).is_some()
                    && text.bytes().all(|b| b.is_ascii_uppercase())
                {
                    return Ok(text.to_owned());
                }
                let upper = text.to_uppercase();
                let help = if let Some(country) = rust_iso3166::from_alpha2(&upper) {
                    format!("country codes are upper case: `{upper}` ({})", country.name)
                } else if let Some(country) = rust_iso3166::from_alpha3(&upper) {
                    format!(
                        "use the two-letter code `{}` for {}",
                        country.alpha2, country.name
                    )
                } else {
                    "use an ISO 3166-1 alpha-2 code such as `US`, `DE` or `JP`".to_owned()
                };
                Err((
                    "not an ISO 3166-1 alpha-2 country code".to_owned(),
                    Some(help),
                ))
            },
        )
        .map(CountryCode)
    }
}

impl JsonSchema for CountryCode {
    fn schema_name() -> Cow<'static, str> {
        "CountryCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 country code" })
    }
}

/// A credential. It never appears in `Debug` output, so it cannot leak through logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    /// The only way to read the value: call sites are easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Decode for Secret {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        String::decode(node, cx).map(Secret)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "a credential; write it as ${ENV_VAR} to keep it out of Git" })
    }
}

/// `policy.max_member_removals`: a count, or a percentage of an organization's current members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalLimit {
    Count(u32),
    Percent(u8),
}

impl Decode for RemovalLimit {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.value {
            Value::Int(_) => u32::decode(node, cx).map(RemovalLimit::Count),
            Value::Str(text) => {
                let percent = text
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u8>().ok())
                    .filter(|n| *n <= 100);
                if percent.is_none() {
                    cx.report(
                        ManifestError::new("invalid_value", "invalid member removal limit")
                            .at(cx.span(node), "expected a number or a percentage")
                            .help("write a count such as `5` or a percentage from `0%` to `100%`"),
                    );
                }
                percent.map(RemovalLimit::Percent)
            }
            _ => {
                cx.type_error(node, "a number or a percentage");
                None
            }
        }
    }
}

impl JsonSchema for RemovalLimit {
    fn schema_name() -> Cow<'static, str> {
        "RemovalLimit".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "oneOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^(100|[1-9]?[0-9])%$" }
            ]
        })
    }
}

/// The value of a vendor's plain field (`provider::description::PlainField`): a scalar orgform
/// compares and writes as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainValue {
    Bool(bool),
    Text(String),
}

impl PlainValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Text(t) => serde_json::Value::String(t.clone()),
        }
    }
}
