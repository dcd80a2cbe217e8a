//! Contract suites: every MUST in the docs of `TokenRepo`, `UserRepo`, `ConfirmationRepo` and `Outbox` as a plain
//! async function (`ResetRepo`, `ThrottleStore` and `EventRepo` too). `revocation` holds the cases of the session
//! lifecycle, which span `TokenRepo` and `UserRepo`; `audit` the events that every store port records with what it
//! does, in the same transaction.
//!
//! An adapter's tests run them all with [`store_contract_suite!`](crate::store_contract_suite!), which makes one
//! test per case, each against a fresh store from the adapter's own constructor.

#![allow(clippy::unwrap_used, reason = "contract cases are test code: a panic is a failed case")]

pub mod audit;
pub mod confirmations;
pub mod events;
pub mod outbox;
pub mod resets;
pub mod revocation;
pub mod throttles;
pub mod tokens;
pub mod users;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use authtoken_core::event::EventKind;
use authtoken_core::ports::{ConfirmationRepo, EventRepo, Outbox, ResetRepo, ThrottleStore, TokenRepo, UserRepo};
use authtoken_core::{PlainToken, Timestamp, User};

use crate::fixtures::{confirmation, confirmation_mail, event, new_user};

/// The stores under test; one object usually implements every port.
#[allow(missing_debug_implementations, reason = "ports are trait objects without Debug")]
pub struct Stores {
    pub tokens: Arc<dyn TokenRepo>,
    pub users: Arc<dyn UserRepo>,
    pub confirmations: Arc<dyn ConfirmationRepo>,
    pub outbox: Arc<dyn Outbox>,
    pub resets: Arc<dyn ResetRepo>,
    pub throttles: Arc<dyn ThrottleStore>,
    pub events: Arc<dyn EventRepo>,
    /// Whatever must live as long as the stores, such as a temporary directory.
    _keep: Option<Box<dyn Any + Send + Sync>>,
}

impl Stores {
    /// Every port from one store object.
    pub fn of<S>(store: S) -> Self
    where
        S: TokenRepo + UserRepo + ConfirmationRepo + Outbox + ResetRepo + ThrottleStore + EventRepo + 'static,
    {
        let store = Arc::new(store);
        Self {
            tokens: store.clone(),
            users: store.clone(),
            confirmations: store.clone(),
            outbox: store.clone(),
            resets: store.clone(),
            throttles: store.clone(),
            events: store,
            _keep: None,
        }
    }

    /// Keeps `value` (a temporary directory, a database guard) alive until the stores are dropped.
    pub fn keeping(mut self, value: impl Any + Send + Sync) -> Self {
        self._keep = Some(Box::new(value));
        self
    }
}

/// Creates the user `name` with the address `name@example.org` at `created_at` through
/// [`ConfirmationRepo::create_user_with_confirmation`], which queues one mail, due at `created_at`; then stores a link
/// for the address, made at `created_at` and valid for `validity`, as delivering the mail would.
async fn register(stores: &Stores, name: &str, created_at: Timestamp, validity: Duration) -> (User, PlainToken) {
    let email = format!("{name}@example.org");
    let mut user = new_user(name, "password");
    user.email = Some(email.clone());
    user.joined_at = created_at;
    let mail = confirmation_mail(&email);
    let user = stores
        .confirmations
        .create_user_with_confirmation(&user, &mail, &event(EventKind::Registered))
        .await
        .expect("the user is created");
    let (token, link) = confirmation(user.id, &email, created_at, validity);
    let added = stores.confirmations.add_confirmation(&link).await.expect("the store answers");
    assert_eq!(added.as_ref(), Some(&user), "the link is stored for the new user");
    (user, token)
}

