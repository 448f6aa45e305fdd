//! What to do with one Clerk invitation, decided before any request, in
//! two pure halves tested as tables: [`first`] (from Clerk's status, the
//! journal and the plan) and [`after_look`] (from what WorkOS holds for
//! the invitee, looked at before every send).
//!
//! The rule that matters most: an invitation is sent at most once. The
//! journal's record of a send is final (nothing re-sends it, not even
//! `--reconcile`), and where the journal knows of no send, WorkOS is
//! looked at first: a send whose record was lost (a killed run, an answer
//! that never came) shows there as an invitation to the same address,
//! made since ferry began working on this target.

use crate::journal::Action;
use crate::mapping::invitation::Status;
use crate::support::reason::{Reason, ReasonCode};

/// What a Clerk invitation needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Sent already (the journal's WorkOS invitation): nothing to send.
    Unchanged { id: String },
    /// Pending, and the plan only lists it.
    Listed,
    /// Not sent, and why (skipped or rejected).
    Settled(Action, Reason),
    /// Not pending in Clerk and never sent: nothing to do.
    NotPending(Status),
    /// Look at what WorkOS holds for the invitee before sending.
    Look,
    /// Revoked in Clerk after ferry sent it: revoke the WorkOS invitation.
    Revoke { id: String },
    /// WorkOS holds the invitation a lost answer or a killed run sent:
    /// record it, send nothing.
    Found { id: String },
    /// WorkOS holds a pending invitation to the invitee made before ferry:
    /// adopt it, send nothing.
    AlreadyInvited { id: String },
    /// Send it: WorkOS emails the invitee.
    Send,
}

/// Where an invitation stands before WorkOS is asked. `sent` is the
/// journal's WorkOS invitation (one ferry sent or found); `blocked` why it
/// cannot be sent (its organization or role, or the hook), when it cannot.
pub fn first(
    status: Status,
    sent: Option<&str>,
    send: bool,
    blocked: Option<(Action, Reason)>,
) -> Next {
    match (status, sent) {
        (Status::Revoked, Some(id)) if send => Next::Revoke { id: id.to_owned() },
        (_, Some(id)) => Next::Unchanged { id: id.to_owned() },
        (Status::Pending, None) => match blocked {
            Some((action, reason)) => Next::Settled(action, reason),
            None if send => Next::Look,
            None => Next::Listed,
        },
        (status, None) => Next::NotPending(status),
    }
}

/// One invitation WorkOS holds to the invitee (in the organization, or
/// without one for an application invitation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub state: String,
    /// Made since ferry began working on this target.
    pub since_ferry: bool,
    /// The journal holds it as sent for another Clerk invitation (the
    /// invitee was invited again in Clerk since).
    pub for_another: bool,
}

/// What WorkOS holds for the invitee.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Look {
    /// A membership in the organization (an application invitation: a user).
    pub member: bool,
    pub invitations: Vec<Held>,
}

