//! Manifest problems as miette diagnostics, collected so that one run reports all of them.

use std::fmt;

use miette::{LabeledSpan, SourceSpan};

use super::source::{IndexedSource, Sources};
use super::span::Span;

/// One problem found in a workspace: a message, where it is, and how to fix it.
#[derive(Debug, Clone)]
pub struct ManifestError {
    code: &'static str,
    message: String,
    location: Option<(Span, String)>,
    help: Option<String>,
    /// Other places that explain this one (e.g. the first definition of a duplicate).
    related: Vec<ManifestError>,
    /// Filled in when the error is pushed into [`Diagnostics`], which knows the file texts.
    source: Option<IndexedSource>,
}

impl ManifestError {
    /// `code` is a stable, greppable identifier such as `unknown_field`; it is shown as
    /// `orgform::unknown_field`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: None,
            help: None,
            related: Vec::new(),
            source: None,
        }
    }

    /// Points the error at `span` with a short label saying what is wrong there.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.location = Some((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(self, help: Option<String>) -> Self {
        match help {
            Some(help) => self.help(help),
            None => self,
        }
    }

    /// Adds a second place, possibly in another file, shown below the error.
    pub fn also_at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related
            .push(ManifestError::new(self.code, message).at(span, "here"));
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The label at the location, if there is one.
    pub fn label(&self) -> Option<&str> {
        self.location.as_ref().map(|(_, label)| label.as_str())
    }

    /// How to fix it.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub fn span(&self) -> Option<Span> {
        self.location.as_ref().map(|(span, _)| *span)
    }

    fn attach_sources(&mut self, sources: &Sources) {
        if let Some((span, _)) = &self.location {
            self.source = Some(sources.named(span.file));
        }
        for related in &mut self.related {
            related.attach_sources(sources);
        }
    }

    fn sort_key(&self, sources: &Sources) -> (String, usize) {
        match &self.location {
            Some((span, _)) => (sources.path(span.file).display().to_string(), span.offset()),
            None => (String::new(), 0),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestError {}

impl miette::Diagnostic for ManifestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("orgform::{}", self.code)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, label) = self.location.as_ref()?;
        self.source.as_ref()?;
        let labeled = LabeledSpan::new_primary_with_span(
            Some(label.clone()),
            SourceSpan::new(span.offset().into(), span.len()),
        );
        Some(Box::new(std::iter::once(labeled)))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// Collects every problem found while loading and validating a workspace.
#[derive(Debug, Default)]
pub struct Diagnostics {
    errors: Vec<ManifestError>,
}

impl Diagnostics {
    pub fn push(&mut self, error: ManifestError) {
        self.errors.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Takes over the errors collected elsewhere (e.g. while decoding one file on its own).
    pub fn append(&mut self, mut other: Diagnostics) {
        self.errors.append(&mut other.errors);
    }

    /// Adds `label` at `span` to every error reported since the first `since`, whose place is
    /// in another file than `file` (a template's field, reported for the document using it).
    pub fn point_back_since(&mut self, since: usize, file: super::FileId, span: Span, label: &str) {
        for error in self.errors.iter_mut().skip(since) {
            if error
                .location
                .as_ref()
                .is_some_and(|(at, _)| at.file != file)
            {
                error
                    .related
                    .push(ManifestError::new(error.code, label.to_owned()).at(span, "here"));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The errors in file order, each able to quote its source.
    pub fn finish(self, sources: &Sources) -> Vec<ManifestError> {
        let mut errors = self.errors;
        for error in &mut errors {
            error.attach_sources(sources);
        }
        errors.sort_by_cached_key(|e| e.sort_key(sources));
        errors
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
