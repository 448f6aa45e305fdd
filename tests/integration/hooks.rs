//! `ferry hooks`: the reference is generated from the runtime's types, the
//! page in docs/ is its output, and the shapes are what a hook receives.

use crate::common::*;

const PAGE: &str = "docs/hooks.md";

/// docs/hooks.md, with `text` as its block.
fn page(text: &str) -> String {
    let page = std::fs::read_to_string(repo().join(PAGE)).unwrap();
    let start = page.find("```text\n").expect("the page has a text block") + "```text\n".len();
    let end = page.rfind("```").unwrap();
    format!("{}{text}{}", &page[..start], &page[end..])
}

#[test]
fn the_hook_reference_page_is_ferry_hooks_output() {
    let out = Scratch::new().ferry().args(["hooks"]).run().code(0);
    let expected = page(&out.stdout);
    if std::env::var_os("FERRY_BLESS").is_some() {
        std::fs::write(repo().join(PAGE), &expected).unwrap();
    }
    let actual = std::fs::read_to_string(repo().join(PAGE)).unwrap();
    assert!(
        actual == expected,
        "{PAGE} is not `ferry hooks`' output; run `FERRY_BLESS=1 cargo test --test integration hooks`"
    );
    for hook in [
        "map_user",
        "on_conflict",
        "map_organization",
        "map_connection",
        "map_membership",
        "map_role",
    ] {
        assert!(out.stdout.contains(&format!("fn {hook}(")), "{hook}");
    }
}

/// The JSON form gives each argument's JSON Schema, and every record the
/// runtime builds from a generated tenant (its edge cases included)
/// validates against it.
#[test]
fn the_json_reference_gives_schemas_the_runtime_s_records_meet() {
    use ferry_core::mapping::connection::{ConnectionSource, ConnectionView};
    use ferry_core::mapping::invitation::{ClerkInvitation, InvitationView};
    use ferry_core::mapping::membership::MembershipView;
    use ferry_core::mapping::organization::OrgView;
    use ferry_core::source::SourceUser;
    use ferry_core::source::view::UserView;

    let out = Scratch::new()
        .ferry()
        .args(["hooks", "--json"])
        .run()
        .code(0);
    let reference: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let hooks = reference["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 7);
    let validator = |hook: &str| {
        let doc = hooks.iter().find(|h| h["name"] == hook).unwrap();
        jsonschema::validator_for(&doc["params"][0]["schema"]).unwrap()
    };
    let generated = ferry_sandbox::generate::generate(ferry_sandbox::GeneratorOptions {
        users: 400,
        organizations: 16,
        seed: 5,
    });
    let users = validator("map_user");
    for user in &generated.tenant.users {
        let view = UserView::of(&SourceUser {
            id: user.id.clone(),
            api: Some(user.clone()),
            export: None,
        })
        .to_json();
        assert!(users.is_valid(&view), "{view}");
    }
    assert!(!users.is_valid(&serde_json::json!({ "id": 3 })));
    let orgs = validator("map_organization");
    for org in &generated.tenant.organizations {
        assert!(orgs.is_valid(&OrgView::of(org).to_json()), "{}", org.id);
    }
    let connections = validator("map_connection");
    let tenant = &generated.tenant;
    assert!(tenant.enterprise_connections.len() >= 5);
    for connection in &tenant.enterprise_connections {
        let saml = connection
            .saml_connection
            .as_ref()
            .and_then(|s| tenant.saml_connections.iter().find(|l| l.id == s.id));
        let view = ConnectionView::of(&ConnectionSource {
            connection,
            saml,
            organization_slug: Some("acme"),
        })
        .to_json();
        assert!(connections.is_valid(&view), "{view}");
    }
    let memberships = validator("map_membership");
    for membership in &generated.tenant.memberships {
        let view = MembershipView::of(membership, "member".into()).to_json();
        assert!(memberships.is_valid(&view), "{view}");
    }
    let invitations = validator("map_invitation");
    let now = chrono::Utc::now().timestamp_millis();
    let every = tenant
        .organization_invitations
        .iter()
        .map(|i| ClerkInvitation::of_organization(i.clone(), now))
        .chain(
            tenant
                .invitations
                .iter()
                .map(|i| ClerkInvitation::of_application(i.clone(), now)),
        );
    let mut seen = 0;
    for invitation in every {
        let view = InvitationView::of(&invitation, Some("acme"), "member".into()).to_json();
        assert!(invitations.is_valid(&view), "{view}");
        seen += 1;
    }
    assert!(seen >= 10, "{seen} invitations");
}
