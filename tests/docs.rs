//! The documentation is checked like code: every relative link and anchor resolves, every
//! `orgform …` command line and every `--flag` the docs mention exists in clap's own definition
//! of the CLI, and every exit code a table documents is one the binary uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// Code spans that look like flags but are not orgform's, each with its reason.
const NOT_ORGFORM_FLAGS: &[(&str, &str)] = &[
    ("--formt", "a typo, shown as one"),
    ("--release", "cargo's"),
    ("--locked", "cargo's"),
    ("--git", "cargo's"),
    ("--rev", "cargo's"),
    ("--data-binary", "curl's"),
    ("--noprofile", "bash's"),
    ("--norc", "bash's"),
    ("--edit-last", "gh's"),
    ("--body-file", "gh's"),
    ("--collector.textfile.directory", "node_exporter's"),
    ("--to", "install.sh's (tests/recipes.rs runs it)"),
    ("--sha256", "install.sh's"),
    ("--base-url", "install.sh's"),
    ("--target", "install.sh's, and orgform's"),
];

/// The documents of the repository: the README, the top-level Markdown files and `docs/`.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "BENCHMARKS.md", "CHANGELOG.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (hyphens and underscores
/// kept), spaces as hyphens; a repeated heading gets `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap();
                let slug: String = h
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect();
                let n = seen.entry(slug.clone()).or_insert(0);
                out.insert(if *n == 0 {
                    slug.clone()
                } else {
                    format!("{slug}-{n}")
                });
                *n += 1;
            }
            _ => {}
        }
    }
    out
}

/// What one document says: its links, its code spans and the lines of its shell code blocks.
#[derive(Default)]
struct Said {
    links: Vec<String>,
    spans: Vec<String>,
    shell: Vec<String>,
}

fn read(text: &str) -> Said {
    let mut said = Said::default();
    let mut in_shell = false;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => said.links.push(dest_url.to_string()),
            Event::Code(code) => said.spans.push(code.to_string()),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => {
                in_shell = matches!(&*lang, "sh" | "bash" | "shell" | "console");
            }
            Event::End(TagEnd::CodeBlock) => in_shell = false,
            Event::Text(t) if in_shell => said.shell.extend(t.lines().map(str::to_owned)),
            _ => {}
        }
    }
    said
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in documents(root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in read(&text).links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let relative = file.strip_prefix(root).unwrap().display().to_string();
            if !target.exists() {
                broken.push(format!("{relative}: {link}: no such file"));
                continue;
            }
            if !anchor.is_empty() {
                let Ok(target_text) = std::fs::read_to_string(&target) else {
                    broken.push(format!("{relative}: {link}: an anchor into a directory"));
                    continue;
                };
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{relative}: {link}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} relative links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The subcommand path and flags of an `orgform …` command line, checked against clap.
fn check_command_line(line: &str, cli: &clap::Command, problems: &mut Vec<String>) {
    let mut command = cli;
    let mut path = vec!["orgform".to_owned()];
    for word in line.split_whitespace() {
        let word = word.trim_matches(|c| matches!(c, '[' | ']' | '`' | '(' | ')' | ',' | '\\'));
        if let Some(flag) = word.strip_prefix("--") {
            let name = flag.split(['=', '|', ']']).next().unwrap();
            if name.is_empty() {
                break; // `--` ends the options (or is a separator in the text)
            }
            if !has_long(command, cli, name) {
                problems.push(format!(
                    "`{}` has no --{name} (in `{line}`)",
                    path.join(" ")
                ));
            }
        } else if let Some(short) = word.strip_prefix('-')
            && short.len() == 1
        {
            let c = short.chars().next().unwrap();
            if !command.get_arguments().any(|a| a.get_short() == Some(c))
                && !cli.get_arguments().any(|a| a.get_short() == Some(c))
            {
                problems.push(format!("`{}` has no -{c} (in `{line}`)", path.join(" ")));
            }
        } else if let Some(sub) = command.find_subcommand(word) {
            path.push(word.to_owned());
            command = sub;
        } else if matches!(word, "|" | ">" | ">>" | "2>&1" | "&&" | "||" | ";" | "&") {
            break; // the orgform command ends here
        }
    }
}

/// Whether `command` (or the top level, for global flags) has the long flag `name`.
fn has_long(command: &clap::Command, cli: &clap::Command, name: &str) -> bool {
    let has = |c: &clap::Command| {
        c.get_arguments().any(|a| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
        })
    };
    has(command) || has(cli) || name == "help" || name == "version"
}

