//! The bad-input corpus: every case under `tests/corpus/` is a folder of
//! input files, an `expect` file saying which command to run, its exit
//! code and what its output must (and must never) contain, and an `output`
//! file holding its whole output, stdout then stderr, with the run's folder
//! as `<dir>` (`FERRY_BLESS=1` writes it; review the diff). No valid
//! record (ids `user_ok…`) may be lost because of an invalid one.

use std::path::Path;

use serde_json::Value;

use crate::common::Scratch;
use crate::common::plan::{PlanFile, Step};

struct Expect {
    command: String,
    exit: i32,
    contains: Vec<String>,
    absent: Vec<String>,
}

fn parse(text: &str) -> Expect {
    let mut expect = Expect {
        command: String::new(),
        exit: 0,
        contains: Vec::new(),
        absent: Vec::new(),
    };
    for line in text.lines() {
        let (key, value) = line.split_once(": ").unwrap_or((line, ""));
        match key {
            "command" => expect.command = value.to_owned(),
            "exit" => expect.exit = value.parse().unwrap(),
            "contains" => expect.contains.push(value.to_owned()),
            "absent" => expect.absent.push(value.to_owned()),
            other => panic!("unknown expect line `{other}`"),
        }
    }
    expect
}

/// Copies a case into a scratch folder, generating what is too big to commit.
fn prepare(case: &Path, scratch: &Scratch) {
    for entry in std::fs::read_dir(case).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            "expect" | "output" => {}
            "generate" => {
                // Too big to commit: a 10 MB cell, or a 20 MB id, between two good rows.
                let header = "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher";
                let (id, first_name) = match std::fs::read_to_string(&path).unwrap().trim() {
                    "huge-id" => ("A".repeat(20 * 1024 * 1024), "Cy".to_owned()),
                    _ => ("user_bad".to_owned(), "A".repeat(10 * 1024 * 1024)),
                };
                let csv = format!(
                    "{header}\nuser_ok1,Ada,L,,ok1@example.com,,ok1@example.com,,,,,,\n{id},{first_name},L,,bad@example.com,,bad@example.com,,,,,,\nuser_ok2,Bo,L,,ok2@example.com,,ok2@example.com,,,,,,\n"
                );
                std::fs::write(scratch.path().join("users.csv"), csv).unwrap();
            }
            _ => {
                std::fs::copy(&path, scratch.path().join(&name)).unwrap();
            }
        }
    }
    if !scratch.path().join("plan.yaml").exists() {
        let export = if scratch.path().join("users.json").exists() {
            ("export_json", "users.json")
        } else {
            ("export_csv", "users.csv")
        };
        let mut plan = PlanFile::new("corpus")
            .clerk(export.0, export.1)
            .workos("api_key", "unused")
            .step(Step::bare("users"));
        if scratch.path().join("script.rhai").exists() {
            plan = plan.script("script.rhai");
        }
        scratch.write_plan("plan.yaml", &plan);
    }
}

/// Every file below `dir`, relative to it.
fn files_below(dir: &Path, base: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_below(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

/// The digests and TOTP secrets of the case's CSV export: none may be repeated.
fn export_secrets(scratch: &Scratch) -> Vec<String> {
    let Ok(mut reader) = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(scratch.path().join("users.csv"))
    else {
        return Vec::new();
    };
    let Ok(header) = reader.headers().cloned() else {
        return Vec::new();
    };
    let columns: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, name)| matches!(name.trim(), "password_digest" | "totp_secret"))
        .map(|(i, _)| i)
        .collect();
    reader
        .records()
        .flatten()
        .flat_map(|row| {
            columns
                .iter()
                .filter_map(|i| row.get(*i).map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .filter(|value| value.len() >= 8)
        .collect()
}

fn run_case(case: &Path) -> Result<(), String> {
    let expect = parse(&std::fs::read_to_string(case.join("expect")).unwrap());
    let scratch = Scratch::new();
    prepare(case, &scratch);
    let mut inputs = Vec::new();
    files_below(scratch.path(), scratch.path(), &mut inputs);
    let args: Vec<&str> = match expect.command.as_str() {
        "validate" => vec!["validate", "plan.yaml"],
        "plan" => vec!["plan", "plan.yaml"],
        "plan-offline" => vec!["plan", "plan.yaml", "--offline", "--out", "out.json"],
        other => panic!("unknown command `{other}`"),
    };
    let out = scratch.ferry().args(&args).run();
    let saved = std::fs::read_to_string(scratch.path().join("out.json")).unwrap_or_default();
    let all = format!("{}\n{}\n{}", out.stdout, out.stderr, saved);
    if out.code != expect.exit {
        return Err(format!(
            "exit {} (expected {})\n{all}",
            out.code, expect.exit
        ));
    }
    let whole = crate::common::scrub(
        &format!("{}--- stderr\n{}", out.stdout, out.stderr),
        scratch.path(),
    );
    crate::common::check_golden(&case.join("output"), &whole)?;
    for needle in &expect.contains {
        if !all.contains(needle.as_str()) {
            return Err(format!(
                "output lacks `{needle}`\n{}",
                &all[..all.len().min(4000)]
            ));
        }
    }
    // Nothing is written beside the inputs but the journal, the reports and `--out`.
    let mut after = Vec::new();
    files_below(scratch.path(), scratch.path(), &mut after);
    for path in &after {
        let allowed = inputs.contains(path)
            || path.as_os_str() == "out.json"
            || path.starts_with(".ferry")
            || path.starts_with("reports");
        if !allowed {
            return Err(format!(
                "wrote {} outside the run's folders",
                path.display()
            ));
        }
    }
    // No digest or TOTP secret of the export is repeated anywhere.
    let mut written = all.clone();
    for path in after.iter().filter(|p| !inputs.contains(p)) {
        written.push_str(&String::from_utf8_lossy(
            &std::fs::read(scratch.path().join(path)).unwrap_or_default(),
        ));
    }
    for secret in export_secrets(&scratch) {
        if written.contains(&secret) {
            return Err("a digest or TOTP secret from the export was repeated".into());
        }
    }
    for needle in &expect.absent {
        if all.contains(needle.as_str()) {
            return Err(format!(
                "output shows `{needle}`, which must never be printed"
            ));
        }
    }
    if !saved.is_empty() {
        let json: Value = serde_json::from_str(&saved).map_err(|e| format!("out.json: {e}"))?;
        for user in json["users"].as_array().unwrap() {
            let id = user["clerk_id"].as_str().unwrap_or("");
            if id.starts_with("user_ok") && user["action"] != "create" {
                return Err(format!("the valid record {id} was lost: {user}"));
            }
        }
        let valid = json["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["clerk_id"].as_str().unwrap_or("").starts_with("user_ok"))
            .count();
        if valid == 0 {
            return Err("no valid record came through".into());
        }
    }
    Ok(())
}

#[test]
fn every_corpus_case_gets_its_clear_error_and_loses_no_valid_record() {
    let root = crate::common::repo().join("tests/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            run_case(case)
                .err()
                .map(|e| format!("{}: {e}", case.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} corpus cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
