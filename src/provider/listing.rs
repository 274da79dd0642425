//! The listing accumulator every paginated read passes through, whatever the vendor's paging
//! protocol (Nirvana cursors, Scalekit page tokens and page numbers, PingOne HAL links).
//!
//! A listing is evidence that an object does *not* exist, and orgform acts on that evidence:
//! it creates what a listing lacks and prunes what a manifest lacks. So a listing counts as
//! complete only when the vendor's answers are consistent: pagination ended normally, no item
//! id appeared twice, no page link repeated, the page count stayed under a bound, no page held
//! more than was asked for, and the total the vendor reports (where it reports one) matches
//! what was seen. Anything else is an [`Inconsistency`], and refresh fails on it.

use std::collections::HashSet;

use super::error::ApiError;
use super::http::HttpClient;

/// More pages than this (a million items at 100 a page) is a vendor that never ends a listing.
pub const MAX_PAGES: usize = 10_000;

/// An item of a listing, with the id that must be unique in it.
pub trait Listed {
    fn listing_id(&self) -> &str;
}

/// What made a listing untrustworthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    #[error("item id `{id}` appeared twice (again on page {page})")]
    RepeatedId { id: String, page: usize },
    #[error("page {page} pointed at the next page with a link already followed (`{link}`)")]
    RepeatedLink { link: String, page: usize },
    #[error("the listing went on for more than {bound} pages")]
    TooManyPages { bound: usize },
    #[error("page {page} held {held} items, more than the {asked} asked for")]
    OversizedPage {
        page: usize,
        held: usize,
        asked: usize,
    },
    #[error("the reported total changed from {before} to {now} on page {page}")]
    TotalChanged { before: u64, now: u64, page: usize },
    #[error("the vendor reported {reported} items in all but the listing ended after {seen}")]
    TotalMismatch { reported: u64, seen: usize },
}

/// One listing in progress.
#[derive(Debug)]
pub struct Listing<T> {
    page_size: usize,
    max_pages: usize,
    items: Vec<T>,
    ids: HashSet<String>,
    links: HashSet<String>,
    pages: usize,
    total: Option<u64>,
    last_page_start: usize,
}

impl<T: Listed> Listing<T> {
    /// A listing whose pages were asked to hold at most `page_size` items ([`UNASKED`]: no
    /// size was asked, so a page of any size is the vendor's own).
    pub fn new(page_size: usize) -> Self {
        Self::with_bound(page_size, MAX_PAGES)
    }

    pub fn with_bound(page_size: usize, max_pages: usize) -> Self {
        Self {
            page_size,
            max_pages,
            items: Vec::new(),
            ids: HashSet::new(),
            links: HashSet::new(),
            pages: 0,
            total: None,
            last_page_start: 0,
        }
    }

    /// Takes one page: its items, the link to the next page as the vendor gave it (`None` or
    /// empty: the vendor says the list ends here), and the total it reported, if any.
    /// Returns the link to follow next, or `None` when the listing ended normally.
    pub fn page(
        &mut self,
        items: Vec<T>,
        next: Option<String>,
        total: Option<u64>,
    ) -> Result<Option<String>, Inconsistency> {
        self.pages += 1;
        let page = self.pages;
        if page > self.max_pages {
            return Err(Inconsistency::TooManyPages {
                bound: self.max_pages,
            });
        }
        if items.len() > self.page_size {
            return Err(Inconsistency::OversizedPage {
                page,
                held: items.len(),
                asked: self.page_size,
            });
        }
        match (self.total, total) {
            (Some(before), Some(now)) if before != now => {
                return Err(Inconsistency::TotalChanged { before, now, page });
            }
            (None, Some(now)) => self.total = Some(now),
            _ => {}
        }
        for item in &items {
            if !self.ids.insert(item.listing_id().to_owned()) {
                return Err(Inconsistency::RepeatedId {
                    id: item.listing_id().to_owned(),
                    page,
                });
            }
        }
        let empty = items.is_empty();
        self.last_page_start = self.items.len();
        self.items.extend(items);
        // An empty page ends a listing whatever its link says (the vendors' own clients stop
        // there); the total, where reported, says whether that end is believable.
        match next.filter(|n| !n.is_empty() && !empty) {
            None => Ok(None),
            Some(link) => {
                if !self.links.insert(link.clone()) {
                    return Err(Inconsistency::RepeatedLink { link, page });
                }
                Ok(Some(link))
            }
        }
    }

    /// The items of the page taken last (already checked).
    pub fn last_page(&self) -> &[T] {
        &self.items[self.last_page_start..]
    }

    /// Whether the vendor reported a total to check the listing against. Without one, an end
    /// that came too early cannot be told from a real end: creates then look before they write.
    pub fn has_total(&self) -> bool {
        self.total.is_some()
    }

    /// The items, once the listing ended normally: checked against the reported total.
    pub fn finish(self) -> Result<Vec<T>, Inconsistency> {
        if let Some(reported) = self.total
            && reported != self.items.len() as u64
        {
            return Err(Inconsistency::TotalMismatch {
                reported,
                seen: self.items.len(),
            });
        }
        Ok(self.items)
    }
}

