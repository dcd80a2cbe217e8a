//! The store contract suites against real SQLite files and a real PostgreSQL server, and the migration twins.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

mod import;
mod migrations;
mod upgrade;

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

/// An in-memory database lives in its one connection, so its lookups go through sqlx rather than the
/// read connections a database file gets.
mod sqlite_in_memory {
    use std::time::Duration;

    use authtoken_sql::{DatabaseOptions, SqlStore};
    use authtoken_testkit::contract::Stores;

    fn options() -> DatabaseOptions {
        DatabaseOptions {
            url: "sqlite::memory:".to_owned(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
        }
    }

    async fn fresh() -> Option<Stores> {
        Some(Stores::of(SqlStore::open(&options()).await.expect("the store opens")))
    }

    authtoken_testkit::store_contract_suite!(fresh);

    #[tokio::test]
    async fn its_lookups_go_through_sqlx() {
        let store = SqlStore::open(&options()).await.expect("the store opens");

        assert!(!store.looks_up_sessions_on_the_calling_thread());
    }
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

    authtoken_testkit::store_contract_suite!(postgres fresh);
}

mod closed {
    use authtoken_core::ports::TokenRepo as _;
    use authtoken_core::token::PlainToken;
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

    #[tokio::test]
    async fn a_closed_store_fails_its_session_lookups() {
        let database = testing::sqlite();
        let store = SqlStore::open(&database.options).await.expect("the store opens");
        let digest = PlainToken::generate().unwrap().digest();
        assert!(store.find(&digest).await.expect("an open store answers").is_none());

        store.close().await;

        assert!(store.find(&digest).await.is_err());
    }
}

/// Two stores on one SQLite file, as two servers sharing it would have: a session one of them writes or deletes is
/// found or gone at once in the other, whose lookups run on read connections of their own. Each step reads more
/// times than there are read connections, so every connection is asked: one that kept an old snapshot would fail.
mod shared_sqlite_file {
    use std::time::Duration;

    use authtoken_core::Timestamp;
    use authtoken_core::event::EventKind;
    use authtoken_core::ports::{TokenRepo, UserRepo as _};
    use authtoken_sql::SqlStore;
    use authtoken_sql::testing;
    use authtoken_testkit::fixtures;

    #[tokio::test]
    async fn a_session_written_or_deleted_through_one_store_is_seen_at_once_by_the_other() {
        let database = testing::sqlite();
        let writer = SqlStore::open(&database.options).await.expect("the first store opens");
        let reader = SqlStore::open(&database.options).await.expect("the second store opens");
        let registered = fixtures::event(EventKind::Registered);
        let user =
            writer.create(&fixtures::new_user("alice", "secret"), &registered).await.expect("the user is created");
        let (token, session) = fixtures::session(user.id, Timestamp::from_millis(1_000), Duration::from_secs(60));
        let digest = token.digest();
        assert!(reader.looks_up_sessions_on_the_calling_thread());
        let reads = 2 * std::thread::available_parallelism().map_or(1, usize::from) + 1;
        for _ in 0..reads {
            assert!(reader.find(&digest).await.unwrap().is_none());
        }

        writer.insert(&session).await.unwrap();
        for _ in 0..reads {
            let found = reader.find(&digest).await.unwrap().expect("the other store sees the new session");
            assert_eq!((&found.session.id, found.user.username.as_str()), (&session.id, "alice"));
        }

        assert!(TokenRepo::delete(&writer, &digest).await.unwrap());
        for _ in 0..reads {
            assert!(reader.find(&digest).await.unwrap().is_none(), "a deleted session must be gone at once");
        }
    }
}
