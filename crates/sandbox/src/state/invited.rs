//! What the invitation routes hand out, apart from how the state keeps
//! invitations (`invitations`): an invitation as the API answers it, and
//! the record of an email the real API would have sent.

use serde::{Deserialize, Serialize};

use ferry_wire::workos::invitation::Invitation;

/// An invitation as the API answers it: with the token and the link that
/// accept it, which only the API's answers carry (never an event or the
/// admin dump).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvitationAnswer {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub token: String,
    pub accept_invitation_url: String,
}

/// One email the real API would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentEmail {
    /// 1 for the first email since the state was last reset.
    pub sequence: u64,
    pub to: String,
    /// `invitation` or `invitation_resend`.
    pub kind: String,
    pub invitation_id: String,
    pub organization_id: Option<String>,
    /// ISO 8601, when it was sent.
    pub at: String,
}
