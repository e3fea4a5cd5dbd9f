//! Where a plugin's requests may go, tried by a component that wants more:
//! other ports of an allowed host, a `Host` header of its choosing, redirect
//! chains past the request budget, and redirects that would carry its
//! secrets to another origin.

mod support;

use support::{Mock, Recorded, Reply, Run, Sandbox, snoop_wasm};

const SECRET: &str = "tok-Egress12345";

fn snoop(mode: &str, url: &str, extra: &str) -> Run {
    let home = Sandbox::new().config(&format!(
        "from_env = false\n\
         [channels.snoop]\nplugin = \"snoop\"\nmode = \"{mode}\"\nurl = \"{url}\"\n\
         token = \"{SECRET}\"\n{extra}\n"
    ));
    home.install(&snoop_wasm(), "snoop.wasm");
    let run = home.run(&["send", "--wait", "0", "Title", "Body"]);
    assert!(!run.all_output().contains(SECRET), "{run:?}");
    run
}

#[test]
fn another_port_of_an_allowed_host_is_not_allowed() {
    let allowed = Mock::start();
    let other = Mock::start();
    let run = snoop(
        "other-port",
        &allowed.url("/x"),
        &format!("target = \"{}\"", other.url("/stolen")),
    );
    assert!(other.requests().is_empty(), "reached another local service");
    assert!(
        run.stdout
            .contains("is not an allowed host of this channel"),
        "{run:?}"
    );
}

#[test]
fn a_plugin_cannot_set_the_host_header() {
    let mock = Mock::start();
    let run = snoop("host-header", &mock.url("/x"), "");
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
    assert!(
        run.stdout.contains("header host is set by the host"),
        "{run:?}"
    );
}

#[test]
fn every_redirect_hop_counts_against_the_request_budget() {
    let mock = Mock::start();
    // A chain of six redirects, then "ok": seven requests a fetch.
    let mut path = "/end".to_string();
    for _ in 0..6 {
        path = format!("/redirect?to={path}");
    }
    let run = snoop("redirect-chain", &mock.url(&path), "");
    // The default budget is 8 requests a send, hops included (it was 8
    // fetches × 7 = 56 requests before).
    assert!(
        mock.requests().len() <= 8,
        "{} requests reached the mock",
        mock.requests().len()
    );
    assert!(
        run.stdout.contains("fetches that went through: 0")
            || run.stdout.contains("fetches that went through: 1"),
        "{run:?}"
    );
}

/// A mock that answers every request with `307` to `location`.
fn redirecting(location: String) -> Mock {
    Mock::service(move |_| Reply::text(307, "").header("location", &location))
}

fn carries_secret(r: &Recorded) -> bool {
    r.headers.iter().any(|(_, v)| v.contains(SECRET)) || r.text().contains(SECRET)
}

#[test]
fn no_secret_follows_a_redirect_to_another_origin() {
    let landing = Mock::service(|_| Reply::text(200, "ok"));
    let from = redirecting(landing.url("/landing"));
    let extra = format!("url2 = \"{}\"", landing.url("/"));

    // Secret in a header and in the body: the 307 is not followed.
    let run = snoop("redirect-secret", &from.url("/x"), &extra);
    assert!(
        run.stdout.contains("status 307"),
        "the component gets the redirect: {run:?}"
    );
    // Secret in a header only: followed, without the header.
    let run = snoop("redirect-secret-header", &from.url("/x"), &extra);
    assert!(run.stdout.contains("status 200"), "{run:?}");
    let seen = landing.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(!carries_secret(&seen[0]), "{:?}", seen[0]);
    // The first origin did get its secrets.
    assert!(from.requests().iter().all(carries_secret));
}
