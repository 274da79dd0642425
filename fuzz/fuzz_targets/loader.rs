//! Feeds arbitrary bytes to the manifest loader, as both a manifest and `orgform.yaml`.
//! Any panic, stack overflow or hang is a bug: every input must end in a value or diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONFIG: &str = "providers:\n  main:\n    kind: scalekit\n    sandbox: true\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let env = |name: &str| (name == "SET").then(|| "value".to_owned());
    for (config, manifest) in [(CONFIG, text.as_ref()), (text.as_ref(), "organization: a\nname: A\n")] {
        if let Err(errors) = orgform::model::validate_texts(config, &[("fuzz.yaml", manifest)], &env) {
            let _ = orgform::output::render_diagnostics(&errors, orgform::output::Style::plain());
        }
    }
});
