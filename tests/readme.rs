//! The README's examples are run, so they cannot drift from the code: every
//! ```toml block is a config file `mcp-push` accepts.

mod support;

use support::Sandbox;

/// The README's fenced blocks in `language`, with the line each starts on.
fn blocks(language: &str) -> Vec<(usize, String)> {
    let readme = include_str!("../README.md");
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.trim() == format!("```{language}") => {
                current = Some((n + 1, String::new()))
            }
            Some(_) if line.trim() == "```" => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_config_example_in_the_readme_is_accepted() {
    let examples = blocks("toml");
    assert!(examples.len() >= 2, "{examples:?}");
    for (line, toml) in examples {
        let home = Sandbox::new().config(&toml);
        let run = home.run(&["channels"]);
        assert_eq!(
            run.code, 0,
            "README.md line {line}: the example is refused:\n{toml}\n{run:?}"
        );
        assert!(
            !run.all_output().contains("not enabled"),
            "README.md line {line}: {run:?}"
        );
    }
}

/// The channel tables are `mcp-push channels --markdown`, as the bundled
/// plugins describe themselves, and the count in the introduction is their
/// number of rows: a channel added without regenerating them fails here.
#[test]
fn the_channel_table_is_the_one_the_binary_prints() {
    let run = Sandbox::new().run(&["channels", "--markdown"]);
    assert_eq!(run.code, 0, "{run:?}");
    let readme = include_str!("../README.md");
    let table = run.stdout.trim_end();
    assert!(
        readme.contains(table),
        "README.md's channel tables differ from `mcp-push channels --markdown`; \
         replace them with:\n{table}"
    );
    let rows = table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| channel |") && !l.starts_with("| ---"))
        .count();
    assert!(
        table.starts_with(&format!("{rows} channels here;")),
        "{table}"
    );
    assert!(
        readme.contains(&format!("the {rows} channels in the tables below")),
        "README.md's introduction should count {rows} channels"
    );
}