/// What to do once WorkOS was looked at.
pub fn after_look(look: &Look) -> Next {
    // Whatever its state: once sent, never again. One the journal gives
    // to another Clerk invitation is that one's send, not this one's.
    let mut ours = look
        .invitations
        .iter()
        .filter(|held| held.since_ferry && !held.for_another);
    if let Some(live) = ours
        .clone()
        .find(|held| matches!(held.state.as_str(), "pending" | "accepted"))
    {
        return Next::Found {
            id: live.id.clone(),
        };
    }
    if let Some(gone) = ours.next_back() {
        return Next::Settled(
            Action::Skipped,
            Reason::new(
                ReasonCode::AlreadyInvited,
                format!(
                    "ferry sent it before (WorkOS invitation {}, {} since): nobody is emailed twice",
                    gone.id, gone.state
                ),
            ),
        );
    }
    if look.member {
        return Next::Settled(
            Action::Skipped,
            Reason::new(
                ReasonCode::InviteeAlreadyMember,
                "the invitee is a member already in WorkOS: nobody is emailed",
            ),
        );
    }
    match look
        .invitations
        .iter()
        .find(|held| matches!(held.state.as_str(), "pending" | "accepted"))
    {
        Some(held) => Next::AlreadyInvited {
            id: held.id.clone(),
        },
        None => Next::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_an_invitation_stands_before_workos_is_asked() {
        let unchanged = || Next::Unchanged { id: "inv_w".into() };
        let blocked = || {
            Some((
                Action::Skipped,
                Reason::new(ReasonCode::OrganizationNotMigrated, "org_1"),
            ))
        };
        let skipped = Next::Settled(
            Action::Skipped,
            Reason::new(ReasonCode::OrganizationNotMigrated, "org_1"),
        );
        #[rustfmt::skip]
        type Row<'a> = (&'a str, Status, Option<&'a str>, bool, Option<(Action, Reason)>, Next);
        let table: Vec<Row> = vec![
            (
                "pending, listed only",
                Status::Pending,
                None,
                false,
                None,
                Next::Listed,
            ),
            (
                "pending, to send",
                Status::Pending,
                None,
                true,
                None,
                Next::Look,
            ),
            (
                "pending, blocked, listed",
                Status::Pending,
                None,
                false,
                blocked(),
                skipped.clone(),
            ),
            (
                "pending, blocked, to send",
                Status::Pending,
                None,
                true,
                blocked(),
                skipped,
            ),
            (
                "pending, sent already",
                Status::Pending,
                Some("inv_w"),
                true,
                None,
                unchanged(),
            ),
            (
                "pending, sent, blocked since",
                Status::Pending,
                Some("inv_w"),
                true,
                blocked(),
                unchanged(),
            ),
            (
                "pending, sent, send turned off",
                Status::Pending,
                Some("inv_w"),
                false,
                None,
                unchanged(),
            ),
            (
                "revoked in Clerk after the send",
                Status::Revoked,
                Some("inv_w"),
                true,
                None,
                Next::Revoke { id: "inv_w".into() },
            ),
            (
                "revoked, sent, send turned off",
                Status::Revoked,
                Some("inv_w"),
                false,
                None,
                unchanged(),
            ),
            (
                "revoked, never sent",
                Status::Revoked,
                None,
                true,
                None,
                Next::NotPending(Status::Revoked),
            ),
            (
                "accepted, never sent",
                Status::Accepted,
                None,
                true,
                None,
                Next::NotPending(Status::Accepted),
            ),
            (
                "accepted after the send",
                Status::Accepted,
                Some("inv_w"),
                true,
                None,
                unchanged(),
            ),
            (
                "expired, never sent",
                Status::Expired,
                None,
                true,
                None,
                Next::NotPending(Status::Expired),
            ),
            (
                "expired after the send",
                Status::Expired,
                Some("inv_w"),
                true,
                None,
                unchanged(),
            ),
        ];
        for (case, status, sent, send, blocked, expected) in table {
            assert_eq!(first(status, sent, send, blocked), expected, "{case}");
        }
    }

    #[test]
    fn what_workos_holds_decides_whether_anyone_is_emailed() {
        let held = |id: &str, state: &str, since_ferry| Held {
            id: id.into(),
            state: state.into(),
            since_ferry,
            for_another: false,
        };
        let another = |id: &str, state: &str| Held {
            for_another: true,
            ..held(id, state, true)
        };
        let sent_before = |id: &str, state: &str| {
            Next::Settled(
                Action::Skipped,
                Reason::new(
                    ReasonCode::AlreadyInvited,
                    format!(
                        "ferry sent it before (WorkOS invitation {id}, {state} since): nobody is emailed twice"
                    ),
                ),
            )
        };
        let look = |member, invitations| Look {
            member,
            invitations,
        };
        let member = Next::Settled(
            Action::Skipped,
            Reason::new(
                ReasonCode::InviteeAlreadyMember,
                "the invitee is a member already in WorkOS: nobody is emailed",
            ),
        );
        #[rustfmt::skip]
        let table: Vec<(&str, Look, Next)> = vec![
            ("nothing there", look(false, vec![]), Next::Send),
            ("a member", look(true, vec![]), member.clone()),
            ("ferry's, pending (a lost answer)", look(false, vec![held("a", "pending", true)]), Next::Found { id: "a".into() }),
            ("ferry's, accepted since", look(true, vec![held("a", "accepted", true)]), Next::Found { id: "a".into() }),
            ("ferry's, revoked in WorkOS since", look(false, vec![held("a", "revoked", true)]), sent_before("a", "revoked")),
            ("ferry's, expired since", look(true, vec![held("a", "expired", true)]), sent_before("a", "expired")),
            ("another Clerk invitation's, revoked: invited again", look(false, vec![another("a", "revoked")]), Next::Send),
            ("another Clerk invitation's, pending", look(false, vec![another("a", "pending")]), Next::AlreadyInvited { id: "a".into() }),
            ("another's revoked and this one's pending", look(false, vec![another("a", "revoked"), held("c", "pending", true)]), Next::Found { id: "c".into() }),
            ("someone's pending, before ferry", look(false, vec![held("b", "pending", false)]), Next::AlreadyInvited { id: "b".into() }),
            ("someone's revoked, before ferry", look(false, vec![held("b", "revoked", false)]), Next::Send),
            ("someone's expired, before ferry", look(false, vec![held("b", "expired", false)]), Next::Send),
            ("a member with an old pending one", look(true, vec![held("b", "pending", false)]), member),
            ("an old one and ferry's", look(false, vec![held("b", "expired", false), held("a", "pending", true)]), Next::Found { id: "a".into() }),
        ];
        for (case, look, expected) in table {
            assert_eq!(after_look(&look), expected, "{case}");
        }
    }
}
