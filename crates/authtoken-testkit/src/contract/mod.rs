//! Contract suites: every MUST in the docs of `TokenRepo` and `UserRepo` as a plain async function.
//!
//! An adapter's tests run them all with [`store_contract_suite!`], which makes one test per case,
//! each against a fresh store from the adapter's own constructor.

#![allow(clippy::unwrap_used, reason = "contract cases are test code: a panic is a failed case")]

pub mod tokens;
pub mod users;

use std::any::Any;
use std::sync::Arc;

use authtoken_core::ports::{TokenRepo, UserRepo};

/// The stores under test; one object usually implements both ports.
#[allow(missing_debug_implementations, reason = "ports are trait objects without Debug")]
pub struct Stores {
    pub tokens: Arc<dyn TokenRepo>,
    pub users: Arc<dyn UserRepo>,
    /// Whatever must live as long as the stores, such as a temporary directory.
    _keep: Option<Box<dyn Any + Send + Sync>>,
}

impl Stores {
    /// Both ports from one store object.
    pub fn of<S: TokenRepo + UserRepo + 'static>(store: S) -> Self {
        let store = Arc::new(store);
        Self { tokens: store.clone(), users: store, _keep: None }
    }

    /// Keeps `value` (a temporary directory, a database guard) alive until the stores are dropped.
    pub fn keeping(mut self, value: impl Any + Send + Sync) -> Self {
        self._keep = Some(Box::new(value));
        self
    }
}

/// Generates one `#[tokio::test]` per contract case. `$make` is an `async fn() -> Option<Stores>` giving a fresh,
/// empty store, or `None` when the backend is not available here (the maker says so; CI never gets `None`).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features among its dev-dependencies.
#[macro_export]
macro_rules! store_contract_suite {
    ($make:path) => {
        $crate::store_contract_suite!(@cases $make;
            tokens::insert_then_find_returns_the_session_with_its_user,
            tokens::find_of_an_unknown_digest_returns_none,
            tokens::find_returns_expired_sessions_too,
            tokens::delete_removes_only_the_given_session,
            tokens::delete_of_an_unknown_digest_returns_false,
            tokens::purge_expired_deletes_only_sessions_past_their_expiry,
            tokens::sessions_of_lists_every_session_of_the_user_oldest_first,
            tokens::a_session_keeps_its_id_and_client_info,
            users::create_assigns_distinct_ids_and_returns_the_user,
            users::find_by_username_is_an_exact_match,
            users::find_by_key_returns_the_password_hash,
            users::create_rejects_a_duplicate_username,
            users::create_rejects_a_duplicate_key,
            users::concurrent_creates_of_one_username_give_exactly_one_user,
            users::record_login_sets_the_last_login_time,
            users::set_active_changes_only_that_user,
            users::delete_removes_the_user_and_every_session_of_the_user,
            users::names_and_emails_keep_every_unicode_character,
        );
    };
    (@cases $make:path; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(stores) = $make().await else {
                    return;
                };
                $crate::contract::$module::$case(&stores).await;
            }
        )*
    };
}
