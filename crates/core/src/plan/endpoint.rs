//! What the plan says of the APIs it points at that the layers below it
//! (the HTTP client, the WorkOS client) need too: WorkOS's documented rate
//! limits, which a plan may lower, and the loopback rule, which decides
//! where plain `http://` may go. They live here, at the configuration
//! layer, so the plan never imports the clients it configures.

/// WorkOS's documented rate limits, which a plan may lower (or raise, for a sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorkosLimits {
    pub writes_per_10s: u32,
    pub reads_per_10s: u32,
    pub requests_per_60s: u32,
    pub authenticate_per_60s: u32,
}

impl Default for WorkosLimits {
    fn default() -> Self {
        Self {
            writes_per_10s: 500,
            reads_per_10s: 1000,
            requests_per_60s: 6000,
            authenticate_per_60s: 10,
        }
    }
}

/// Whether a URL points at this machine (127.0.0.0/8, ::1 or localhost):
/// the only place plain `http://` may go, and a target whose limits any
/// plan may set.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
