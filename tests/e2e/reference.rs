//! `fedicensus import-reference`: the real binary records another census's figures from a file
//! (the real answers of crates/fedicensus-core/tests/fixtures/reference), says what it read,
//! changes nothing on a second import of the same file, and refuses a file of the wrong shape,
//! an undated answer without --as-of and an unknown source with messages that say why.

use crate::fedicensus;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    format!(
        "{}/../crates/fedicensus-core/tests/fixtures/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fedicensus-e2e-reference-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = fedicensus().args(args).output().expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_reference_records_a_file_once_and_refuses_what_it_cannot_read() {
    let dir = scratch();
    let db = dir.join("census.db").display().to_string();
    let (code, _, err) = run(&["migrate", "--db", &db]);
    assert_eq!(code, Some(0), "{err}");
    let statistics = fixture("joinmastodon-statistics-2022-09-30-to-2023-01-22.json");
    let args = [
        "import-reference",
        "--db",
        &db,
        "--source",
        "joinmastodon",
        &statistics,
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(
            "imported 113 figures of joinmastodon.org (2022-09-30 to 2023-01-22, as of 2023-01-22) \
             and 0 server names from joinmastodon-statistics-2022-09-30-to-2023-01-22.json (sha256 "
        ),
        "{out}"
    );
    assert!(
        out.contains("note: 1 day(s) listed more than once"),
        "{out}"
    );
    let (code, out, err) = run(&args);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("was already imported as of 2023-01-22 (import 1): nothing changed"),
        "{out}"
    );

    // The same file read as another census's: refused, naming the source and the place.
    let (code, _, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "fedidb",
        &statistics,
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("fedidb: at $[0]: not a FediDB software entity"),
        "{err}"
    );

    // An undated answer needs --as-of, and is then recorded as of that date.
    let entity = fixture("fedidb-v1-software-pixelfed-docs-example.json");
    let (code, _, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "fedidb",
        &entity,
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--as-of YYYY-MM-DD"), "{err}");
    let (code, out, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "fedidb",
        "--as-of",
        "2024-06-30",
        &entity,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("imported 1 figures of FediDB (2024-06-30 to 2024-06-30"),
        "{out}"
    );

    // Bad arguments exit 2 and say what is accepted.
    let (code, _, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "mastodon.social",
        &entity,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("joinmastodon") && err.contains("instances-social"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "fedidb",
        "--as-of",
        "2999-01-01",
        &entity,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("in the future"), "{err}");
    let missing = dir.join("missing.json").display().to_string();
    let (code, _, err) = run(&[
        "import-reference",
        "--db",
        &db,
        "--source",
        "fedidb",
        &missing,
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
