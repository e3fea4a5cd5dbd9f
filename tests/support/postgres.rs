//! A database of its own on the test PostgreSQL server
//! (`MCP_PUSH_TEST_POSTGRES`, started by `scripts/test-postgres.sh`), for the
//! end-to-end tests of `--db postgres://…` (issue 19).

/// A database made for this test, dropped after it.
pub struct Database {
    admin: String,
    pub name: String,
    password: String,
}

impl Database {
    /// `mcp_push_{tag}_{pid}`, made afresh; `password` goes into [`url`](Self::url)
    /// (the test server, trust auth, ignores it), to look for where it must not show.
    pub fn new(admin: String, tag: &str, password: &str) -> Database {
        let name = format!("mcp_push_{tag}_{}", std::process::id());
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        // One statement each: DROP DATABASE cannot share a transaction.
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        Database {
            admin,
            name,
            password: password.to_string(),
        }
    }

    /// Its URL with a user and password, as an operator writes it.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin).unwrap();
        url.set_password(Some(&self.password)).unwrap();
        url.set_path(&format!("/{}", self.name));
        url.to_string()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
