//! The store contract suites against real SQLite files and a real PostgreSQL server, and the migration twins.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

mod migrations;

mod sqlite {
    use authtoken_sql::SqlStore;
    use authtoken_sql::testing;
    use authtoken_testkit::contract::Stores;

    async fn fresh() -> Option<Stores> {
        let database = testing::sqlite();
        let store = SqlStore::open(&database.options).await.expect("the store opens");
        Some(Stores::of(store).keeping(database))
    }

    authtoken_testkit::store_contract_suite!(fresh);
}

mod postgres {
    use authtoken_sql::SqlStore;
    use authtoken_sql::testing;
    use authtoken_testkit::contract::Stores;

    async fn fresh() -> Option<Stores> {
        let database = testing::postgres().await?;
        let store = SqlStore::open(&database.options).await.expect("the store opens");
        Some(Stores::of(store).keeping(database))
    }

    authtoken_testkit::store_contract_suite!(fresh);
}

mod closed {
    use authtoken_core::ports::TokenRepo as _;
    use authtoken_sql::SqlStore;
    use authtoken_sql::testing;

    #[tokio::test]
    async fn a_closed_store_fails_its_ping() {
        let database = testing::sqlite();
        let store = SqlStore::open(&database.options).await.expect("the store opens");
        store.ping().await.expect("an open store answers");

        store.close().await;

        assert!(store.ping().await.is_err());
    }
}