/// Every long flag of every command.
fn all_longs(command: &clap::Command, out: &mut BTreeSet<String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            out.insert(long.to_owned());
        }
    }
    for sub in command.get_subcommands() {
        all_longs(sub, out);
    }
}

/// The `orgform …` command lines in a text: from each `orgform` word (also as
/// `target/release/orgform` or `cargo run --release --`) to the end of the line.
fn command_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = line.split(" # ").next().unwrap();
        for (at, _) in line.match_indices("orgform ") {
            let before = line[..at].chars().next_back();
            if before.is_none_or(|c| c == ' ' || c == '/' || c == '`' || c == '(') {
                lines.push(line[at + "orgform ".len()..].to_owned());
            }
        }
        if let Some(at) = line.find("cargo run --release -- ") {
            lines.push(line[at + "cargo run --release -- ".len()..].to_owned());
        }
    }
    lines
}

fn flag_problems(root: &Path, cli: &clap::Command) -> Vec<String> {
    let mut longs = BTreeSet::from(["help".to_owned(), "version".to_owned()]);
    all_longs(cli, &mut longs);
    let mut problems = Vec::new();
    for file in documents(root) {
        let relative = file.strip_prefix(root).unwrap().display().to_string();
        let said = read(&std::fs::read_to_string(&file).unwrap());
        let mut found = Vec::new();
        for span in &said.spans {
            for line in command_lines(span) {
                check_command_line(&line, cli, &mut found);
            }
            // A flag on its own (`--allow-deletes N`) must be a flag of some command.
            if let Some(flag) = span.strip_prefix("--") {
                let name = flag.split([' ', '=', '/']).next().unwrap();
                let known = NOT_ORGFORM_FLAGS.iter().any(|(f, _)| f[2..] == *name);
                let a_name = name.starts_with(|c: char| c.is_ascii_lowercase());
                if a_name && !known && !longs.contains(name) {
                    found.push(format!("`--{name}` is no flag of any orgform command"));
                }
            }
        }
        for line in &said.shell {
            for command in command_lines(line) {
                check_command_line(&command, cli, &mut found);
            }
        }
        problems.extend(found.into_iter().map(|p| format!("{relative}: {p}")));
    }
    problems
}

#[test]
fn every_command_and_flag_the_docs_mention_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cli = orgform::cli::Cli::command();
    let problems = flag_problems(root, &cli);
    assert!(
        problems.is_empty(),
        "the docs mention what the CLI does not have:\n{}",
        problems.join("\n")
    );
    // The check can fail: a renamed flag is found wherever the docs still use the old name.
    let renamed = cli.mut_subcommand("apply", |apply| {
        apply.mut_arg("allow_deletes", |arg| arg.long("allow-destroys"))
    });
    let after_rename = flag_problems(root, &renamed);
    assert!(
        after_rename
            .iter()
            .any(|p| p.contains("has no --allow-deletes")),
        "a renamed flag went unnoticed: {after_rename:?}"
    );
}

#[test]
fn every_documented_exit_code_is_one_the_binary_uses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut documented = BTreeSet::new();
    for file in documents(root) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_table = false;
        for line in text.lines() {
            if line.starts_with("| exit | meaning |") {
                in_table = true;
                continue;
            }
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            if in_table && !line.starts_with("|---") {
                let code = line.split('|').nth(1).unwrap().trim();
                let code: u8 = code
                    .parse()
                    .unwrap_or_else(|_| panic!("{}: `{code}` is no exit code", file.display()));
                documented.insert(code);
            }
        }
    }
    let used: BTreeSet<u8> = orgform::cli::exit::ALL.iter().copied().collect();
    assert_eq!(
        documented, used,
        "the exit code tables and the binary disagree"
    );
}
