//! `${VAR}` references in string values, resolved from the environment.
//!
//! `$${` stands for a literal `${`. Any other `$` is kept as written. Values read this way may be
//! secrets, so errors name the variable but never show a value.

/// Where `${VAR}` values come from: the process environment, or a test's map. `Sync`, so that
/// manifests can be decoded on several threads.
pub type Env = dyn Fn(&str) -> Option<String> + Sync;

/// What went wrong while expanding one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${NAME}` where NAME is not set. `at` is the byte offset of `${` in the string.
    Missing { name: String, at: usize },
    /// `${` without a closing `}`, or a name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    Malformed { at: usize },
}

/// The expanded string, and whether anything came from the environment.
pub fn interpolate(text: &str, env: &Env) -> Result<(String, bool), Vec<InterpolationError>> {
    if !text.contains("${") {
        return Ok((text.to_owned(), false));
    }
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut from_env = false;
    let mut rest = text;
    let mut consumed = 0;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
            consumed += pos + 3;
        } else if let Some(body) = after.strip_prefix("${") {
            let at = consumed + pos;
            match body.find('}') {
                Some(end) if is_variable_name(&body[..end]) => {
                    let name = &body[..end];
                    match env(name) {
                        Some(value) => {
                            out.push_str(&value);
                            from_env = true;
                        }
                        None => errors.push(InterpolationError::Missing {
                            name: name.to_owned(),
                            at,
                        }),
                    }
                    rest = &body[end + 1..];
                    consumed = at + 2 + end + 1;
                }
                _ => {
                    errors.push(InterpolationError::Malformed { at });
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &after[1..];
            consumed += pos + 1;
        }
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok((out, from_env))
    } else {
        Err(errors)
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret".to_owned())
    }

    #[test]
    fn expands_escapes_and_reports() {
        assert_eq!(
            interpolate("plain $5", &env),
            Ok(("plain $5".into(), false))
        );
        assert_eq!(
            interpolate("a${TOKEN}b", &env),
            Ok(("as3cretb".into(), true))
        );
        assert_eq!(
            interpolate("$${TOKEN}", &env),
            Ok(("${TOKEN}".into(), false))
        );
        assert_eq!(
            interpolate("x ${NOPE} ${TOKEN}", &env),
            Err(vec![InterpolationError::Missing {
                name: "NOPE".into(),
                at: 2
            }])
        );
        assert_eq!(
            interpolate("${TOKEN", &env),
            Err(vec![InterpolationError::Malformed { at: 0 }])
        );
        assert_eq!(
            interpolate("${1X}", &env),
            Err(vec![InterpolationError::Malformed { at: 0 }])
        );
    }
}
