//! The Clerk Backend API client: users, organizations and memberships, read
//! page by page within Clerk's per-instance rate limit.
//!
//! Listings are read by offset with several pages in flight, so a listing
//! costs about (pages ÷ the rate limit), not (pages × latency). Users are
//! listed oldest first (`+created_at`), so people signing up during the run
//! land at the end instead of shifting pages; consecutive user pages
//! overlap by [`OVERLAP`] rows, so up to that many deletions during the
//! read shift no one out of it. Overlapping rows are de-duplicated by id,
//! and the total is reconciled against `/users/count` so a short read is
//! noticed.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use serde::Deserialize;

use super::error;
use crate::http::client::{ClientError, segment};
use crate::http::listing::{Listed, Next, PageCheck};
use crate::http::{ApiClient, ApiError, Bucket, Request, RetryPolicy};
use crate::support::cancel::Cancel;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::{
    Organization, OrganizationDomain, OrganizationMembership, PaginatedList, Role, User,
};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};
use ferry_wire::secret::Secret;

/// Clerk's largest page.
pub const PAGE_SIZE: usize = 500;

/// The most pages an offset listing follows (10,000,000 objects).
pub const MAX_OFFSET_PAGES: usize = 20_000;

/// The most ids one `GET /users?user_id=…` may name (Clerk's limit).
pub const IDS_PER_LISTING: usize = 100;

/// Pages asked for at once (the bucket still paces them).
pub const PAGES_IN_FLIGHT: usize = 8;

/// Rows each user page repeats of the one before: deletions during the
/// read shift later rows towards the start, and this many cannot push a
/// user into the gap between two pages.
pub const OVERLAP: usize = 10;

/// Clerk's API behind its rate limit. Cheap to clone (one shared client
/// and bucket), so a listing's pages can be asked for from tasks of their
/// own ([`spawned`]) that keep to the limit while the step reading them
/// is busy.
#[derive(Debug, Clone)]
pub struct ClerkClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api: ApiClient,
    bucket: Bucket,
}

/// The per-instance limit Clerk documents for a key: `sk_live_` 1000 / 10 s, else 100 / 10 s.
pub fn default_limit(key: &Secret) -> u32 {
    if key.expose().starts_with("sk_live_") {
        1000
    } else {
        100
    }
}

#[derive(Deserialize)]
struct TotalCount {
    total_count: u64,
}

impl ClerkClient {
    /// What this client has sent so far (requests, writes, retries, 429s).
    pub fn traffic(&self) -> crate::http::TrafficCounts {
        self.inner.api.traffic()
    }

    /// What one plan step sent to this API.
    pub fn traffic_of(&self, step: &str) -> crate::http::TrafficCounts {
        self.inner.api.traffic_of(step)
    }

    pub fn new(
        base: &str,
        key: Secret,
        requests_per_10s: Option<u32>,
        retry: RetryPolicy,
    ) -> Result<Self, ClientError> {
        let limit = requests_per_10s.unwrap_or_else(|| default_limit(&key));
        Ok(Self {
            inner: Arc::new(Inner {
                api: ApiClient::new("Clerk", base, key, retry)?,
                bucket: Bucket::new("clerk", limit, Duration::from_secs(10)),
            }),
        })
    }

    /// Lets `cancel` end this client's waits.
    ///
    /// # Panics
    /// On a client already cloned: the cancel is set as it is made.
    pub fn with_cancel(self, cancel: Cancel) -> Self {
        let inner = Arc::try_unwrap(self.inner).expect("with_cancel on a client not yet shared");
        Self {
            inner: Arc::new(Inner {
                api: inner.api.with_cancel(cancel),
                bucket: inner.bucket,
            }),
        }
    }

