//! What each provider target sustained, remembered between runs under the workspace's
//! `.orgform/pace/`, so that the next run (the next cron drift check, the next apply) starts
//! near the vendor's limit instead of finding it again.
//!
//! A record is keyed like the locks, by the provider target (the vendor and its URL with any
//! credential redacted, or the embedded sandbox's database), and holds only numbers, a date and
//! that target: never a credential. Knowledge goes stale (a vendor's plan changes, another
//! client shares the limit): a week after it was learned it is only a starting point, halved
//! each further day, and after 30 days it is forgotten.
//!
//! The file is a hint, not an input to trust: one that does not parse, names another target,
//! holds numbers no gate can start from, or is not a regular file is ignored; a failure to write
//! it never fails a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::gate::Knowledge;

/// Where a workspace keeps what its providers sustained.
pub const PACE_DIR: &str = ".orgform/pace";
/// Knowledge this young is taken whole: the start and the limit beyond which growth is careful.
const FRESH: Duration = Duration::from_secs(7 * 24 * 3600);
/// Beyond [`FRESH`], the remembered rate halves this often and is no longer taken as a limit.
const HALF_LIFE: Duration = Duration::from_secs(24 * 3600);
/// Knowledge older than this is forgotten.
const FORGET: Duration = Duration::from_secs(30 * 24 * 3600);
/// A record is a few hundred bytes; anything larger is not one.
const MAX_RECORD_BYTES: u64 = 4096;

/// One provider target's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    target: String,
    #[serde(flatten)]
    knowledge: Knowledge,
    /// When it was learned (RFC 3339, UTC).
    learned: DateTime<Utc>,
}

/// What a run recalls of a target, and how old it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recalled {
    pub knowledge: Knowledge,
    pub age: Duration,
}

impl Recalled {
    /// `learned 2 h ago`, for `-v`.
    pub fn describe_age(&self) -> String {
        let minutes = self.age.as_secs() / 60;
        match minutes {
            0 => "learned less than a minute ago".to_owned(),
            1..60 => format!("learned {minutes} min ago"),
            60..2880 => format!("learned {} h ago", minutes / 60),
            _ => format!("learned {} days ago", minutes / 1440),
        }
    }
}

/// The record's file of a target below the workspace root: a digest, since targets are URLs.
fn relative_path(target: &str) -> PathBuf {
    Path::new(PACE_DIR).join(format!("{}.json", crate::lock::target_file_stem(target)))
}

fn read(root: &Path, target: &str) -> Option<Record> {
    let path = root.join(relative_path(target));
    // Only a regular file of a record's size: not a link, a pipe or a device someone put there.
    let Some(text) = crate::files::read_regular(&path, MAX_RECORD_BYTES) else {
        tracing::debug!(path = %path.display(), "no pace record: none, or not a small regular file");
        return None;
    };
    let record: Record = match serde_json::from_str(&text) {
        Ok(record) => record,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "pace record ignored: unreadable");
            return None;
        }
    };
    (record.target == target && record.knowledge.is_sane()).then_some(record)
}

/// What the workspace at `root` remembers of `target`, as it stands at `now` (decayed).
pub fn recall(root: &Path, target: &str, now: DateTime<Utc>) -> Option<Recalled> {
    let record = read(root, target)?;
    decayed(&record, now)
}

fn decayed(record: &Record, now: DateTime<Utc>) -> Option<Recalled> {
    // A date a little in the future (clocks differ) counts as now; one further ahead is not a
    // date this record could have been written at.
    if record.learned - now > chrono::Duration::hours(1) {
        return None;
    }
    let age = (now - record.learned).to_std().unwrap_or(Duration::ZERO);
    if age > FORGET {
        return None;
    }
    let mut knowledge = record.knowledge;
    if age > FRESH {
        let halvings = (age - FRESH).as_secs_f64() / HALF_LIFE.as_secs_f64();
        knowledge = Knowledge {
            rate: knowledge.rate * 0.5f64.powf(halvings),
            throttled: false,
        };
    }
    knowledge.is_sane().then_some(Recalled { knowledge, age })
}

/// Records what this run `learned` of `target`, merged with what was remembered: a run that was
/// not throttled only shows that the vendor accepts at least its peak, so it raises a known
/// limit to that peak but does not replace it.
pub fn remember(
    root: &Path,
    target: &str,
    learned: Knowledge,
    now: DateTime<Utc>,
) -> Result<(), crate::files::WriteError> {
    let earlier = read(root, target);
    let record = merged(earlier.as_ref(), target, learned, now);
    let path = crate::files::under(root, &relative_path(target))?;
    let text = serde_json::to_string_pretty(&record).expect("a record serialises");
    crate::files::write(&path, format!("{text}\n").as_bytes())
}