/// A listing read to its end: its items, and whether the vendor reported a total to check it
/// against (without one, an end that came too early cannot be told from a real end).
pub struct Complete<T> {
    pub items: Vec<T>,
    pub had_total: bool,
}

/// One page as a vendor file reads it: the items, the link to the next page as given, and the
/// total the vendor reported.
pub type Page<T> = (Vec<T>, Option<String>, Option<u64>);

/// The page size of a list whose requests ask none (it documents no such parameter).
pub const UNASKED: usize = usize::MAX;

/// Reads a paginated list through the accumulator: `fetch` reads the page a link points at
/// (`None`: the first page) and each page, once checked, goes to `on_page` with the total the
/// vendor reports (if it does). Vendor files only
/// say how to read one page; every listing ends here, checked the same way.
pub async fn follow<T, F, Fut>(
    client: &HttpClient,
    path: &str,
    resource: &str,
    page_size: usize,
    mut fetch: F,
    on_page: &mut dyn FnMut(&[T], Option<u64>),
) -> Result<Complete<T>, ApiError>
where
    T: Listed,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    let mut listing = Listing::new(page_size);
    let mut link = None;
    loop {
        let (items, next, total) = fetch(link).await?;
        link = listing
            .page(items, next, total)
            .map_err(|e| client.inconsistent(path, resource, e))?;
        on_page(listing.last_page(), listing.total);
        if link.is_none() {
            break;
        }
    }
    let had_total = listing.has_total();
    let items = listing
        .finish()
        .map_err(|e| client.inconsistent(path, resource, e))?;
    Ok(Complete { items, had_total })
}

/// Organizations are listed by vendor id: one id twice in a listing is an inconsistent answer.
impl Listed for crate::model::LiveOrganization {
    fn listing_id(&self) -> &str {
        &self.id
    }
}

/// Members are listed by user id: one user twice in an organization is an inconsistent answer.
impl Listed for crate::model::LiveMember {
    fn listing_id(&self) -> &str {
        &self.user_id
    }
}

impl Listed for crate::model::LiveDomain {
    fn listing_id(&self) -> &str {
        &self.id
    }
}

impl Listed for crate::model::LiveLicense {
    fn listing_id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Listed for &'static str {
        fn listing_id(&self) -> &str {
            self
        }
    }

    #[test]
    fn a_consistent_listing_yields_its_items_in_order() {
        let mut listing = Listing::new(2);
        assert_eq!(
            listing.page(vec!["a", "b"], Some("c1".into()), Some(3)),
            Ok(Some("c1".into()))
        );
        assert_eq!(listing.last_page(), ["a", "b"]);
        assert_eq!(listing.page(vec!["c"], None, Some(3)), Ok(None));
        assert_eq!(listing.last_page(), ["c"]);
        assert_eq!(listing.finish(), Ok(vec!["a", "b", "c"]));
    }

    #[test]
    fn a_repeated_item_is_refused() {
        let mut listing = Listing::new(2);
        listing
            .page(vec!["a", "b"], Some("c1".into()), None)
            .unwrap();
        assert_eq!(
            listing.page(vec!["b"], None, None),
            Err(Inconsistency::RepeatedId {
                id: "b".into(),
                page: 2
            })
        );
    }

    #[test]
    fn a_repeated_link_is_refused() {
        let mut listing = Listing::new(1);
        listing.page(vec!["a"], Some("x".into()), None).unwrap();
        assert_eq!(
            listing.page(vec!["b"], Some("x".into()), None),
            Err(Inconsistency::RepeatedLink {
                link: "x".into(),
                page: 2
            })
        );
    }

    #[test]
    fn an_early_end_disagreeing_with_the_total_is_refused() {
        let mut listing = Listing::new(2);
        listing.page(vec!["a", "b"], None, Some(250)).unwrap();
        assert_eq!(
            listing.finish(),
            Err(Inconsistency::TotalMismatch {
                reported: 250,
                seen: 2
            })
        );
        let mut listing = Listing::new(2);
        listing
            .page(vec!["a", "b"], Some("n".into()), Some(4))
            .unwrap();
        assert_eq!(
            listing.page(vec!["c"], None, Some(3)),
            Err(Inconsistency::TotalChanged {
                before: 4,
                now: 3,
                page: 2
            })
        );
    }

    #[test]
    fn oversized_pages_and_endless_listings_are_refused() {
        let mut listing = Listing::new(1);
        assert!(matches!(
            listing.page(vec!["a", "b"], None, None),
            Err(Inconsistency::OversizedPage { held: 2, .. })
        ));
        let mut listing = Listing::with_bound(1, 3);
        for (n, id) in ["a", "b", "c"].into_iter().enumerate() {
            listing.page(vec![id], Some(format!("p{n}")), None).unwrap();
        }
        assert_eq!(
            listing.page(vec!["d"], Some("p9".into()), None),
            Err(Inconsistency::TooManyPages { bound: 3 })
        );
    }

    #[test]
    fn an_empty_page_ends_the_listing_and_the_total_judges_it() {
        let mut listing: Listing<&str> = Listing::new(2);
        assert_eq!(listing.page(vec![], Some("more".into()), Some(0)), Ok(None));
        assert_eq!(listing.finish(), Ok(vec![]));
    }
}
