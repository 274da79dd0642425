//! The one secret redactor for anything that may hold a credential and is shown: vendor and
//! link URLs, the lock server's connection string, in errors, logs and plans.
//!
//! It knows the three places a connection string keeps a password: a URL's userinfo
//! (`postgres://user:pw@host/db`), a query parameter (`?user=u&password=pw`), and a key=value
//! pair (`host=db password='p w'`). Whatever it is not sure of, it hides.

/// Names whose values are secrets, wherever they appear (query or key=value), compared without
/// case.
const SECRET_NAMES: [&str; 9] = [
    "password",
    "passwd",
    "pwd",
    "sslpassword",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "api_key",
];

const HIDDEN: &str = "***";

fn is_secret_name(name: &str) -> bool {
    let name = name.trim();
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// `text` as it may be shown: userinfo, secret query parameters and secret key=value pairs
/// replaced by `***`.
pub fn redact(text: &str) -> String {
    match text.find("://") {
        Some(scheme_end) => redact_url(text, scheme_end + 3),
        None if text.contains('=') => redact_key_values(text),
        // Not a URL and no pairs: a user name or password may precede an `@`.
        None => match text.rsplit_once('@') {
            Some((_, rest)) => format!("{HIDDEN}@{rest}"),
            None => text.to_owned(),
        },
    }
}

/// A URL: the userinfo before the host, and secret query parameters.
fn redact_url(url: &str, authority_start: usize) -> String {
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let mut shown = String::with_capacity(url.len());
    shown.push_str(&url[..authority_start]);
    match authority.rsplit_once('@') {
        // Say that something was taken out, so the URL is not mistaken for the one configured.
        Some((_, host)) => {
            shown.push_str(HIDDEN);
            shown.push('@');
            shown.push_str(host);
        }
        None => shown.push_str(authority),
    }
    let after = &rest[authority_len..];
    match after.find('?') {
        Some(q) => {
            shown.push_str(&after[..=q]);
            let query_and_fragment = &after[q + 1..];
            let (query, fragment) = match query_and_fragment.find('#') {
                Some(h) => query_and_fragment.split_at(h),
                None => (query_and_fragment, ""),
            };
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if is_secret_name(&percent_decoded(name)) => {
                        format!("{name}={HIDDEN}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            shown.push_str(&pairs.join("&"));
            shown.push_str(fragment);
        }
        None => shown.push_str(after),
    }
    shown
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A libpq key=value string: `name = value` pairs separated by whitespace, a value either bare
/// or single-quoted with `\'` and `\\` escapes.
fn redact_key_values(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else {
            shown.push_str(rest);
            break;
        };
        let name = rest[..eq].split_whitespace().last().unwrap_or_default();
        shown.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let spaces = after.len() - after.trim_start().len();
        shown.push_str(&after[..spaces]);
        let value_start = &after[spaces..];
        let value_len = if let Some(quoted) = value_start.strip_prefix('\'') {
            let mut escaped = false;
            let mut end = value_start.len();
            for (i, c) in quoted.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '\'' => {
                        end = i + 2;
                        break;
                    }
                    _ => {}
                }
            }
            end
        } else {
            value_start
                .find(char::is_whitespace)
                .unwrap_or(value_start.len())
        };
        if is_secret_name(name) {
            shown.push_str(HIDDEN);
        } else {
            shown.push_str(&value_start[..value_len]);
        }
        rest = &value_start[value_len..];
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_a_connection_string_keeps_a_password_is_hidden() {
        for (given, shown) in [
            (
                "postgres://orgform:hunter2@db.example:5432/locks",
                "postgres://***@db.example:5432/locks",
            ),
            (
                "postgresql://db.example/locks?user=orgform&password=hunter2&sslmode=require",
                "postgresql://db.example/locks?user=orgform&password=***&sslmode=require",
            ),
            (
                "postgres://db.example/locks?PassWord=hunter2#x",
                "postgres://db.example/locks?PassWord=***#x",
            ),
            (
                "postgres://db.example/locks?pass%77ord=hunter2",
                "postgres://db.example/locks?pass%77ord=***",
            ),
            (
                "host=db.example user=orgform password=hunter2 dbname=locks",
                "host=db.example user=orgform password=*** dbname=locks",
            ),
            (
                "host=db.example password = 'hun ter\\'2' dbname=locks",
                "host=db.example password = *** dbname=locks",
            ),
            (
                "https://admin:hunter2@api.example/v1",
                "https://***@api.example/v1",
            ),
            ("https://token@api.example/", "https://***@api.example/"),
            ("https://api.example/v1", "https://api.example/v1"),
            ("not a url:pw@host", "***@host"),
        ] {
            assert_eq!(redact(given), shown, "{given}");
            assert!(!redact(given).contains("hunter2"));
        }
    }
}
