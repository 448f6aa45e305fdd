//! ferry's listings against the sandbox over loopback: Clerk's user pages
//! asked for several at once lose no one when users are deleted during the
//! read (pages overlap), and WorkOS listings walked as segments at once
//! find every object exactly once, ferry's and others', with about one
//! page per hundred objects; and a run's steps share one reading of
//! Clerk's user listing.

use std::collections::HashSet;

use ferry_core::clerk::client::ClerkClient;
use ferry_core::http::RetryPolicy;
use ferry_core::source::shared_users::{SharedError, SharedUsers};
use ferry_core::target::reconcile;
use ferry_core::workos::client::{WorkosClient, WorkosLimits};
use ferry_sandbox::{GeneratorOptions, RateLimits, Sandbox, SandboxOptions, generate};
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::CreateUser;

async fn sandbox(users: usize) -> (Sandbox, ferry_sandbox::GeneratedTenant) {
    let generated = generate::generate(GeneratorOptions {
        users,
        organizations: 0,
        seed: 5,
    });
    let sandbox = Sandbox::start(
        SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(RateLimits::disabled()),
    )
    .await
    .expect("the sandbox starts");
    (sandbox, generated)
}

#[tokio::test]
async fn clerk_pages_read_at_once_lose_no_one_to_deletions_during_the_read() {
    let (sandbox, generated) = sandbox(1_400).await;
    let clerk = ClerkClient::new(
        &sandbox.info().clerk_api_url,
        Secret::new(sandbox.keys().clerk_secret_key.clone()),
        None,
        RetryPolicy::default(),
    )
    .unwrap();
    let mut pages = clerk.users();
    let first = pages.next_page().await.unwrap().unwrap();
    assert_eq!(first.len(), 500);
    pages.expect(1_400);
    // Deleted in Clerk after the first page: 8 users it held, shifting every later row.
    let gone: Vec<String> = first.iter().take(8).map(|u| u.id.clone()).collect();
    let http = reqwest::Client::new();
    for id in &gone {
        let url = format!("{}clerk/users/{id}", sandbox.admin_url());
        assert_eq!(http.delete(url).send().await.unwrap().status(), 200);
    }
    let mut read: Vec<String> = first.into_iter().map(|u| u.id).collect();
    while let Some(page) = pages.next_page().await.unwrap() {
        read.extend(page.into_iter().map(|u| u.id));
    }
    let distinct: HashSet<&String> = read.iter().collect();
    assert_eq!(distinct.len(), read.len(), "each user once");
    for user in &generated.tenant.users {
        assert!(distinct.contains(&user.id), "{} was lost", user.id);
    }
    assert_eq!(pages.seen(), 1_400);
    let counts = sandbox.request_counts();
    assert_eq!(counts.route_total("GET /v1/users"), 3, "{counts:#?}");
}