    fn get(&self, path: impl Into<String>) -> Request<'_> {
        Request::get(path).bucket(&self.inner.bucket)
    }

    pub async fn user_count(&self) -> Result<u64, ApiError> {
        let count: TotalCount = self.inner.api.json(&self.get("/users/count")).await?;
        Ok(count.total_count)
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, ApiError> {
        match self
            .inner
            .api
            .json(&self.get(format!("/users/{}", segment(id))))
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(error) if error::is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The users among `ids` that Clerk still has, by listing
    /// (`GET /users?user_id=…`, [`IDS_PER_LISTING`] ids a request) rather
    /// than one read each. Only users whose id was asked for are kept,
    /// whatever the server answers. An id that begins with `+` or `-`
    /// (which the listing reads as include or exclude) is read on its own.
    pub async fn users_by_id(&self, ids: &[String]) -> Result<Vec<User>, ApiError> {
        let (plain, signed): (Vec<&String>, Vec<&String>) =
            ids.iter().partition(|id| !id.starts_with(['+', '-']));
        let mut found = Vec::with_capacity(ids.len());
        for chunk in plain.chunks(IDS_PER_LISTING) {
            let asked: HashSet<&str> = chunk.iter().map(|id| id.as_str()).collect();
            let mut request = self.get("/users").query("limit", IDS_PER_LISTING);
            for id in chunk {
                request = request.query("user_id", id);
            }
            let users: Vec<User> = self.inner.api.json(&request).await?;
            found.extend(
                users
                    .into_iter()
                    .filter(|user| asked.contains(user.id.as_str())),
            );
        }
        for id in signed {
            found.extend(self.user(id).await?);
        }
        Ok(found)
    }

    /// Every user, page by page.
    pub fn users(&self) -> UserPages<'_> {
        UserPages {
            client: self,
            total: None,
            next_offset: 0,
            in_flight: FuturesOrdered::new(),
            previous_tail: HashSet::new(),
            seen: 0,
            done: false,
        }
    }

    /// A page of users, ahead of other Clerk requests: the users step works
    /// through them as they come, while the other listings read ahead.
    async fn user_page(&self, offset: usize) -> Result<Vec<User>, ApiError> {
        let request = self
            .get("/users")
            .first()
            .query("limit", PAGE_SIZE)
            .query("offset", offset)
            .query("order_by", "+created_at");
        self.inner.api.json(&request).await
    }

    /// Every object of an offset listing (`+created_at` when `ordered`),
    /// each once, with whether the listing proved complete
    /// ([`crate::http::listing`]): the first page says the total, and the
    /// rest are asked for [`PAGES_IN_FLIGHT`] at a time. It stops at a
    /// short page, at the total, at a page that repeats an object (a
    /// server that ignores `offset` is not read 20,000 times), or after
    /// [`MAX_OFFSET_PAGES`].
    async fn every_page<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        ordered: bool,
        id: fn(&T) -> &str,
    ) -> Result<Listed<T>, ApiError> {
        self.every_page_asking(path, ordered, &[], id).await
    }

    /// [`Self::every_page`], each page asked with the `extra` parameters too.
    async fn every_page_asking<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        ordered: bool,
        extra: &[(&str, &str)],
        id: fn(&T) -> &str,
    ) -> Result<Listed<T>, ApiError> {
        let mut items = Vec::new();
        let incomplete = self
            .every_page_to(path, ordered, extra, id, |page| items.extend(page))
            .await?;
        Ok(Listed { items, incomplete })
    }

    /// [`Self::every_page_asking`], each page's new objects handed to
    /// `sink` as it is read rather than held: a listing of any size in
    /// bounded memory. Returns why the listing did not prove complete.
    async fn every_page_to<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        ordered: bool,
        extra: &[(&str, &str)],
        id: fn(&T) -> &str,
        mut sink: impl FnMut(Vec<T>),
    ) -> Result<Option<crate::http::listing::Incomplete>, ApiError> {
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let page = |offset: usize| {
            let (client, path, extra) = (self.clone(), path.to_owned(), extra.clone());
            spawned(async move {
                let mut request = client
                    .get(path)
                    .query("limit", PAGE_SIZE)
                    .query("offset", offset);
                if ordered {
                    request = request.query("order_by", "+created_at");
                }
                for (name, value) in &extra {
                    request = request.query(name, value);
                }
                client.inner.api.json::<PaginatedList<T>>(&request).await
            })
        };
        let first = page(0).await?;
        let stated = first.total_count;
        let total = (stated as usize).min(MAX_OFFSET_PAGES * PAGE_SIZE);
        let mut check = PageCheck::new();
        let mut short = first.data.len() < PAGE_SIZE;
        let (fresh, mut next) = check.page(first.data, id);
        sink(fresh);
        let mut rest = futures_util::stream::iter((PAGE_SIZE..total).step_by(PAGE_SIZE))
            .map(page)
            .buffered(PAGES_IN_FLIGHT);
        while !short
            && next == Next::Go
            && let Some(page) = rest.next().await
        {
            let page = page?;
            short = page.data.len() < PAGE_SIZE;
            let (fresh, go) = check.page(page.data, id);
            sink(fresh);
            next = go;
        }
        check.against_total(stated);
        Ok(check.verdict())
    }

    /// A listing that must be whole: an incomplete one is an error.
    fn whole<T>(&self, path: &str, listed: Listed<T>) -> Result<Vec<T>, ApiError> {
        listed
            .complete()
            .map_err(|why| ApiError::incomplete("Clerk", path, why))
    }

    /// Every organization, oldest first, with whether Clerk's listing
    /// proved complete (organizations number in the thousands at most).
    pub async fn organizations_listing(&self) -> Result<Listed<Organization>, ApiError> {
        self.every_page("/organizations", true, |o: &Organization| &o.id)
            .await
    }

    /// Every organization, oldest first, each with its `members_count`
    /// (how many memberships the memberships step will read: its total).
    pub async fn organizations_with_member_counts(&self) -> Result<Listed<Organization>, ApiError> {
        self.every_page_asking(
            "/organizations",
            true,
            &[("include_members_count", "true")],
            |o: &Organization| &o.id,
        )
        .await
    }

    /// Every organization, oldest first; an incomplete listing is an error.
    pub async fn all_organizations(&self) -> Result<Vec<Organization>, ApiError> {
        let listed = self.organizations_listing().await?;
        self.whole("/organizations", listed)
    }

    /// Every membership of one organization, with whether the listing proved complete.
    pub async fn memberships_listing(
        &self,
        organization_id: &str,
    ) -> Result<Listed<OrganizationMembership>, ApiError> {
        self.every_page(
            &format!("/organizations/{}/memberships", segment(organization_id)),
            true,
            |m: &OrganizationMembership| &m.id,
        )
        .await
    }

    /// Every membership of the instance, oldest first, 500 a page whatever
    /// the organizations, each page handed to `sink` as it is read;
    /// returns why the listing did not prove complete.
    pub async fn instance_memberships_to(
        &self,
        sink: impl FnMut(Vec<OrganizationMembership>),
    ) -> Result<Option<crate::http::listing::Incomplete>, ApiError> {
        self.every_page_to(
            "/organization_memberships",
            true,
            &[],
            |m: &OrganizationMembership| &m.id,
            sink,
        )
        .await
    }

    /// Every membership of the instance; an incomplete listing is an error.
    pub async fn instance_memberships(&self) -> Result<Vec<OrganizationMembership>, ApiError> {
        let listed = self
            .every_page(
                "/organization_memberships",
                true,
                |m: &OrganizationMembership| &m.id,
            )
            .await?;
        self.whole("/organization_memberships", listed)
    }

    /// Every organization role, with its permissions; an incomplete listing is an error.
    pub async fn all_roles(&self) -> Result<Vec<Role>, ApiError> {
        let listed = self
            .every_page("/organization_roles", false, |r: &Role| &r.id)
            .await?;
        self.whole("/organization_roles", listed)
    }

    /// Every organization domain of the instance; an incomplete listing is an error.
    pub async fn all_domains(&self) -> Result<Vec<OrganizationDomain>, ApiError> {
        let listed = self
            .every_page("/organization_domains", false, |d: &OrganizationDomain| {
                &d.id
            })
            .await?;
        self.whole("/organization_domains", listed)
    }

    /// Every enterprise connection (SAML and OIDC), active or not, as a
    /// listing that says whether it proved complete. An instance whose plan
    /// has no enterprise SSO answers 402: it has none.
    pub async fn enterprise_connections_listing(
        &self,
    ) -> Result<Listed<EnterpriseConnection>, ApiError> {
        let listed = self
            .every_page(
                "/enterprise_connections",
                false,
                |c: &EnterpriseConnection| &c.id,
            )
            .await;
        without_the_feature(listed)
    }

    /// Every enterprise connection; an incomplete listing is an error.
    pub async fn all_enterprise_connections(&self) -> Result<Vec<EnterpriseConnection>, ApiError> {
        let listed = self.enterprise_connections_listing().await?;
        self.whole("/enterprise_connections", listed)
    }

    /// The legacy SAML connection behind an enterprise one: the only route
    /// that carries the IdP's signing certificate. `None` when Clerk has
    /// no such connection.
    pub async fn saml_connection(&self, id: &str) -> Result<Option<SamlConnection>, ApiError> {
        match self
            .inner
            .api
            .json(&self.get(format!("/saml_connections/{}", segment(id))))
            .await
        {
            Ok(connection) => Ok(Some(connection)),
            Err(error) if error::is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every SCIM directory; an incomplete listing is an error. Each
    /// directory's bearer token is dropped as the response is read.
    pub async fn all_scim_directories(&self) -> Result<Vec<ScimDirectory>, ApiError> {
        let listed = self
            .every_page("/scim_directories", false, |d: &ScimDirectory| &d.id)
            .await;
        self.whole("/scim_directories", without_the_feature(listed)?)
    }

    /// Every organization invitation of the instance, whatever its status
    /// (a sync revokes in WorkOS what was revoked in Clerk), oldest first,
    /// with whether the listing proved complete.
    pub async fn organization_invitations_listing(
        &self,
    ) -> Result<Listed<OrganizationInvitation>, ApiError> {
        self.every_page(
            "/organization_invitations",
            true,
            |i: &OrganizationInvitation| &i.id,
        )
        .await
    }

    /// Every application invitation with `status`, oldest first. Clerk's
    /// listing is a bare array without a total: it is whole when a short
    /// page ends it and no page repeats an invitation.
    pub async fn application_invitations(
        &self,
        status: &str,
    ) -> Result<Listed<Invitation>, ApiError> {
        let mut check = PageCheck::new();
        let mut all = Vec::new();
        for offset in (0..MAX_OFFSET_PAGES * PAGE_SIZE).step_by(PAGE_SIZE) {
            let request = self
                .get("/invitations")
                .query("status", status)
                .query("limit", PAGE_SIZE)
                .query("offset", offset)
                .query("order_by", "+created_at");
            let page: Vec<Invitation> = self.inner.api.json(&request).await?;
            let short = page.len() < PAGE_SIZE;
            let (fresh, next) = check.page(page, |i: &Invitation| &i.id);
            all.extend(fresh);
            if short || next == Next::Stop {
                break;
            }
        }
        Ok(check.finish(all))
    }

    /// Every membership of one user (a user is in few organizations: one page).
    pub async fn user_memberships(
        &self,
        user_id: &str,
    ) -> Result<Vec<OrganizationMembership>, ApiError> {
        let request = self
            .get(format!(
                "/users/{}/organization_memberships",
                segment(user_id)
            ))
            .query("limit", PAGE_SIZE);
        let page: PaginatedList<OrganizationMembership> = self.inner.api.json(&request).await?;
        Ok(page.data)
    }
}

/// A listing of a paid feature: Clerk answers 402 `payment_required` to an
/// instance whose plan lacks it, which therefore has none of its objects.
fn without_the_feature<T>(listed: Result<Listed<T>, ApiError>) -> Result<Listed<T>, ApiError> {
    match listed {
        Err(error) if error.status() == Some(402) => Ok(Listed {
            items: Vec::new(),
            incomplete: None,
        }),
        other => other,
    }
}

type PageFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<User>, ApiError>> + Send + 'a>>;

/// Pages of users, oldest first, each user once although pages overlap.
/// Once the total is known ([`UserPages::expect`]), up to
/// [`PAGES_IN_FLIGHT`] pages are asked for ahead; pages still come back in
/// order. Only the previous page's last [`OVERLAP`] ids are kept, not
/// every id read.
pub struct UserPages<'a> {
    client: &'a ClerkClient,
    total: Option<u64>,
    next_offset: usize,
    in_flight: FuturesOrdered<PageFuture<'a>>,
    previous_tail: HashSet<String>,
    seen: usize,
    done: bool,
}

