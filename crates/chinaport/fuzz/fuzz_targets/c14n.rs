//! Canonical XML on any bytes: no panic, and the canonical form of a document is its own
//! canonical form (what signing and verifying rely on).
#![no_main]

use jinguan_chinaport::c14n::{canonicalize, Scope};
use jinguan_chinaport::xml::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Ok(once) = canonicalize(input, Scope::Document, Limits::default()) {
        let twice = canonicalize(&once, Scope::Document, Limits::default())
            .unwrap_or_else(|e| panic!("the canonical form does not read: {e}"));
        assert_eq!(twice, once, "the canonical form is not a fixed point");
    }
});
