//! The contract suites against the in-memory fakes.

use authtoken_testkit::InMemoryStore;
use authtoken_testkit::contract::Stores;

async fn fresh() -> Option<Stores> {
    Some(Stores::of(InMemoryStore::default()))
}

authtoken_testkit::store_contract_suite!(fresh);