impl<'a> UserPages<'a> {
    /// The client the pages come from.
    pub fn client(&self) -> &'a ClerkClient {
        self.client
    }

    /// Reads ahead up to `total` users (Clerk's count); users signing up
    /// meanwhile are still read, a page at a time, after those.
    pub fn expect(&mut self, total: u64) {
        self.total = Some(total);
    }

    fn ask_ahead(&mut self) {
        let stride = PAGE_SIZE - OVERLAP;
        let planned = self.total.unwrap_or(0) as usize;
        while self.in_flight.len() < PAGES_IN_FLIGHT
            && (self.in_flight.is_empty() || self.next_offset < planned)
            && self.next_offset < MAX_OFFSET_PAGES * stride
        {
            let client = self.client.clone();
            let offset = self.next_offset;
            self.in_flight.push_back(Box::pin(spawned(
                async move { client.user_page(offset).await },
            )));
            self.next_offset += stride;
        }
    }

    /// The next page, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<User>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        self.ask_ahead();
        let Some(page) = self.in_flight.next().await else {
            tracing::warn!("Clerk's user listing stops after {MAX_OFFSET_PAGES} full pages");
            self.done = true;
            return Ok(None);
        };
        let page = page?;
        if page.len() < PAGE_SIZE {
            // The end: what is still in flight lies past it.
            self.done = true;
            self.in_flight = FuturesOrdered::new();
        }
        let tail: HashSet<String> = page
            .iter()
            .skip(page.len().saturating_sub(OVERLAP))
            .map(|u| u.id.clone())
            .collect();
        let fresh: Vec<User> = page
            .into_iter()
            .filter(|u| !self.previous_tail.contains(&u.id))
            .collect();
        self.previous_tail = tail;
        self.seen += fresh.len();
        Ok(Some(fresh))
    }

    /// How many distinct users were read so far.
    pub fn seen(&self) -> usize {
        self.seen
    }
}

