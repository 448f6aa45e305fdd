//! The filters of Clerk's `GET /v1/users` and `GET /v1/users/count`, as the
//! Backend API spec documents them, so a query ferry (or a delta sync)
//! relies on selects in the rehearsal what it selects in production:
//! exact identifiers (`email_address`, `phone_number`, `external_id`,
//! `username`, `user_id`, `web3_wallet`, `organization_id`, `provider` with
//! `provider_user_id`), partial matches (`query`, `email_address_query`,
//! `phone_number_query`, `username_query`, `name_query`), `banned`, and the
//! time windows (`created_at_*`, `last_active_at_*`, `last_sign_in_at_*`,
//! Unix milliseconds; `before` is exclusive, `after` too). Repeated values of
//! one parameter are alternatives; different parameters must all hold.

use std::collections::HashSet;

use crate::clerk_store::ClerkStore;
use crate::query::QueryParams;
use ferry_wire::clerk::model::User;

/// The most `user_id` values one query may name, as the spec documents.
const MAX_USER_IDS: usize = 100;

/// A parsed filter; `Err` names a parameter whose value is not valid.
#[derive(Debug, Default)]
pub struct UserFilter {
    emails: Vec<String>,
    phones: Vec<String>,
    external_ids: Vec<String>,
    usernames: Vec<String>,
    user_ids: Vec<String>,
    /// `user_id=-…`: ids left out of the result.
    excluded_user_ids: Vec<String>,
    wallets: Vec<String>,
    organization_members: Option<HashSet<String>>,
    providers: Vec<String>,
    provider_user_ids: Vec<String>,
    query: Option<String>,
    email_query: Option<String>,
    phone_query: Option<String>,
    username_query: Option<String>,
    name_query: Option<String>,
    banned: Option<bool>,
    windows: Vec<(Field, Bound, i64)>,
}

/// The timestamp a window applies to (`created_at`, `last_active_at`, `last_sign_in_at`).
#[derive(Debug, Clone, Copy)]
enum Field {
    Created,
    LastActive,
    LastSignIn,
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    Before,
    After,
}

const WINDOWS: &[(&str, Field, Bound)] = &[
    ("created_at_before", Field::Created, Bound::Before),
    ("created_at_after", Field::Created, Bound::After),
    ("last_active_at_before", Field::LastActive, Bound::Before),
    ("last_active_at_after", Field::LastActive, Bound::After),
    // Deprecated alias of last_active_at_after.
    ("last_active_at_since", Field::LastActive, Bound::After),
    ("last_sign_in_at_before", Field::LastSignIn, Bound::Before),
    ("last_sign_in_at_after", Field::LastSignIn, Bound::After),
];

fn lower(values: Vec<String>) -> Vec<String> {
    values.into_iter().map(|v| v.to_lowercase()).collect()
}

fn contains(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|h| h.to_lowercase().contains(needle))
}

