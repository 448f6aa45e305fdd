//! `ferry run --reconcile`: the target's own account of what it holds, read
//! in bulk, so the steps check the journal against WorkOS instead of
//! believing it.
//!
//! The journal is a cache of what ferry did. After someone deleted objects
//! in WorkOS, or an environment lost its state, the journal's ids point at
//! nothing, or at objects that now belong to someone else (ids can be
//! handed out again). With `--reconcile` the users and organizations steps
//! first list WorkOS into a [`Listing`] (one read per page of 100, never
//! one per record), then judge every journal record with [`standing`]
//! before deciding:
//! - the object is there and is this record's (its external_id says so):
//!   the journal is right; a difference from what ferry wrote means it was
//!   changed outside ferry, which is reported and left alone unless the
//!   plan's `on_conflict` says `update`;
//! - the object is gone: it is made again;
//! - the id now belongs to someone else: it is never written to, and the
//!   record is settled as if the journal had nothing (found again by its
//!   external_id or email in the listing, or made again).
//!
//! Memberships need no listing here: the memberships step reads every
//! organization's memberships on every run. TOTP factors are read for the
//! users that should have one.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::HashMap;

use crate::mapping::claims::email_identity;
use crate::workos::client::{WorkosClient, WorkosError};
use ferry_wire::workos::model::{List, Organization, User};

/// An object of a WorkOS listing.
pub trait Listed {
    fn id(&self) -> &str;
    fn external_id(&self) -> Option<&str>;
    /// The email a second index is kept by (users only).
    fn email(&self) -> Option<&str> {
        None
    }
}