/// Generates one `#[tokio::test]` per contract case. `$make` is an `async fn() -> Option<Stores>` giving a fresh,
/// empty store, or `None` when the backend is not available here (the maker says so; CI never gets `None`).
///
/// `store_contract_suite!(postgres make)` marks each case ignored unless the calling crate is built with the
/// `postgres_tests` cfg (see `authtoken-sql`'s `build.rs`), so that a run without PostgreSQL reports its cases as
/// ignored rather than passed.
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features among its dev-dependencies.
#[macro_export]
macro_rules! store_contract_suite {
    (postgres $make:path) => {
        $crate::store_contract_suite!(@list postgres $make);
    };
    ($make:path) => {
        $crate::store_contract_suite!(@list plain $make);
    };
    (@list $kind:ident $make:path) => {
        $crate::store_contract_suite!(@cases $kind $make;
            tokens::insert_then_find_returns_the_session_with_its_user,
            tokens::find_of_an_unknown_digest_returns_none,
            tokens::find_returns_expired_sessions_too,
            tokens::concurrent_finds_each_get_the_answer_for_their_own_digest,
            tokens::a_find_after_a_delete_never_sees_the_session,
            tokens::delete_removes_only_the_given_session,
            tokens::delete_of_an_unknown_digest_returns_false,
            tokens::purge_expired_deletes_only_sessions_past_their_expiry,
            tokens::sessions_of_lists_every_session_of_the_user_oldest_first,
            tokens::ping_succeeds_while_the_store_answers,
            tokens::a_session_keeps_its_id_and_client_info,
            users::create_assigns_distinct_ids_and_returns_the_user,
            users::create_stores_the_email_and_whether_it_is_confirmed_as_given,
            users::find_by_username_is_an_exact_match,
            users::find_by_key_returns_the_password_hash,
            users::create_rejects_a_duplicate_username,
            users::create_rejects_a_duplicate_key,
            users::concurrent_creates_of_one_username_give_exactly_one_user,
            users::record_login_sets_the_last_login_time,
            users::upgrade_password_hash_replaces_only_the_hash_it_was_told_of,
            users::set_active_changes_only_that_user,
            users::delete_removes_the_user_and_every_session_of_the_user,
            users::names_and_emails_keep_every_unicode_character,
            users::find_credentials_returns_the_user_by_id_with_the_password_hash,
            users::list_pages_through_the_users_in_id_order,
            revocation::touch_records_a_use_only_when_none_is_recorded_or_it_is_stale,
            revocation::concurrent_touches_write_once,
            revocation::purge_idle_deletes_sessions_last_active_before_the_cut_off,
            revocation::insert_for_login_evicts_the_least_recently_active_sessions_beyond_max,
            revocation::concurrent_logins_never_leave_more_than_max,
            revocation::insert_for_login_stores_nothing_for_a_changed_password_an_inactive_or_a_missing_user,
            revocation::a_login_racing_a_password_reset_never_leaves_a_session_behind,
            revocation::logout_all_racing_new_logins_revokes_every_session_stored_before_it,
            revocation::find_by_id_returns_the_session_with_its_user,
            revocation::revoke_deletes_one_session_of_its_owner_only,
            revocation::revoke_sessions_deletes_what_it_names_of_that_user_only,
            revocation::revoke_everyone_deletes_every_session,
            revocation::set_password_replaces_the_hash_and_revokes_what_it_names,
            revocation::set_password_of_an_unknown_user_returns_none,
            revocation::deactivating_a_user_revokes_every_session_of_the_user,
            revocation::set_password_queues_the_notices_in_the_same_transaction,
            resets::request_reset_queues_the_mail_without_a_user_and_replaces_a_pending_one_to_the_same_address,
            resets::request_reset_leaves_other_kinds_of_mail_alone,
            resets::add_reset_stores_a_link_for_the_active_user_with_the_address_and_replaces_older_links,
            resets::add_reset_stores_nothing_when_no_active_user_has_the_address,
            resets::add_reset_folds_ascii_case_only,
            resets::find_reset_returns_expired_links_too,
            resets::reset_password_sets_the_hash_and_revokes_every_session_and_link_of_the_user,
            resets::reset_password_with_an_expired_or_unknown_link_changes_nothing,
            resets::concurrent_resets_with_one_link_succeed_once,
            resets::purge_expired_resets_deletes_only_links_past_their_expiry,
            resets::deleting_a_user_deletes_the_users_reset_links,
            confirmations::create_user_with_confirmation_stores_the_user_and_queues_its_mail,
            confirmations::create_user_with_confirmation_rejects_a_duplicate_username_and_writes_nothing,
            confirmations::create_user_with_confirmation_rejects_a_duplicate_key_and_writes_nothing,
            confirmations::concurrent_creates_with_confirmation_of_one_username_give_exactly_one_user,
            confirmations::replace_confirmation_deletes_the_old_links_and_their_pending_mail_and_queues_the_new_mail,
            confirmations::concurrent_replacements_of_one_users_mail_leave_exactly_one_pending_mail,
            confirmations::replace_confirmation_of_an_unknown_user_returns_false_and_changes_nothing,
            confirmations::add_confirmation_stores_the_link_and_returns_its_user,
            confirmations::add_confirmation_stores_nothing_for_a_gone_changed_or_confirmed_address,
            confirmations::find_confirmation_of_an_unknown_digest_returns_none,
            confirmations::find_confirmation_returns_expired_links_too,
            confirmations::confirm_marks_the_email_confirmed_and_deletes_every_link_of_the_user,
            confirmations::confirm_of_a_missing_link_returns_false_and_changes_nothing,
            confirmations::delete_confirmation_removes_only_the_given_link,
            confirmations::purge_expired_confirmations_deletes_only_links_past_their_expiry,
            confirmations::unconfirmed_users_lists_users_with_an_unconfirmed_email_in_id_order,
            confirmations::deleting_a_user_deletes_the_users_links_and_mail,
            outbox::claim_due_leases_the_due_pending_entries_oldest_first,
            outbox::claim_due_returns_at_most_limit_entries,
            outbox::a_leased_entry_is_claimed_again_only_after_its_lease_has_expired,
            outbox::concurrent_claims_never_return_the_same_entry,
            outbox::mark_sent_marks_the_entry_sent_and_it_is_never_claimed_again,
            outbox::mark_failed_with_a_retry_time_counts_the_attempt_and_keeps_the_entry_pending,
            outbox::mark_failed_without_a_retry_time_fails_the_entry_for_good,
            outbox::mark_failed_keeps_the_first_1000_characters_of_the_error,
            outbox::entries_lists_the_entries_in_the_given_states_oldest_first,
            outbox::retry_failed_makes_every_failed_entry_pending_again_from_its_first_attempt,
            outbox::retry_failed_of_some_ids_requeues_only_those_that_failed,
            throttles::check_answers_each_check_in_order,
            throttles::a_counted_key_admits_a_burst_then_says_how_long_to_wait,
            throttles::a_refused_attempt_is_not_recorded,
            throttles::a_watched_key_is_read_and_never_counted,
            throttles::one_check_counts_its_counted_keys_and_answers_the_longest_wait,
            throttles::record_counts_whatever_the_state_but_never_beyond_one_period,
            throttles::keys_are_independent,
            throttles::forget_makes_a_key_new,
            throttles::purge_forgets_only_keys_whose_time_has_passed,
            throttles::concurrent_checks_of_one_key_admit_exactly_the_burst,
            throttles::a_period_the_count_does_not_divide_admits_exactly_the_burst_and_recording_never_lowers_a_key,
            events::an_event_keeps_every_field,
            events::events_of_lists_the_latest_events_of_the_user_newest_first,
            events::list_events_pages_in_recorded_order_by_user_and_time,
            events::purge_events_deletes_only_events_before_the_cut_off,
            events::events_outlive_their_user,
            events::a_new_user_never_inherits_the_events_of_a_deleted_one,
            events::an_event_with_a_user_agent_beyond_its_limit_is_refused,
            audit::insert_for_login_records_its_event_only_with_the_session,
            audit::revocations_record_their_events_and_a_revocation_of_nothing_by_id_none,
            audit::create_records_the_event_as_the_new_users_and_a_duplicate_nothing,
            audit::set_password_set_active_and_delete_record_their_events_only_for_a_user,
            audit::confirm_records_the_event_as_the_links_users_only_when_it_confirms,
            audit::request_reset_records_the_event_as_the_address_owners_or_nobodys,
            audit::reset_password_records_the_event_as_the_links_users_only_when_it_resets,
            audit::an_action_whose_event_is_refused_changes_nothing,
        );
    };
    (@cases plain $make:path; $($module:ident :: $case:ident),* $(,)?) => {
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
    (@cases postgres $make:path; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set AUTHTOKEN_TEST_POSTGRES_URL")]
            async fn $case() {
                let Some(stores) = $make().await else {
                    return;
                };
                $crate::contract::$module::$case(&stores).await;
            }
        )*
    };
}
