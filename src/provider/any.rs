//! The list of vendors: the one place that names every vendor kind. Everything else asks a
//! vendor through its [`Provider`](super::Provider) implementation or its
//! [`Description`], so that a new vendor is its folder plus a line here.

use super::description::Description;
use super::http::HttpClient;
use crate::manifest::ProviderKind;

/// A connected provider of any vendor.
pub enum AnyProvider {
    Nirvana(super::Nirvana),
    Scalekit(super::Scalekit),
    PingOne(super::PingOne),
    Workos(super::Workos),
}

/// Runs `$body` with `$p` bound to the vendor's provider inside `$provider` (an
/// [`AnyProvider`]): generic code over [`Provider`](super::Provider), once for every vendor.
#[macro_export]
macro_rules! with_provider {
    ($provider:expr, $p:ident => $body:expr) => {
        match $provider {
            $crate::provider::AnyProvider::Nirvana($p) => $body,
            $crate::provider::AnyProvider::Scalekit($p) => $body,
            $crate::provider::AnyProvider::PingOne($p) => $body,
            $crate::provider::AnyProvider::Workos($p) => $body,
        }
    };
}

impl AnyProvider {
    /// The provider of `kind` over `client`.
    pub fn new(kind: ProviderKind, client: HttpClient) -> AnyProvider {
        match kind {
            ProviderKind::Nirvana => AnyProvider::Nirvana(super::Nirvana { client }),
            ProviderKind::Scalekit => AnyProvider::Scalekit(super::Scalekit { client }),
            ProviderKind::PingOne => AnyProvider::PingOne(super::PingOne { client }),
            ProviderKind::Workos => AnyProvider::Workos(super::Workos { client }),
        }
    }

    pub fn client(&self) -> &HttpClient {
        crate::with_provider!(self, p => &p.client)
    }
}

impl ProviderKind {
    /// The vendor's description, declared in its folder.
    pub fn description(self) -> &'static Description {
        match self {
            ProviderKind::Nirvana => &super::nirvana::DESCRIPTION,
            ProviderKind::Scalekit => &super::scalekit::DESCRIPTION,
            ProviderKind::PingOne => &super::pingone::DESCRIPTION,
            ProviderKind::Workos => &super::workos::DESCRIPTION,
        }
    }
}

/// Every route orgform sends requests to, for the property test of path building.
#[cfg(test)]
pub fn all_routes() -> Vec<&'static str> {
    [
        super::nirvana::ROUTES,
        super::scalekit::ROUTES,
        super::pingone::ROUTES,
        super::workos::ROUTES,
    ]
    .concat()
}