impl Listed for User {
    fn id(&self) -> &str {
        &self.id
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn email(&self) -> Option<&str> {
        Some(&self.email)
    }
}

impl Listed for Organization {
    fn id(&self) -> &str {
        &self.id
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
}

/// Every object of one kind that WorkOS listed, by id, external_id and email.
#[derive(Debug)]
pub struct Listing<T> {
    by_id: HashMap<String, T>,
    by_external_id: HashMap<String, String>,
    by_email: HashMap<String, String>,
    /// Pages read to make it.
    pub pages: u64,
}

impl<T: Listed> Listing<T> {
    pub fn new(items: impl IntoIterator<Item = T>, pages: u64) -> Self {
        let mut listing = Self {
            by_id: HashMap::new(),
            by_external_id: HashMap::new(),
            by_email: HashMap::new(),
            pages,
        };
        for item in items {
            let id = item.id().to_owned();
            if let Some(external_id) = item.external_id() {
                listing
                    .by_external_id
                    .insert(external_id.to_owned(), id.clone());
            }
            if let Some(email) = item.email() {
                listing.by_email.insert(email_identity(email), id.clone());
            }
            listing.by_id.insert(id, item);
        }
        listing
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The objects by id, the indexes dropped.
    pub fn into_by_id(self) -> HashMap<String, T> {
        self.by_id
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.by_id.get(id)
    }

    pub fn by_external_id(&self, external_id: &str) -> Option<&T> {
        self.by_external_id
            .get(external_id)
            .and_then(|id| self.by_id.get(id))
    }

    pub fn by_email(&self, email: &str) -> Option<&T> {
        self.by_email
            .get(&email_identity(email))
            .and_then(|id| self.by_id.get(id))
    }
}

/// What the target says of the object a journal record names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Standing<'a, T> {
    /// Nothing was listed (a run without `--reconcile`): the journal is believed.
    Believed,
    /// The object is there and is this record's.
    Ours(&'a T),
    /// No object has the journal's id any more.
    Gone,
    /// The journal's id now names someone else's object: never write to it.
    Someone(&'a T),
}

impl<T: Listed> Standing<'_, T> {
    /// Whether the journal's id may be used (written to, or linked to).
    pub fn trusted(&self) -> bool {
        matches!(self, Self::Believed | Self::Ours(_))
    }

    /// Why the journal's belief was set aside, for the record's reason.
    pub fn why_stale(&self, what: &str, target_id: &str) -> Option<Reason> {
        match self {
            Self::Believed | Self::Ours(_) => None,
            Self::Gone => Some(Reason::new(
                ReasonCode::TargetGone,
                format!("the journal's WorkOS {what} {target_id} is gone from WorkOS"),
            )),
            Self::Someone(other) => Some(Reason::new(
                ReasonCode::RelinkedOutsideFerry,
                format!(
                    "the journal's WorkOS {what} {target_id} now belongs to {}",
                    match other.external_id() {
                        Some(_) => carried(other.external_id()),
                        None => "an object without an external_id".to_owned(),
                    }
                ),
            )),
        }
    }
}

/// Why ferry did not write an object the journal names, outside
/// `--reconcile` (which lists WorkOS and says [`Standing::why_stale`]):
/// WorkOS, read just now, gives it another external_id.
pub fn relinked(what: &str, target_id: &str, now: Option<&str>) -> Reason {
    Reason::new(
        ReasonCode::RelinkedOutsideFerry,
        format!(
            "relinked_outside_ferry: the journal's WorkOS {what} {target_id} now carries {}; ferry leaves it alone, and `--reconcile` settles this person",
            carried(now)
        ),
    )
}

/// What external_id an object carries, in words, safe to print.
pub fn carried(external_id: Option<&str>) -> String {
    external_id.map_or("no external_id".to_owned(), |e| {
        format!("external_id `{}`", ferry_wire::inert::printable(e))
    })
}

/// Judges the journal's `target_id` for a record whose object should carry
/// `external_id`, against the listing (when there is one).
pub fn standing<'a, T: Listed>(
    listing: Option<&'a Listing<T>>,
    target_id: &str,
    external_id: &str,
) -> Standing<'a, T> {
    let Some(listing) = listing else {
        return Standing::Believed;
    };
    match listing.get(target_id) {
        None => Standing::Gone,
        Some(object) if object.external_id() == Some(external_id) => Standing::Ours(object),
        Some(object) => Standing::Someone(object),
    }
}

/// Every page of a cursor listing, through the listing check
/// ([`crate::http::listing`]): a server that hands out a cursor it handed
/// out before, repeats an object, offers a page after an empty one, or
/// goes past [`crate::http::listing::MAX_PAGES`] makes the listing an
/// error, never a partial answer taken as whole.
pub async fn every_page<T, F, Fut>(
    page: F,
    id: fn(&T) -> &str,
) -> Result<(Vec<T>, u64), WorkosError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>, WorkosError>>,
{
    walk(&page, None, id, |_: &T| false, |_: &T| false).await
}

/// [`crate::workos::client::walk_cursor`], named as a reconcile listing.
async fn walk<T, F, Fut>(
    page: &F,
    after: Option<String>,
    id: fn(&T) -> &str,
    past: impl Fn(&T) -> bool,
    at_end: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, u64), WorkosError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>, WorkosError>>,
{
    crate::workos::client::walk_cursor("a WorkOS listing", page, after, id, past, at_end).await
}

/// Segments a listing is walked in at once (the read bucket still paces them).
pub const SEGMENTS_IN_FLIGHT: usize = 16;

/// Objects a segment is expected to hold: one page.
const SEGMENT: usize = 100;

/// The ids that cut a listing into segments of about a page each: every
/// [`SEGMENT`]th of the ids ferry knows are there, in id order.
pub fn anchors<'a>(known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<&str> = known.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .skip(SEGMENT - 1)
        .step_by(SEGMENT)
        .map(str::to_owned)
        .collect()
}

/// Every page of an ascending cursor listing, walked as segments at once.
/// WorkOS cursors compare ids, so `after = anchor` starts a segment
/// anywhere: segment k holds the ids in (anchor k-1, anchor k], the last
/// everything after the last anchor. Each segment follows its cursor until
/// it passes its end, so objects ferry does not know of are found too; with
/// anchors a page apart, a listing costs about one round trip per
/// [`SEGMENTS_IN_FLIGHT`] pages instead of one per page.
pub async fn every_segment<T, F, Fut>(
    anchors: &[String],
    page: F,
) -> Result<(Vec<T>, u64), WorkosError>
where
    T: Listed,
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>, WorkosError>>,
{
    use futures_util::StreamExt;
    let starts = std::iter::once(None).chain(anchors.iter().cloned().map(Some));
    let ends = anchors.iter().map(Some).chain(std::iter::once(None));
    let page = &page;
    let walks = starts.zip(ends).map(|(start, end)| {
        walk(
            page,
            start,
            <T as Listed>::id,
            move |item: &T| end.is_some_and(|end| item.id() > end.as_str()),
            move |item: &T| end.is_some_and(|end| item.id() == end.as_str()),
        )
    });
    let mut segments = futures_util::stream::iter(walks).buffered(SEGMENTS_IN_FLIGHT);
    let mut all = Vec::new();
    let mut pages = 0;
    while let Some(segment) = segments.next().await {
        let (held, walked) = segment?;
        all.extend(held);
        pages += walked;
    }
    Ok((all, pages))
}

