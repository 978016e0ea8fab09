//! A fresh PostgreSQL database per test, on the server named by
//! `PAYGATE_TEST_POSTGRES_URL` (a role that may `CREATE DATABASE`).
//! `scripts/postgres-tests.sh` starts a throwaway cluster on loopback,
//! sets the variable and runs the tests that need it (they are
//! `#[ignore]`d otherwise, so `cargo test --workspace` needs no server).

use std::path::PathBuf;

/// The variable naming the test server.
pub const URL_VAR: &str = "PAYGATE_TEST_POSTGRES_URL";

/// The server's URL; a test that needs it fails (never skips) without it.
pub fn server_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!("{URL_VAR} is not set: run scripts/postgres-tests.sh, which starts a throwaway PostgreSQL")
    })
}

/// Creates an empty database named after `name` and returns its URL as
/// `--db` takes it. `postgres::Client` runs a runtime of its own, so it
/// is used on a thread of its own (tests run inside Tokio).
pub fn fresh_database(name: &str) -> PathBuf {
    let server = server_url();
    let database = format!(
        "paygate_{}_{}_{}",
        name.replace('-', "_"),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let create = database.clone();
    let admin = server.clone();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {create}"))
            .expect("CREATE DATABASE");
    })
    .join()
    .expect("database created");
    let mut url = reqwest::Url::parse(&server).expect("a URL");
    url.set_path(&format!("/{database}"));
    PathBuf::from(url.to_string())
}
