//! The Clerk Backend API client: users, organizations and memberships, read
//! page by page within Clerk's per-instance rate limit.
//!
//! Users are listed oldest first (`+created_at`), so people signing up
//! during the run land at the end instead of shifting pages. Newer instances
//! take a `starting_after` cursor; an instance that refuses it (`error`) is
//! read by offset instead. Pages are de-duplicated by id, and the total is
//! reconciled against `/users/count` so a short read is noticed.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;

use super::error;
use crate::cancel::Cancel;
use crate::http::client::{ClientError, segment};
use crate::http::{ApiClient, ApiError, Bucket, Request, RetryPolicy};
use ferry_wire::clerk::model::{
    Organization, OrganizationDomain, OrganizationMembership, PaginatedList, Role, User,
};
use ferry_wire::secret::Secret;

/// Clerk's largest page.
pub const PAGE_SIZE: usize = 500;

/// The most pages an offset listing follows (10,000,000 objects).
pub const MAX_OFFSET_PAGES: usize = 20_000;

#[derive(Debug)]
pub struct ClerkClient {
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
    pub fn new(
        base: &str,
        key: Secret,
        requests_per_10s: Option<u32>,
        retry: RetryPolicy,
    ) -> Result<Self, ClientError> {
        let limit = requests_per_10s.unwrap_or_else(|| default_limit(&key));
        Ok(Self {
            api: ApiClient::new("Clerk", base, key, retry)?,
            bucket: Bucket::new("clerk", limit, Duration::from_secs(10)),
        })
    }

    /// Lets `cancel` end this client's waits.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.api = self.api.with_cancel(cancel);
        self
    }

    fn get(&self, path: impl Into<String>) -> Request<'_> {
        Request::get(path).bucket(&self.bucket)
    }

    pub async fn user_count(&self) -> Result<u64, ApiError> {
        let count: TotalCount = self.api.json(&self.get("/users/count")).await?;
        Ok(count.total_count)
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, ApiError> {
        match self
            .api
            .json(&self.get(format!("/users/{}", segment(id))))
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(error) if error::is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every user, page by page.
    pub fn users(&self) -> UserPages<'_> {
        UserPages {
            client: self,
            mode: Paging::Cursor(None),
            seen: HashSet::new(),
            done: false,
        }
    }

    /// Every object of an offset listing, page after page (`+created_at`
    /// when `ordered`); stops at a short page, at the total Clerk counted,
    /// or after [`MAX_OFFSET_PAGES`], so a server that keeps answering full
    /// pages cannot keep ferry reading.
    async fn every_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        ordered: bool,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        loop {
            let mut request = self
                .get(path.to_owned())
                .query("limit", PAGE_SIZE)
                .query("offset", all.len());
            if ordered {
                request = request.query("order_by", "+created_at");
            }
            let page: PaginatedList<T> = self.api.json(&request).await?;
            let count = page.data.len();
            all.extend(page.data);
            if count < PAGE_SIZE || all.len() as u64 >= page.total_count {
                return Ok(all);
            }
            if all.len() >= MAX_OFFSET_PAGES * PAGE_SIZE {
                tracing::warn!("Clerk listing {path} stopped after {MAX_OFFSET_PAGES} full pages");
                return Ok(all);
            }
        }
    }

    /// Every organization, oldest first (organizations number in the thousands at most).
    pub async fn all_organizations(&self) -> Result<Vec<Organization>, ApiError> {
        self.every_page("/organizations", true).await
    }

    /// Every membership of one organization.
    pub async fn all_memberships(
        &self,
        organization_id: &str,
    ) -> Result<Vec<OrganizationMembership>, ApiError> {
        self.every_page(
            &format!("/organizations/{}/memberships", segment(organization_id)),
            true,
        )
        .await
    }

    /// Every membership of the instance, in pages of 500.
    pub async fn instance_memberships(&self) -> Result<Vec<OrganizationMembership>, ApiError> {
        self.every_page("/organization_memberships", true).await
    }

    /// Every organization role, with its permissions.
    pub async fn all_roles(&self) -> Result<Vec<Role>, ApiError> {
        self.every_page("/organization_roles", false).await
    }

    /// Every organization domain of the instance.
    pub async fn all_domains(&self) -> Result<Vec<OrganizationDomain>, ApiError> {
        self.every_page("/organization_domains", false).await
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
        let page: PaginatedList<OrganizationMembership> = self.api.json(&request).await?;
        Ok(page.data)
    }
}

#[derive(Debug, Clone)]
enum Paging {
    /// `starting_after` the last id seen (none for the first page).
    Cursor(Option<String>),
    Offset(usize),
}

/// Pages of users; each user comes once even if pages overlap.
pub struct UserPages<'a> {
    client: &'a ClerkClient,
    mode: Paging,
    seen: HashSet<String>,
    done: bool,
}

impl UserPages<'_> {
    /// The next page, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<User>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let base = self
            .client
            .get("/users")
            .query("limit", PAGE_SIZE)
            .query("order_by", "+created_at");
        let request = match &self.mode {
            Paging::Cursor(None) => base,
            Paging::Cursor(Some(after)) => base.query("starting_after", after),
            Paging::Offset(offset) => base.query("offset", offset),
        };
        let page: Vec<User> = match self.client.api.json(&request).await {
            Ok(page) => page,
            Err(error)
                if matches!(self.mode, Paging::Cursor(Some(_)))
                    && error::refused_parameter(&error, "starting_after") =>
            {
                // This instance does not take cursors: continue by offset.
                tracing::info!("Clerk refused starting_after; paging by offset");
                self.mode = Paging::Offset(self.seen.len());
                return Box::pin(self.next_page()).await;
            }
            Err(error) => return Err(error),
        };
        let full = page.len() == PAGE_SIZE;
        self.mode = match &self.mode {
            Paging::Cursor(_) => Paging::Cursor(page.last().map(|u| u.id.clone())),
            Paging::Offset(offset) => Paging::Offset(offset + page.len()),
        };
        self.done = !full;
        let fresh: Vec<User> = page
            .into_iter()
            .filter(|u| self.seen.insert(u.id.clone()))
            .collect();
        Ok(Some(fresh))
    }

    /// How many distinct users were read so far.
    pub fn seen(&self) -> usize {
        self.seen.len()
    }
}
