//! Organization names are compared in Unicode NFC form.
//!
//! "Café Ltd" may reach orgform composed (`é`, one code point) from a manifest and decomposed
//! (`e` + combining acute) from a vendor, or the other way round: the same name to every
//! reader. Compared byte for byte, the manifest would not find its organization and plan a
//! create, a permanent duplicate at a vendor that cannot delete (Nirvana). So identity,
//! `previously`, the uniqueness check of manifests and the name field of the diff all compare
//! the NFC forms.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// `name` in NFC form, borrowed when it already is (always, for ASCII).
pub fn nfc(name: &str) -> Cow<'_, str> {
    match is_nfc_quick(name.chars()) {
        IsNormalized::Yes => Cow::Borrowed(name),
        _ => Cow::Owned(name.nfc().collect()),
    }
}

/// Whether two names are the same name.
pub fn same_name(a: &str, b: &str) -> bool {
    a == b || nfc(a) == nfc(b)
}

/// `name` with every non-ASCII character written as `\u{…}`, so that two normalizations can be
/// told apart when shown.
pub fn escaped(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_and_decomposed_names_are_the_same() {
        let composed = "Caf\u{e9} Ltd";
        let decomposed = "Cafe\u{301} Ltd";
        assert_ne!(composed, decomposed);
        assert!(same_name(composed, decomposed));
        assert!(matches!(nfc("Acme"), Cow::Borrowed(_)));
        assert!(!same_name("Cafe Ltd", composed));
    }
}
