//! Sets the `postgres_tests` cfg when the PostgreSQL tests are to run: with `AUTHTOKEN_TEST_POSTGRES_URL` set, or
//! in CI (`CI` set), where a missing URL must fail them rather than skip them. Without it they are compiled as
//! ignored, so a run without PostgreSQL reports them as ignored instead of passing them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=AUTHTOKEN_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    let url = std::env::var("AUTHTOKEN_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty());
    if url || std::env::var_os("CI").is_some() {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
