//! What reviewers read: vendor strings in the PR comment render as the text they are (no
//! emphasis, link, image, HTML, mention or issue reference comes from them), and changes are
//! grouped by the structured address, never by splitting the rendered one.

use pulldown_cmark::{Event, Options, Parser, Tag};
use serde_json::json;

use orgform::plan::Plan;
use orgform::render::render_markdown;

/// A vendor string holding every kind of Markdown a reviewer could be fooled by.
const HOSTILE: &str = "**bold** _em_ @octocat #12 :smile: ![img](https://evil.example/x.png) [link](https://evil.example) <b>html</b> `tick` ``` | pipe ~~strike~~ \\back <!-- c -->";

fn hostile_plan() -> Plan {
    serde_json::from_value(json!({
        "format_version": "1",
        "orgform_version": "0",
        "resource_changes": [
            {
                "address": "org.acme.domain[acme-old.example]", "type": "organization", "provider": "main",
                "action": "delete", "action_reason": "pruned",
                "before": { "name": HOSTILE, "external_id": "acme.domain[acme-old.example]" },
                "after": null, "changed_paths": []
            },
            {
                "address": "org.acme", "type": "organization", "provider": "main",
                "action": "update", "action_reason": "fields_differ",
                "before": { "name": "Acme" }, "after": { "name": "Acme Corp" }, "changed_paths": ["name"]
            },
            {
                "address": "org.x`|`y", "type": "organization", "provider": "main",
                "action": "delete", "action_reason": "pruned",
                "before": { "name": "X" }, "after": null, "changed_paths": []
            },
            {
                "address": "org.ping", "type": "organization", "provider": "main",
                "action": "manual", "action_reason": "read_only",
                "before": { "type": HOSTILE }, "after": { "type": "PAID" }, "changed_paths": ["type"],
                "message": format!("type is `{HOSTILE}` at the vendor")
            }
        ],
        "summary": { "create": 0, "update": 1, "delete": 2, "manual": 1 },
        "safety": { "violations": [
            { "rule": "max_deletes", "message": format!("deletes {HOSTILE}"), "allow_with": "--allow-deletes 2" }
        ] },
        "warnings": [ { "kind": "other", "address": "org.acme", "message": HOSTILE } ]
    }))
    .unwrap()
}

/// The HTML orgform itself writes into the comment (collapsible sections).
fn own_html(html: &str) -> bool {
    let rest = html
        .trim()
        .trim_start_matches("<details><summary><code>")
        .trim_start_matches("</details>");
    !rest.contains("<b>") && !rest.contains("<!--") && !rest.contains("<img")
}

#[test]
fn vendor_strings_render_as_text_in_the_pr_comment() {
    let comment = render_markdown(&hostile_plan());
    let mut text = String::new();
    let mut codes = Vec::new();
    let mut formatted = Vec::new();
    let mut depth = 0;
    // Inside a fenced block nothing is rendered as Markdown, nor mentioned.
    let mut in_block = false;
    for event in Parser::new_ext(
        &comment,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::Strikethrough) => {
                panic!("a link, image or strikethrough in:\n{comment}")
            }
            Event::Start(Tag::CodeBlock(_)) => in_block = true,
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_block = false,
            Event::Text(_) if in_block => {}
            Event::Start(Tag::Emphasis | Tag::Strong) => depth += 1,
            Event::End(pulldown_cmark::TagEnd::Emphasis | pulldown_cmark::TagEnd::Strong) => {
                depth -= 1
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                assert!(own_html(&html), "vendor HTML `{html}` in:\n{comment}");
                text.push_str(&html);
            }
            Event::Text(t) => {
                if depth > 0 {
                    formatted.push(t.to_string());
                }
                text.push_str(&t);
            }
            Event::Code(c) => codes.push(c.to_string()),
            _ => {}
        }
    }
    // Only orgform's own emphasis: the summary line and rule names.
    for f in &formatted {
        assert!(
            !f.contains("bold") && !f.contains("em"),
            "`{f}` was emphasised in:\n{comment}"
        );
    }
    // Mentions, issue references and emoji are broken by an invisible space.
    assert!(
        !text.contains("@octocat") && !text.contains("#12") && !text.contains(":smile"),
        "{text}"
    );
    let visible = text.replace('\u{200B}', "");
    assert_eq!(
        visible.matches(HOSTILE).count(),
        3,
        "message, violation and warning:\n{visible}"
    );
    // Addresses are whole code spans, whatever backticks and pipes they hold, and a pruned
    // organization whose external id looks like a child address is its own organization.
    for address in ["org.ping", "org.acme.domain[acme-old.example]", "org.x`|`y"] {
        assert!(
            codes.iter().any(|c| c == address),
            "{address} not a code span: {codes:?}\n{comment}"
        );
    }
    assert!(
        comment.contains("<code>org.acme.domain[acme-old.example]</code>: 1 delete"),
        "{comment}"
    );
    assert!(
        comment.contains("<code>org.acme</code>: 1 update</summary>"),
        "{comment}"
    );
}

/// The JUnit report groups by the typed address too: the pruned organization is its own test
/// case, and `org.acme` holds only its own change.
#[test]
fn the_junit_report_groups_by_the_typed_address() {
    let plan = hostile_plan();
    let mut organizations: Vec<(String, String)> = Vec::new();
    for change in plan.actionable() {
        let address = change.organization_address();
        if !organizations.iter().any(|(_, a)| *a == address) {
            organizations.push(("main".into(), address));
        }
    }
    let facts = orgform::report::RunFacts {
        plan: Some(&plan),
        organizations,
        failure: None,
        requests: Default::default(),
        refresh_seconds: 0.0,
        finished_at: 0.0,
    };
    let xml = orgform::report::render(orgform::report::ReportKind::Junit, &facts, None);
    let document = roxmltree::Document::parse(&xml).unwrap();
    let message = |name: &str| {
        document
            .descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .and_then(|case| case.children().find(|c| c.has_tag_name("failure")))
            .and_then(|failure| failure.attribute("message").map(str::to_owned))
            .unwrap_or_else(|| panic!("no failing case {name} in {xml}"))
    };
    assert!(
        message("org.acme").starts_with("0 to add, 1 to change, 0 to destroy"),
        "{xml}"
    );
    assert!(
        message("org.acme.domain[acme-old.example]")
            .starts_with("0 to add, 0 to change, 1 to destroy"),
        "{xml}"
    );
}
