//! `py_str` against CPython itself: `python3` prints `repr()` of every
//! character and of strings that exercise the choice of quotes, and each
//! must match. One `python3` process answers the whole batch.
//!
//! Without `python3` the test prints a loud SKIPPED line and passes; every
//! machine this project builds on has it, so it really runs there. When
//! python3's Unicode version differs from the table's, the test says so
//! loudly and compares ASCII and the extra strings only.

use std::process::{Command, Stdio};

use seatplan::{PRINTABLE_UNICODE_VERSION, py_str};

/// Prints the Unicode version, then `repr()` of every character (one per
/// line; repr escapes every line break), then of each extra string, read
/// from the arguments.
const SCRIPT: &str = r#"
import sys, unicodedata
out = [unicodedata.unidata_version]
out += [repr(chr(c)) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
out += [repr(s) for s in sys.argv[1:]]
sys.stdout.buffer.write(("\n".join(out) + "\n").encode("utf-8"))
"#;

/// Strings whose quotes and escapes interact (no `\0`: they travel as
/// arguments).
const EXTRAS: &[&str] = &[
    "",
    "12A",
    "it's",
    "say \"hi\"",
    "it's \"x\"",
    "'\"'\"",
    "\\'",
    "\\\"",
    "a\tb\nc\rd",
    "5,\u{1f}6",
    "é'\u{a0}\u{2028}",
];

#[test]
fn py_str_matches_python_repr_for_every_character() {
    let output = match Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(EXTRAS)
        .stderr(Stdio::inherit())
        .output()
    {
        Ok(output) if output.status.success() => output.stdout,
        Ok(output) => panic!("python3 failed: {}", output.status),
        Err(e) => {
            eprintln!(
                "!!!!! SKIPPED py_str parity: cannot run python3 ({e}); CPython parity NOT checked"
            );
            return;
        }
    };
    let text = String::from_utf8(output).expect("python3 writes UTF-8");
    let mut lines = text.split('\n');
    let version = lines.next().expect("version line");
    let same_unicode = version == PRINTABLE_UNICODE_VERSION;
    if !same_unicode {
        eprintln!(
            "!!!!! NOTE: python3 has Unicode {version}, seatplan's table \
             {PRINTABLE_UNICODE_VERSION}: non-ASCII characters are not compared; \
             regenerate with seatplan/tools/gen_printable_table.py"
        );
    }
    let mut compared = 0;
    for c in (0..0x11_0000u32).filter_map(char::from_u32) {
        let expected = lines.next().expect("one line per character");
        if same_unicode || c.is_ascii() {
            let got = py_str(&c.to_string()).to_string();
            assert_eq!(got, expected, "U+{:04X}", u32::from(c));
            compared += 1;
        }
    }
    for extra in EXTRAS {
        let expected = lines.next().expect("one line per extra");
        assert_eq!(py_str(extra).to_string(), expected, "{extra:?}");
    }
    assert_eq!(lines.next(), Some(""), "the output ends with one newline");
    assert_eq!(lines.next(), None, "python3 wrote more lines than asked");
    assert!(compared >= 128, "only {compared} characters compared");
}