/// Runs one page's request as a task of its own, so it keeps to the rate
/// limit and goes on while the step that asked for it is busy (hashing a
/// page, committing to the journal) rather than waiting for that step to
/// poll it; the task is aborted if the listing is dropped unread. The
/// task works for the step that asked ([`STEP`]), so the report still
/// counts the page among that step's requests.
///
/// [`STEP`]: crate::http::traffic::STEP
fn spawned<T: Send + 'static>(
    request: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> impl Future<Output = Result<T, ApiError>> + Send + 'static {
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = match crate::http::traffic::STEP.try_with(|step| *step) {
        Ok(step) => tokio::spawn(crate::http::traffic::STEP.scope(step, request)),
        Err(_) => tokio::spawn(request),
    };
    let mut task = AbortOnDrop(task);
    async move {
        match (&mut task.0).await {
            Ok(answer) => answer,
            // Only this guard aborts the task, after which nobody awaits
            // it: what ends here is a panic, passed on as one.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::traffic::STEP;

    #[tokio::test]
    async fn a_page_asked_for_apart_still_works_for_the_step_that_asked() {
        let step_of_the_task = || async { Ok::<_, ApiError>(STEP.try_with(|step| *step).ok()) };
        let within = STEP
            .scope("memberships", async { spawned(step_of_the_task()).await })
            .await;
        assert_eq!(within.ok(), Some(Some("memberships")));
        let outside = spawned(step_of_the_task()).await;
        assert_eq!(outside.ok(), Some(None));
    }
}