/// Every WorkOS user, in segments cut at `known` ids (the users the
/// journal says are there); with none known, page after page.
pub async fn list_users<'a>(
    workos: &WorkosClient,
    known: impl IntoIterator<Item = &'a str>,
) -> Result<Listing<User>, WorkosError> {
    let anchors = anchors(known);
    let (users, pages) = every_segment(&anchors, |after| async move {
        workos.users_page(after.as_deref()).await
    })
    .await?;
    Ok(Listing::new(users, pages))
}

/// Every WorkOS organization, page by page.
pub async fn list_organizations(
    workos: &WorkosClient,
) -> Result<Listing<Organization>, WorkosError> {
    let (organizations, pages) = every_page(
        |after| async move { workos.organizations_page(after.as_deref()).await },
        <Organization as Listed>::id,
    )
    .await?;
    Ok(Listing::new(organizations, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str, external_id: Option<&str>) -> Organization {
        Organization {
            object: "organization".into(),
            id: id.into(),
            name: "Acme".into(),
            domains: Vec::new(),
            metadata: Default::default(),
            external_id: external_id.map(str::to_owned),
            allow_profiles_outside_organization: false,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn without_a_listing_the_journal_is_believed() {
        assert_eq!(
            standing::<Organization>(None, "org_1", "org_clerk_1"),
            Standing::Believed
        );
    }

    #[test]
    fn a_listing_judges_the_journal_id() {
        let listing = Listing::new(
            [
                org("org_1", Some("org_clerk_1")),
                org("org_2", Some("org_clerk_9")),
                org("org_3", None),
            ],
            1,
        );
        let judge = |id| standing(Some(&listing), id, "org_clerk_1");
        assert!(matches!(judge("org_1"), Standing::Ours(o) if o.id == "org_1"));
        assert_eq!(judge("org_404"), Standing::Gone);
        assert!(matches!(judge("org_2"), Standing::Someone(o) if o.id == "org_2"));
        assert!(
            matches!(judge("org_3"), Standing::Someone(_)),
            "no external_id is not ours"
        );
        assert!(!judge("org_2").trusted() && !judge("org_404").trusted());
        assert_eq!(
            judge("org_2").why_stale("organization", "org_2").unwrap(),
            Reason::new(
                ReasonCode::RelinkedOutsideFerry,
                "the journal's WorkOS organization org_2 now belongs to external_id `org_clerk_9`"
            )
        );
        assert_eq!(
            listing.by_external_id("org_clerk_9").map(|o| o.id.as_str()),
            Some("org_2")
        );
    }

    #[tokio::test]
    async fn a_cursor_that_comes_back_is_an_incomplete_listing_not_a_partial_one() {
        // A, B, A, B, …: a server that would keep ferry reading forever.
        let calls = std::cell::Cell::new(0);
        let error = every_page(
            |_| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                let cursor = if n % 2 == 0 { "b" } else { "a" };
                async move {
                    Ok(List {
                        object: "list".into(),
                        data: vec![org(&format!("org_{n}"), None)],
                        list_metadata: ferry_wire::workos::model::ListMetadata {
                            before: None,
                            after: Some(cursor.into()),
                        },
                    })
                }
            },
            <Organization as Listed>::id,
        )
        .await
        .unwrap_err();
        assert_eq!(calls.get(), 3);
        assert!(
            matches!(
                &error.error.kind,
                crate::http::ApiErrorKind::Incomplete(
                    crate::http::listing::Incomplete::RepeatedCursor { page: 3 }
                )
            ),
            "{error}"
        );
    }
}
