//! `ferry completions` and `ferry man`: generated from the parser itself,
//! so they offer exactly ferry's commands and options.

use crate::common::*;

#[test]
fn bash_completes_ferry_s_commands_and_their_options() {
    let scratch = Scratch::new();
    let out = scratch.ferry().args(["completions", "bash"]).run().code(0);
    let script = scratch.write("ferry.bash", &out.stdout);
    // Loaded into a real bash, the script completes `ferry sy` and `ferry undo --`.
    // As bash calls a completion function: the words so far, and the
    // command, the word under the cursor and the one before as arguments.
    let complete = |words: &str, cword: usize| {
        let split: Vec<&str> = words.split(' ').collect();
        let (current, previous) = (split[cword], split[cword - 1]);
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; \
             COMP_POINT=${{#COMP_LINE}}; _ferry ferry '{current}' '{previous}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let output = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .expect("bash runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let commands = complete("ferry sy", 1);
    assert_eq!(
        commands.lines().collect::<Vec<_>>(),
        vec!["sync"],
        "{commands}"
    );
    let options = complete("ferry undo --", 2);
    for option in ["--run", "--all", "--include-signed-in", "--yes"] {
        assert!(options.lines().any(|o| o == option), "{option}: {options}");
    }

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = scratch.ferry().args(["completions", shell]).run().code(0);
        assert!(out.stdout.contains("sync"), "{shell}");
    }
    scratch.ferry().args(["completions", "tcsh"]).run().code(2);
}

#[test]
fn the_man_pages_describe_ferry_and_each_command() {
    let scratch = Scratch::new();
    let out = scratch.ferry().args(["man"]).run().code(0);
    assert!(out.stdout.starts_with(".ie"), "roff: {}", &out.stdout[..80]);
    assert!(out.stdout.contains(".TH ferry 1"), "{}", out.stdout);
    for command in ["validate", "plan", "run", "sync", "undo", "verify", "demo"] {
        assert!(out.stdout.contains(command), "{command}");
    }
    let out = scratch.ferry().args(["man", "undo"]).run().code(0);
    assert!(out.stdout.contains(".TH ferry-undo 1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("include\\-signed\\-in"),
        "{}",
        out.stdout
    );
    scratch.ferry().args(["man", "nonsense"]).run().code(2);
}
