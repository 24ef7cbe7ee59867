//! How a client proves who it is: nothing, a static bearer token, fixed headers, OAuth
//! ([`OAuth`]: discovery, registration, PKCE, refresh, step-up), or anything else through the
//! [`Authenticator`] trait.

mod assertion;
mod authenticator;
mod browser;
mod callback;
mod challenge;
mod discovery;
mod dpop;
mod flow;
mod grants;
mod guard;
mod identity;
mod machine;
mod pkce;
mod register;
mod secret;
pub mod store;
mod token;

pub use assertion::ClientKey;
pub use authenticator::{Authenticator, BearerToken, NoAuth};
pub use browser::Opener;
pub use callback::CallbackConfig;
pub use challenge::Challenge;
pub use discovery::AuthServerMetadata;
pub use flow::{Grant, OAuth, OAuthConfig};
pub use grants::{AssertionSource, EnterpriseGrant};
pub use guard::printable;
pub use secret::Secret;
pub use store::{FileTokenStore, MemoryTokenStore, Registration, StoredTokens, TokenStore};
pub use token::TokenAuthMethod;
