//! The reason codes: one table in `docs/reasons.md`, generated from the
//! codes themselves, so a new code is documented before it lands.

use crate::common::*;
use ferry_core::support::reason::ReasonCode;

#[test]
fn the_reason_table_lists_every_code() {
    let mut table = String::from("| code | meaning |\n| --- | --- |\n");
    for code in ReasonCode::ALL {
        table.push_str(&format!("| `{code}` | {} |\n", code.meaning()));
    }
    let page = std::fs::read_to_string(repo().join("docs/reasons.md")).unwrap();
    let start = page
        .find("| code |")
        .expect("docs/reasons.md has the table");
    let end = page[start..]
        .find("\n\n")
        .map_or(page.len(), |at| start + at + 1);
    let whole = format!("{}{table}{}", &page[..start], &page[end..]);
    if let Err(why) = check_golden(&repo().join("docs/reasons.md"), &whole) {
        panic!("{why}");
    }
}