impl UserFilter {
    /// `None` when the query filters nothing (every user is selected).
    pub fn parse(params: &QueryParams, store: &ClerkStore) -> Result<Option<Self>, &'static str> {
        let text = |key: &str| {
            params
                .get(key)
                .map(str::to_lowercase)
                .filter(|t| !t.is_empty())
        };
        let organizations = params.all("organization_id");
        // `+id` includes, `-id` excludes, a bare id includes; at most 100.
        let named = params.all("user_id");
        if named.len() > MAX_USER_IDS {
            return Err("user_id");
        }
        let (excluded, included): (Vec<String>, Vec<String>) =
            named.into_iter().partition(|id| id.starts_with('-'));
        let strip = |ids: Vec<String>| -> Vec<String> {
            ids.into_iter()
                .map(|id| id.strip_prefix(['+', '-']).unwrap_or(&id).to_owned())
                .collect()
        };
        let mut filter = Self {
            emails: lower(params.all("email_address")),
            phones: params.all("phone_number"),
            external_ids: params.all("external_id"),
            usernames: lower(params.all("username")),
            user_ids: strip(included),
            excluded_user_ids: strip(excluded),
            wallets: lower(params.all("web3_wallet")),
            organization_members: (!organizations.is_empty()).then(|| {
                organizations
                    .iter()
                    .flat_map(|id| store.memberships_of(id))
                    .filter_map(|m| m.public_user_data.as_ref().map(|u| u.user_id.clone()))
                    .collect()
            }),
            providers: params.all("provider"),
            provider_user_ids: params.all("provider_user_id"),
            query: text("query"),
            email_query: text("email_address_query"),
            phone_query: text("phone_number_query"),
            username_query: text("username_query"),
            name_query: text("name_query"),
            banned: match params.get("banned") {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(_) => return Err("banned"),
            },
            windows: Vec::new(),
        };
        for (name, field, bound) in WINDOWS {
            if let Some(value) = params.get(name) {
                let at = value.parse::<i64>().map_err(|_| *name)?;
                filter.windows.push((*field, *bound, at));
            }
        }
        Ok(filter.filters().then_some(filter))
    }

    fn filters(&self) -> bool {
        !(self.emails.is_empty()
            && self.phones.is_empty()
            && self.external_ids.is_empty()
            && self.usernames.is_empty()
            && self.user_ids.is_empty()
            && self.excluded_user_ids.is_empty()
            && self.wallets.is_empty()
            && self.organization_members.is_none()
            && self.providers.is_empty()
            && self.provider_user_ids.is_empty()
            && self.query.is_none()
            && self.email_query.is_none()
            && self.phone_query.is_none()
            && self.username_query.is_none()
            && self.name_query.is_none()
            && self.banned.is_none()
            && self.windows.is_empty())
    }

    /// Where to look: the users these emails or ids name (an index look-up),
    /// or every user; [`Self::matches`] then decides.
    pub fn candidates(&self, store: &ClerkStore) -> Vec<usize> {
        let mut positions = if !self.emails.is_empty() {
            store.user_positions_by_email(&self.emails)
        } else if !self.user_ids.is_empty() {
            self.user_ids
                .iter()
                .filter_map(|id| store.user_position(id))
                .collect()
        } else {
            (0..store.users().len()).collect()
        };
        positions.sort_unstable();
        positions.dedup();
        positions
    }

    pub fn matches(&self, user: &User) -> bool {
        let emails = || {
            user.email_addresses
                .iter()
                .map(|e| e.email_address.to_lowercase())
        };
        let phones = || user.phone_numbers.iter().map(|p| p.phone_number.as_str());
        let username = user.username.as_deref().map(str::to_lowercase);
        let wallets = || {
            user.web3_wallets
                .iter()
                .filter_map(|w| w.get("web3_wallet").and_then(|v| v.as_str()))
                .map(str::to_lowercase)
        };
        let any = |wanted: &[String], mut have: Box<dyn Iterator<Item = String> + '_>| {
            wanted.is_empty() || have.any(|h| wanted.contains(&h))
        };
        let exact = any(&self.emails, Box::new(emails()))
            && any(&self.phones, Box::new(phones().map(str::to_owned)))
            && any(
                &self.external_ids,
                Box::new(user.external_id.clone().into_iter()),
            )
            && any(&self.usernames, Box::new(username.clone().into_iter()))
            && any(&self.user_ids, Box::new(std::iter::once(user.id.clone())))
            && !self.excluded_user_ids.contains(&user.id)
            && any(&self.wallets, Box::new(wallets()))
            && self
                .organization_members
                .as_ref()
                .is_none_or(|members| members.contains(&user.id))
            && any(
                &self.providers,
                Box::new(
                    user.external_accounts
                        .iter()
                        .map(|a| a.provider.trim_start_matches("oauth_").to_owned())
                        .chain(user.external_accounts.iter().map(|a| a.provider.clone())),
                ),
            )
            && any(
                &self.provider_user_ids,
                Box::new(
                    user.external_accounts
                        .iter()
                        .map(|a| a.provider_user_id.clone()),
                ),
            );
        if !exact {
            return false;
        }
        let name = format!(
            "{} {}",
            user.first_name.as_deref().unwrap_or(""),
            user.last_name.as_deref().unwrap_or("")
        );
        let partial = self
            .email_query
            .as_deref()
            .is_none_or(|q| emails().any(|e| e.contains(q)))
            && self
                .phone_query
                .as_deref()
                .is_none_or(|q| phones().any(|p| p.contains(q)))
            && self
                .username_query
                .as_deref()
                .is_none_or(|q| contains(username.as_deref(), q))
            && self
                .name_query
                .as_deref()
                .is_none_or(|q| contains(Some(&name), q))
            && self.query.as_deref().is_none_or(|q| {
                emails().any(|e| e.contains(q))
                    || phones().any(|p| p.contains(q))
                    || contains(username.as_deref(), q)
                    || wallets().any(|w| w.contains(q))
                    || contains(Some(&user.id), q)
                    || contains(Some(&name), q)
            });
        let windows = self.windows.iter().all(|(field, bound, at)| {
            let value = match field {
                Field::Created => Some(user.created_at),
                Field::LastActive => user.last_active_at,
                Field::LastSignIn => user.last_sign_in_at,
            };
            value.is_some_and(|v| match bound {
                Bound::Before => v < *at,
                Bound::After => v > *at,
            })
        });
        partial && self.banned.is_none_or(|b| user.banned == b) && windows
    }
}