fn clerk_of(sandbox: &Sandbox) -> ClerkClient {
    ClerkClient::new(
        &sandbox.info().clerk_api_url,
        Secret::new(sandbox.keys().clerk_secret_key.clone()),
        None,
        RetryPolicy::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn steps_reading_users_at_once_share_one_reading_of_the_listing() {
    use std::os::unix::fs::PermissionsExt;

    let (sandbox, generated) = sandbox(1_400).await;
    let clerk = clerk_of(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("journal.db");
    let shared = SharedUsers::beside(&state);
    let spill = dir.path().join("journal.db.clerk-users.jsonl");

    // The leader reads a page; a follower starts while it is mid-listing.
    let mut leader = shared.open(&clerk).unwrap();
    let (count, first) = leader.start().await.unwrap();
    assert_eq!(count, 1_400);
    let mode = std::fs::metadata(&spill).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the spill is owner-only");
    let mut follower = shared.open(&clerk).unwrap();
    let mut led: Vec<String> = first.unwrap().into_iter().map(|u| u.id).collect();
    let follow = async {
        let (count, first) = follower.start().await.unwrap();
        let mut ids: Vec<String> = first.unwrap().into_iter().map(|u| u.id).collect();
        while let Some(page) = follower.next_page().await.unwrap() {
            ids.extend(page.into_iter().map(|u| u.id));
        }
        (count, ids)
    };
    let lead = async {
        while let Some(page) = leader.next_page().await.unwrap() {
            led.extend(page.into_iter().map(|u| u.id));
        }
    };
    let ((followed_count, followed), ()) = tokio::join!(follow, lead);
    assert_eq!(followed_count, 1_400);
    assert_eq!(
        followed, led,
        "the follower sees the leader's users, in order"
    );
    let everyone: HashSet<&str> = generated
        .tenant
        .users
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(
        led.iter().map(String::as_str).collect::<HashSet<_>>(),
        everyone
    );

    // A step that starts after the end replays the file.
    let mut late = shared.open(&clerk).unwrap();
    let (_, first) = late.start().await.unwrap();
    let mut replayed: Vec<String> = first.unwrap().into_iter().map(|u| u.id).collect();
    while let Some(page) = late.next_page().await.unwrap() {
        replayed.extend(page.into_iter().map(|u| u.id));
    }
    assert_eq!(replayed, led);

    // Clerk was asked once: three overlapping pages and one count.
    let counts = sandbox.request_counts();
    assert_eq!(counts.route_total("GET /v1/users"), 3, "{counts:#?}");
    assert_eq!(counts.route_total("GET /v1/users/count"), 1, "{counts:#?}");
    drop((leader, follower, late));
    drop(shared);
    assert!(!spill.exists(), "the spill goes when the run ends");
}

#[tokio::test]
async fn a_listing_whose_leader_stops_early_is_never_taken_for_whole() {
    let (sandbox, _) = sandbox(1_400).await;
    let clerk = clerk_of(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedUsers::beside(&dir.path().join("journal.db"));
    let mut leader = shared.open(&clerk).unwrap();
    leader.start().await.unwrap();
    let mut follower = shared.open(&clerk).unwrap();
    let (_, first) = follower.start().await.unwrap();
    assert_eq!(first.map(|p| p.len()), Some(500));
    // The leader's step ends after one page.
    drop(leader);
    assert!(matches!(
        follower.next_page().await,
        Err(SharedError::Abandoned)
    ));
}

#[tokio::test]
async fn a_segmented_workos_listing_finds_every_user_once_in_a_page_per_hundred() {
    let (sandbox, _) = sandbox(0).await;
    let workos = WorkosClient::new(
        &sandbox.workos_url(),
        Secret::new(sandbox.keys().workos_api_key.clone()),
        // The sandbox's limits are off; so are the client's.
        &WorkosLimits {
            writes_per_10s: 1_000_000,
            reads_per_10s: 1_000_000,
            requests_per_60s: 1_000_000,
            authenticate_per_60s: 1_000,
        },
        RetryPolicy::default(),
    )
    .unwrap();
    // 1,000 users ferry knows of, and 37 made by someone else in between.
    let mut known = Vec::new();
    let mut everyone = HashSet::new();
    for n in 0..1_037 {
        let user = workos
            .create_user(&CreateUser {
                email: format!("u{n}@segments.test"),
                ..CreateUser::default()
            })
            .await
            .unwrap();
        if n % 28 != 27 {
            known.push(user.id.clone());
        }
        everyone.insert(user.id);
    }
    assert_eq!(known.len(), 1_000);
    sandbox.reset_request_counts();
    let listing = reconcile::list_users(&workos, known.iter().map(String::as_str))
        .await
        .unwrap();
    assert_eq!(listing.len(), everyone.len());
    for id in &everyone {
        assert!(listing.get(id).is_some(), "{id} missing");
    }
    let pages = sandbox
        .request_counts()
        .route_total("GET /user_management/users");
    // 11 segments; those holding someone else's users need a second page.
    assert!(pages <= 11 + 11, "{pages} pages for 1,037 users");
    assert_eq!(listing.pages, pages);

    // Knowing everyone, each segment is exactly a page, and a segment whose
    // page ends at its own end asks for no page beyond it: 11 pages.
    sandbox.reset_request_counts();
    let listing = reconcile::list_users(&workos, everyone.iter().map(String::as_str))
        .await
        .unwrap();
    assert_eq!(listing.len(), everyone.len());
    let pages = sandbox
        .request_counts()
        .route_total("GET /user_management/users");
    assert_eq!(pages, 11, "one page per segment");
}