fn merged(
    earlier: Option<&Record>,
    target: &str,
    learned: Knowledge,
    now: DateTime<Utc>,
) -> Record {
    let fresh = |record: &Record| (now - record.learned).to_std().unwrap_or_default() <= FRESH;
    match earlier {
        Some(earlier) if !learned.throttled && earlier.knowledge.throttled && fresh(earlier) => {
            Record {
                target: target.to_owned(),
                knowledge: Knowledge {
                    rate: earlier.knowledge.rate.max(learned.rate),
                    throttled: true,
                },
                learned: earlier.learned,
            }
        }
        Some(earlier) if !learned.throttled && !earlier.knowledge.throttled => {
            let remembered = decayed(earlier, now).map_or(0.0, |r| r.knowledge.rate);
            Record {
                target: target.to_owned(),
                knowledge: Knowledge {
                    rate: remembered.max(learned.rate),
                    throttled: false,
                },
                learned: now,
            }
        }
        _ => Record {
            target: target.to_owned(),
            knowledge: learned,
            learned: now,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str = "acme https://api.acme.example";

    fn days(n: f64) -> chrono::Duration {
        chrono::Duration::milliseconds((n * 86_400_000.0) as i64)
    }

    #[test]
    fn a_remembered_limit_is_recalled_whole_for_a_week_then_decays_then_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let then = Utc::now();
        let limit = Knowledge {
            rate: 40.0,
            throttled: true,
        };
        remember(dir.path(), TARGET, limit, then).unwrap();
        let text = std::fs::read_to_string(dir.path().join(relative_path(TARGET))).unwrap();
        assert!(
            text.contains(TARGET) && text.contains("\"throttled\": true"),
            "{text}"
        );
        let at = |d: f64| recall(dir.path(), TARGET, then + days(d)).map(|r| r.knowledge);
        assert_eq!(at(0.0), Some(limit));
        assert_eq!(at(6.9), Some(limit));
        // Nine days: two halvings, and no longer a limit.
        let stale = at(9.0).unwrap();
        assert!(
            !stale.throttled && (stale.rate - 10.0).abs() < 0.01,
            "{stale:?}"
        );
        assert_eq!(at(31.0), None);
        // Another target remembers nothing.
        assert_eq!(recall(dir.path(), "other https://x.example", then), None);
    }

    #[test]
    fn an_unthrottled_run_raises_a_known_limit_but_does_not_replace_it() {
        let now = Utc::now();
        let limit = Record {
            target: TARGET.into(),
            knowledge: Knowledge {
                rate: 40.0,
                throttled: true,
            },
            learned: now - days(1.0),
        };
        let quiet = |rate| Knowledge {
            rate,
            throttled: false,
        };
        assert_eq!(merged(Some(&limit), TARGET, quiet(30.0), now), limit);
        let raised = merged(Some(&limit), TARGET, quiet(55.0), now);
        assert_eq!(raised.knowledge.rate, 55.0);
        assert!(raised.knowledge.throttled);
        // A throttled run replaces what was known.
        let lower = Knowledge {
            rate: 12.0,
            throttled: true,
        };
        assert_eq!(merged(Some(&limit), TARGET, lower, now).knowledge, lower);
        // Two unthrottled runs: the larger peak stands.
        let peak = merged(None, TARGET, quiet(80.0), now);
        assert_eq!(
            merged(Some(&peak), TARGET, quiet(60.0), now).knowledge,
            quiet(80.0)
        );
    }

    #[test]
    fn a_record_that_is_not_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(relative_path(TARGET));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let now = Utc::now();
        for text in [
            "not json".to_owned(),
            format!(
                r#"{{"target":"{TARGET}","rate":1e308,"throttled":true,"learned":"{}"}}"#,
                now.to_rfc3339()
            ),
            format!(
                r#"{{"target":"{TARGET}","rate":"NaN","throttled":true,"learned":"{}"}}"#,
                now.to_rfc3339()
            ),
            format!(
                r#"{{"target":"{TARGET}","rate":-5,"throttled":true,"learned":"{}"}}"#,
                now.to_rfc3339()
            ),
            format!(
                r#"{{"target":"other","rate":40,"throttled":true,"learned":"{}"}}"#,
                now.to_rfc3339()
            ),
            format!(
                r#"{{"target":"{TARGET}","rate":40,"throttled":true,"learned":"{}","pad":"{}"}}"#,
                now.to_rfc3339(),
                "x".repeat(5000)
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            assert_eq!(recall(dir.path(), TARGET, now), None, "{text}");
        }
        // A link to a good record elsewhere is not followed.
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(
            &elsewhere,
            format!(
                r#"{{"target":"{TARGET}","rate":40,"throttled":true,"learned":"{}"}}"#,
                now.to_rfc3339()
            ),
        )
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
            assert_eq!(recall(dir.path(), TARGET, now), None);
            // Nor written through: the link is refused, the run goes on.
            let learned = Knowledge {
                rate: 9.0,
                throttled: true,
            };
            assert!(remember(dir.path(), TARGET, learned, now).is_err());
            assert!(std::fs::read_to_string(&elsewhere).unwrap().contains("40"));
        }
    }
}
